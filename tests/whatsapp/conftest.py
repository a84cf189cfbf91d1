"""WhatsApp tests run the real app under uvicorn on 127.0.0.1 and a fake Twilio REST server.

Webhooks are posted over HTTP, signed the way Twilio signs them (over PUBLIC_BASE_URL, which is
https while the app listens on plain http, as behind a TLS-terminating proxy). Replies leave through
the worker (`run_once`: media jobs, then the outbox) to the fake server, which records them.
"""
from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from starlette.datastructures import ImmutableMultiDict

from bot.app import create_app
from bot.clock import ManualClock
from bot.models import Message, Outbox
from bot.portfolio import DEMO_CARTERA_DIR, import_cartera
from bot.app.wiring import build_runtime
from bot.settings import Settings
from channels.whatsapp import signature

from tests.whatsapp.fake_twilio import FakeTwilio

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT_SID = "ACf3c1b2a4d5e6f708192a3b4c5d6e7f80"
AUTH_TOKEN = "4f9c1d2e3b4a59687f8e9d0c1b2a3f4e"
SHARED_KEY = "whsk-secret-0123456789abcdef0123456789"
PUBLIC = "https://bot.comteco-empresas.example"
SENDER = "whatsapp:+14155238886"
IMPORTADORA = "+59170000001"  # Importadora El Valle (demo portfolio), lines 4412345...
TEMPLATES = {
    "reopen": "HX" + "a1" * 16,
    "case_update": "HX" + "b2" * 16,
    "payment_reminder": "HX" + "c3" * 16,
    "quality_check": "HX" + "d4" * 16,
    "preventive_offer": "HX" + "e5" * 16,
}
NOW = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # 09:00 in La Paz


def load(name: str, **overrides: str) -> list[tuple[str, str]]:
    """A captured-style form payload, with some fields replaced (order and blanks kept)."""
    fields = parse_qsl((FIXTURES / f"{name}.form").read_text().strip(), keep_blank_values=True)
    fields = [(k, overrides.pop(k)) if k in overrides else (k, v) for k, v in fields]
    return fields + list(overrides.items())


def sign(fields: list[tuple[str, str]], url: str, *, token: str = AUTH_TOKEN,
         algorithm: str = "HMAC_SHA1") -> str:
    return signature.compute(token, url, ImmutableMultiDict(fields), algorithm)


class AppServer:
    """The real app (bot.app.create_app) under uvicorn, on a free port."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(create_app(runtime=runtime), log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.http = httpx.Client(base_url=self.url, timeout=60)  # generous: CI machines are busy

    def start(self) -> AppServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def post(self, path: str, fields: list[tuple[str, str]], *, signed_url: str | None = None,
             token: str = AUTH_TOKEN, headers: dict | None = None, algorithm: str = "HMAC_SHA1",
             body: str | None = None) -> httpx.Response:
        """POST a form as Twilio does, signed over `signed_url` (default: the public URL)."""
        signed_url = signed_url if signed_url is not None else PUBLIC + path
        all_headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": sign(fields, signed_url, token=token, algorithm=algorithm)}
        all_headers.update(headers or {})
        return self.http.post(path, content=body if body is not None else urlencode(fields), headers=all_headers)

    def webhook(self, name: str, **overrides: str) -> httpx.Response:
        response = self.post("/webhooks/whatsapp", load(name, **overrides))
        assert response.status_code == 200, response.text
        return response


class WhatsApp:
    """Everything a WhatsApp test needs: app, fake Twilio, clock, database helpers."""

    def __init__(self, app: AppServer, twilio: FakeTwilio, clock: ManualClock, db):
        self.app = app
        self.twilio = twilio
        self.clock = clock
        self.db = db
        self.runtime = app.runtime

    def run_worker(self) -> None:
        self.runtime.worker.run_once()

    def messages(self, **where) -> list[Message]:
        with self.runtime.sessions() as session:
            query = select(Message).order_by(Message.id)
            for name, value in where.items():
                query = query.where(getattr(Message, name) == value)
            return list(session.scalars(query))

    def outbox(self) -> list[Outbox]:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(Outbox).order_by(Outbox.id)))

    def replies(self) -> list[str]:
        """Bodies Twilio accepted, in order."""
        return [r.value("Body") for r in self.twilio.sent() if r.value("Body") is not None]


def make_settings(db_url: str, documents_dir: Path, twilio_url: str, **overrides) -> Settings:
    values = dict(
        database_url=db_url,
        documents_dir=documents_dir,
        public_base_url=PUBLIC,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_whatsapp_from=SENDER,
        twilio_messaging_service_sid="",
        twilio_api_base_url=twilio_url,
        twilio_webhook_shared_key=SHARED_KEY,
        max_attachment_bytes=1024 * 1024,
        **{f"twilio_template_{purpose}": sid for purpose, sid in TEMPLATES.items()},
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def demo(db):
    with db.sessions.begin() as session:
        import_cartera(session, DEMO_CARTERA_DIR)
    return db


@pytest.fixture
def twilio():
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def clock():
    return ManualClock(NOW)


@pytest.fixture
def whatsapp_factory(db, twilio, clock, tmp_path):
    """Tests that need known clients also request `demo` (the demo portfolio)."""
    started = []

    def start(**overrides) -> WhatsApp:
        settings = make_settings(db.url, tmp_path / "documents", twilio.base_url, **overrides)
        app = AppServer(build_runtime(settings, clock=clock)).start()
        started.append(app)
        return WhatsApp(app, twilio, clock, db)

    yield start
    for app in started:
        app.stop()


@pytest.fixture
def wa(whatsapp_factory) -> WhatsApp:
    return whatsapp_factory()
