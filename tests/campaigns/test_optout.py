"""Opt-out: "no deseo recibir mensajes" / "STOP" / "baja de mensajes" stops campaign messages for that
contact (recorded, confirmed); case messages still go; the dialog in progress is not disturbed."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot import outbox
from bot.campaigns import optout
from bot.models import CampaignOptout, Conversation
from tests.whatsapp.conftest import IMPORTADORA

IMPORTADORA_CONSOLE = "+59170000001"
OTHER = "+59170000002"
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


def _optouts(runtime) -> list[CampaignOptout]:
    with runtime.sessions() as session:
        return list(session.scalars(select(CampaignOptout).order_by(CampaignOptout.id)))


@pytest.mark.parametrize("words", ["No deseo recibir mensajes", "STOP", "stop.", "Baja de mensajes, por favor",
                                   "Por favor no me envíen más mensajes"])
def test_each_way_of_saying_it_is_recorded_and_confirmed(chat, words):
    client = chat(IMPORTADORA_CONSOLE)
    reply = client.say(words)
    assert "no le enviaremos más mensajes de campañas" in reply
    [row] = _optouts(client.runtime)
    assert (row.channel, row.address, row.words) == ("console", IMPORTADORA_CONSOLE, words)


@pytest.mark.parametrize("words", ["quiero dar de baja la línea 4412345", "baja", "no recibo mensajes en mi línea",
                                   "detalle de llamadas"])
def test_other_messages_are_not_an_opt_out(chat, words):
    client = chat(IMPORTADORA_CONSOLE)
    reply = client.say(words)
    assert "campañas" not in reply
    assert _optouts(client.runtime) == []


def test_a_second_stop_keeps_one_record_and_the_trámite_in_progress_continues(chat):
    client = chat(IMPORTADORA_CONSOLE)
    client.say("detalle de llamadas")  # the bot asks which line
    with client.runtime.sessions() as session:
        before = session.scalars(select(Conversation)).one()
    assert before.dialog != "main"
    client.say("STOP")
    assert "no le enviaremos" in client.say("no quiero recibir mensajes")
    assert len(_optouts(client.runtime)) == 1
    with client.runtime.sessions() as session:
        after = session.scalars(select(Conversation)).one()
    assert (after.dialog, after.state) == (before.dialog, before.state)
    assert "Resumen" in client.say("la línea 4412345, de este mes")


def test_campaign_sends_skip_the_opted_out_contact_only(chat):
    stopped, other = chat(IMPORTADORA_CONSOLE), chat(OTHER)
    stopped.say("STOP")
    other.say("hola")
    with stopped.runtime.sessions.begin() as session:
        conversations = {c.address: c for c in session.scalars(select(Conversation))}
        assert optout.send(session, conversation=conversations[IMPORTADORA_CONSOLE], body="campaña",
                           now=NOW) is None
        assert optout.send(session, conversation=conversations[OTHER], body="campaña", now=NOW) is not None
        assert optout.opted_out(session, channel="console", address=IMPORTADORA_CONSOLE)
        assert not optout.opted_out(session, channel="whatsapp", address=IMPORTADORA_CONSOLE)


def test_over_whatsapp_the_stop_is_confirmed_and_later_campaigns_skip_the_contact(demo, wa):
    wa.app.webhook("text", Body="STOP", MessageSid="SM" + "5" * 32, SmsMessageSid="SM" + "5" * 32,
                   SmsSid="SM" + "5" * 32)
    wa.run_worker()
    [confirmation] = wa.twilio.sent()
    assert confirmation.value("To") == f"whatsapp:{IMPORTADORA}"
    assert "no le enviaremos más mensajes de campañas" in confirmation.value("Body")
    [row] = _optouts(wa.runtime)
    assert (row.channel, row.address) == ("whatsapp", IMPORTADORA)

    now = wa.clock.now()
    with wa.runtime.sessions.begin() as session:
        conversation = session.scalars(select(Conversation)).one()
        skipped = optout.send(session, conversation=conversation, body="Recordatorio de pago", now=now,
                              payload={"purpose": "payment_reminder", "variables": {"1": "x", "2": "y", "3": "z"}})
        # A message about the client's own request is not a campaign: it still goes.
        outbox.enqueue(session, conversation=conversation, body="Su caso avanzó.", now=now)
    assert skipped is None
    wa.run_worker()
    bodies = [r.value("Body") for r in wa.twilio.sent()]
    assert bodies[1:] == ["Su caso avanzó."]
