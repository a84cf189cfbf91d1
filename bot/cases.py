"""Cases: thin and type-agnostic. A trámite code selects rules; the event log says what happened."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot import rules
from bot.enums import CaseStatus, EventKind
from bot.models import Case, CaseEvent


def case_number(case_id: int, opened_at: datetime) -> str:
    return f"PV-{opened_at.year}-{case_id:06d}"


def open_case(
    session: Session,
    *,
    tramite: str,
    client_id: int,
    conversation_id: int | None,
    role: str,
    assignee_id: int | None,
    now: datetime,
    sla_hours: int | None = None,  # default: the trámite's hours in sla.yaml
    summary: str = "",
    data: dict | None = None,
    quoted_costs: list | None = None,
    requirements: list | None = None,
    actor: str = "bot",
) -> Case:
    case = Case(
        tramite=tramite,
        status=CaseStatus.ABIERTO,
        current_role=role,
        assignee_id=assignee_id,
        client_id=client_id,
        conversation_id=conversation_id,
        summary=summary,
        data=data or {},
        quoted_costs=quoted_costs or [],
        requirements=requirements or [],
        opened_at=now,
        due_at=now + timedelta(hours=sla_hours if sla_hours is not None else rules.sla_hours(tramite)),
    )
    session.add(case)
    session.flush()  # the id gives the number; unique and race-free across processes
    case.number = case_number(case.id, now)
    add_event(session, case=case, now=now, actor=actor, kind=EventKind.OPENED,
              detail={"role": role, "assignee_id": assignee_id, "summary": summary})
    return case


def add_event(session: Session, *, case: Case, now: datetime, actor: str, kind: str, detail: dict | None = None) -> CaseEvent:
    event = CaseEvent(case_id=case.id, at=now, actor=actor, kind=kind, detail=detail or {})
    session.add(event)
    return event
