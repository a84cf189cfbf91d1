"""The webhook's fast path (issue 16): the webhook stores a text message and answers; the worker
takes the conversation's turns in order, woken at once in the same process, one conversation at a
time per worker (SKIP LOCKED on PostgreSQL)."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.models import Conversation, Message, PendingTurn
from tests.whatsapp.conftest import IMPORTADORA


def pending(wa) -> list[int]:
    with wa.runtime.sessions() as session:
        return list(session.scalars(select(PendingTurn.message_id).order_by(PendingTurn.id)))


def test_three_messages_stored_first_are_answered_in_their_order(wa, demo):
    wa.app.webhook("text", Body="Hola")
    wa.app.webhook("text", Body="7", MessageSid="SM" + "1" * 32)
    wa.app.webhook("text", Body="gracias", MessageSid="SM" + "2" * 32)
    inbound = [m.id for m in wa.messages(direction="in")]
    assert pending(wa) == inbound and wa.messages(direction="out") == []

    wa.run_worker()
    assert pending(wa) == []
    conversation = [(m.direction, m.body) for m in wa.messages()]
    assert [d for d, _ in conversation] == ["in", "in", "in", "out", "out", "out"]
    # Each answer follows its own message: the menu after "Hola", option 7 after "7", and so on.
    replies = wa.replies()
    assert len(replies) == 3
    assert "Importadora El Valle" in replies[0]  # identified by the number, welcomed with the menu
    assert "detalle de llamadas" in replies[1].lower()  # option 7 of that menu
    with wa.runtime.sessions() as session:
        out = list(session.scalars(select(Message).where(Message.direction == "out").order_by(Message.id)))
        assert [m.correlation_id for m in out] == [
            session.get(Message, message_id).correlation_id for message_id in inbound]


def test_the_in_process_worker_answers_at_once_not_at_its_next_poll(whatsapp_factory, demo):
    wa = whatsapp_factory(worker_poll_seconds=30)
    thread = wa.runtime.worker.start_in_thread()
    try:
        time.sleep(0.5)  # its first pass is over: it now waits 30 s unless woken
        started = time.monotonic()
        wa.app.webhook("text", Body="Hola")
        while not wa.replies() and time.monotonic() - started < 10:
            time.sleep(0.02)
        waited = time.monotonic() - started
    finally:
        wa.runtime.worker.stop()
        thread.join(timeout=30)
    assert wa.replies() and waited < 5, waited


def test_a_conversation_another_worker_holds_is_skipped_and_taken_later(wa, demo, db):
    if db.backend == "sqlite":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time")
    wa.app.webhook("text", Body="Hola")
    other_worker = wa.runtime.sessions()
    other_worker.scalars(select(Conversation).where(Conversation.address == IMPORTADORA).with_for_update()).one()
    try:
        assert wa.runtime.conversations.take_pending_turns() == 0  # not blocked, not reordered
        assert len(pending(wa)) == 1
    finally:
        other_worker.rollback()
        other_worker.close()
    assert wa.runtime.conversations.take_pending_turns() == 1
    assert pending(wa) == []


def test_a_worker_in_another_process_is_woken_by_postgres_notify(whatsapp_factory, demo, db):
    if db.backend == "sqlite":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; a separate worker on SQLite polls")
    from bot.messaging import InboundMessage
    from bot.wakeup import Listener

    wa = whatsapp_factory(worker_poll_seconds=30)
    worker = wa.runtime.worker
    (listener,) = [item for item in worker.listeners if isinstance(item, Listener)]
    thread = worker.start_in_thread()
    try:
        assert listener.listening.wait(10)
        time.sleep(0.5)  # the first pass is over: the worker now waits 30 s unless woken
        started = time.monotonic()
        # Stored as the webhook of another process would: nobody calls this worker's wake().
        wa.runtime.conversations.defer_turn(InboundMessage(channel="whatsapp", address=IMPORTADORA, body="Hola",
                                                           external_id="SM" + "9" * 32))
        while not wa.replies() and time.monotonic() - started < 10:
            time.sleep(0.02)
        waited = time.monotonic() - started
    finally:
        worker.stop()
        thread.join(timeout=30)
    assert wa.replies() and waited < 5, waited
