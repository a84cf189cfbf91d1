"""Durable timers and background jobs, run by the worker; all state in the `jobs` table.

A job is claimed the way outbox rows are: FOR UPDATE SKIP LOCKED on PostgreSQL (several workers
never take the same job), a lease pushed into `due_at` and committed before the work starts. The
handler's database work and the job's "done" mark commit in ONE transaction, so a job's effects in
the database happen exactly once; a failure rolls them back, the job is retried with backoff and,
after `max_attempts`, marked failed for the responsable to see.

`dedupe_key` (UNIQUE) makes scheduling idempotent: "the quality check of case 12", "the mora run
of 2026-11" are scheduled once however many times the code asks.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.db import session_scope
from bot.models import Job
from bot.observability import correlation

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)


@dataclass
class JobContext:
    session: Session
    now: datetime
    job: Job
    runtime: object | None = None  # what handlers need beyond the database (settings, engine)


Handler = Callable[[JobContext], None]


def schedule(session: Session, *, kind: str, due_at: datetime, payload: dict | None = None,
             dedupe_key: str | None = None, now: datetime) -> int | None:
    """Insert a job; with a dedupe_key already used, nothing happens and None is returned."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    statement = insert(Job).values(kind=kind, payload=payload or {}, status="pending", due_at=due_at,
                                   attempts=0, last_error="", dedupe_key=dedupe_key, created_at=now)
    if dedupe_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return session.execute(statement.returning(Job.id)).scalar()


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 240))


# --- worker passes that own one job kind (media downloads, deferred files, letters) -----------
def lease_due(sessions: sessionmaker[Session], *, kind: str, now: datetime, lease: timedelta,
              limit: int) -> list[tuple[int, dict, int]]:
    """(id, payload, attempts) of up to `limit` due jobs of `kind`, leased: due_at pushed `lease`
    ahead and the attempt counted, committed before the slow work starts, so a worker that dies
    mid-job leaves it to be taken again after the lease (SKIP LOCKED on PostgreSQL)."""
    with session_scope(sessions) as session:
        jobs = session.scalars(
            select(Job).where(Job.kind == kind, Job.status == "pending", Job.due_at <= now)
            .order_by(Job.id).limit(limit).with_for_update(skip_locked=True)
        ).all()
        for job in jobs:
            job.attempts += 1
            job.due_at = now + lease
        return [(job.id, dict(job.payload), job.attempts) for job in jobs]


def retry_or_fail(sessions: sessionmaker[Session], job_id: int, *, attempts: int, max_attempts: int,
                  error: Exception, now: datetime) -> None:
    """A leased job that failed: due again after `backoff`, or failed for good at `max_attempts`."""
    with session_scope(sessions) as session:
        job = session.get(Job, job_id)
        job.last_error = f"{type(error).__name__}: {error}"[:2000]
        if attempts >= max_attempts:
            job.status, job.finished_at = "failed", now
        else:
            job.due_at = now + backoff(attempts)


def mark_done(session: Session, job_id: int, *, now: datetime) -> None:
    job = session.get(Job, job_id)
    job.status, job.finished_at, job.last_error = "done", now, ""


@dataclass
class RunReport:
    done: int = 0
    retried: int = 0
    failed: int = 0
    kinds: list[str] = field(default_factory=list)


class Scheduler:
    def __init__(self, sessions: sessionmaker[Session], *, clock: Clock, handlers: dict[str, Handler],
                 runtime: object | None = None, max_attempts: int = 6, batch_size: int = 20):
        self.sessions = sessions
        self.clock = clock
        self.handlers = handlers
        self.runtime = runtime
        self.max_attempts = max_attempts
        self.batch_size = batch_size

    def _claim(self) -> list[int]:
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            jobs = session.scalars(
                select(Job)
                .where(Job.status == "pending", Job.due_at <= now, Job.kind.in_(list(self.handlers)))
                .order_by(Job.due_at, Job.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            for job in jobs:
                job.due_at = now + LEASE
                job.attempts += 1
            return [job.id for job in jobs]

    def run_due(self, *, max_rounds: int = 200) -> RunReport:
        """Run every due job, including those the jobs schedule due now (a mora run split into
        batches, a campaign's next batch); `max_rounds` bounds a pass if a handler misbehaves."""
        report = RunReport()
        for _ in range(max_rounds):
            claimed = self._claim()
            for job_id in claimed:
                with correlation.bound(f"job-{job_id}"):  # on the messages it sends, logged at delivery
                    self._run_one(job_id, report)
            if not claimed:
                break
        return report

    def _run_one(self, job_id: int, report: RunReport) -> None:
        try:
            with session_scope(self.sessions) as session:
                job = session.get(Job, job_id, with_for_update=True)
                now = self.clock.now()
                self.handlers[job.kind](JobContext(session=session, now=now, job=job, runtime=self.runtime))
                job.status = "done"
                job.finished_at = now
                job.last_error = ""
                report.done += 1
                report.kinds.append(job.kind)
        except Exception as exc:
            log.exception("job %s failed", job_id)
            now = self.clock.now()
            with session_scope(self.sessions) as session:
                job = session.get(Job, job_id)
                job.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if job.attempts >= self.max_attempts:
                    job.status = "failed"
                    job.finished_at = now
                    report.failed += 1
                else:
                    job.due_at = now + backoff(job.attempts)
                    report.retried += 1


class Bootstrap:
    """A worker task for a recurring job: schedules its coming run once per process.
    `schedule_first(session, settings=, now=)` uses a dedupe_key, so it is idempotent across processes."""

    def __init__(self, sessions: sessionmaker[Session], *, settings: object, clock: Clock,
                 schedule_first: Callable[..., object]):
        self.sessions, self.settings, self.clock = sessions, settings, clock
        self.schedule_first = schedule_first
        self.done = False

    def __call__(self) -> None:
        if self.done:
            return
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            self.schedule_first(session, settings=self.settings, now=now)
        self.done = True
