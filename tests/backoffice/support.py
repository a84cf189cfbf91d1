"""Helpers of the back-office tests: a signed-in HTTP client and rows written straight into the
database (imported as `tests.backoffice.support`)."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from backoffice import security
from bot import cases as case_log
from bot.models import Client, Conversation, Staff

PASSWORD = "postventa-demo"
NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # 10:00 in La Paz
EL_VALLE_NIT = "1020304021"  # ejecutivo mrojas, WhatsApp +59170000001
TUNARI_NIT = "1029384017"  # ejecutivo lvargas


@lru_cache
def demo_hash() -> str:
    return security.hash_password(PASSWORD)  # Argon2 once per test session, not per account


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class StaffClient:
    """A browser-less staff member: signs in through the login form, posts forms with the CSRF
    token the pages carry."""

    def __init__(self, app: FastAPI, base_url: str = "http://testserver"):
        self.http = TestClient(app, base_url=base_url, follow_redirects=False)
        self.csrf = ""

    def login(self, username: str, password: str = PASSWORD):
        page = self.http.get("/backoffice/login")
        token = CSRF.search(page.text).group(1)
        response = self.http.post("/backoffice/login",
                                  data={"username": username, "password": password, "csrf_token": token})
        if response.status_code == 303:
            self.csrf = CSRF.search(self.http.get("/backoffice/").text).group(1)
        return response

    def get(self, path: str, **kwargs):
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf)
        return self.http.post(path, data=data, **kwargs)


def staff_id(db, username: str) -> int:
    with db.sessions() as session:
        return session.scalar(select(Staff.id).where(Staff.username == username))


def client_id(db, nit: str) -> int:
    with db.sessions() as session:
        return _client_id(session, nit)


def _client_id(session, nit: str) -> int:
    return session.scalar(select(Client.id).where(Client.nit == nit))


def make_conversation(db, *, channel: str = "whatsapp", address: str = "+59170000001", nit: str = EL_VALLE_NIT,
                      last_inbound_at: datetime | None = NOW, mode: str = "bot") -> int:
    with db.sessions.begin() as session:
        conversation = Conversation(channel=channel, address=address, client_id=_client_id(session, nit), dialog="main",
                                    state="menu", data={}, mode=mode, last_inbound_at=last_inbound_at,
                                    created_at=NOW, updated_at=NOW)
        session.add(conversation)
        session.flush()
        return conversation.id


def make_case(db, *, tramite: str = "G", nit: str = EL_VALLE_NIT, role: str = "ejecutivo",
              assignee: str | None = None, conversation_id: int | None = None, opened_at: datetime = NOW,
              status: str = "en_proceso", requirements: list | None = None, sla_hours: int = 24,
              summary: str = "") -> int:
    with db.sessions.begin() as session:
        assignee_id = session.scalar(select(Staff.id).where(Staff.username == assignee)) if assignee else None
        case = case_log.open_case(session, tramite=tramite, client_id=_client_id(session, nit),
                                  conversation_id=conversation_id, role=role, assignee_id=assignee_id, now=opened_at,
                                  sla_hours=sla_hours, summary=summary, requirements=requirements)
        case.status = status
        session.flush()
        return case.id
