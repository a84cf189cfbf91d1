"""The outbox: retries with backoff, permanent failures visible on the case, no double claim."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import CaseEvent, Message, Outbox
from bot.outbox import LEASE, OutboxDeliverer
from bot.messaging import InboundMessage, PermanentSendError, SendResult, TransientSendError
from bot.messaging import ChannelRegistry


class ScriptedChannel:
    """A channel whose provider answers from a script: an exception instance or a SendResult."""

    name = "console"

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0

    def send(self, message):
        self.calls += 1
        answer = self.answers.pop(0) if self.answers else SendResult("ok-id")
        if isinstance(answer, Exception):
            raise answer
        return answer


def outbox_rows(db):
    with db.sessions() as session:
        return session.scalars(select(Outbox).order_by(Outbox.id)).all()


def test_transient_errors_are_retried_with_growing_backoff_then_sent(engine, portfolio, clock):
    engine.handle(InboundMessage("console", "+59170000001", "Hola", "o-1"))
    channel = ScriptedChannel(TransientSendError("429"), TransientSendError("503"), SendResult("SM1"))
    deliverer = OutboxDeliverer(portfolio.sessions, ChannelRegistry(channel), clock=clock)
    assert deliverer.deliver_due().retried == 1
    assert deliverer.deliver_due().retried == 0 and channel.calls == 1  # waits for the backoff
    clock.advance(seconds=5)
    assert deliverer.deliver_due().retried == 1
    clock.advance(seconds=5)
    assert deliverer.deliver_due().sent == 0  # second backoff is longer (10 s)
    clock.advance(seconds=5)
    assert deliverer.deliver_due().sent == 1
    [row] = outbox_rows(portfolio)
    assert row.status == "sent" and row.attempts == 3
    with portfolio.sessions() as session:
        message = session.get(Message, row.message_id)
    assert message.status == "sent" and message.external_id == "SM1"


def test_permanent_error_marks_the_message_failed_and_shows_on_the_case(engine, portfolio, clock):
    engine.handle(InboundMessage("console", "+59170000001", "Hola", "o-1"))
    engine.handle(InboundMessage("console", "+59170000001", "quiero el detalle de llamadas de octubre de la linea 4412345", "o-2"))
    channel = ScriptedChannel(SendResult("SM1"), PermanentSendError("invalid number", code="21211"))
    deliverer = OutboxDeliverer(portfolio.sessions, ChannelRegistry(channel), clock=clock)
    report = deliverer.deliver_due()
    assert (report.sent, report.failed) == (1, 1)
    with portfolio.sessions() as session:
        failed = session.scalars(select(Message).where(Message.status == "failed")).one()
        event = session.scalars(select(CaseEvent).where(CaseEvent.kind == "message_failed")).one()
    assert failed.error_code == "21211" and failed.case_id == event.case_id
    assert event.detail["code"] == "21211"


def test_a_claimed_row_is_not_claimed_again_until_its_lease_expires(engine, portfolio, clock):
    """A worker that dies after claiming leaves the row to be retried later: at-least-once."""
    engine.handle(InboundMessage("console", "+59170000001", "Hola", "o-1"))
    deliverer = OutboxDeliverer(portfolio.sessions, ChannelRegistry(ScriptedChannel()), clock=clock)
    claimed = deliverer._claim(None)  # the first half of a delivery, as a worker killed mid-send
    assert len(claimed) == 1
    assert deliverer._claim(None) == []
    clock.advance(seconds=LEASE.total_seconds() + 1)
    again = deliverer._claim(None)
    assert [m.message_id for m in again] == [m.message_id for m in claimed]
