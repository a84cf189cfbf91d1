"""Client identification through the real engine and database, on SQLite and PostgreSQL."""
from __future__ import annotations

import itertools

from sqlalchemy import func, select

from bot.models import Conversation, Message, Outbox, StaffTask
from bot.messaging import InboundMessage

from tests.support import EMAIL, NIT, OTHER_NIT, PHONE

_ids = itertools.count(1)


def send(engine, text, address="+59179999999", channel="console", external_id=None):
    return engine.handle(InboundMessage(channel=channel, address=address, body=text,
                                        external_id=external_id or f"t-{next(_ids)}"))


def conversation(db, address):
    with db.sessions() as session:
        return session.scalars(select(Conversation).where(Conversation.address == address)).one()


def test_registered_phone_is_identified_without_questions(engine, portfolio):
    outcome = send(engine, "Hola buenos días", address="whatsapp:+591 70000001")
    text = "\n".join(outcome.replies)
    assert "Industrias Andinas S.R.L." in text
    assert "NIT" not in text
    assert (outcome.dialog, outcome.state) == ("main", "menu")
    conv = conversation(portfolio, PHONE)
    assert conv.client_id is not None


def test_registered_email_is_identified(engine, portfolio):
    outcome = send(engine, "Buenas tardes", address=EMAIL.upper(), channel="email")
    assert "Industrias Andinas S.R.L." in outcome.replies[0]
    assert conversation(portfolio, EMAIL).client_id is not None


def test_unknown_sender_identifies_with_nit_and_contract(engine, portfolio):
    first = send(engine, "Hola")
    assert "NIT" in first.replies[0]
    assert first.state == "ask_nit"
    second = send(engine, f"Nuestro NIT es {NIT}")
    assert second.state == "ask_contract"
    assert "contrato" in second.replies[0]
    third = send(engine, "contrato 300101")
    assert (third.dialog, third.state) == ("main", "menu")
    assert "Industrias Andinas S.R.L." in third.replies[0]
    assert conversation(portfolio, "+59179999999").client_id is not None


def test_nit_and_line_in_one_message(engine, portfolio):
    outcome = send(engine, f"Buen día, somos la empresa con NIT {NIT}, línea 4412345")
    assert outcome.state == "menu"
    assert "Industrias Andinas" in outcome.replies[0]


def test_product_of_another_client_is_refused(engine, portfolio):
    send(engine, "Hola")
    send(engine, f"NIT {NIT}")
    outcome = send(engine, "contrato 300201")  # belongs to Farmacias del Valle
    assert outcome.state == "ask_contract"
    assert conversation(portfolio, "+59179999999").client_id is None


def test_three_failures_hand_off_to_a_person(engine, portfolio):
    send(engine, "Hola")
    send(engine, "NIT 9999999999")
    send(engine, "NIT 8888888888")
    outcome = send(engine, "no sé cuál es")
    assert "ejecutivo" in outcome.replies[0]
    conv = conversation(portfolio, "+59179999999")
    assert conv.mode == "human"
    with portfolio.sessions() as session:
        tasks = session.scalars(select(StaffTask)).all()
    assert [t.kind for t in tasks] == ["handoff"]
    # In human mode the bot stays silent.
    after = send(engine, "hola?")
    assert after.replies == []


def test_someone_without_nit_is_told_where_to_go(engine, portfolio):
    outcome = send(engine, "Hola, no tengo NIT, es para mi casa")
    assert "empresas" in outcome.replies[0].lower()
    assert "oficinas" in outcome.replies[0]
    assert conversation(portfolio, "+59179999999").client_id is None


def test_second_nit_identifies_another_client_only_with_its_own_contract(engine, portfolio):
    send(engine, "Hola")
    send(engine, f"NIT {OTHER_NIT}")
    outcome = send(engine, "300201")
    assert outcome.state == "menu"
    assert "Farmacias del Valle" in outcome.replies[0]


def test_duplicate_provider_id_changes_nothing(engine, portfolio):
    first = send(engine, "Hola", address=PHONE, external_id="SM123")
    again = send(engine, "Hola", address=PHONE, external_id="SM123")
    assert not first.duplicate and again.duplicate
    with portfolio.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 1
        assert session.scalar(select(func.count()).select_from(Outbox)) == 1


def test_ask_for_a_person_at_any_time(engine, portfolio):
    send(engine, "Hola", address=PHONE)
    outcome = send(engine, "quiero hablar con un ejecutivo", address=PHONE)
    assert "ejecutivo" in outcome.replies[0]
    with portfolio.sessions() as session:
        task = session.scalars(select(StaffTask)).one()
        conv = session.scalars(select(Conversation)).one()
    assert task.assignee_id is not None  # the client's own ejecutiva
    assert conv.mode == "human"


def test_menu_and_cancel_work_inside_a_tramite(engine, portfolio):
    send(engine, "Hola", address=PHONE)
    started = send(engine, "7", address=PHONE)  # 7 = detalle de llamadas
    assert started.dialog != "main"
    cancelled = send(engine, "cancelar", address=PHONE)
    assert (cancelled.dialog, cancelled.state) == ("main", "menu")
    assert "cancelamos" in cancelled.replies[0].lower()
