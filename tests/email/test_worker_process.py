"""`python -m bot worker` as a real process: one pass with --once, and a worker killed with
SIGKILL between fetching a letter and committing it."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy import text

from tests.email.conftest import OUR_ADDRESS, SMTP_PASSWORD, SMTP_USER, letter
from tests.support import ROOT

LETTER_ID = "<CAHx2v9T1u0a7Qk3fR4pYz+Lm8nB6cD5eF@mail.gmail.com>"


def worker_env(db, user, smtp, tls, tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMAP_", "SMTP_", "EMAIL_", "TWILIO_"))}
    env.update(
        DATABASE_URL=db.url, DOCUMENTS_DIR=str(tmp_path / "documents"), LOG_LEVEL="INFO",
        WORKER_POLL_SECONDS="0.2", DEMO_MODE="false",
        IMAP_HOST="127.0.0.1", IMAP_PORT=str(user.server.imap_port), IMAP_SECURITY="plain",
        IMAP_USER=user.name, IMAP_PASSWORD=user.password,
        SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port), SMTP_SECURITY="starttls",
        SMTP_USER=SMTP_USER, SMTP_PASSWORD=SMTP_PASSWORD, EMAIL_FROM=OUR_ADDRESS,
        EMAIL_CA_FILE=str(tls.ca_file),
    )
    return env


def run_once(env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "worker", "--once"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def inbound_ids(db) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.execute(text("SELECT external_id FROM messages WHERE direction = 'in' ORDER BY id")).scalars())


def test_worker_once_polls_and_delivers(demo, mail_user, smtp_server, tls, tmp_path):
    mail_user.deliver(letter("faltan_datos.eml"))
    result = run_once(worker_env(demo, mail_user, smtp_server, tls, tmp_path))
    assert result.returncode == 0, result.stderr
    assert inbound_ids(demo) == [LETTER_ID]
    assert [r.rcpt_tos for r in smtp_server.received] == [["contabilidad@empresa.bo"]]
    assert mail_user.uids("INBOX") == [] and mail_user.uids("Procesados") == ["1"]


class Lines:
    """The worker's log lines, read by a thread so the test can wait for one."""

    def __init__(self, stream):
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in stream], daemon=True).start()

    def wait_for(self, needle: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if needle in line:
                return line
        raise AssertionError(f"the worker never logged {needle!r}")


def test_worker_killed_between_fetch_and_commit_processes_the_letter_once(postgres_demo, mail_user, smtp_server,
                                                                          tls, tmp_path):
    # PostgreSQL only: the kill point is held with a table lock. SQLite serialises every
    # transaction, reads included (BEGIN IMMEDIATE), so a held lock stops the worker's loop before
    # it fetches and the kill point cannot be reached this way.
    demo = postgres_demo
    env = worker_env(demo, mail_user, smtp_server, tls, tmp_path)
    worker = subprocess.Popen([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        log = Lines(worker.stderr)
        log.wait_for("connected (IDLE)")
        # Hold the conversations table: the worker fetches the letter, then waits on its first write.
        with demo.engine.connect() as conn:
            conn.execute(text("LOCK TABLE conversations IN EXCLUSIVE MODE"))
            mail_user.deliver(letter("faltan_datos.eml"))
            log.wait_for("email fetched uid=1")
            time.sleep(0.3)  # it is now blocked inside the engine's transaction
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            conn.rollback()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert inbound_ids(demo) == []
    assert mail_user.uids("INBOX") == ["1"]
    assert "\\Seen" not in mail_user.flags("INBOX")[0]  # fetched with BODY.PEEK

    first = run_once(env)
    assert first.returncode == 0, first.stderr
    second = run_once(env)
    assert second.returncode == 0, second.stderr
    assert inbound_ids(demo) == [LETTER_ID]
    assert len(smtp_server.received) == 1
    assert mail_user.uids("INBOX") == [] and mail_user.uids("Procesados") == ["1"]
