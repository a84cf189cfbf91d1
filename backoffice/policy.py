"""Role checks. One place answers "may this staff member do this", for routes and templates alike.

The table is data (rules/workflow.yaml); every route calls `require()` before acting, so a URL typed
by hand is refused exactly like a button that was never shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.enums import OPEN_STATUSES, RESOLVED_STATUSES
from bot.models import Case, Staff

RESPONSABLE = "responsable"
RULES = Path(__file__).resolve().parent / "rules" / "workflow.yaml"


@dataclass(frozen=True)
class Actor:
    """The signed-in staff member as services see them: plain values, valid after any rollback."""

    id: int
    username: str
    role: str
    full_name: str = ""

    @classmethod
    def of(cls, staff: Staff) -> Actor:
        return cls(staff.id, staff.username, staff.role, staff.full_name)


class Forbidden(Exception):
    status_code = 403

    def __init__(self, action: str):
        super().__init__(action)
        self.action = action


@lru_cache
def workflow() -> dict:
    with open(RULES, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def roles() -> list[str]:
    return list(workflow()["roles"])


def open_statuses() -> tuple[str, ...]:
    return OPEN_STATUSES


def resolved_statuses() -> tuple[str, ...]:
    return RESOLVED_STATUSES


def derive_targets(staff: Staff) -> list[str]:
    return list(workflow()["derive_to"].get(staff.role, []))


def may_page(staff: Staff, page: str) -> bool:
    return staff.role in workflow()["pages"][page] or staff.role == RESPONSABLE


def at_my_desk(staff: Staff, case: Case) -> bool:
    """The case waits for my role, and for me or for anybody of my role."""
    return case.current_role == staff.role and case.assignee_id in (None, staff.id)


def case_state_allows(action: str, case: Case) -> bool:
    if action == "close":
        return case.status == "resuelto"
    if action == "reopen":
        return case.status in resolved_statuses()
    if action == "note":
        return True
    if action == "take_case":
        return case.status in open_statuses() and case.assignee_id is None
    return case.status in open_statuses()


def may(staff: Staff, action: str, case: Case) -> bool:
    if not case_state_allows(action, case):
        return False
    if staff.role == RESPONSABLE:
        return True
    if staff.role not in workflow()["case_actions"][action]:
        return False
    if action == "reopen":
        return True  # a resolved case has left every desk; its ejecutivo(a) may reopen it
    if action == "note":
        return True
    return at_my_desk(staff, case)


def allowed_actions(staff: Staff, case: Case) -> set[str]:
    return {action for action in workflow()["case_actions"] if may(staff, action, case)}


def require(staff: Staff, action: str, case: Case) -> None:
    if not may(staff, action, case):
        raise Forbidden(action)


def require_page(staff: Staff, page: str) -> None:
    if not may_page(staff, page):
        raise Forbidden(page)


def may_view(staff: Staff, case: Case, *, acted: bool = False) -> bool:
    """Read access: the responsable; the role the case waits for; its assignee; the client's
    ejecutivo(a), who follows her cartera; anyone who already acted on it."""
    if staff.role == RESPONSABLE or case.current_role == staff.role or case.assignee_id == staff.id:
        return True
    if case.client is not None and case.client.ejecutivo_id == staff.id:
        return True
    return acted
