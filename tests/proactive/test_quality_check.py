"""Control de calidad after a resolved case: sí closes it as effective, no reopens it with
priority, silence for 48 h becomes a call task for the ejecutivo."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import quality
from bot.clock import ManualClock
from bot.models import Case, StaffTask
from bot.outbox import OutboxDeliverer
from bot.scheduler import Scheduler

IMPORTADORA = "+59170000001"
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


@pytest.fixture
def resolved_case(chat):
    client = chat(IMPORTADORA)
    client.say("quiero el detalle de llamadas de este mes de la línea 4412345")
    case = client.last_case()
    with client.runtime.sessions.begin() as session:
        row = session.get(Case, case.id)
        row.status = "resuelto"
        row.resolved_at = NOW
        quality.on_resolved(session, row, now=NOW)
    return client, case


def run_jobs(client, clock):
    Scheduler(client.runtime.sessions, clock=clock, handlers=quality.HANDLERS).run_due()
    # The question goes out through the outbox, like every reply.
    out = client.out
    start = out.tell()
    OutboxDeliverer(client.runtime.sessions, client.runtime.channels, clock=clock).deliver_due()
    out.seek(start)
    return out.read()


def test_yes_closes_the_case_as_effective(resolved_case):
    client, case = resolved_case
    question = run_jobs(client, ManualClock(NOW))
    assert case.number in question and "«sí» o «no»" in question
    reply = client.say("Sí, ya funciona, gracias")
    assert "Cerramos el caso" in reply
    case = client.last_case()
    assert case.status == "cerrado" and case.data["quality"] == "ok" and case.data["effective"] is True
    assert [e.kind for e in client.events(case)][-1] == "quality_ok"


def test_no_reopens_to_the_ejecutivo_with_priority_and_the_clients_words(resolved_case):
    client, case = resolved_case
    run_jobs(client, ManualClock(NOW))
    reply = client.say("No, sigue sin funcionar la línea")
    assert "Reabrimos" in reply
    case = client.last_case()
    assert case.status == "reabierto" and case.current_role == "ejecutivo" and case.data["priority"] is True
    assert case.assignee_id is not None
    event = client.events(case)[-1]
    assert event.kind == "quality_failed" and "sigue sin funcionar" in event.detail["words"]


def test_no_answer_in_48_hours_becomes_a_call_task(resolved_case):
    client, case = resolved_case
    clock = ManualClock(NOW)
    run_jobs(client, clock)
    clock.advance(hours=47)
    run_jobs(client, clock)
    with client.runtime.sessions() as session:
        assert session.scalars(select(StaffTask).where(StaffTask.kind == "quality_call")).all() == []
    clock.advance(hours=1, minutes=1)
    run_jobs(client, clock)
    with client.runtime.sessions() as session:
        task = session.scalars(select(StaffTask).where(StaffTask.kind == "quality_call")).one()
    assert task.case_id == case.id and task.assignee_id is not None
    assert client.last_case().data["quality"] == "no_answer"
    # The conversation is free again: a new request is served normally.
    assert "Resumen" in client.say("detalle de llamadas de este mes de la línea 4412346")


def test_a_new_request_instead_of_an_answer_is_served(resolved_case):
    client, case = resolved_case
    run_jobs(client, ManualClock(NOW))
    reply = client.say("necesito el detalle de llamadas de este mes de la línea 4412346")
    assert "Resumen" in reply
    with client.runtime.sessions() as session:
        first = session.get(Case, case.id)
        assert first.data["quality"] == "no_answer"
        assert session.scalars(select(StaffTask).where(StaffTask.kind == "quality_call")).one()


def test_question_waits_while_the_client_is_in_another_trámite(resolved_case):
    client, case = resolved_case
    client.say("detalle de llamadas")  # now choosing lines: busy
    question = run_jobs(client, ManualClock(NOW))
    assert "«sí» o «no»" not in question
    client.say("cancelar")
    later = run_jobs(client, ManualClock(NOW + timedelta(hours=1, minutes=1)))
    assert case.number in later
