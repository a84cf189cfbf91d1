"""Requirements of a case: what the client must still send, and what happens when it arrives.

A case keeps its checklist as JSON: [{code, name, kind, status, document_id, note}], status one of
missing | received | verified | rejected. A document the client sends satisfies the first missing
requirement of kind "document" (staff verify or reject it in the back-office). When nothing is
missing any more, the case moves to the role the trámite names for the next step.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import cases
from bot.enums import CaseStatus, EventKind, Role
from bot.models import Case
from bot.rules import load_rules

# Cases that still take the client's documents; a reopened case waits for staff, not for papers.
OPEN_STATUSES = (CaseStatus.ABIERTO, CaseStatus.PENDIENTE_REQUISITOS, CaseStatus.EN_PROCESO)


@lru_cache
def _catalogue() -> dict:
    return load_rules("requirements.yaml")


def checklist(codes: list[str]) -> list[dict]:
    catalogue = _catalogue()
    return [
        {"code": code, "name": catalogue[code]["name"], "kind": catalogue[code]["kind"],
         "status": "missing", "document_id": None, "note": ""}
        for code in codes
    ]


def for_tramite(code: str) -> list[str]:
    return list(_catalogue()["by_tramite"].get(code, []))


# Requirements the client can fulfil through the chat; others (returning equipment at an office)
# are listed to the client but never hold a case back.
BLOCKING_KINDS = ("document", "answer")


def missing(requirements: list[dict], *, kind: str | None = None) -> list[dict]:
    kinds = (kind,) if kind is not None else BLOCKING_KINDS
    return [r for r in requirements if r["status"] in ("missing", "rejected") and r["kind"] in kinds]


def attach(requirements: list[dict], document_id: int) -> dict | None:
    """Mark the first missing document requirement as received with this document."""
    for requirement in requirements:
        if requirement["kind"] == "document" and requirement["status"] in ("missing", "rejected"):
            requirement["status"] = "received"
            requirement["document_id"] = document_id
            return requirement
    return None


def waiting_case(session: Session, conversation_id: int) -> Case | None:
    """The most recent open case of this conversation that still waits for a document."""
    candidates = session.scalars(
        select(Case)
        .where(Case.conversation_id == conversation_id, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.id.desc())
        .limit(20)
    ).all()
    for case in candidates:
        if missing(case.requirements or [], kind="document"):
            return case
    return None


def receive_documents(session: Session, case: Case, document_ids: list[int], *, now: datetime,
                      actor: str = "bot") -> list[dict]:
    """Attach documents to a case's checklist; move the case on when the last one arrives."""
    requirements = [dict(r) for r in case.requirements or []]
    received = []
    for document_id in document_ids:
        requirement = attach(requirements, document_id)
        if requirement is None:
            cases.add_event(session, case=case, now=now, actor=actor, kind=EventKind.DOCUMENT_ADDED,
                            detail={"document_id": document_id})
            continue
        received.append(requirement)
        cases.add_event(session, case=case, now=now, actor=actor, kind=EventKind.REQUIREMENT_RECEIVED,
                        detail={"code": requirement["code"], "document_id": document_id})
    case.requirements = requirements  # reassign: JSON columns track replacement, not mutation
    if received and not missing(requirements) and case.status == CaseStatus.PENDIENTE_REQUISITOS:
        complete(session, case, now=now, actor=actor)
    return received


def complete(session: Session, case: Case, *, now: datetime, actor: str = "bot") -> None:
    next_role = (case.data or {}).get("role_when_complete") or case.current_role
    previous = case.current_role
    case.status = CaseStatus.EN_PROCESO
    case.current_role = next_role
    if next_role != Role.EJECUTIVO:
        case.assignee_id = None
    cases.add_event(session, case=case, now=now, actor=actor, kind=EventKind.DERIVED,
                    detail={"from": previous, "to": next_role, "cause": "requirements_complete"})
