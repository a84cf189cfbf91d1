"""Cronograma de visitas: one technician per slot (database constraint), the client told, the
engineering service recorded, CSV and print."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.models import Case, CaseEvent, Message, Visit
from tests.backoffice.support import EL_VALLE_NIT, NOW, client_id, make_case, make_conversation

SLOT, TECH, OTHER_TECH = "08:30-10:30", "Técnico Carlos Mamani", "Técnico Rubén Flores"


def schedule(client, **form):
    data = {"visit_date": "2026-12-01", "slot": SLOT, "technician": TECH, "contact": "Ana 70000001"}
    data.update(form)
    return client.post("/backoffice/visitas", data).headers["location"]


def test_schedule_tells_the_client_and_logs_the_case(staff, login):
    conversation = make_conversation(staff)
    case_id = make_case(staff, tramite="L", role="analista_tecnico", conversation_id=conversation)
    with staff.sessions() as session:
        number = session.get(Case, case_id).number
    location = schedule(login("atecnico"), case_number=number)
    assert "ok=visit_scheduled" in location and "semana=2026-12-01" in location
    with staff.sessions() as session:
        visit = session.scalars(select(Visit)).one()
        message = session.scalars(select(Message).where(Message.direction == "out")).one()
        event = session.scalars(select(CaseEvent).where(CaseEvent.kind == "visit_scheduled")).one()
    assert (visit.case_id, visit.slot, visit.technician, visit.status) == (case_id, SLOT, TECH, "programada")
    assert visit.address.startswith("Av. Ballivián 456")  # the client's product address by default
    assert "1 de diciembre de 2026" in message.body and SLOT in message.body and message.author == "atecnico"
    assert event.actor == "atecnico" and event.detail["client_informed"] is True
    # The card on the week's calendar shows the case it serves, with a link (issue 15).
    page = login("atecnico").get("/backoffice/visitas?semana=2026-12-01").text
    card = page.split(f'data-visit="{visit.id}"', 1)[1].split("</div>", 1)[0]
    assert f'href="/backoffice/casos/{case_id}">{number}</a>' in card and "L. " in card


def test_a_visit_cannot_be_scheduled_in_the_past(staff, login):
    # NOW is 28 Nov 2026, 10:00 in La Paz: yesterday and today's 08:30 slot have passed.
    client = login("atecnico")
    assert "error=past_slot" in schedule(client, nit=EL_VALLE_NIT, visit_date="2026-11-27")
    assert "error=past_slot" in schedule(client, nit=EL_VALLE_NIT, visit_date="2026-11-28", slot="08:30-10:30")
    with staff.sessions() as session:
        assert session.scalars(select(Visit)).all() == [] and session.scalars(select(Message)).all() == []
    assert "ok=visit_scheduled" in schedule(client, nit=EL_VALLE_NIT, visit_date="2026-11-28", slot="10:30-12:30")


def test_one_technician_one_slot(staff, login):
    client = login("atecnico")
    assert "ok=visit_scheduled" in schedule(client, nit=EL_VALLE_NIT)
    assert "error=technician_busy" in schedule(client, nit=EL_VALLE_NIT)
    assert "ok=visit_scheduled" in schedule(client, nit=EL_VALLE_NIT, technician=OTHER_TECH)
    assert "ok=visit_scheduled" in schedule(client, nit=EL_VALLE_NIT, slot="10:30-12:30")
    with staff.sessions() as session:
        assert len(session.scalars(select(Visit)).all()) == 3


def test_the_constraint_is_in_the_database(staff):
    el_valle = client_id(staff, EL_VALLE_NIT)
    from datetime import date

    def visit(status="programada"):
        return Visit(client_id=el_valle, visit_date=date(2026, 12, 1), slot=SLOT, technician=TECH,
                     status=status, created_at=NOW)

    with staff.sessions.begin() as session:
        session.add(visit())
    with pytest.raises(IntegrityError), staff.sessions.begin() as session:
        session.add(visit())
    with staff.sessions.begin() as session:  # a cancelled visit does not hold the slot
        session.add(visit("cancelada"))


def test_cancel_frees_the_slot(staff, login):
    client = login("atecnico")
    schedule(client, nit=EL_VALLE_NIT)
    with staff.sessions() as session:
        visit_id = session.scalar(select(Visit.id))
    client.post(f"/backoffice/visitas/{visit_id}/cancelar", {"reason": "El cliente pidió otra fecha"})
    assert "ok=visit_scheduled" in schedule(client, nit=EL_VALLE_NIT)


def test_engineering_service_closes_the_order_and_sends_the_case_to_quality_control(staff, login):
    case_id = make_case(staff, tramite="L", role="analista_tecnico")
    with staff.sessions() as session:
        number = session.get(Case, case_id).number
    client = login("atecnico")
    schedule(client, case_number=number)
    with staff.sessions() as session:
        visit_id = session.scalar(select(Visit.id))
    client.post(f"/backoffice/visitas/{visit_id}/servicio", {"report": "Cambio de ONT y reconfiguración del router"})
    with staff.sessions() as session:
        visit = session.get(Visit, visit_id)
        case = session.get(Case, case_id)
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)).all()
    assert visit.status == "realizada" and visit.engineering_report.startswith("Cambio de ONT")
    assert (case.status, case.current_role) == ("resuelto", "ejecutivo")
    assert kinds[-2:] == ["engineering_service", "resolved"]


def test_only_the_analista_schedules_but_everyone_sees_the_calendar(staff, login):
    ejecutiva = login("mrojas")
    assert ejecutiva.post("/backoffice/visitas", {"visit_date": "2026-12-01", "slot": SLOT, "technician": TECH,
                                                  "nit": EL_VALLE_NIT}).status_code == 403
    schedule(login("atecnico"), nit=EL_VALLE_NIT)
    page = ejecutiva.get("/backoffice/visitas?semana=2026-12-02").text
    assert "Importadora El Valle" in page and TECH in page and "Programar visita" not in page


def test_agenda_exports_as_csv_and_prints(staff, login):
    client = login("atecnico")
    schedule(client, nit=EL_VALLE_NIT, contact="=cmd|' /C calc'!A0")
    response = client.get("/backoffice/visitas.csv?semana=2026-11-30")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["Fecha", "Horario", "Técnico"]
    assert rows[1][:5] == ["2026-12-01", SLOT, TECH, "Importadora El Valle S.R.L.", "1020304021"]
    assert rows[1][6] == "'=cmd|' /C calc'!A0"
    printable = client.get("/backoffice/visitas/imprimir?semana=2026-11-30").text
    assert "Anexo 1" in printable and "Importadora El Valle" in printable
