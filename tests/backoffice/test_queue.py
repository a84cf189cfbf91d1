"""The queue: my role's cases, mine or unassigned, by due time; filters, search, pages, counts."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from backoffice import policy, repository
from backoffice.repository import QueueFilters
from bot.models import Case, Staff, StaffTask
from tests.backoffice.support import (
    EL_VALLE_NIT,
    NOW,
    TUNARI_NIT,
    client_id,
    make_case,
    make_conversation,
)


def actor(db, username: str) -> policy.Actor:
    with db.sessions() as session:
        return policy.Actor.of(session.scalars(select(Staff).where(Staff.username == username)).one())


def numbers(db, ids):
    with db.sessions() as session:
        return [session.get(Case, i).number for i in ids]


def run(db, username: str, **filters):
    with db.sessions() as session:
        return repository.queue(session, actor(db, username), QueueFilters(**filters), now=NOW)


def test_my_queue_holds_my_roles_cases_assigned_to_me_or_nobody_sorted_by_due_time(staff):
    later = make_case(staff, assignee="mrojas", opened_at=NOW - timedelta(hours=2))         # due in 22 h
    overdue = make_case(staff, assignee=None, opened_at=NOW - timedelta(hours=30))          # due 6 h ago
    soon = make_case(staff, assignee="mrojas", opened_at=NOW - timedelta(hours=20))         # due in 4 h
    make_case(staff, nit=TUNARI_NIT, assignee="lvargas")                                    # a colleague's
    make_case(staff, role="gestor_comercial")                                               # another role
    make_case(staff, assignee="mrojas", status="concluido")                                 # closed
    page = run(staff, "mrojas")
    assert [r.number for r in page.rows] == numbers(staff, [overdue, soon, later])
    assert [r.overdue for r in page.rows] == [True, False, False]
    assert page.counts == {"todos": 3, "mios": 2, "sin_asignar": 1, "vencidos": 1}
    assert [r.number for r in run(staff, "mrojas", tab="mios").rows] == numbers(staff, [soon, later])
    assert [r.number for r in run(staff, "mrojas", tab="vencidos").rows] == numbers(staff, [overdue])
    assert [r.number for r in run(staff, "mrojas", tab="sin_asignar").rows] == numbers(staff, [overdue])
    assert run(staff, "responsable").counts["todos"] == 5  # every open case


def test_filters(staff):
    wa = make_conversation(staff, channel="whatsapp", address="+59170000001")
    mail = make_conversation(staff, channel="email", address="contabilidad@empresa.bo")
    g_wa = make_case(staff, tramite="G", conversation_id=wa)
    b_mail = make_case(staff, tramite="B", conversation_id=mail, status="pendiente_requisitos")
    tunari = make_case(staff, tramite="B", nit=TUNARI_NIT)
    closed = make_case(staff, tramite="G", status="concluido")
    resp = "responsable"
    assert [r.number for r in run(staff, resp, tramite="G").rows] == numbers(staff, [g_wa])
    assert [r.number for r in run(staff, resp, status="pendiente_requisitos").rows] == numbers(staff, [b_mail])
    assert [r.number for r in run(staff, resp, status="concluido").rows] == numbers(staff, [closed])
    assert [r.number for r in run(staff, resp, channel="email").rows] == numbers(staff, [b_mail])
    assert [r.number for r in run(staff, resp, ejecutivo="lvargas").rows] == numbers(staff, [tunari])
    assert [r.number for r in run(staff, resp, tramite="B", ejecutivo="mrojas").rows] == numbers(staff, [b_mail])


def test_search_by_number_nit_name_phone_and_email(staff):
    wa = make_conversation(staff, channel="whatsapp", address="+59170000001")
    el_valle = make_case(staff, conversation_id=wa)
    tunari = make_case(staff, nit=TUNARI_NIT)
    resp = "responsable"

    def found(q):
        return [r.number for r in run(staff, resp, q=q).rows]

    assert found(numbers(staff, [tunari])[0]) == numbers(staff, [tunari])
    assert found(EL_VALLE_NIT) == numbers(staff, [el_valle])
    assert found("tunari") == numbers(staff, [tunari])                       # razón social, any case
    assert found("70000001") == numbers(staff, [el_valle])                   # the client's phone
    assert found("72233003") == numbers(staff, [tunari])                     # the client's WhatsApp on file
    assert found("contabilidad@empresa.bo") == numbers(staff, [el_valle])    # a contact's email
    assert found("administracion@constructoratunari") == numbers(staff, [tunari])
    assert found("no existe") == []


def test_pages_of_25(staff):
    ids = [make_case(staff, opened_at=NOW - timedelta(minutes=i)) for i in range(30)]
    first, second = run(staff, "mrojas", page=1), run(staff, "mrojas", page=2)
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (30, 2, 25, 5)
    ordered = numbers(staff, list(reversed(ids)))  # the oldest is due first
    assert [r.number for r in first.rows + second.rows] == ordered


def test_handoffs_for_me(staff):
    wa = make_conversation(staff, mode="human")
    el_valle = client_id(staff, EL_VALLE_NIT)
    with staff.sessions.begin() as session:
        mrojas = session.scalar(select(Staff.id).where(Staff.username == "mrojas"))
        lvargas = session.scalar(select(Staff.id).where(Staff.username == "lvargas"))
        for assignee in (mrojas, None, lvargas):
            session.add(StaffTask(kind="handoff", status="abierta", assignee_id=assignee,
                                  client_id=el_valle, conversation_id=wa,
                                  note="pedido_del_cliente", created_at=NOW))
    people = {u: actor(staff, u) for u in ("mrojas", "responsable", "gcomercial")}
    with staff.sessions() as session:
        assert len(repository.open_tasks(session, people["mrojas"])) == 2
        assert len(repository.open_tasks(session, people["responsable"])) == 3
        assert repository.open_tasks(session, people["gcomercial"]) == []


def test_queue_page_shows_counts_overdue_marks_and_keeps_filters_in_links(staff, login):
    make_case(staff, opened_at=NOW - timedelta(hours=30))
    make_case(staff, assignee="mrojas")
    page = login("mrojas").get("/backoffice/?tramite=G").text
    counts = dict(re.findall(r'data-tab="(\w+)">(\d+)<', page))
    assert counts == {"todos": "2", "mios": "1", "sin_asignar": "1", "vencidos": "1", "conversaciones": "0",
                      "tareas": "0"}
    assert page.count("Vencido</strong>") == 1
    assert 'href="/backoffice/?tab=mios&amp;tramite=G"' in page


def test_queue_live_fragment_shows_a_new_case(staff, login):
    client = login("mrojas")
    before = client.get("/backoffice/cola/vivo").json()["regions"]["queue-table"]
    case_id = make_case(staff, assignee="mrojas")
    after = client.get("/backoffice/cola/vivo").json()["regions"]["queue-table"]
    number = numbers(staff, [case_id])[0]
    assert number not in before and number in after
