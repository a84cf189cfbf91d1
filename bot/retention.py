"""Retention (RETENTION_DAYS_MESSAGES / RETENTION_DAYS_DOCUMENTS; 0 keeps forever).

A daily durable job blanks the bodies of messages older than N days and deletes document files
older than N days. Rows stay (who wrote, when, on which case; a document's name, type, size and
hash) with a marker (`redacted_at`, `removed_at`) that the back-office shows as "eliminado por
retención". Nothing of a case still open is touched, nor of a conversation with an open case (its
earlier messages are that case's history), nor a reply still waiting in the outbox. A file shared
by a document that is kept (content-addressed storage) stays on disk.

Files are deleted after the rows are marked; if the commit then fails the next run marks the rows
again and the unlink is a no-op, so a crash never leaves a marked row whose file still exists.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from bot import documents as document_store
from bot.enums import OPEN_STATUSES  # a reopened case is kept too
from bot.models import Case, Document, Message, Outbox
from bot.scheduler import JobContext, schedule
from bot.settings import Settings

JOB_KIND = "retention"


@dataclass
class RetentionReport:
    messages: int = 0
    documents: int = 0
    files: int = 0  # files deleted from disk (fewer than documents when files are shared)


def _open_cases():
    return select(Case.id).where(Case.status.in_(OPEN_STATUSES))


def _open_conversations():
    return select(Case.conversation_id).where(Case.status.in_(OPEN_STATUSES), Case.conversation_id.is_not(None))


def _not_of_open_case(message_case_id, conversation_id):
    return (or_(message_case_id.is_(None), message_case_id.not_in(_open_cases()))
            & conversation_id.not_in(_open_conversations()))


def expired_messages(session: Session, *, before: datetime) -> list[int]:
    return list(session.scalars(
        select(Message.id).where(
            Message.created_at < before, Message.redacted_at.is_(None),
            _not_of_open_case(Message.case_id, Message.conversation_id),
            ~exists().where(Outbox.message_id == Message.id, Outbox.status == "pending"),
        )
    ))


def expired_documents(session: Session, *, before: datetime) -> list[Document]:
    message_conversation = select(Message.conversation_id).where(Message.id == Document.message_id)
    return list(session.scalars(
        select(Document).where(
            Document.created_at < before, Document.removed_at.is_(None),
            or_(Document.case_id.is_(None), Document.case_id.not_in(_open_cases())),
            or_(Document.message_id.is_(None),
                message_conversation.scalar_subquery().not_in(_open_conversations())),
        )
    ))


def run(session: Session, *, settings: Settings, now: datetime, dry_run: bool = False) -> RetentionReport:
    report = RetentionReport()
    if settings.retention_days_messages > 0:
        ids = expired_messages(session, before=now - timedelta(days=settings.retention_days_messages))
        report.messages = len(ids)
        if ids and not dry_run:
            session.execute(update(Message).where(Message.id.in_(ids)).values(body="", redacted_at=now))
    if settings.retention_days_documents > 0:
        expired = expired_documents(session, before=now - timedelta(days=settings.retention_days_documents))
        report.documents = len(expired)
        expired_ids = [d.id for d in expired]
        paths = {d.path for d in expired}
        still_used = set(session.scalars(select(Document.path).where(
            Document.path.in_(paths), Document.removed_at.is_(None), Document.id.not_in(expired_ids))))
        doomed = paths - still_used
        report.files = len(doomed)
        if expired and not dry_run:
            session.execute(update(Document).where(Document.id.in_(expired_ids)).values(
                removed_at=now, text=None))  # the letter's words (bot/letters) go with the file
            session.flush()
            for path in doomed:
                document_store.resolve(settings.documents_dir, path).unlink(missing_ok=True)
    return report


# --- the daily job ----------------------------------------------------------------------------------
def next_run_at(settings: Settings, now: datetime) -> datetime:
    """The next RETENTION_RUN_TIME in local time, in UTC (SQLite keeps no offset)."""
    zone = ZoneInfo(settings.timezone)
    at = datetime.combine(now.astimezone(zone).date(), time.fromisoformat(settings.retention_run_time), zone)
    if at <= now:
        at = datetime.combine(at.date() + timedelta(days=1), at.timetz())
    return at.astimezone(UTC)


def schedule_next(session: Session, *, settings: Settings, now: datetime) -> int | None:
    due = next_run_at(settings, now)
    day = due.astimezone(ZoneInfo(settings.timezone)).date()
    return schedule(session, kind=JOB_KIND, due_at=due, dedupe_key=f"retention:{day.isoformat()}", now=now)


def handle(ctx: JobContext) -> None:
    settings = ctx.runtime
    run(ctx.session, settings=settings, now=ctx.now)
    schedule_next(ctx.session, settings=settings, now=ctx.now)  # tomorrow's; its dedupe key is new


HANDLERS = {JOB_KIND: handle}


def enabled(settings: Settings) -> bool:
    return settings.retention_days_messages > 0 or settings.retention_days_documents > 0


schedule_first = schedule_next  # the worker calls it once when it starts (bot.scheduler.Bootstrap)
