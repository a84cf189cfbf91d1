"""Outbound messages go through the outbox: written in the same transaction as the state change
that produced them, delivered afterwards by the worker.

Delivery is at-least-once. A row is claimed by pushing its `next_attempt_at` a lease into the
future and committing *before* the provider is called; the result is recorded in a second
transaction. A worker killed between the provider call and that second commit leaves the row to be
retried when the lease expires, so only that in-flight message can be sent twice. Rows are claimed
with FOR UPDATE SKIP LOCKED on PostgreSQL so several workers never claim the same row; SQLite
serialises writers anyway.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.addresses import mask_address
from bot.clock import Clock
from bot.db import session_scope
from bot.enums import EventKind
from bot.messaging import ChannelRegistry, OutboundMessage, PermanentSendError, TransientSendError
from bot.models import CaseEvent, Conversation, Message, Outbox
from bot.observability import correlation

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 15 * 60


def enqueue(
    session: Session,
    *,
    conversation: Conversation,
    body: str,
    now: datetime,
    author: str = "bot",
    case_id: int | None = None,
    payload: dict | None = None,
) -> Message:
    """Record an outbound message and its delivery job; the caller's transaction commits both."""
    message = Message(
        conversation_id=conversation.id,
        case_id=case_id,
        direction="out",
        channel=conversation.channel,
        body=body,
        attachments=[],
        author=author,
        status="pending",
        created_at=now,
        # The id of the webhook/letter/request that caused this reply; delivery logs it again.
        correlation_id=correlation.current(),
    )
    session.add(message)
    session.flush()
    session.add(
        Outbox(
            message_id=message.id,
            channel=conversation.channel,
            address=conversation.address,
            payload=payload or {},
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return message


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class OutboxDeliverer:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: ChannelRegistry,
        *,
        clock: Clock,
        max_attempts: int = 8,
        batch_size: int = 50,
        concurrency: int = 1,
    ):
        self.sessions = sessions
        self.channels = channels
        self.clock = clock
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        # Sends in flight at once, one conversation per thread (its messages in order): a provider
        # call is mostly waiting (50-300 ms to Twilio), so one worker keeps several going; the
        # channel paces them (bot/pacing.py). 1 = one at a time.
        self.concurrency = max(1, concurrency)
        self._pool: ThreadPoolExecutor | None = None
        self._report_lock = threading.Lock()

    def _claim(self, conversation_id: int | None) -> list[OutboundMessage]:
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            query = (
                select(Outbox, Message.body, Message.correlation_id)
                .join(Message, Message.id == Outbox.message_id)
                .where(
                    Outbox.status == "pending",
                    Outbox.next_attempt_at <= now,
                    Outbox.channel.in_(self.channels.names),
                )
                .order_by(Outbox.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True, of=Outbox)
            )
            if conversation_id is not None:
                query = query.where(Message.conversation_id == conversation_id)
            claimed = []
            for row, body, correlation_id in session.execute(query):
                row.next_attempt_at = now + LEASE
                row.attempts += 1
                claimed.append(OutboundMessage(row.message_id, row.channel, row.address, body, dict(row.payload),
                                               correlation_id=correlation_id))
            return claimed

    def deliver_due(self, *, conversation_id: int | None = None) -> DeliveryReport:
        report = DeliveryReport()
        while True:
            batch = self._claim(conversation_id)
            if not batch:
                return report
            conversations: dict[tuple[str, str], list[OutboundMessage]] = {}
            for outbound in batch:  # claimed in id order: each conversation's list stays in order
                conversations.setdefault((outbound.channel, outbound.address), []).append(outbound)
            if self.concurrency == 1 or len(conversations) == 1:
                for messages in conversations.values():
                    self._deliver_in_order(messages, report)
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="outbox")
                # The whole batch is done before the next claim: a conversation's later messages
                # never overtake its earlier ones.
                for future in [self._pool.submit(self._deliver_in_order, messages, report)
                               for messages in conversations.values()]:
                    future.result()
            if len(batch) < self.batch_size:
                return report

    def _deliver_in_order(self, messages: list[OutboundMessage], report: DeliveryReport) -> None:
        for outbound in messages:
            with correlation.bound(outbound.correlation_id):  # the id of the message that caused it
                self._deliver_one(outbound, report)

    def _record_sent(self, outbound: OutboundMessage, result, now: datetime) -> None:
        """The common case in two UPDATEs, nothing read back: it runs once per reply."""
        values = {
            # A provider's status callback may already have moved it on (delivered, read):
            # never step it back.
            "status": case((Message.status == "pending", result.status), else_=Message.status),
        }
        if result.external_id:
            values["external_id"] = result.external_id
        with session_scope(self.sessions) as session:
            session.execute(update(Outbox).where(Outbox.message_id == outbound.message_id)
                            .values(status="sent", sent_at=now, last_error=""))
            session.execute(update(Message).where(Message.id == outbound.message_id).values(**values))

    def _deliver_one(self, outbound: OutboundMessage, report: DeliveryReport) -> None:
        channel = self.channels.get(outbound.channel)
        error: Exception | None = None
        result = None
        try:
            result = channel.send(outbound)
        except (TransientSendError, PermanentSendError) as exc:
            error = exc
        except Exception as exc:
            log.exception("channel %s crashed sending message %s", outbound.channel, outbound.message_id)
            error = TransientSendError(f"{type(exc).__name__}: {exc}")
        now = self.clock.now()
        if error is None:
            self._record_sent(outbound, result, now)
            log.info("delivered message %s by %s to %s", outbound.message_id, outbound.channel,
                     mask_address(outbound.address))
            with self._report_lock:
                report.sent += 1
            return
        with session_scope(self.sessions) as session:
            row = session.scalars(select(Outbox).where(Outbox.message_id == outbound.message_id)).one()
            message = session.get(Message, outbound.message_id)
            if isinstance(error, PermanentSendError) or row.attempts >= self.max_attempts:
                row.status = "failed"
                row.last_error = str(error)
                message.status = "failed"
                message.error_code = getattr(error, "code", "") or ""
                if message.case_id is not None:
                    # Staff must see on the case that the client never got this message.
                    session.add(CaseEvent(case_id=message.case_id, at=now, actor="bot", kind=EventKind.MESSAGE_FAILED,
                                          detail={"message_id": message.id, "code": message.error_code,
                                                  "error": str(error)[:500]}))
                log.warning("message %s failed for good: %s", outbound.message_id, error)
                with self._report_lock:
                    report.failed += 1
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                row.last_error = str(error)
                log.info("message %s will be retried: %s", outbound.message_id, error)
                with self._report_lock:
                    report.retried += 1
