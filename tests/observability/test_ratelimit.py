"""Per-sender inbound rate limit (INBOUND_RATE_PER_MINUTE), counted in the database: messages
beyond it are stored for staff but not run through the dialog; the sender gets one polite
"slow down" per minute. Time moves only through the injected clock."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.models import Conversation, Message
from bot.app.wiring import build_runtime
from bot.settings import Settings
from bot.messaging import InboundMessage
from channels.console import ConsoleChannel
from bot.messaging import ChannelRegistry

SENDER = "+59170000001"
SLOW_DOWN = "Estamos recibiendo muchos mensajes suyos en poco tiempo."


@pytest.fixture
def bot(demo, tmp_path):
    clock = ManualClock(datetime(2026, 11, 28, 13, 0, tzinfo=UTC))

    def start(limit: int):
        settings = Settings(database_url=demo.url, documents_dir=tmp_path / "documents",
                            inbound_rate_per_minute=limit)
        return build_runtime(settings, clock=clock, channels=ChannelRegistry(ConsoleChannel(io.StringIO())))

    runtimes = []

    def make(limit: int):
        runtimes.append(start(limit))
        return runtimes[-1]

    yield make, clock
    for runtime in runtimes:
        runtime.engine.dispose()


def _send(runtime, n: int, text: str = "hola"):
    return runtime.conversations.handle(InboundMessage("console", SENDER, text, f"m-{n}"))


def _inbound(runtime) -> list[Message]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)))


def test_messages_over_the_limit_are_stored_unread_with_one_polite_reply_per_minute(bot):
    make, clock = bot
    runtime = make(3)
    answered = [_send(runtime, n) for n in (1, 2, 3)]
    assert all(o.replies and SLOW_DOWN not in o.replies[0] for o in answered)
    with runtime.sessions() as session:
        state = session.scalars(select(Conversation.state)).one()

    fourth = _send(runtime, 4, "quiero dar de baja mi línea 4412345")
    fifth = _send(runtime, 5, "quiero dar de baja mi línea 4412345")
    assert fourth.replies == [] and fifth.replies == []
    with runtime.sessions() as session:
        outbound = list(session.scalars(select(Message.body).where(Message.direction == "out").order_by(Message.id)))
        assert session.scalars(select(Conversation.state)).one() == state  # the dialog did not move
    assert len(outbound) == 4 and outbound[-1].startswith(SLOW_DOWN)  # 3 answers + 1 slow-down
    assert [m.status for m in _inbound(runtime)] == ["received"] * 3 + ["rate_limited"] * 2
    assert [m.body for m in _inbound(runtime)][3] == "quiero dar de baja mi línea 4412345"  # kept for staff

    clock.advance(seconds=45)  # window (-15 s, 45 s]: 5 earlier messages, the slow-down was sent
    assert _send(runtime, 6).replies == []
    with runtime.sessions() as session:
        assert session.query(Message).filter(Message.direction == "out").count() == 4

    clock.advance(seconds=16)  # window (1 s, 61 s]: only message 6 -> read again
    sixth = _send(runtime, 7, "menú")
    assert sixth.replies and SLOW_DOWN not in sixth.replies[0]
    assert _inbound(runtime)[-1].status == "received"


def test_a_continuous_flood_gets_one_slow_down_and_a_new_burst_after_a_pause_another(bot):
    make, clock = bot
    runtime = make(2)

    def outbound():
        with runtime.sessions() as session:
            return list(session.scalars(select(Message.body).where(Message.direction == "out")
                                        .order_by(Message.id)))

    for n in range(1, 4):
        _send(runtime, n)  # at 0 s: 2 answered, the 3rd limited and told to slow down
    for n in range(4, 10):
        clock.advance(seconds=10)
        _send(runtime, n)  # 10..60 s: 2+ messages and a limited one always in the last minute
    assert len(outbound()) == 3 and sum(b.startswith(SLOW_DOWN) for b in outbound()) == 1
    assert [m.status for m in _inbound(runtime)].count("rate_limited") == 7

    clock.advance(seconds=61)  # a pause: nothing in the last minute
    for n in range(10, 13):
        _send(runtime, n)  # 2 answered, the 3rd limited: a new slow-down
    bodies = outbound()
    assert len(bodies) == 6 and sum(b.startswith(SLOW_DOWN) for b in bodies) == 2
    assert bodies[-1].startswith(SLOW_DOWN) and not bodies[-2].startswith(SLOW_DOWN)


def test_zero_turns_the_limit_off(bot):
    make, _ = bot
    runtime = make(0)
    outcomes = [_send(runtime, n) for n in range(1, 26)]
    assert all(o.replies and SLOW_DOWN not in o.replies[0] for o in outcomes)
    assert {m.status for m in _inbound(runtime)} == {"received"}


def test_through_the_whatsapp_webhook_the_slow_down_reaches_the_sender(whatsapp_factory, demo):
    wa = whatsapp_factory(inbound_rate_per_minute=1)
    wa.app.webhook("text", Body="Hola")
    wa.app.webhook("text", Body="Hola otra vez", MessageSid="SM" + "1" * 32)
    wa.app.webhook("text", Body="¿Hay alguien?", MessageSid="SM" + "2" * 32)
    wa.run_worker()
    replies = wa.replies()
    assert len(replies) == 2 and replies[1].startswith(SLOW_DOWN) and not replies[0].startswith(SLOW_DOWN)
    assert [m.status for m in wa.messages(direction="in")] == ["received", "rate_limited", "rate_limited"]
