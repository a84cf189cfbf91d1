"""Outbound messages go through the outbox: written in the same transaction as the state change
that produced them, delivered afterwards by the worker.

Delivery is at-least-once. A row is claimed by pushing its `next_attempt_at` a lease into the
future and committing *before* the provider is called; the result is recorded in a second
transaction. A worker killed between the provider call and that second commit leaves the row to be
retried when the lease expires, so only that in-flight message can be sent twice (with
OUTBOX_CONCURRENCY > 1, the messages in flight and those accepted since the last commit of results,
which are recorded together; see _Pipeline). Rows are claimed
with FOR UPDATE SKIP LOCKED on PostgreSQL so several workers never claim the same row; SQLite
serialises writers anyway.

Each conversation's messages leave in order, across retries and workers: a row is not claimed while
an earlier one of its conversation is under a lease or waiting for a retry. The price is that after
a crash, a conversation whose message was in flight waits for that lease (2 minutes) before its
next message, which then follows the repeated one.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, exists, func, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from bot.addresses import mask_address
from bot.clock import Clock
from bot.db import session_scope
from bot.enums import EventKind
from bot.messaging import ChannelRegistry, OutboundMessage, PermanentSendError, SendResult, TransientSendError
from bot.models import CaseEvent, Conversation, Message, Outbox
from bot.observability import correlation

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 15 * 60
CLAIM_LOCK_KEY = 0x6F7574626F78  # PostgreSQL advisory lock of the outbox claim ("outbox")


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

    def _claim(self, conversation_id: int | None, limit: int | None = None) -> list[OutboundMessage]:
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
                .limit(limit or self.batch_size)
                .with_for_update(skip_locked=True, of=Outbox)
            )
            if conversation_id is not None:
                query = query.where(Message.conversation_id == conversation_id)
            # Per-conversation order: a row waits while an earlier one of its conversation is in
            # flight (under a lease) or backing off after a failure, whichever worker holds it.
            earlier = aliased(Outbox)
            query = query.where(~exists().where(
                earlier.channel == Outbox.channel, earlier.address == Outbox.address, earlier.id < Outbox.id,
                earlier.status == "pending", earlier.next_attempt_at > now))
            if session.get_bind().dialect.name == "postgresql":
                # Claims are serialised (they are short): without it, a claim running while another
                # worker's is uncommitted sees that one's rows as still due and could take the next
                # message of the same conversation. SKIP LOCKED alone cannot see that.
                session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK_KEY)))
            claimed = []
            for row, body, correlation_id in session.execute(query):
                row.next_attempt_at = now + LEASE
                row.attempts += 1
                claimed.append(OutboundMessage(row.message_id, row.channel, row.address, body, dict(row.payload),
                                               correlation_id=correlation_id))
            return claimed

    def deliver_due(self, *, conversation_id: int | None = None) -> DeliveryReport:
        if self.concurrency > 1:
            return _Pipeline(self, conversation_id).run()
        report = DeliveryReport()
        while True:
            batch = self._claim(conversation_id)
            if not batch:
                return report
            waiting: set[tuple[str, str]] = set()  # conversations whose earlier message will be retried
            for outbound in batch:  # claimed in id order: each conversation's messages in order
                key = (outbound.channel, outbound.address)
                if key in waiting:
                    self._release([outbound])
                elif not self._deliver_one(outbound, report):
                    waiting.add(key)
            if len(batch) < self.batch_size:
                return report

    def _record_sent(self, delivered: list[tuple[OutboundMessage, SendResult]], now: datetime) -> None:
        """Replies the provider accepted, in one transaction and two statements whatever their
        number, nothing read back: this runs for every reply."""
        messages = Message.__table__.c
        with session_scope(self.sessions) as session:
            connection = session.connection()
            connection.execute(update(Outbox.__table__)
                               .where(Outbox.__table__.c.message_id.in_([o.message_id for o, _ in delivered]))
                               .values(status="sent", sent_at=now, last_error=""))
            connection.execute(
                update(Message.__table__).where(messages.id == bindparam("message_id")).values(
                    # A provider's status callback may already have moved it on (delivered, read):
                    # never step it back.
                    status=case((messages.status == "pending", bindparam("result_status")), else_=messages.status),
                    external_id=func.coalesce(bindparam("result_id"), messages.external_id),
                ),
                [{"message_id": o.message_id, "result_status": r.status, "result_id": r.external_id or None}
                 for o, r in delivered],
            )
        for outbound, _ in delivered:
            with correlation.bound(outbound.correlation_id):
                log.info("delivered message %s by %s to %s", outbound.message_id, outbound.channel,
                         mask_address(outbound.address))

    def _send(self, outbound: OutboundMessage) -> tuple[SendResult | None, Exception | None]:
        channel = self.channels.get(outbound.channel)
        try:
            return channel.send(outbound), None
        except (TransientSendError, PermanentSendError) as exc:
            return None, exc
        except Exception as exc:
            log.exception("channel %s crashed sending message %s", outbound.channel, outbound.message_id)
            return None, TransientSendError(f"{type(exc).__name__}: {exc}")

    def _deliver_one(self, outbound: OutboundMessage, report: DeliveryReport) -> bool:
        """False when the message will be retried: its conversation's next ones must wait."""
        with correlation.bound(outbound.correlation_id):  # the id of the message that caused it
            result, error = self._send(outbound)
            if error is None:
                self._record_sent([(outbound, result)], self.clock.now())
                report.sent += 1
                return True
            return not self._record_failure(outbound, error, report)

    def _release(self, claimed: list[OutboundMessage]) -> None:
        """Give back claimed rows unsent (an earlier message of their conversation will be retried
        first): due again at once, the claim keeps them back until that one has gone."""
        rows = Outbox.__table__.c
        with session_scope(self.sessions) as session:
            session.connection().execute(
                update(Outbox.__table__).where(rows.message_id.in_([o.message_id for o in claimed]))
                .values(next_attempt_at=self.clock.now(), attempts=rows.attempts - 1))

    def _record_failure(self, outbound: OutboundMessage, error: Exception, report: DeliveryReport) -> bool:
        """Records a failed send; True when the message will be retried."""
        now = self.clock.now()
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
                return False
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                row.last_error = str(error)
                log.info("message %s will be retried: %s", outbound.message_id, error)
                with self._report_lock:
                    report.retried += 1
                return True


