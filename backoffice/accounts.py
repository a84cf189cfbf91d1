"""Staff accounts: created by `python -m bot create-user`, by the responsable's users page, and
for the demo by `setup-demo`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice import auth, policy, security
from bot.models import Staff

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MIN_PASSWORD = 8
DEMO_STAFF = Path(__file__).resolve().parent / "rules" / "demo_staff.yaml"


class InvalidAccount(ValueError):
    status_code = 400

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # username | role | password


def check(username: str, role: str, password: str | None) -> None:
    if not USERNAME.fullmatch(username):
        raise InvalidAccount("username")
    if role not in policy.roles():
        raise InvalidAccount("role")
    if password is not None and len(password) < MIN_PASSWORD:
        raise InvalidAccount("password")


def create_or_update(session: Session, *, username: str, role: str, password: str, full_name: str = "",
                     email: str = "") -> tuple[Staff, bool]:
    """A new account, or a new role and password for an existing one (an imported ejecutivo has
    none). Returns (staff, created)."""
    username = auth.normalise_username(username)
    check(username, role, password)
    staff = session.scalars(select(Staff).where(Staff.username == username)).one_or_none()
    created = staff is None
    if created:
        staff = Staff(username=username, full_name=full_name, role=role, email=email, active=True)
        session.add(staff)
    else:
        staff.role = role
        staff.active = True
        if full_name:
            staff.full_name = full_name
        if email:
            staff.email = email
    staff.password_hash = security.hash_password(password)
    session.flush()
    if not created:
        auth.end_sessions_of(session, staff.id)  # a new password signs every old session out
    return staff, created


def set_active(session: Session, staff: Staff, active: bool) -> None:
    staff.active = active
    if not active:
        auth.end_sessions_of(session, staff.id)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    full_name: str
    password: str


def demo_accounts() -> list[DemoAccount]:
    with open(DEMO_STAFF, encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    return [DemoAccount(a["username"], a["role"], a["full_name"], spec["password"]) for a in spec["accounts"]]


def ensure_demo_staff(session: Session, *, create: bool = True) -> list[DemoAccount]:
    """Give every demo account its demo password unless it already has a password of its own;
    return the accounts that sign in with the demo password. `create=False` only looks."""
    ready = []
    for account in demo_accounts():
        staff = session.scalars(select(Staff).where(Staff.username == account.username)).one_or_none()
        if staff is not None and staff.password_hash:
            if security.verify_password(staff.password_hash, account.password):
                ready.append(account)
            continue
        if not create:
            continue
        create_or_update(session, username=account.username, role=account.role, password=account.password,
                         full_name=(staff.full_name if staff is not None and staff.full_name else account.full_name))
        ready.append(account)
    return ready
