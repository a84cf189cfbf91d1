"""What staff do to a case, step by step as the procedure names it. Each action checks the role
(policy), changes the case, and writes an event with who and when. Services flush, never commit.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from backoffice import notify, policy, repository, takeover
from bot import cases as case_log
from bot import quality, requirements
from bot.enums import CaseStatus, Role
from bot.models import Case, Staff

SMARTFLEX_ORDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/]{2,29}")
REQUIREMENT_STATUSES = ("received", "verified", "rejected")
MAX_TEXT = 2000


class ActionRefused(Exception):
    """The request is understood but cannot be done now (bad input, somebody was faster)."""

    status_code = 409

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _text(value: str, *, required: bool = True) -> str:
    value = (value or "").strip()[:MAX_TEXT]
    if required and not value:
        raise ActionRefused("text_required")
    return value


def _event(session: Session, case: Case, staff: Staff, now: datetime, kind: str, **detail) -> None:
    case_log.add_event(session, case=case, now=now, actor=staff.username, kind=kind, detail=detail)


def _client_ejecutivo_id(case: Case) -> int | None:
    return case.client.ejecutivo_id if case.client is not None else None


def take_case(session: Session, staff: Staff, case: Case, *, now: datetime) -> None:
    policy.require(staff, "take_case", case)
    # Conditional: of two people pressing "Tomar caso" at once, exactly one gets it.
    taken = session.execute(update(Case).where(Case.id == case.id, Case.assignee_id.is_(None))
                            .values(assignee_id=staff.id)).rowcount
    if not taken:
        raise ActionRefused("already_assigned")
    session.refresh(case)
    _event(session, case, staff, now, "assigned", assignee=staff.username)


def assign(session: Session, staff: Staff, case: Case, *, username: str, now: datetime) -> None:
    policy.require(staff, "assign", case)
    assignee = repository.staff_by_username(session, username)
    if assignee is None or not assignee.active or assignee.role != case.current_role:
        raise ActionRefused("bad_assignee")
    case.assignee_id = assignee.id
    _event(session, case, staff, now, "assigned", assignee=assignee.username)


def derive(session: Session, staff: Staff, case: Case, *, to_role: str, note: str, now: datetime,
           keep_conversation: bool = False) -> None:
    """`keep_conversation`: the holder chose to go on talking with the client (it stays in her
    "Mis conversaciones"); by default the conversation goes back to the bot."""
    policy.require(staff, "derive", case)
    if to_role not in policy.derive_targets(staff) or to_role == case.current_role:
        raise ActionRefused("bad_role")
    previous = case.current_role
    case.current_role = to_role
    # Back to the ejecutivo(a): the client's own, who follows the case (procedure: "devuelve").
    case.assignee_id = _client_ejecutivo_id(case) if to_role == Role.EJECUTIVO else None
    if case.status == CaseStatus.ABIERTO:
        case.status = CaseStatus.EN_PROCESO
    _event(session, case, staff, now, "derived", **{"from": previous, "to": to_role, "note": _text(note, required=False)})
    if not keep_conversation:
        takeover.release_with_case(session, staff, case, now=now)


def record_smartflex(session: Session, staff: Staff, case: Case, *, order: str, now: datetime) -> None:
    policy.require(staff, "smartflex", case)
    order = (order or "").strip()
    if not SMARTFLEX_ORDER.fullmatch(order):
        raise ActionRefused("bad_order")
    case.data = {**(case.data or {}), "smartflex_order": order}
    if case.status == CaseStatus.ABIERTO:
        case.status = CaseStatus.EN_PROCESO
    _event(session, case, staff, now, "smartflex", order=order)


def no_feasibility(session: Session, staff: Staff, case: Case, *, reason: str, now: datetime) -> None:
    policy.require(staff, "no_feasibility", case)
    reason = _text(reason)
    case.status = CaseStatus.SIN_FACTIBILIDAD
    case.resolved_at = now
    case.closed_at = now
    conversation = repository.conversation(session, case.conversation_id)
    message = notify.to_client(session, conversation=conversation, case=case, template="backoffice_no_feasibility",
                               author=staff.username, now=now, reason=reason)
    _event(session, case, staff, now, "no_feasibility", reason=reason, client_informed=message is not None)
    takeover.release_with_case(session, staff, case, now=now)


def resolve(session: Session, staff: Staff, case: Case, *, summary: str, now: datetime) -> None:
    """Attended. The case goes to the client's ejecutivo(a) for the quality-control call."""
    policy.require(staff, "resolve", case)
    case.status = CaseStatus.RESUELTO
    case.resolved_at = now
    case.current_role = "ejecutivo"
    case.assignee_id = _client_ejecutivo_id(case)
    _event(session, case, staff, now, "resolved", summary=_text(summary, required=False))
    takeover.release_with_case(session, staff, case, now=now)  # before the bot's question below
    quality.on_resolved(session, case, now=now)  # the bot asks the client whether it works now


def close(session: Session, staff: Staff, case: Case, *, note: str, now: datetime) -> None:
    """Quality control done: the client confirmed the service works; the procedure concludes."""
    policy.require(staff, "close", case)
    case.status = CaseStatus.CONCLUIDO
    case.closed_at = now
    _event(session, case, staff, now, "closed", quality=_text(note, required=False))
    takeover.release_with_case(session, staff, case, now=now)


def reopen(session: Session, staff: Staff, case: Case, *, reason: str, now: datetime) -> None:
    policy.require(staff, "reopen", case)
    case.status = CaseStatus.EN_PROCESO
    case.resolved_at = None
    case.closed_at = None
    case.current_role = "ejecutivo"
    case.assignee_id = _client_ejecutivo_id(case) or staff.id
    _event(session, case, staff, now, "reopened", reason=_text(reason))


def add_note(session: Session, staff: Staff, case: Case, *, text: str, now: datetime) -> None:
    """Internal: an event only, never a message."""
    policy.require(staff, "note", case)
    _event(session, case, staff, now, "note", text=_text(text))


def mark_requirement(session: Session, staff: Staff, case: Case, *, index: int, status: str, reason: str,
                     now: datetime) -> None:
    policy.require(staff, "requirements", case)
    checklist = [dict(r) for r in case.requirements or []]
    if status not in REQUIREMENT_STATUSES or not 0 <= index < len(checklist):
        raise ActionRefused("bad_requirement")
    requirement = checklist[index]
    if requirement["status"] == "missing" and status == "rejected":
        # Nothing came to reject: the client would be told a paper they never sent was refused.
        # Staff may still mark it received or verified (brought to an office).
        raise ActionRefused("not_received")
    reason = _text(reason, required=status == "rejected")
    requirement["status"] = status
    requirement["note"] = reason if status == "rejected" else ""
    case.requirements = checklist  # reassign: JSON columns track replacement, not mutation
    _event(session, case, staff, now, f"requirement_{status}", code=requirement["code"], reason=reason)
    if status == "rejected":
        if case.status == CaseStatus.EN_PROCESO:
            case.status = CaseStatus.PENDIENTE_REQUISITOS
        conversation = repository.conversation(session, case.conversation_id)
        notify.to_client(session, conversation=conversation, case=case, template="backoffice_requirement_rejected",
                         author=staff.username, now=now, requirement=requirement["name"], reason=reason)
    elif not requirements.missing(checklist) and case.status == CaseStatus.PENDIENTE_REQUISITOS:
        requirements.complete(session, case, now=now, actor=staff.username)