class _Pipeline:
    """One `deliver_due` with several sends in flight (OUTBOX_CONCURRENCY > 1).

    Each conversation is a lane: one thread at a time sends its messages, in id order, so a
    conversation's later message never overtakes an earlier one; lanes run side by side. Claiming
    is continuous: when half of what was claimed is done, the next rows are claimed and join their
    lanes (no batch waits for its slowest send). Accepted sends are recorded by this thread, all
    that finished since its last commit in one transaction; a worker killed before that commit
    sends those again after the lease (at-least-once, as for the message in flight).
    """

    def __init__(self, deliverer: OutboxDeliverer, conversation_id: int | None):
        self.deliverer = deliverer
        self.conversation_id = conversation_id
        self.report = DeliveryReport()
        self.changed = threading.Condition()
        self.lanes: dict[tuple[str, str], deque[OutboundMessage]] = {}  # guarded by `changed`
        self.outstanding = 0  # claimed, not yet sent or given up
        self.waiting: set[tuple[str, str]] = set()  # lanes whose message will be retried: no more sends
        self.delivered: list[tuple[OutboundMessage, SendResult]] = []  # sent, not yet recorded
        self.crashed: list[BaseException] = []

    def run(self) -> DeliveryReport:
        deliverer = self.deliverer
        if deliverer._pool is None:
            deliverer._pool = ThreadPoolExecutor(deliverer.concurrency, thread_name_prefix="outbox")
        size = deliverer.batch_size
        more = True  # the last claim found rows: claim again as soon as there is room

        def room(outstanding: int) -> bool:
            # With nothing in flight, claim once more anyway: rows held back behind messages of
            # their conversation that were in flight are due now.
            return outstanding <= size // 2 and (more or outstanding == 0)

        while True:
            with self.changed:
                while not (self.delivered or self.crashed or room(self.outstanding)):
                    self.changed.wait()
                delivered, self.delivered = self.delivered, []
                outstanding = self.outstanding
            if delivered:
                deliverer._record_sent(delivered, deliverer.clock.now())
                self.report.sent += len(delivered)
            if self.crashed:
                raise self.crashed[0]
            if room(outstanding):
                batch = deliverer._claim(self.conversation_id, size - outstanding)
                if not batch and outstanding == 0:
                    return self.report  # nothing in flight, so nothing delivered since the swap
                more = bool(batch)
                self._dispatch(batch)

    def _dispatch(self, batch: list[OutboundMessage]) -> None:
        held = []
        for outbound in batch:  # claimed in id order
            key = (outbound.channel, outbound.address)
            with self.changed:
                if key in self.waiting:  # claimed before its earlier message failed
                    held.append(outbound)
                    continue
                self.outstanding += 1
                lane = self.lanes.get(key)
                if lane is not None:  # its thread is at work: it sends this one after the others
                    lane.append(outbound)
                    continue
                self.lanes[key] = deque([outbound])
            self.deliverer._pool.submit(self._drain, key)
        if held:
            self.deliverer._release(held)

    def _drain(self, key: tuple[str, str]) -> None:
        try:
            while True:
                with self.changed:
                    lane = self.lanes[key]
                    if not lane:
                        del self.lanes[key]
                        return
                    outbound = lane[0]
                retry = False
                with correlation.bound(outbound.correlation_id):  # the id of the message that caused it
                    result, error = self.deliverer._send(outbound)
                    if error is not None:
                        retry = self.deliverer._record_failure(outbound, error, self.report)
                held: list[OutboundMessage] = []
                with self.changed:
                    self.lanes[key].popleft()
                    self.outstanding -= 1
                    if error is None:
                        self.delivered.append((outbound, result))
                    elif retry:  # the rest of this conversation waits for the retry, in order
                        self.waiting.add(key)
                        held = list(self.lanes[key])
                        self.lanes[key].clear()
                    self.changed.notify()
                if held:  # still counted as outstanding until given back, so the run waits for it
                    self.deliverer._release(held)
                    with self.changed:
                        self.outstanding -= len(held)
                        self.changed.notify()
        except BaseException as exc:  # a database error recording a failure: the caller sees it
            with self.changed:
                self.crashed.append(exc)
                self.changed.notify()
