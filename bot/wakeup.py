"""Waking the worker the moment the webhook stored a turn, across processes.

In one process (`python -m bot serve`) the webhook calls `Worker.wake()`. Web and worker in separate
processes or machines share only the database: on PostgreSQL the turn's transaction sends a NOTIFY
(delivered at commit, so the worker never looks before the row is visible) and each worker LISTENs
on a connection of its own. SQLite has no such thing; there a separate worker finds the turn at its
next poll (WORKER_POLL_SECONDS)."""
from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "postventa_turns"
RECONNECT_SECONDS = 5


def notify(session: Session) -> None:
    """Part of the caller's transaction: the listeners hear it when it commits."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class Listener:
    """A worker thread: LISTEN on PostgreSQL and wake the worker on every notification."""

    def __init__(self, database_url: str, wake):
        url = make_url(database_url).set(drivername="postgresql")
        self.dsn = url.render_as_string(hide_password=False)
        self.wake = wake
        self.listening = threading.Event()  # set once LISTEN is in place (tests wait for it)

    def __call__(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not stopping.is_set():
                        # A bounded wait, so a stopping worker is noticed within a second.
                        for _ in connection.notifies(timeout=1.0):
                            self.wake()
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("LISTEN %s lost (%s); the worker polls until it is back", CHANNEL, exc)
                stopping.wait(RECONNECT_SECONDS)
