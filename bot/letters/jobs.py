"""`read_letter` jobs: the worker reads a letter a client sent without a request in words.

The engine schedules one job per document (dedupe_key `read_letter:<document id>`) in the
transaction that stored the message, and answers nothing yet. `LetterReader`, a worker pass, runs
OCR outside any transaction (it takes seconds), stores the text on the document, and when every
letter of the message is read hands the engine body + letter text as one inbound message of the
same conversation (`Engine.letter_read`; its external id is derived from the original's, so a job
run twice answers once). The job is marked done last: a crash anywhere means a retry, never a loss.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot import documents as stored_files
from bot import letters
from bot.clock import Clock
from bot.db import session_scope
from bot.models import Document, Message
from bot.scheduler import lease_due, mark_done, retry_or_fail, schedule

log = logging.getLogger(__name__)

JOB_KIND = "read_letter"
LEASE = timedelta(minutes=10)  # longer than one document's OCR budget


def schedule_reading(session: Session, *, message: Message, documents: list[Document], now: datetime,
                     reply_payload: dict | None = None) -> list[int]:
    """One job per letter of `message`; documents of any other type are left alone."""
    scheduled = []
    for document in documents:
        if not letters.is_letter(document.content_type):
            continue
        job_id = schedule(session, kind=JOB_KIND, due_at=now, dedupe_key=f"{JOB_KIND}:{document.id}", now=now,
                          payload={"message_id": message.id, "document_id": document.id,
                                   "reply_payload": reply_payload})
        if job_id is not None:
            scheduled.append(job_id)
    return scheduled


class LetterReader:
    """Runs due `read_letter` jobs; a background pass of the worker (own thread in run_forever)."""

    def __init__(self, sessions: sessionmaker[Session], engine, *, settings, clock: Clock,
                 max_attempts: int = 6, batch_size: int = 5):
        self.sessions, self.engine, self.settings, self.clock = sessions, engine, settings, clock
        self.max_attempts, self.batch_size = max_attempts, batch_size

    def __call__(self) -> int:
        done = 0
        for _ in range(20):  # bounded: jobs scheduled while we run wait for the next pass
            claimed = self._claim()
            for job_id, payload, attempts in claimed:
                self._run(job_id, payload, attempts)
            done += len(claimed)
            if not claimed:
                break
        return done

    def _claim(self) -> list[tuple[int, dict, int]]:
        return lease_due(self.sessions, kind=JOB_KIND, now=self.clock.now(), lease=LEASE,
                         limit=self.batch_size)

    def _run(self, job_id: int, payload: dict, attempts: int) -> None:
        try:
            self._read(payload["document_id"])
            self.engine.letter_read(message_id=payload["message_id"], reply_payload=payload.get("reply_payload"))
        except Exception as exc:  # OcrUnavailable, a database or disk error: retried with backoff
            log.exception("read_letter job %s failed", job_id)
            retry_or_fail(self.sessions, job_id, attempts=attempts, max_attempts=self.max_attempts,
                          error=exc, now=self.clock.now())
            return
        with session_scope(self.sessions) as session:
            mark_done(session, job_id, now=self.clock.now())

    def _read(self, document_id: int) -> None:
        with self.sessions() as session:
            document = session.get(Document, document_id)
            if document is None or document.text_status is not None:
                return  # read by an earlier run of this job
            path = stored_files.resolve(self.settings.documents_dir, document.path)
            content_type = document.content_type
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # removed (retention, privacy) before it was read
            data = b""
        if data:
            extraction = letters.read(data, content_type, seconds=self.settings.letter_ocr_seconds,
                                      max_pages=self.settings.letter_max_pages,
                                      max_pixels=self.settings.letter_max_pixels)
        else:
            extraction = letters.Extraction("", "unreadable", reason="missing")
        log.info("letter %s read: %s %s (%d characters)", document_id, extraction.status, extraction.reason,
                 len(extraction.text))
        with session_scope(self.sessions) as session:
            document = session.get(Document, document_id)
            document.text = extraction.text.replace("\x00", "")
            document.text_status = extraction.status

