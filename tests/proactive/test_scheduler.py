"""Durable jobs: idempotent scheduling, retries with backoff, failure after max attempts, and two
workers never running one job twice on PostgreSQL."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.models import Job, StaffTask
from bot.scheduler import Scheduler, schedule

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def add_job(db, *, kind="note", due=START, key=None, payload=None):
    with db.sessions.begin() as session:
        return schedule(session, kind=kind, due_at=due, payload=payload or {}, dedupe_key=key, now=START)


def write_task(ctx):
    """A handler with a visible database effect: one StaffTask per run."""
    ctx.session.add(StaffTask(kind="job_ran", note=str(ctx.job.id), created_at=ctx.now))


def count_tasks(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(StaffTask))


def test_scheduling_with_a_dedupe_key_happens_once(db):
    first = add_job(db, key="mora:2026-11")
    second = add_job(db, key="mora:2026-11")
    assert first is not None and second is None
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1


def test_only_due_jobs_run_and_each_once(db):
    clock = ManualClock(START)
    add_job(db)
    add_job(db, due=START + timedelta(hours=1))
    scheduler = Scheduler(db.sessions, clock=clock, handlers={"note": write_task})
    assert scheduler.run_due().done == 1
    assert scheduler.run_due().done == 0
    clock.advance(hours=1)
    assert scheduler.run_due().done == 1
    assert count_tasks(db) == 2


def test_a_failing_job_is_retried_with_backoff_then_marked_failed(db):
    clock = ManualClock(START)
    calls = []

    def flaky(ctx):
        calls.append(ctx.now)
        ctx.session.add(StaffTask(kind="partial", created_at=ctx.now))  # rolled back with the failure
        raise RuntimeError("SMTP down")

    add_job(db, kind="flaky")
    scheduler = Scheduler(db.sessions, clock=clock, handlers={"flaky": flaky}, max_attempts=3)
    assert scheduler.run_due().retried == 1
    assert scheduler.run_due().done == 0  # not due again yet: backoff
    clock.advance(minutes=1)
    assert scheduler.run_due().retried == 1
    clock.advance(minutes=2)
    assert scheduler.run_due().failed == 1
    clock.advance(days=1)
    scheduler.run_due()
    assert len(calls) == 3
    with db.sessions() as session:
        job = session.scalars(select(Job)).one()
    assert job.status == "failed" and "SMTP down" in job.last_error
    assert count_tasks(db) == 0  # nothing of the failed runs was kept


def test_two_workers_never_run_the_same_job_twice(postgres_db):
    # PostgreSQL only: SQLite runs one worker (writers are serialised); SKIP LOCKED is PostgreSQL's.
    db = postgres_db
    for n in range(30):
        add_job(db, key=f"job-{n}")

    def slow(ctx):
        time.sleep(0.02)
        write_task(ctx)

    clock = ManualClock(START + timedelta(seconds=1))
    schedulers = [Scheduler(db.sessions, clock=clock, handlers={"note": slow}, batch_size=5) for _ in range(2)]
    done = []
    threads = [threading.Thread(target=lambda s=s: done.append(s.run_due().done)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(done) == 30
    assert all(d > 0 for d in done)  # both took part
    assert count_tasks(db) == 30
