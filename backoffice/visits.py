"""Cronograma de visitas (procedure L, Anexo 1): the analista técnico schedules technical visits on
a week calendar the team shares; the client is told the slot through their channel; after the visit
the analista records the "Servicio de Ingeniería" and closes the order.

A technician cannot be in two places: the partial unique index (technician, date, slot) of
non-cancelled visits refuses the second booking, whichever process tries it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from backoffice import notify, policy, repository
from backoffice.cases import ActionRefused, _text
from bot import cases as case_log
from bot import quality
from bot.enums import CaseStatus, EventKind
from bot.clock import LOCAL_TZ
from bot.models import Case, Staff, Visit
from bot.texts import long_date

RULES = Path(__file__).resolve().parent / "rules" / "visits.yaml"


@lru_cache
def rules() -> dict:
    with open(RULES, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def slots() -> list[str]:
    return list(rules()["slots"])


def technicians() -> list[str]:
    return list(rules()["technicians"])


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _slot_started(day: date, slot: str, now: datetime) -> bool:
    """Whether the slot ("08:30-10:30") of `day` has begun, in La Paz time."""
    local = now.astimezone(LOCAL_TZ)
    hour, minute = (int(part) for part in slot.split("-")[0].split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ) <= local


@dataclass
class VisitRequest:
    visit_date: date
    slot: str
    technician: str
    case_number: str = ""
    nit: str = ""
    address: str = ""
    contact: str = ""
    notes: str = ""


def schedule(session: Session, staff: Staff, request: VisitRequest, *, now: datetime) -> Visit:
    policy.require_page(staff, "schedule_visit")
    if request.slot not in slots() or request.technician not in technicians():
        raise ActionRefused("bad_slot")
    if _slot_started(request.visit_date, request.slot, now):
        raise ActionRefused("past_slot")  # the client would be told of a visit that cannot happen
    case: Case | None = None
    if request.case_number.strip():
        case = repository.case_by_number(session, request.case_number)
        if case is None:
            raise ActionRefused("unknown_case")
        client = case.client
    else:
        client = repository.client_by_nit(session, request.nit)
    if client is None:
        raise ActionRefused("unknown_client")
    address = request.address.strip() or next((p.address for p in client.products if p.address), "")
    visit = Visit(case_id=case.id if case else None, client_id=client.id, visit_date=request.visit_date,
                  slot=request.slot, technician=request.technician, address=address[:300],
                  contact=request.contact.strip()[:200], notes=request.notes.strip()[:2000], status="programada",
                  engineering_report="", created_by_id=staff.id, created_at=now)
    savepoint = session.begin_nested()
    try:
        session.add(visit)
        session.flush()
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        raise ActionRefused("technician_busy") from None
    conversation = (repository.conversation(session, case.conversation_id) if case and case.conversation_id
                    else repository.latest_conversation_of_client(session, client.id))
    message = notify.to_client(session, conversation=conversation, case=case, template="backoffice_visit_scheduled",
                               author=staff.username, now=now, visit_date=long_date(request.visit_date),
                               slot=request.slot, address=address, technician=request.technician)
    if case is not None:
        case_log.add_event(session, case=case, now=now, actor=staff.username, kind=EventKind.VISIT_SCHEDULED,
                           detail={"visit_id": visit.id, "date": request.visit_date.isoformat(),
                                   "slot": request.slot, "technician": request.technician,
                                   "client_informed": message is not None})
    return visit


def record_service(session: Session, staff: Staff, visit: Visit, *, report: str, now: datetime) -> None:
    """After the visit: the Servicio de Ingeniería, the order closed; the case goes to the client's
    ejecutivo(a) for the quality-control call (L.7, L.8)."""
    policy.require_page(staff, "schedule_visit")
    if visit.status != "programada":
        raise ActionRefused("visit_not_pending")
    visit.engineering_report = _text(report)
    visit.status = "realizada"
    visit.done_at = now
    case = session.get(Case, visit.case_id) if visit.case_id else None
    if case is None:
        return
    case_log.add_event(session, case=case, now=now, actor=staff.username, kind=EventKind.ENGINEERING_SERVICE,
                       detail={"visit_id": visit.id, "report": visit.engineering_report})
    if case.status in policy.open_statuses():
        case.status = CaseStatus.RESUELTO
        case.resolved_at = now
        case.current_role = "ejecutivo"
        case.assignee_id = case.client.ejecutivo_id if case.client else None
        case_log.add_event(session, case=case, now=now, actor=staff.username, kind=EventKind.RESOLVED,
                           detail={"summary": visit.engineering_report})
        quality.on_resolved(session, case, now=now)


def cancel(session: Session, staff: Staff, visit: Visit, *, reason: str, now: datetime) -> None:
    policy.require_page(staff, "schedule_visit")
    if visit.status != "programada":
        raise ActionRefused("visit_not_pending")
    visit.status = "cancelada"
    visit.notes = (visit.notes + "\n" if visit.notes else "") + _text(reason)
    if visit.case_id:
        case = session.get(Case, visit.case_id)
        case_log.add_event(session, case=case, now=now, actor=staff.username, kind=EventKind.VISIT_CANCELLED,
                           detail={"visit_id": visit.id, "reason": reason})


def week(session: Session, monday: date) -> list[Visit]:
    return list(session.scalars(
        select(Visit).where(Visit.visit_date >= monday, Visit.visit_date < monday + timedelta(days=7))
        .options(selectinload(Visit.client), selectinload(Visit.case)).order_by(Visit.visit_date, Visit.slot, Visit.technician)))


def grid(visits: list[Visit], monday: date) -> dict:
    """{(day, slot): [visits]} for the calendar; cancelled visits stay listed, struck through."""
    days = [monday + timedelta(days=i) for i in range(6)]  # Monday to Saturday
    cells: dict[tuple[date, str], list[Visit]] = {(d, s): [] for d in days for s in slots()}
    for visit in visits:
        cells.setdefault((visit.visit_date, visit.slot), []).append(visit)
    return {"days": days, "slots": slots(), "cells": cells}
