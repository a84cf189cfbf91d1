"""The command line as operators and scripts use it: real subprocesses, real databases."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx
from sqlalchemy import create_engine, func, inspect, select, text

from bot import migrate
from bot.db import make_engine
from bot.models import Base, Case, Client
from tests.support import ROOT


def run_bot(*args: str, url: str, stdin: str = "", timeout: float = 120, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, input=stdin, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "DATABASE_URL": url, **env},
    )


def test_scripted_chat_prints_each_reply_on_a_bot_line(demo, tmp_path):
    script = "Hola\nquiero el detalle de llamadas de agosto y septiembre de la línea 4412345\n"
    result = run_bot("chat", "--from", "+59170000001", "--today", "2026-11-28", url=demo.url, stdin=script,
                     DOCUMENTS_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    replies = re.split(r"^bot> ", result.stdout, flags=re.MULTILINE)
    assert replies[0] == ""  # nothing before the first reply
    assert len(replies) == 3  # one reply per client message
    assert "Importadora El Valle" in replies[1]
    with demo.sessions() as session:
        number = session.scalar(select(Case.number))
    assert number in replies[2] and "Bs 24,00" in replies[2]


def test_chat_by_email_address(demo, tmp_path):
    result = run_bot("chat", "--from", "contabilidad@empresa.bo", "--today", "2026-11-28", url=demo.url,
                     stdin="Buenas tardes\n", DOCUMENTS_DIR=str(tmp_path))
    assert result.stdout.startswith("bot> ") and "Importadora El Valle" in result.stdout


def test_migrate_creates_every_table_on_a_new_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    result = run_bot("migrate", url=url)
    assert result.returncode == 0, result.stderr
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    from alembic.script import ScriptDirectory

    assert version == ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()


def test_migrate_is_idempotent_on_both_databases(db):
    assert run_bot("migrate", url=db.url).returncode == 0
    assert run_bot("migrate", url=db.url).returncode == 0


def test_import_cartera_command_reports_and_refuses_bad_files(db, tmp_path):
    bad = tmp_path / "cartera"
    bad.mkdir()
    (bad / "clientes.csv").write_text("nit,razon_social,tipo,ejecutivo,email,whatsapp\n"
                                      "123,Empresa,mixta,mrojas,,\n", encoding="utf-8")
    result = run_bot("import-cartera", str(bad), url=db.url)
    assert result.returncode == 1
    assert "clientes.csv" in result.stderr and "tipo" in result.stderr
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Client)) == 0


def test_dialogs_diagram_writes_one_mermaid_file_per_dialog(tmp_path):
    from dialogs.registry import dialogs

    result = run_bot("dialogs", "--diagram", str(tmp_path / "diagrams"), url="sqlite://")
    assert result.returncode == 0, result.stderr
    for name, dialog in dialogs().items():
        source = (tmp_path / "diagrams" / f"{name}.mmd").read_text(encoding="utf-8")
        assert "stateDiagram-v2" in source
        for state in dialog.state_names:
            assert state in source
    g = (tmp_path / "diagrams" / "tramite_G.mmd").read_text(encoding="utf-8")
    assert "ask_months" in g and "needs_months" in g  # transitions carry their conditions


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_setup_demo_then_serve_answers_healthz(tmp_path):
    """What `make run` does after installing: migrate + demo data, then web and worker."""
    url = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    setup = run_bot("setup-demo", url=url)
    assert setup.returncode == 0, setup.stderr
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Client)).scalar() >= 12
    engine.dispose()
    again = run_bot("setup-demo", url=url)  # a second start keeps the data as it is
    assert "ya tiene cartera" in again.stdout
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port)], cwd=ROOT,
                              env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, server.stdout.read()
                time.sleep(0.3)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}
    finally:
        server.terminate()
        server.wait(timeout=20)
