"""Cases: thin and type-agnostic. A trámite code selects rules; the event log says what happened."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot import rules
from bot.enums import OPEN_STATUSES, CaseStatus, EventKind
from bot.models import Case, CaseEvent, StaffTask


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


# What a client may ask about: open work, and what ended in the last weeks ("¿ya lo atendieron?").
RECENT_DAYS = 30


def client_cases(session: Session, *, client_id: int, now: datetime, numbers: list[str] | None = None,
                 tramite: str | None = None) -> list[Case]:
    """A client's cases a status question is about, newest first: the ones named by number
    (any status), else the open ones and those that ended within RECENT_DAYS (of `tramite`
    when the client named one)."""
    query = select(Case).where(Case.client_id == client_id)
    if numbers:
        query = query.where(Case.number.in_(numbers))
    else:
        recent = now - timedelta(days=RECENT_DAYS)
        query = query.where(or_(Case.status.in_(OPEN_STATUSES),
                                and_(Case.closed_at.is_not(None), Case.closed_at >= recent),
                                and_(Case.resolved_at.is_not(None), Case.resolved_at >= recent)))
        if tramite:
            query = query.where(Case.tramite == tramite)
    return list(session.scalars(query.order_by(Case.opened_at.desc(), Case.id.desc())))


def latest_case(session: Session, *, conversation_id: int) -> Case | None:
    return session.scalars(select(Case).where(Case.conversation_id == conversation_id)
                           .order_by(Case.id.desc()).limit(1)).first()


def withdraw(session: Session, *, case: Case, now: datetime, words: str,
             notify: bool = True) -> StaffTask | None:
    """The client withdraws an open case: closed as withdrawn, the event logged with the
    client's words, and (`notify`) a task tells the person who had it. A correction
    ("perdón, es la otra línea") withdraws without a task: the corrected case replaces it."""
    case.status = CaseStatus.ANULADO
    case.closed_at = now
    add_event(session, case=case, now=now, actor="cliente", kind=EventKind.WITHDRAWN,
              detail={"words": words[:500], "corrected": not notify})
    if not notify:
        return None
    task = StaffTask(kind="case_withdrawn", status="abierta", assignee_id=case.assignee_id,
                     client_id=case.client_id, conversation_id=case.conversation_id, case_id=case.id,
                     note=case.number or "", created_at=now)
    session.add(task)
    return task
