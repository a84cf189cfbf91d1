"""Server time of the back-office pages with a realistic load: 10,000 open cases and a case whose
conversation has 100 messages.

For each backend (SQLite file; PostgreSQL when TEST_POSTGRES_URL answers) a fresh migrated database
gets the demo portfolio, the demo staff, 10,000 open cases spread over the clients, roles and due
times, and one conversation of 100 messages. The real back-office app is called in-process (the
ASGI app through Starlette's TestClient, signed in as a staff member); each page is requested N
times after a warm-up and p50/p95 reported. The same client calling a bare FastAPI endpoint that
returns a fixed HTML page is the baseline: the difference is what the page itself costs.

    .venv/bin/python bench/backoffice_pages.py [--cases 10000] [--requests 60] [--write-results]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text

from backoffice import accounts
from backoffice.app import mount
from bot import migrate
from bot.db import make_engine, make_session_factory, session_scope
from bot.models import Case, Client, Conversation, Message
from bot.portfolio.importer import import_cartera
from bot.app.wiring import build_runtime
from bot.settings import Settings

DEMO = ROOT / "bot" / "demo" / "cartera"
ROLES = ["ejecutivo", "ejecutivo", "ejecutivo", "gestor_comercial", "gestor_tecnico", "analista_tecnico"]
TRAMITES = "ABCDEFGHIJKL"
STATUSES = ["abierto", "pendiente_requisitos", "en_proceso"]
NOW = datetime.now(UTC)


def seed(url: str, cases: int) -> int:
    """Portfolio, staff, `cases` open cases; returns the id of the case with 100 messages."""
    migrate.upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        import_cartera(session, DEMO)
        accounts.ensure_demo_staff(session)
    with session_scope(sessions) as session:
        clients = session.execute(select(Client.id, Client.ejecutivo_id, Client.whatsapp)).all()
        conversations = []
        for i, (client_id, _, phone) in enumerate(clients):
            conversations.append({"channel": "whatsapp", "address": phone or f"+5917{i:07d}", "client_id": client_id,
                                  "dialog": "main", "state": "menu", "data": {}, "mode": "bot",
                                  "last_inbound_at": NOW, "created_at": NOW, "updated_at": NOW})
        session.execute(insert(Conversation), conversations)
        by_client = dict(session.execute(select(Conversation.client_id, Conversation.id)).all())
        rows = []
        for i in range(cases):
            client_id, ejecutivo_id, _ = clients[i % len(clients)]
            role = ROLES[i % len(ROLES)]
            opened = NOW - timedelta(minutes=7 * i % (60 * 24 * 3))
            rows.append({"number": f"PV-B-{i:08d}", "tramite": TRAMITES[i % 12], "status": STATUSES[i % 3],
                         "current_role": role, "assignee_id": ejecutivo_id if role == "ejecutivo" and i % 2 else None,
                         "client_id": client_id, "conversation_id": by_client[client_id], "summary": "bench",
                         "data": {}, "quoted_costs": [], "requirements": [], "opened_at": opened,
                         "due_at": opened + timedelta(hours=24)})
        for start in range(0, len(rows), 2000):
            session.execute(insert(Case), rows[start:start + 2000])
        target = session.scalar(select(Case.id).where(Case.number == "PV-B-00000000"))
        conversation_id = session.get(Case, target).conversation_id
        session.execute(insert(Message), [
            {"conversation_id": conversation_id, "case_id": target, "direction": "in" if n % 2 == 0 else "out",
             "channel": "whatsapp", "external_id": f"bench-{uuid.uuid4()}", "body": f"Mensaje {n} " + "texto " * 20,
             "attachments": [], "author": "client" if n % 2 == 0 else "bot",
             "status": "received" if n % 2 == 0 else "delivered", "error_code": "",
             "created_at": NOW - timedelta(minutes=100 - n)} for n in range(100)])
    engine.dispose()
    return target


def timed(client: TestClient, path: str, n: int) -> tuple[float, float]:
    for _ in range(5):
        assert client.get(path).status_code == 200, path
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def signed_in(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/backoffice/login").text).group(1)
    client.post("/backoffice/login", data={"username": username, "password": "postventa-demo", "csrf_token": token})
    return client


def run(backend: str, url: str, cases: int, n: int) -> list[tuple[str, float, float]]:
    target = seed(url, cases)
    runtime = build_runtime(Settings(database_url=url, secret_key="bench-" + "k" * 40))
    app = FastAPI()
    app.state.runtime = runtime
    mount(app, runtime)

    @app.get("/bare")
    def bare():
        return HTMLResponse("<!doctype html><title>bare</title><p>ok</p>")

    results = []
    try:
        responsable, ejecutiva = signed_in(app, "responsable"), signed_in(app, "mrojas")
        results.append(("bare FastAPI endpoint (baseline)", *timed(responsable, "/bare", n)))
        results.append((f"queue, responsable (all {cases:,} open)", *timed(responsable, "/backoffice/", n)))
        results.append(("queue, responsable, search 'tunari'", *timed(responsable, "/backoffice/?q=tunari", n)))
        results.append(("queue, ejecutiva mrojas", *timed(ejecutiva, "/backoffice/", n)))
        results.append(("queue live fragment (polled)", *timed(ejecutiva, "/backoffice/cola/vivo", n)))
        results.append(("case page, 100 messages", *timed(responsable, f"/backoffice/casos/{target}", n)))
        results.append(("case live fragment (polled)", *timed(responsable, f"/backoffice/casos/{target}/vivo", n)))
    finally:
        runtime.engine.dispose()
    return [(backend, *r) for r in results]


def postgres_url() -> str | None:
    admin_url = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = f"pv_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return admin_url.rsplit("/", 1)[0] + f"/{name}"
    except Exception:  # noqa: BLE001 - no PostgreSQL here: SQLite only
        return None


def drop_postgres(url: str) -> None:
    admin_url = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--write-results", action="store_true", help="replace our section of bench/RESULTS.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += run("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.cases, args.requests)
    pg = postgres_url()
    if pg:
        try:
            rows += run("PostgreSQL", pg, args.cases, args.requests)
        finally:
            drop_postgres(pg)
    table = ["| backend | page | p50 ms | p95 ms |", "|---|---|---:|---:|"]
    table += [f"| {b} | {page} | {p50:.1f} | {p95:.1f} |" for b, page, p50, p95 in rows]
    print("\n".join(table))
    if args.write_results:
        write_results(table, args)
    return 0


SECTION = "## Back-office pages (bench/backoffice_pages.py)"


def write_results(table: list[str], args) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    body = "\n".join([
        SECTION, "",
        (f"{args.cases:,} open cases, one case with 100 messages; {args.requests} requests per page after 5 "
         "warm-up requests; in-process ASGI calls (Starlette TestClient), signed in; 2-core machine. "
         "Command: `.venv/bin/python bench/backoffice_pages.py --write-results`."), "",
        *table, "",
    ])
    if SECTION in current:
        before, rest = current.split(SECTION, 1)
        following = re.search(r"\n## ", rest)
        after = rest[following.start() + 1:] if following else ""
        current = before + body + ("\n" + after if after else "")
    else:
        current = current.rstrip("\n") + "\n\n" + body
    path.write_text(current, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
