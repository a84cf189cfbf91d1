"""The process is killed between two messages; the conversation resumes where it was."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import text

from bot.db import make_engine

from tests.support import NIT
from tests.support import ROOT


def start_chat(url: str, sender: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--from", sender, "--today", "2026-11-28"],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def say_and_wait_for(proc: subprocess.Popen, text: str, expected: str) -> str:
    """Send one line, read the reply lines until `expected` shows up (the reply is complete)."""
    proc.stdin.write(text + "\n")
    proc.stdin.flush()
    seen = []
    while True:
        line = proc.stdout.readline()
        assert line, ("chat ended early", seen, proc.stderr.read())
        seen.append(line)
        assert seen[0].startswith("bot> "), seen
        if expected in line:
            return "".join(seen)


def wait_until_delivered(url: str) -> None:
    """The reply printed is recorded as sent a moment later: the kill must come between two
    messages, not inside a delivery (a reply left under its lease holds the conversation's next
    ones back until the lease ends — tests/scale/test_faults_process.py is that case)."""
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if not conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar():
                    return
            time.sleep(0.05)
        raise AssertionError("the reply was never recorded as sent")
    finally:
        engine.dispose()


def test_conversation_resumes_after_kill(portfolio):
    sender = "+59176543210"
    first = start_chat(portfolio.url, sender)
    try:
        say_and_wait_for(first, "Hola", "NIT")
        wait_until_delivered(portfolio.url)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    second = start_chat(portfolio.url, sender)
    try:
        # It remembered it had asked for the NIT: the answer is taken as one and a contract asked.
        reply = say_and_wait_for(second, f"{NIT}", "contrato")
        assert "NIT" not in reply
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(timeout=10)
