"""Talking to the bot through the console channel path, on the demo portfolio (`chat` fixture)."""
from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select

from bot.clock import FixedDateClock
from bot.models import Case, CaseEvent
from bot.app.wiring import build_runtime
from bot.settings import Settings
from channels.console import ConsoleChannel, run_chat
from bot.messaging import ChannelRegistry

TODAY = date(2026, 11, 28)


class Chat:
    """One client talking to the bot: `say()` returns the bot's reply to that message."""

    def __init__(self, runtime, sender: str):
        self.runtime = runtime
        self.sender = sender
        self.out = runtime.channels.get("console").stream

    def say(self, text: str) -> str:
        start = self.out.tell()
        run_chat(self.runtime, self.sender, io.StringIO(text + "\n"), self.out)
        self.out.seek(start)
        reply = self.out.read()
        assert not reply or reply.startswith("bot> "), reply
        return reply.removeprefix("bot> ").replace("\nbot> ", "\n\n")

    def cases(self) -> list[Case]:
        with self.runtime.sessions() as session:
            return session.scalars(select(Case).order_by(Case.id)).all()

    def last_case(self) -> Case:
        return self.cases()[-1]

    def events(self, case: Case) -> list[CaseEvent]:
        with self.runtime.sessions() as session:
            return session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()


@pytest.fixture
def chat(demo, tmp_path):
    runtimes = []

    def start(sender: str, today: date = TODAY) -> Chat:
        settings = Settings(database_url=demo.url, documents_dir=tmp_path / "documents")
        runtime = build_runtime(settings, clock=FixedDateClock(today),
                                channels=ChannelRegistry(ConsoleChannel(io.StringIO())))
        runtimes.append(runtime)
        return Chat(runtime, sender)

    yield start
    for runtime in runtimes:
        runtime.engine.dispose()


@pytest.fixture
def pdf(tmp_path):
    path = tmp_path / "carta.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    return path
