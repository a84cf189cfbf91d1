"""Take over, reply through the client's channel, hand back; one holder at a time."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backoffice import policy, takeover
from bot.models import CaseEvent, Conversation, Message, Outbox, Staff, StaffTask
from bot.messaging import InboundMessage
from tests.backoffice.support import NOW, make_case, make_conversation


def conversation_of(db, conversation_id) -> Conversation:
    with db.sessions() as session:
        return session.get(Conversation, conversation_id)


def write(runtime, body: str, *, channel="whatsapp", address="+59170000001", external_id=None, subject=""):
    return runtime.conversations.handle(InboundMessage(
        channel=channel, address=address, body=body, subject=subject,
        external_id=external_id or f"{channel}-{body}-{runtime.clock.now().isoformat()}"))


def sent(runtime, channel="whatsapp") -> list[str]:
    runtime.deliverer.deliver_due()
    return [m.body for m in runtime.channels.get(channel).sent]


def actor(db, username):
    with db.sessions() as session:
        return policy.Actor.of(session.scalars(select(Staff).where(Staff.username == username)).one())


def test_take_over_reply_and_hand_back(staff, login, runtime, clock):
    write(runtime, "Hola")
    assert len(sent(runtime)) == 1  # the bot's welcome and menu
    conversation_id = conversation_of_address(staff, "+59170000001")
    case_id = make_case(staff, assignee="mrojas", conversation_id=conversation_id)
    client = login("mrojas")
    response = client.post(f"/backoffice/conversaciones/{conversation_id}/tomar", {"case_id": case_id})
    assert response.headers["location"] == f"/backoffice/casos/{case_id}?ok=taken_over"
    conversation = conversation_of(staff, conversation_id)
    assert conversation.mode == "human" and conversation.held_by_id == actor(staff, "mrojas").id
    page = client.get(f"/backoffice/casos/{case_id}").text
    assert "Atiende: María Rojas" in page and 'name="body"' in page
    # The client is told a person joined (issue 15).
    assert sent(runtime)[-1] == "Le saluda María Rojas, del Equipo Empresas de Comteco: desde ahora le atiendo personalmente."

    clock.advance(minutes=1)
    write(runtime, "Necesito hablar con alguien sobre mi factura")
    assert len(sent(runtime)) == 2  # the bot stayed silent

    client.post(f"/backoffice/conversaciones/{conversation_id}/responder",
                {"case_id": case_id, "body": "Buenos días, le habla María Rojas. ¿En qué le ayudo?"})
    replies = sent(runtime)
    assert replies[-1] == "Buenos días, le habla María Rojas. ¿En qué le ayudo?"
    with staff.sessions() as session:
        reply = session.scalars(select(Message).where(Message.author == "mrojas")
                                .order_by(Message.id.desc()).limit(1)).one()
        assert (reply.channel, reply.status, reply.case_id) == ("whatsapp", "sent", case_id)

    client.post(f"/backoffice/conversaciones/{conversation_id}/devolver", {"case_id": case_id, "step": "main/menu"})
    conversation = conversation_of(staff, conversation_id)
    assert (conversation.mode, conversation.held_by_id, conversation.dialog, conversation.state) == (
        "bot", None, "main", "menu")
    assert sent(runtime)[-1].startswith("María Rojas terminó de atenderle.")  # and that she left
    clock.advance(minutes=1)
    write(runtime, "7")  # a menu number: the bot answers again
    assert len(sent(runtime)) == 5
    assert "Detalle de llamadas" in sent(runtime)[-1] or "detalle de llamadas" in sent(runtime)[-1].lower()
    with staff.sessions() as session:
        kinds = session.execute(select(CaseEvent.kind, CaseEvent.actor).where(CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.id)).all()
    assert kinds[1:] == [("taken_over", "mrojas"), ("replied", "mrojas"), ("handed_back", "mrojas")]


def conversation_of_address(db, address):
    with db.sessions() as session:
        return session.scalar(select(Conversation.id).where(Conversation.address == address))


def test_two_people_cannot_hold_one_conversation(staff, login):
    conversation_id = make_conversation(staff)
    first, second = login("mrojas"), login("lvargas")
    assert "ok=taken_over" in first.post(f"/backoffice/conversaciones/{conversation_id}/tomar").headers["location"]
    location = second.post(f"/backoffice/conversaciones/{conversation_id}/tomar").headers["location"]
    assert "error=held_by_other" in location and "holder=mrojas" in location
    assert conversation_of(staff, conversation_id).held_by_id == actor(staff, "mrojas").id
    assert "Otra persona ya atiende esta conversación: mrojas" in second.get(location).text


def test_the_database_decides_who_holds_it_not_a_stale_read(staff):
    """Both read the conversation free; the first UPDATE wins, the second finds the row taken."""
    conversation_id = make_conversation(staff)
    mrojas, lvargas = actor(staff, "mrojas"), actor(staff, "lvargas")
    with staff.sessions() as session:
        stale = session.get(Conversation, conversation_id)
        session.expunge(stale)
    assert stale.held_by_id is None
    with staff.sessions.begin() as session:
        takeover.take_over(session, mrojas, session.get(Conversation, conversation_id), case=None, now=NOW)
    with staff.sessions.begin() as session:
        seen_free = session.merge(stale, load=False)  # what the second person's page showed
        assert seen_free.held_by_id is None
        with pytest.raises(takeover.TakeoverRefused) as refused:
            takeover.take_over(session, lvargas, seen_free, case=None, now=NOW)
    assert refused.value.reason == "held_by_other" and refused.value.holder == "mrojas"
    assert conversation_of(staff, conversation_id).held_by_id == mrojas.id


def test_only_the_holder_replies_and_hands_back(staff, login):
    conversation_id = make_conversation(staff)
    login("mrojas").post(f"/backoffice/conversaciones/{conversation_id}/tomar")
    other = login("lvargas")
    location = other.post(f"/backoffice/conversaciones/{conversation_id}/responder", {"body": "hola"}).headers["location"]
    assert "error=not_holder" in location
    location = other.post(f"/backoffice/conversaciones/{conversation_id}/devolver", {"step": "main/menu"}).headers["location"]
    assert "error=not_holder" in location
    with staff.sessions() as session:  # only mrojas's "le atiendo personalmente"
        assert len(session.scalars(select(Outbox)).all()) == 1
        assert [m.author for m in session.scalars(select(Message).where(Message.direction == "out"))] == ["mrojas"]
    assert conversation_of(staff, conversation_id).mode == "human"


def test_whatsapp_outside_24_hours_only_the_template_goes(staff, login, runtime):
    conversation_id = make_conversation(staff, last_inbound_at=NOW - timedelta(hours=25))
    client = login("mrojas")
    client.post(f"/backoffice/conversaciones/{conversation_id}/tomar")
    page = client.get(f"/backoffice/conversaciones/{conversation_id}").text
    assert "más de 24 horas" in page and "Enviar plantilla" in page and 'name="body"' not in page
    location = client.post(f"/backoffice/conversaciones/{conversation_id}/responder",
                           {"body": "texto libre"}).headers["location"]
    assert "error=window_closed" in location
    client.post(f"/backoffice/conversaciones/{conversation_id}/plantilla")
    with staff.sessions() as session:
        row = session.scalars(select(Outbox)).one()
        message = session.get(Message, row.message_id)
    assert row.payload["template"] == "backoffice_reengage" and "responda a este mensaje" in message.body


def test_whatsapp_within_24_hours_free_text(staff):
    conversation = Conversation(channel="whatsapp", last_inbound_at=NOW - timedelta(hours=23, minutes=59))
    assert takeover.window(conversation, NOW).free_text
    conversation.last_inbound_at = NOW - timedelta(hours=24)
    assert not takeover.window(conversation, NOW).free_text
    conversation.last_inbound_at = None
    assert not takeover.window(conversation, NOW).free_text
    assert takeover.window(Conversation(channel="email", last_inbound_at=None), NOW).free_text


def test_email_reply_threads_under_the_clients_last_message(staff, login, runtime):
    write(runtime, "Buenas tardes", channel="email", address="contabilidad@empresa.bo",
          external_id="<abc123@empresa.bo>", subject="Consulta")
    conversation_id = conversation_of_address(staff, "contabilidad@empresa.bo")
    client = login("mrojas")
    client.post(f"/backoffice/conversaciones/{conversation_id}/tomar")
    client.post(f"/backoffice/conversaciones/{conversation_id}/responder", {"body": "Estimada Sra. Céspedes: ..."})
    runtime.deliverer.deliver_due()
    delivered = runtime.channels.get("email").sent[-1]
    assert delivered.body == "Estimada Sra. Céspedes: ..."
    assert delivered.payload == {"in_reply_to": "<abc123@empresa.bo>", "references": ["<abc123@empresa.bo>"]}


def test_handoff_task_is_followed_to_the_end(staff, login, runtime):
    write(runtime, "Hola")
    write(runtime, "quiero hablar con un ejecutivo", external_id="wa-human")
    conversation_id = conversation_of_address(staff, "+59170000001")
    assert conversation_of(staff, conversation_id).mode == "human"
    client = login("mrojas")
    assert f"/backoffice/conversaciones/{conversation_id}" in client.get("/backoffice/").text
    client.post(f"/backoffice/conversaciones/{conversation_id}/tomar")
    client.post(f"/backoffice/conversaciones/{conversation_id}/devolver", {"step": "current"})
    with staff.sessions() as session:
        assert session.scalars(select(StaffTask.status)).all() == ["atendida"]
    assert f"/backoffice/conversaciones/{conversation_id}" not in client.get("/backoffice/").text


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.parametrize("channel, address", [("email", "ana@elvalle.com.bo"), ("whatsapp", "+59170000001")])
def test_a_file_sent_while_staff_hold_the_conversation_is_stored_and_ticks_the_requirement(
        staff, login, runtime, clock, channel, address):
    # Issue 15: the engine used to return before storing files in human mode: the letter was
    # dropped and the requirement stayed "Falta".
    from bot import requirements
    from bot.messaging import Attachment
    from bot.models import Case, Document

    write(runtime, "Hola", channel=channel, address=address)
    conversation_id = conversation_of_address(staff, address)
    case_id = make_case(staff, assignee="mrojas", conversation_id=conversation_id, status="pendiente_requisitos",
                        requirements=requirements.checklist(["carta_solicitud"]))
    client = login("mrojas")
    client.post(f"/backoffice/conversaciones/{conversation_id}/tomar", {"case_id": case_id})
    before = len(sent(runtime, channel))
    clock.advance(minutes=1)
    runtime.conversations.handle(InboundMessage(
        channel=channel, address=address, body="Le envío la carta firmada", external_id=f"{channel}-carta",
        attachments=(Attachment(filename="carta firmada.pdf", content_type="application/pdf", data=PDF),)))
    assert len(sent(runtime, channel)) == before  # a person holds it: the bot stays silent
    with staff.sessions() as session:
        case = session.get(Case, case_id)
        (document,) = session.scalars(select(Document))
        (task,) = session.scalars(select(StaffTask).where(StaffTask.kind == "archivo_en_atencion"))
        holder = session.scalar(select(Staff.id).where(Staff.username == "mrojas"))
        message = session.scalars(select(Message).where(Message.external_id == f"{channel}-carta")).one()
        assert [(r["code"], r["status"], r["document_id"]) for r in case.requirements] == [
            ("carta_solicitud", "received", document.id)]
        assert case.status == "en_proceso"  # the last requirement arrived: the case moves on
        assert (document.case_id, document.filename, message.case_id) == (case_id, "carta firmada.pdf", case_id)
        assert (task.assignee_id, task.case_id, task.note) == (holder, case_id, "carta firmada.pdf")
    page = client.get(f"/backoffice/casos/{case_id}").text
    assert "carta firmada.pdf" in page
    assert "El cliente envió un archivo mientras usted lo atiende" in client.get("/backoffice/").text


def test_deriving_the_case_hands_the_conversation_back_so_the_next_question_is_answered(
        staff, login, runtime, clock):
    # Issue 15: after taking over and deriving, the conversation stayed held: the client's next
    # question was answered by nobody and sat in no queue.
    write(runtime, "Hola")
    conversation_id = conversation_of_address(staff, "+59170000001")
    case_id = make_case(staff, assignee="mrojas", conversation_id=conversation_id)
    client = login("mrojas")
    client.post(f"/backoffice/conversaciones/{conversation_id}/tomar", {"case_id": case_id})
    response = client.post(f"/backoffice/casos/{case_id}/acciones/derive", {"to_role": "gestor_comercial", "note": "Para alta"})
    assert response.status_code == 303
    with staff.sessions() as session:
        from bot.models import Case
        assert session.get(Case, case_id).current_role == "gestor_comercial"
    conversation = conversation_of(staff, conversation_id)
    assert (conversation.mode, conversation.held_by_id, conversation.state) == ("bot", None, "menu")
    assert sent(runtime)[-1].startswith("María Rojas terminó de atenderle.")
    clock.advance(minutes=1)
    before = len(sent(runtime))
    write(runtime, "7")
    replies = sent(runtime)
    assert len(replies) == before + 1 and "detalle de llamadas" in replies[-1].lower()


def test_a_client_left_unanswered_in_a_held_conversation_is_told_and_the_holder_alerted(
        staff, login, runtime, clock):
    # Issue 15: while a person holds the conversation the bot is silent; a message nobody answers
    # within HELD_REPLY_MINUTES (15) must not wait unseen.
    write(runtime, "Hola")
    conversation_id = conversation_of_address(staff, "+59170000001")
    client = login("mrojas")
    client.post(f"/backoffice/conversaciones/{conversation_id}/tomar")
    clock.advance(minutes=1)
    write(runtime, "¿Siguen ahí? Necesito la respuesta hoy")
    before = len(sent(runtime))
    clock.advance(minutes=14)
    runtime.worker.run_once()
    assert len(sent(runtime)) == before  # 14 minutes: not yet
    clock.advance(minutes=2)
    runtime.worker.run_once()
    replies = sent(runtime)
    assert replies[before:] == ["Disculpe la espera: María Rojas ya tiene su mensaje y le responderá en breve."]
    clock.advance(minutes=30)
    runtime.worker.run_once()
    assert len(sent(runtime)) == before + 1  # once per unanswered message
    holder = actor(staff, "mrojas").id
    with staff.sessions() as session:
        (task,) = session.scalars(select(StaffTask).where(StaffTask.kind == "espera_sin_respuesta"))
        assert task.assignee_id == holder and task.conversation_id == conversation_id
    waiting = "El cliente espera una respuesta de la persona que lo atiende"
    assert waiting in client.get("/backoffice/").text and waiting in login("responsable").get("/backoffice/").text

    # Answered by staff: the next check finds nothing to tell.
    client.post(f"/backoffice/conversaciones/{conversation_id}/responder", {"body": "Sí, le respondo en un momento."})
    clock.advance(minutes=30)
    runtime.worker.run_once()
    assert sent(runtime)[-1] == "Sí, le respondo en un momento."
