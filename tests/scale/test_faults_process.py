"""Process-level faults: the worker killed with SIGKILL inside a Twilio call, and PostgreSQL stopped
and started again under load. Real processes, real databases, the fake Twilio server."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from bot.clock import Clock
from bot.db import make_engine, make_session_factory
from bot.engine import Engine
from dialogs.registry import dialogs
from bot.settings import Settings
from bot.messaging import InboundMessage
from tests.support import ROOT

pytestmark = pytest.mark.timeout(240)  # bounded by their own deadlines; this only stops a hang


def queue_greetings(url: str, harness, clients: int) -> None:
    """Each client writes "Hola"; the engine (in this process) commits one reply each to the outbox."""
    engine = make_engine(url)
    conversations = Engine(make_session_factory(engine), settings=Settings(database_url=url), clock=Clock(), dialogs=dialogs())
    for n in range(clients):
        conversations.handle(InboundMessage("whatsapp", harness.phone(n), "Hola", f"SMfault{n:028d}"))
    engine.dispose()


def outbox_statuses(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all())
    engine.dispose()
    return rows


def test_worker_killed_inside_the_twilio_call_loses_nothing_and_repeats_only_that_message(
        private_database, holding_twilio, harness, tmp_path):
    url, twilio = private_database, holding_twilio
    harness.load_portfolio(url, tmp_path / "cartera", 6)
    queue_greetings(url, harness, 6)
    env = harness.app_env(url, twilio.base_url, tmp_path)

    twilio.hold_number = 3  # the third reply (client 2) is held inside the provider call
    first = harness.start_worker(env, tmp_path, "worker-killed")
    try:
        assert twilio.held.wait(45), first.text()[-2000:]
        os.kill(first.popen.pid, signal.SIGKILL)
        assert first.popen.wait(10) == -signal.SIGKILL
    finally:
        first.stop()
    twilio.release.set()  # Twilio accepts the held message after all: the worker never learnt it
    deadline = time.monotonic() + 10
    while len(twilio.sent()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.value("To") for r in twilio.sent()] == [f"whatsapp:{harness.phone(n)}" for n in (0, 1, 2)]
    # Two delivered and recorded; the held one and the three claimed with it wait for the lease.
    assert outbox_statuses(url) == {"sent": 2, "pending": 4}

    # A worker started at once sends nothing: the dead worker's claim (its lease) still holds.
    once = subprocess.run([sys.executable, "-m", "bot", "worker", "--once"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert once.returncode == 0, once.stderr
    assert len(twilio.sent()) == 3

    # The lease (bot.outbox.LEASE, 2 minutes of wall-clock time) runs out: moved into the past here
    # instead of waiting for it, because the worker processes read the real clock.
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET next_attempt_at = :past WHERE status = 'pending'"),
                     {"past": datetime.now(UTC) - timedelta(seconds=1)})
    engine.dispose()
    second = harness.start_worker(env, tmp_path, "worker-restarted")
    try:
        deadline = time.monotonic() + 45
        while len(twilio.sent()) < 7 and time.monotonic() < deadline:
            time.sleep(0.1)
        while outbox_statuses(url) != {"sent": 6} and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        second.stop()

    delivered = Counter(r.value("To") for r in twilio.sent())
    assert delivered == {f"whatsapp:{harness.phone(0)}": 1, f"whatsapp:{harness.phone(1)}": 1,
                         f"whatsapp:{harness.phone(2)}": 2, f"whatsapp:{harness.phone(3)}": 1,
                         f"whatsapp:{harness.phone(4)}": 1, f"whatsapp:{harness.phone(5)}": 1}
    assert all("Empresa de Carga" in r.value("Body") for r in twilio.sent())
    assert outbox_statuses(url) == {"sent": 6}
    engine = make_engine(url)
    with engine.connect() as conn:
        attempts = conn.execute(text(
            "SELECT c.address, o.attempts FROM outbox o JOIN messages m ON m.id = o.message_id "
            "JOIN conversations c ON c.id = m.conversation_id ORDER BY o.id")).all()
    engine.dispose()
    assert [tuple(row) for row in attempts] == [(harness.phone(0), 1), (harness.phone(1), 1), (harness.phone(2), 2),
                                               (harness.phone(3), 2), (harness.phone(4), 2), (harness.phone(5), 2)]


def _post(http: httpx.Client, harness, n: int) -> tuple[int, float, httpx.Response]:
    body, headers = harness.signed(harness.form(harness.phone(n), "Hola", f"SMpg{n:030d}"))
    started = time.perf_counter()
    response = http.post(harness.PATH, content=body, headers=headers)
    return n, time.perf_counter() - started, response


def test_postgres_restarted_under_load_answers_503_fast_and_twilio_retries_are_stored_once(
        private_cluster, harness, tmp_path):
    from sqlalchemy import create_engine

    admin = create_engine(private_cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE postventa"))
    admin.dispose()
    url = private_cluster.url.rsplit("/", 1)[0] + "/postventa"
    clients = 60
    harness.load_portfolio(url, tmp_path / "cartera", clients)
    env = harness.app_env(url, "http://127.0.0.1:9", tmp_path)  # no worker here: replies stay queued
    web, address = harness.start_web("web-pg-restart", env, tmp_path)
    answers: dict[int, list[httpx.Response]] = {}
    slow_failures: list[float] = []
    try:
        harness.wait_until_serving(web, address)
        with httpx.Client(base_url=address, timeout=30) as http, ThreadPoolExecutor(4) as pool:
            done = threading.Semaphore(0)

            def post(n: int):
                result = _post(http, harness, n)
                done.release()
                return result

            # Posts 0-29 at 4 at a time; after 10 answers the server is stopped under them.
            login_form = http.get("/backoffice/login")  # the pre-login cookie and its CSRF token
            login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_form.text).group(1)
            futures = [pool.submit(post, n) for n in range(30)]
            for _ in range(10):
                assert done.acquire(timeout=30)
            private_cluster.stop("fast")
            # While it is down: each post and the health check answer 503 at once.
            for n in range(30, 35):
                _, seconds, response = _post(http, harness, n)
                answers.setdefault(n, []).append(response)
                assert response.status_code == 503 and response.headers["retry-after"] == "5", response.text
                assert seconds < 5, seconds  # fails fast: well inside Twilio's 15 s, no connect wait
            assert http.get("/healthz").status_code == 503
            # Staff pages too: signing in needs the database; a Spanish page says why, not a 500.
            page = http.post("/backoffice/login", headers={"accept": "text/html"},
                             data={"username": "nadie", "password": "x", "csrf_token": login_csrf})
            assert page.status_code == 503 and "no está disponible" in page.text, page.status_code
            for future in futures:
                n, seconds, response = future.result(timeout=60)
                answers.setdefault(n, []).append(response)
                if response.status_code != 200:
                    slow_failures.append(seconds)
            assert private_cluster.start() is None
            deadline = time.monotonic() + 30
            while http.get("/healthz").status_code != 200:
                assert time.monotonic() < deadline, "/healthz never came back"
                time.sleep(0.2)
            # After the restart new messages go through at once (stale pooled connections are replaced).
            for n in range(35, clients):
                _, _, response = _post(http, harness, n)
                answers.setdefault(n, []).append(response)
                assert response.status_code == 200, response.text
            # Twilio's retry of every post that failed.
            failed = [n for n, responses in answers.items() if responses[-1].status_code != 200]
            for n in failed:
                _, _, response = _post(http, harness, n)
                answers[n].append(response)
                assert response.status_code == 200, response.text
    finally:
        web.stop()
    # The web answered after storing each message; a worker pass takes the dialog turns (issue 16).
    once = subprocess.run([sys.executable, "-m", "bot", "worker", "--once"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert once.returncode == 0, once.stderr

    statuses = Counter(r.status_code for responses in answers.values() for r in responses)
    assert set(statuses) == {200, 503}, statuses  # never a 500
    assert statuses[200] == clients
    assert all(seconds < 5 for seconds in slow_failures), slow_failures
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = dict(conn.execute(text(
            "SELECT external_id, count(*) FROM messages WHERE direction = 'in' GROUP BY external_id")).all())
        per_conversation = conn.execute(text(
            "SELECT c.address, sum(CASE WHEN m.direction = 'in' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN m.direction = 'out' THEN 1 ELSE 0 END), count(DISTINCT o.id) "
            "FROM conversations c JOIN messages m ON m.conversation_id = c.id "
            "LEFT JOIN outbox o ON o.message_id = m.id GROUP BY c.address")).all()
    engine.dispose()
    assert stored == {f"SMpg{n:030d}": 1 for n in range(clients)}
    # Nothing half-written: every stored message has its reply and its outbox row, once.
    assert sorted(tuple(row) for row in per_conversation) == sorted(
        (harness.phone(n), 1, 1, 1) for n in range(clients))
    assert "Traceback" not in web.text()
