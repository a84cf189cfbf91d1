"""Files the disk refused (full, documents folder unwritable) are not lost.

An email's attachments arrive inside the letter: when they cannot be written, the message text
is still stored and answered, the files wait in a durable job (base64 in its payload) and staff
see an open task in their queue (and a row in inbound_failures). `Retrier`, a worker task, writes
them later with backoff and hands them to the engine as if they had just arrived; the task is then
closed and the failure row marked resolved.
WhatsApp media need no copy (the download job fetches them again) but warn staff the same way.
"""
from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.db import session_scope
from bot.models import Conversation, InboundFailure, Message, StaffTask
from bot.scheduler import backoff, lease_due, mark_done, retry_or_fail, schedule
from bot.messaging import Attachment

log = logging.getLogger(__name__)

JOB_KIND = "attachment_retry"
ERROR_PREFIX = "documentos no guardados: "  # staff read it in the failures list
LEASE = timedelta(minutes=5)
TASK_KIND = "documento_pendiente"  # the staff queue's label: templates/backoffice/_labels.html


def defer(session: Session, *, message: Message, files: list[Attachment], error: str, now: datetime) -> None:
    schedule(session, kind=JOB_KIND, due_at=now + backoff(1), dedupe_key=f"attachments:{message.id}", now=now,
             payload={"message_id": message.id,
                      "files": [{"filename": f.filename, "content_type": f.content_type,
                                 "data": base64.b64encode(f.data).decode()} for f in files]})
    warn_staff(session, message=message, filenames=[f.filename for f in files], error=error, now=now)


def warn_staff(session: Session, *, message: Message, filenames: list[str], error: str, now: datetime) -> None:
    """A failure row (the technical record) and an open task in the staff queue ("Conversaciones
    por atender"), once per message however many retries fail."""
    external_id = (message.external_id or "")[:255]
    if session.scalar(select(InboundFailure.id).where(
            InboundFailure.channel == message.channel, InboundFailure.external_id == external_id,
            InboundFailure.resolved_at.is_(None), InboundFailure.error.startswith(ERROR_PREFIX)).limit(1)):
        return
    conversation = session.get(Conversation, message.conversation_id)
    session.add(InboundFailure(channel=message.channel, external_id=external_id, sender=conversation.address[:254],
                               error=(ERROR_PREFIX + error)[:2000], created_at=now))
    session.add(StaffTask(kind=TASK_KIND, status="abierta", client_id=conversation.client_id,
                          conversation_id=conversation.id, case_id=message.case_id,
                          note=", ".join(filenames)[:500], created_at=now))


def warn_staff_later(sessions: sessionmaker[Session], *, channel: str, external_id: str, filenames: list[str],
                     error: str, now: datetime) -> None:
    """From a job whose transaction rolled back: the warning commits on its own."""
    with session_scope(sessions) as session:
        message = session.scalars(select(Message).where(Message.channel == channel,
                                                        Message.external_id == external_id)).first()
        if message is not None:
            warn_staff(session, message=message, filenames=filenames, error=error, now=now)


def resolve_warning(session: Session, *, channel: str, external_id: str, now: datetime) -> None:
    """The file is stored: the failure row is resolved and the task closed."""
    session.execute(update(InboundFailure).where(
        InboundFailure.channel == channel, InboundFailure.external_id == external_id[:255],
        InboundFailure.resolved_at.is_(None), InboundFailure.error.startswith(ERROR_PREFIX)
    ).values(resolved_at=now))
    conversation_id = select(Message.conversation_id).where(
        Message.channel == channel, Message.external_id == external_id).scalar_subquery()
    session.execute(update(StaffTask).where(
        StaffTask.kind == TASK_KIND, StaffTask.status == "abierta", StaffTask.conversation_id == conversation_id
    ).values(status="atendida"))


class Retrier:
    """Runs due `attachment_retry` jobs; the worker calls it on every pass."""

    def __init__(self, sessions: sessionmaker[Session], engine, *, clock: Clock, max_attempts: int = 8,
                 batch_size: int = 10):
        self.sessions, self.engine, self.clock = sessions, engine, clock
        self.max_attempts, self.batch_size = max_attempts, batch_size

    def __call__(self) -> int:
        claimed = self._claim()
        for job_id, payload, attempts in claimed:
            self._run(job_id, payload, attempts)
        return len(claimed)

    def _claim(self) -> list[tuple[int, dict, int]]:
        return lease_due(self.sessions, kind=JOB_KIND, now=self.clock.now(), lease=LEASE,
                         limit=self.batch_size)

    def _run(self, job_id: int, payload: dict, attempts: int) -> None:
        files = [Attachment(filename=f["filename"], content_type=f["content_type"],
                            data=base64.b64decode(f["data"])) for f in payload["files"]]
        try:
            self.engine.receive_documents(message_id=payload["message_id"], attachments=files, deferred=True)
        except OSError as exc:
            log.error("attachments of message %s still not stored: %s", payload["message_id"], exc)
            # Failed for good at max_attempts: the failure row stays open for staff.
            retry_or_fail(self.sessions, job_id, attempts=attempts, max_attempts=self.max_attempts,
                          error=exc, now=self.clock.now())
            return
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            mark_done(session, job_id, now=now)
            message = session.get(Message, payload["message_id"])
            resolve_warning(session, channel=message.channel, external_id=message.external_id or "", now=now)
        log.info("deferred attachments of message %s stored", payload["message_id"])
