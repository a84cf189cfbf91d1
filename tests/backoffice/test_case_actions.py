"""State changes of a case through the procedure, each an event with who and when."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot import requirements
from bot.models import Case, CaseEvent, Message, Outbox, Staff
from tests.backoffice.support import NOW, make_case, make_conversation


def case_of(db, case_id) -> Case:
    with db.sessions() as session:
        return session.get(Case, case_id)


def events(db, case_id) -> list[tuple[str, str]]:
    with db.sessions() as session:
        return session.execute(select(CaseEvent.kind, CaseEvent.actor).where(CaseEvent.case_id == case_id)
                               .order_by(CaseEvent.id)).all()


def outbound(db) -> list[Message]:
    with db.sessions() as session:
        return session.scalars(select(Message).where(Message.direction == "out").order_by(Message.id)).all()


def staff_id(db, username):
    with db.sessions() as session:
        return session.scalar(select(Staff.id).where(Staff.username == username))


def act(client, case_id, action, **form):
    response = client.post(f"/backoffice/casos/{case_id}/acciones/{action}", form)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_traslado_through_the_procedure(staff, login, clock):
    """C) ejecutivo derives to the gestor comercial, who records the Smartflex order and derives to the
    gestor técnico; he resolves; the ejecutiva does quality control and concludes."""
    case_id = make_case(staff, tramite="C", assignee="mrojas", status="abierto")
    mrojas, gcomercial, gtecnico = login("mrojas"), login("gcomercial"), login("gtecnico")
    act(mrojas, case_id, "derive", to_role="gestor_comercial", note="Cliente cumple requisitos")
    case = case_of(staff, case_id)
    assert (case.current_role, case.assignee_id, case.status) == ("gestor_comercial", None, "en_proceso")
    act(gcomercial, case_id, "take_case")
    assert case_of(staff, case_id).assignee_id == staff_id(staff, "gcomercial")
    act(gcomercial, case_id, "smartflex", order="SF-2026-77881")
    act(gcomercial, case_id, "derive", to_role="gestor_tecnico")
    clock.advance(hours=3)
    act(gtecnico, case_id, "resolve", note="Traslado instalado")
    case = case_of(staff, case_id)
    assert case.status == "resuelto" and case.current_role == "ejecutivo"
    assert case.assignee_id == staff_id(staff, "mrojas")  # back to the client's ejecutiva
    assert case.resolved_at.replace(tzinfo=None) == (NOW + timedelta(hours=3)).replace(tzinfo=None)
    assert "Concluir" in mrojas.get(f"/backoffice/casos/{case_id}").text
    act(mrojas, case_id, "close", note="Cliente confirma que el servicio funciona")
    case = case_of(staff, case_id)
    assert case.status == "concluido" and case.closed_at is not None
    assert events(staff, case_id) == [
        ("opened", "bot"), ("derived", "mrojas"), ("assigned", "gcomercial"), ("smartflex", "gcomercial"),
        ("derived", "gcomercial"), ("resolved", "gtecnico"), ("closed", "mrojas")]


def test_resolving_schedules_the_clients_quality_check(staff, login):
    from bot import quality
    from bot.models import Job

    conversation = make_conversation(staff)
    case_id = make_case(staff, tramite="C", role="gestor_tecnico", conversation_id=conversation)
    act(login("gtecnico"), case_id, "resolve", note="Traslado instalado")
    with staff.sessions() as session:
        jobs = session.execute(select(Job.kind, Job.payload)).all()
    assert (quality.QUESTION_JOB, {"case_id": case_id}) in [tuple(j) for j in jobs]


def test_derive_only_to_the_roles_the_procedure_names(staff, login):
    case_id = make_case(staff, tramite="G", role="gestor_comercial")
    location = act(login("gcomercial"), case_id, "derive", to_role="analista_tecnico")
    assert "error=bad_role" in location
    assert case_of(staff, case_id).current_role == "gestor_comercial"


def test_take_case_twice_gives_it_to_the_first(staff, login):
    case_id = make_case(staff, role="ejecutivo")
    assert "ok=take_case" in act(login("mrojas"), case_id, "take_case")
    # jquiroga is an ejecutivo too, but the case is no longer free
    response = login("jquiroga").post(f"/backoffice/casos/{case_id}/acciones/take_case")
    assert response.status_code == 403
    assert case_of(staff, case_id).assignee_id == staff_id(staff, "mrojas")


def test_internal_note_is_never_sent(staff, login):
    conversation = make_conversation(staff)
    case_id = make_case(staff, assignee="mrojas", conversation_id=conversation)
    act(login("mrojas"), case_id, "note", note="Llamar después de las 15:00")
    assert outbound(staff) == []
    with staff.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Outbox)) == 0
        note = session.scalars(select(CaseEvent).where(CaseEvent.kind == "note")).one()
    assert (note.actor, note.detail) == ("mrojas", {"text": "Llamar después de las 15:00"})


def test_rejected_requirement_is_told_to_the_client_through_the_outbox(staff, login):
    conversation = make_conversation(staff)
    checklist = requirements.checklist(["carta_solicitud"])
    checklist[0]["status"] = "received"
    case_id = make_case(staff, assignee="mrojas", conversation_id=conversation, requirements=checklist,
                        status="en_proceso")
    client = login("mrojas")
    response = client.post(f"/backoffice/casos/{case_id}/requisitos/0",
                           {"status": "rejected", "reason": "La carta no tiene firma"})
    assert response.status_code == 303
    case = case_of(staff, case_id)
    assert case.requirements[0]["status"] == "rejected" and case.status == "pendiente_requisitos"
    [message] = outbound(staff)
    assert message.author == "mrojas" and message.case_id == case_id and message.channel == "whatsapp"
    assert "La carta no tiene firma" in message.body and case.number in message.body
    assert "Carta de solicitud" in message.body or checklist[0]["name"] in message.body
    with staff.sessions() as session:
        row = session.scalars(select(Outbox)).one()
    assert row.payload["template"] == "backoffice_requirement_rejected"
    # a rejection needs its reason
    response = client.post(f"/backoffice/casos/{case_id}/requisitos/0", {"status": "rejected", "reason": " "})
    assert "error=text_required" in response.headers["location"]


def test_a_requirement_never_received_cannot_be_rejected(staff, login):
    conversation = make_conversation(staff)
    case_id = make_case(staff, assignee="mrojas", conversation_id=conversation, status="pendiente_requisitos",
                        requirements=requirements.checklist(["carta_solicitud"]))
    client = login("mrojas")
    page = client.get(f"/backoffice/casos/{case_id}").text
    assert 'value="rejected"' not in page  # not offered
    response = client.post(f"/backoffice/casos/{case_id}/requisitos/0",
                           {"status": "rejected", "reason": "No adjuntó la carta"})
    assert "error=not_received" in response.headers["location"]
    assert case_of(staff, case_id).requirements[0]["status"] == "missing"
    assert outbound(staff) == []  # the client is not told a paper they never sent was refused
    assert "no puede rechazarse" in client.get(response.headers["location"]).text


def test_verifying_the_last_requirement_moves_the_case_on(staff, login):
    checklist = requirements.checklist(["carta_solicitud"])
    case_id = make_case(staff, tramite="G", assignee="mrojas", requirements=checklist,
                        status="pendiente_requisitos")
    with staff.sessions.begin() as session:
        case = session.get(Case, case_id)
        case.data = {"role_when_complete": "gestor_comercial"}
    login("mrojas").post(f"/backoffice/casos/{case_id}/requisitos/0", {"status": "verified"})
    case = case_of(staff, case_id)
    assert case.requirements[0]["status"] == "verified"
    assert (case.status, case.current_role) == ("en_proceso", "gestor_comercial")
    assert [k for k, _ in events(staff, case_id)][-2:] == ["requirement_verified", "derived"]


def test_no_feasibility_closes_and_informs_the_client(staff, login):
    conversation = make_conversation(staff)
    case_id = make_case(staff, tramite="C", role="gestor_comercial", conversation_id=conversation)
    act(login("gcomercial"), case_id, "no_feasibility", reason="No hay puertos libres en el armario de la zona")
    case = case_of(staff, case_id)
    assert case.status == "sin_factibilidad" and case.closed_at is not None and case.resolved_at is not None
    [message] = outbound(staff)
    assert "no existe factibilidad técnica" in message.body and "puertos libres" in message.body
    assert events(staff, case_id)[-1] == ("no_feasibility", "gcomercial")


def test_reopen_by_the_ejecutiva(staff, login):
    case_id = make_case(staff, assignee="mrojas", status="concluido")
    act(login("mrojas"), case_id, "reopen", reason="El cliente volvió a reportar la falla")
    case = case_of(staff, case_id)
    assert (case.status, case.closed_at, case.resolved_at) == ("en_proceso", None, None)
    assert events(staff, case_id)[-1] == ("reopened", "mrojas")


def test_case_page_shows_client_products_timeline_costs_events_and_state(staff, login, runtime):
    from bot.messaging import InboundMessage

    runtime.conversations.handle(InboundMessage(channel="whatsapp", address="+59170000001", body="Hola",
                                                external_id="wa-1"))
    runtime.conversations.handle(InboundMessage(
        channel="whatsapp", address="+59170000001", external_id="wa-2",
        body="quiero el detalle de llamadas de agosto y septiembre de la línea 4412345"))
    runtime.deliverer.deliver_due()
    with staff.sessions() as session:
        case = session.scalars(select(Case)).one()
    page = login("mrojas").get(f"/backoffice/casos/{case.id}").text
    assert "Importadora El Valle" in page and "300101" in page and "Av. Ballivián" in page
    assert page.count('<td class="num">Bs 12,00</td>') == 2  # quoted: two previous months, one line
    assert "quiero el detalle de llamadas" in page
    assert page.count('class="delivery status-sent"') == 2  # both bot replies went out
    assert "Carta de solicitud firmada" in page  # the checklist
    assert "Caso abierto" in page  # the event log
    assert 'class="node current' in page and 'data-state="menu"' in page  # the dialog state highlighted
