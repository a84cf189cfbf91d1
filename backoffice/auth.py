"""Signing in and out, session lookup and login throttling. Services only: nothing here commits.

Throttling state lives in `login_attempts`, so every web process counts the same failures: an
account is refused after LOGIN_MAX_FAILURES_PER_ACCOUNT failures within LOGIN_WINDOW_MINUTES, an
address after LOGIN_MAX_FAILURES_PER_ADDRESS. Refused tries are recorded too, so a client that keeps
guessing keeps the window closed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backoffice import security
from bot.clock import as_utc
from bot.models import LoginAttempt, Staff, StaffSession
from bot.settings import Settings

TOUCH_EVERY = timedelta(minutes=1)


class LoginRefused(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # invalid | throttled


@dataclass
class SignedIn:
    staff: Staff
    token: str  # goes into the cookie (signed); only its digest is stored
    csrf_token: str


def normalise_username(username: str) -> str:
    return username.strip().lower()[:64]


def throttled(session: Session, *, username: str, address: str, now: datetime, settings: Settings) -> bool:
    since = now - timedelta(minutes=settings.login_window_minutes)
    failed = (LoginAttempt.success.is_(False), LoginAttempt.at >= since)
    by_account = session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == username, *failed))
    if by_account >= settings.login_max_failures_per_account:
        return True
    by_address = session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.address == address, *failed))
    return by_address >= settings.login_max_failures_per_address


def login(session: Session, *, username: str, password: str, address: str, user_agent: str,
          now: datetime, settings: Settings) -> SignedIn:
    username = normalise_username(username)
    address = address[:64]
    if throttled(session, username=username, address=address, now=now, settings=settings):
        session.add(LoginAttempt(username=username, address=address, success=False, at=now))
        raise LoginRefused("throttled")
    staff = session.scalars(select(Staff).where(Staff.username == username)).one_or_none()
    stored = staff.password_hash if staff is not None and staff.active else None
    ok = security.verify_password(stored, password)
    session.add(LoginAttempt(username=username, address=address, success=ok, at=now))
    if not ok:
        raise LoginRefused("invalid")
    if security.needs_rehash(staff.password_hash):
        staff.password_hash = security.hash_password(password)
    token = security.new_token()
    csrf = security.new_token()
    session.add(StaffSession(
        token_hash=security.token_digest(token), staff_id=staff.id, csrf_token=csrf, address=address,
        user_agent=user_agent[:300], created_at=now, last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_hours),
    ))
    return SignedIn(staff=staff, token=token, csrf_token=csrf)


def session_for(session: Session, token: str | None, *, now: datetime) -> tuple[StaffSession, Staff] | None:
    if not token:
        return None
    row = session.execute(
        select(StaffSession, Staff)
        .join(Staff, Staff.id == StaffSession.staff_id)
        .where(StaffSession.token_hash == security.token_digest(token), StaffSession.expires_at > now,
               Staff.active.is_(True))
    ).one_or_none()
    if row is None:
        return None
    staff_session, staff = row
    if now - as_utc(staff_session.last_seen_at) > TOUCH_EVERY:
        staff_session.last_seen_at = now
    return staff_session, staff


def logout(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == security.token_digest(token)))


def end_sessions_of(session: Session, staff_id: int) -> None:
    session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))
