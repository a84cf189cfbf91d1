"""The short version of bench/scale_load.py: 2 web processes + 1 worker process on one PostgreSQL,
clients writing trámite G step by step over signed webhooks with Twilio's retries (some posts twice,
at once to the other process or after the next message). And the documented `uvicorn --workers N`
command, serving from several processes."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot.db import make_engine
from tests.support import ROOT

pytestmark = pytest.mark.timeout(240)  # bounded by their own deadlines; this only stops a hang

CLIENTS = 20


def october(today) -> str:
    return f"{today.year if today.month > 10 else today.year - 1}-10"


def test_two_web_processes_and_a_worker_apply_every_message_once(private_database, harness, tmp_path):
    from tests.whatsapp.fake_twilio import FakeTwilio

    url = private_database
    harness.load_portfolio(url, tmp_path / "cartera", CLIENTS)
    with FakeTwilio(harness.ACCOUNT_SID, harness.AUTH_TOKEN) as twilio:
        env = harness.app_env(url, twilio.base_url, tmp_path)
        webs = [harness.start_web(f"web{i}", env, tmp_path) for i in (1, 2)]
        worker = harness.start_worker(env, tmp_path)
        processes = [p for p, _ in webs] + [worker]
        try:
            for process, address in webs:
                harness.wait_until_serving(process, address)
            plans = harness.plan(range(CLIENTS), "t", duplicate_share=0.25, seed=3)
            retried = [(p.client, k, s.retry) for p in plans for k, s in enumerate(p.steps) if s.retry]
            # The plan really exercises both kinds of retry (the seed is fixed).
            assert {kind for _, _, kind in retried} == {"together", "late"}
            result = harness.run_clients([a for _, a in webs], plans, concurrency=16, timeout=60)
            deadline = time.monotonic() + 45
            while len(twilio.sent()) < CLIENTS * 4 and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            for process in processes:
                process.stop()

        assert result.statuses == {200: CLIENTS * 4 + len(retried)}
        replies: dict[str, list[str]] = {}
        for request in twilio.sent():
            replies.setdefault(request.value("To"), []).append(request.value("Body"))

    engine = make_engine(url)
    with engine.connect() as conn:
        inbound = Counter(conn.execute(text("SELECT external_id FROM messages WHERE direction = 'in'")).scalars())
        states = dict(conn.execute(text("SELECT address, dialog || '/' || state FROM conversations")).all())
        cases = conn.execute(text(
            "SELECT c.address, k.tramite, k.status, k.data FROM cases k "
            "JOIN conversations c ON c.id = k.conversation_id ORDER BY c.address")).all()
        # Attempts: a reply claimed twice (sent twice) would show 2 here.
        outbox = dict(conn.execute(text("SELECT status || '/' || attempts, count(*) FROM outbox "
                                        "GROUP BY status, attempts")).all())
        deadlocks = conn.execute(text(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")).scalar()
    engine.dispose()

    phones = [f"+59175{n:06d}" for n in range(CLIENTS)]
    assert inbound == {f"SMt{n:06d}{k:02d}".ljust(34, "0"): 1 for n in range(CLIENTS) for k in range(4)}
    assert states == {phone: "main/menu" for phone in phones}
    from bot.clock import Clock

    month = october(Clock().today())
    assert [(a, t, s, d["lines"], d["months"]) for a, t, s, d in cases] == [
        (phone, "G", "pendiente_requisitos", [f"45{2 * n:05d}"], [month]) for n, phone in enumerate(phones)]
    assert outbox == {"sent/1": CLIENTS * 4}
    assert sorted(replies) == sorted(f"whatsapp:{phone}" for phone in phones)
    for n, phone in enumerate(phones):
        got = replies[f"whatsapp:{phone}"]
        assert len(got) == 4, (phone, got)
        assert got[0].startswith(f"Estimado cliente Empresa de Carga {n} S.R.L.")
        assert f"Línea fija 45{2 * n:05d}" in got[1] and f"Línea fija 45{2 * n + 1:05d}" in got[1]
        assert "¿De qué mes o meses" in got[2]
        assert re.search(r"Número de caso: PV-\d{4}-\d{6}", got[3]) and "Bs 12,00" in got[3]
    assert deadlocks == 0
    for process in processes:
        log = process.text()
        assert "Traceback" not in log and "deadlock" not in log.lower(), (process.name, log[-2000:])


def children(pid: int) -> list[int]:
    """uvicorn's serving processes under `pid` (multiprocessing children, not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == pid and b"spawn_main" in command:
                found.append(int(entry.name))
    return found


def procfile_web_command() -> str:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    # The test listens on 127.0.0.1 only; everything else is the Procfile's command as the host runs it.
    return line.removeprefix("web:").strip().replace("--host 0.0.0.0", "--host 127.0.0.1")


def test_procfile_web_with_web_concurrency_serves_from_several_processes(private_database, harness, tmp_path):
    """`WEB_CONCURRENCY=2` + the Procfile's `web` command (uvicorn --factory), as README Operación says."""
    url = private_database
    harness.load_portfolio(url, tmp_path / "cartera", 8)
    port = harness.free_port()
    env = harness.app_env(url, "http://127.0.0.1:9", tmp_path)
    env.update(PORT=str(port), WEB_CONCURRENCY="2",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")  # the venv's uvicorn
    web = harness.Process("web-concurrency", ["bash", "-c", "exec " + procfile_web_command()], env, tmp_path)
    address = f"http://127.0.0.1:{port}"
    try:
        harness.wait_until_serving(web, address, timeout=90)
        deadline = time.monotonic() + 30
        while len(children(web.popen.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        serving = children(web.popen.pid)
        assert len(serving) == 2
        plans = harness.plan(range(8), "w", duplicate_share=0.0)
        result = harness.run_clients([address, address], plans, concurrency=8, timeout=60)
        assert result.statuses == {200: 32}
        # A serving process that dies is replaced by uvicorn's supervisor; the port keeps answering.
        os.kill(serving[0], signal.SIGKILL)
        deadline = time.monotonic() + 45
        while (serving[0] in children(web.popen.pid) or len(children(web.popen.pid)) < 2) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        assert serving[0] not in children(web.popen.pid) and len(children(web.popen.pid)) == 2
        assert httpx.get(address + "/healthz", timeout=10).status_code == 200
    finally:
        web.stop()
    # The web processes stored the messages; one worker pass answers them (issue 16).
    once = subprocess.run([sys.executable, "-m", "bot", "worker", "--once"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert once.returncode == 0, once.stderr
    engine = make_engine(url)
    with engine.connect() as conn:
        cases = conn.execute(text("SELECT count(*) FROM cases WHERE tramite = 'G'")).scalar()
        inbound = conn.execute(text("SELECT count(DISTINCT external_id), count(*) FROM messages "
                                    "WHERE direction = 'in'")).one()
    engine.dispose()
    assert cases == 8 and tuple(inbound) == (32, 32)
