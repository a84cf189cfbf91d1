"""Every action checks the role: the table of the procedure, and the same refusal by URL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice import policy
from bot.models import Case, CaseEvent, Document
from tests.backoffice.support import TUNARI_NIT, make_case, make_conversation

ROLES = ["ejecutivo", "gestor_comercial", "gestor_tecnico", "analista_tecnico", "responsable"]
# Who may do what to a case waiting, unassigned, at that person's own role (responsable: any case).
EXPECTED = {
    "take_case": {"ejecutivo", "gestor_comercial", "gestor_tecnico", "analista_tecnico", "responsable"},
    "assign": {"responsable"},
    "derive": {"ejecutivo", "gestor_comercial", "gestor_tecnico", "analista_tecnico", "responsable"},
    "smartflex": {"ejecutivo", "gestor_comercial", "gestor_tecnico", "analista_tecnico", "responsable"},
    "no_feasibility": {"gestor_comercial", "analista_tecnico", "responsable"},
    "requirements": {"ejecutivo", "gestor_comercial", "responsable"},
    "resolve": {"ejecutivo", "gestor_comercial", "gestor_tecnico", "analista_tecnico", "responsable"},
    "take_over": {"ejecutivo", "analista_tecnico", "responsable"},
    "note": {"ejecutivo", "gestor_comercial", "gestor_tecnico", "analista_tecnico", "responsable"},
}


def actor(role: str, staff_id: int = 1) -> policy.Actor:
    return policy.Actor(id=staff_id, username=role, role=role)


def case_at(role: str, *, status: str = "en_proceso", assignee_id: int | None = None) -> Case:
    return Case(current_role=role, status=status, assignee_id=assignee_id, tramite="C")


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_role_table_on_a_case_at_my_desk(action):
    allowed = {role for role in ROLES
               if policy.may(actor(role), action, case_at("ejecutivo" if role == "responsable" else role))}
    assert allowed == EXPECTED[action]


def test_nobody_but_the_responsable_acts_on_a_case_at_another_desk():
    for role in ROLES[:4]:
        other = next(r for r in ROLES[:4] if r != role)
        for action in EXPECTED:
            assert not policy.may(actor(role), action, case_at(other)) or action == "note", (role, action)


def test_a_case_assigned_to_a_colleague_is_not_mine_to_act_on():
    mine = actor("ejecutivo", staff_id=1)
    assert policy.may(mine, "resolve", case_at("ejecutivo", assignee_id=1))
    assert not policy.may(mine, "resolve", case_at("ejecutivo", assignee_id=2))
    assert not policy.may(mine, "take_case", case_at("ejecutivo", assignee_id=2))


def test_close_and_reopen_follow_the_case_state():
    ejecutivo = actor("ejecutivo")
    assert not policy.may(ejecutivo, "close", case_at("ejecutivo", status="en_proceso"))
    assert policy.may(ejecutivo, "close", case_at("ejecutivo", status="resuelto"))
    assert not policy.may(actor("gestor_comercial"), "close", case_at("gestor_comercial", status="resuelto"))
    assert policy.may(ejecutivo, "reopen", case_at("ejecutivo", status="concluido"))
    assert not policy.may(ejecutivo, "resolve", case_at("ejecutivo", status="concluido"))


def test_pages_by_role():
    assert {r for r in ROLES if policy.may_page(actor(r), "kpis")} == {"responsable"}
    assert {r for r in ROLES if policy.may_page(actor(r), "users")} == {"responsable"}
    assert {r for r in ROLES if policy.may_page(actor(r), "schedule_visit")} == {"analista_tecnico", "responsable"}


def test_an_ejecutivo_cannot_run_a_gestor_action_by_url(staff, login):
    case_id = make_case(staff, role="gestor_comercial")
    client = login("mrojas")  # the client's own ejecutiva: she may read the case
    assert client.get(f"/backoffice/casos/{case_id}").status_code == 200
    response = client.post(f"/backoffice/casos/{case_id}/acciones/smartflex", {"order": "SF-123456"})
    assert response.status_code == 403
    response = client.post(f"/backoffice/casos/{case_id}/acciones/no_feasibility", {"reason": "x"})
    assert response.status_code == 403
    with staff.sessions() as session:
        case = session.get(Case, case_id)
        assert "smartflex_order" not in case.data and case.status == "en_proceso"
        assert session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)).all() == ["opened"]


def test_the_gestor_can_do_what_the_ejecutivo_could_not(staff, login):
    case_id = make_case(staff, role="gestor_comercial")
    client = login("gcomercial")
    assert client.post(f"/backoffice/casos/{case_id}/acciones/smartflex", {"order": "SF-123456"}).status_code == 303
    with staff.sessions() as session:
        assert session.get(Case, case_id).data["smartflex_order"] == "SF-123456"
        event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "smartflex")).one()
        assert event.actor == "gcomercial"


def test_a_gestor_comercial_cannot_take_over_a_conversation(staff, login):
    conversation = make_conversation(staff)
    case_id = make_case(staff, role="gestor_comercial", conversation_id=conversation)
    client = login("gcomercial")
    page = client.get(f"/backoffice/casos/{case_id}").text
    assert "Tomar conversación" not in page
    assert client.post(f"/backoffice/conversaciones/{conversation}/tomar", {"case_id": case_id}).status_code == 403
    assert client.post(f"/backoffice/conversaciones/{conversation}/tomar").status_code == 403


def test_reading_a_case_of_another_cartera_at_another_desk_is_refused(staff, login):
    case_id = make_case(staff, nit=TUNARI_NIT, role="gestor_tecnico")  # lvargas's client
    assert login("mrojas").get(f"/backoffice/casos/{case_id}").status_code == 403
    assert login("lvargas").get(f"/backoffice/casos/{case_id}").status_code == 200
    assert login("gtecnico").get(f"/backoffice/casos/{case_id}").status_code == 200
    assert login("responsable").get(f"/backoffice/casos/{case_id}").status_code == 200


def test_kpis_and_users_pages_are_the_responsables(staff, login):
    ejecutiva = login("mrojas")
    assert ejecutiva.get("/backoffice/indicadores").status_code == 403
    assert ejecutiva.get("/backoffice/indicadores.csv").status_code == 403
    assert ejecutiva.get("/backoffice/usuarios").status_code == 403
    assert ejecutiva.post("/backoffice/usuarios", {"username": "intruso", "role": "responsable",
                                                   "password": "x" * 12}).status_code == 403
    responsable = login("responsable")
    assert responsable.get("/backoffice/indicadores").status_code == 200
    assert responsable.get("/backoffice/usuarios").status_code == 200


def _document(db, tmp_path, *, case_id: int | None, path: str, data: bytes = b"%PDF-1.4 test") -> int:
    from datetime import UTC, datetime

    from bot import documents

    stored = documents.store(tmp_path / "documents", data)
    with db.sessions.begin() as session:
        doc = Document(case_id=case_id, path=path or stored.path, filename="../../carta <b>.pdf",
                       sha256=stored.sha256, size=stored.size, content_type=stored.content_type,
                       created_at=datetime.now(UTC))
        session.add(doc)
        session.flush()
        return doc.id


def test_document_download_checks_access_and_names(staff, login, tmp_path):
    mine = make_case(staff, assignee="mrojas")
    theirs = make_case(staff, nit=TUNARI_NIT, role="gestor_tecnico")
    doc = _document(staff, tmp_path, case_id=mine, path="")
    other = _document(staff, tmp_path, case_id=theirs, path="")
    client = login("mrojas")
    response = client.get(f"/backoffice/documentos/{doc}?descargar=1")
    assert response.status_code == 200 and response.content == b"%PDF-1.4 test"
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "/" not in disposition.split("filename", 1)[1].replace("%2F", "")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"/backoffice/documentos/{other}").status_code == 403


def test_document_paths_cannot_escape_the_storage_folder(staff, login, tmp_path):
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF-1.4 secret")
    case_id = make_case(staff, assignee="mrojas")
    escaping = _document(staff, tmp_path, case_id=case_id, path="../secret.pdf")
    absolute = _document(staff, tmp_path, case_id=case_id, path=str(secret))
    client = login("mrojas")
    for doc in (escaping, absolute):
        response = client.get(f"/backoffice/documentos/{doc}")
        assert response.status_code == 404 and b"secret" not in response.content
