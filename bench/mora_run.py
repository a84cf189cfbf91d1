"""The monthly mora run over N clients (default 5,000), next to the bare work it is made of.

A fresh database (SQLite file, or a new PostgreSQL database) gets N clients in mora by direct
inserts: one ejecutiva, N clients each with an email and a WhatsApp number, one product and two
pending invoices. Then, in the same run:

- baseline: fpdf2 rendering the same proforma document N times (`proforma.render_pdf` alone, the
  document built once: the PDF work of the run) and a bare `executemany` insert of 2 x N rows (the campaign_sends the run writes);
- the job: `mora.run` claimed and run by the real Scheduler, which splits the month into
  `mora_batch` jobs of 25 clients, each one transaction (proforma PDF stored per
  client, email + WhatsApp outbox rows, campaign_sends, answer timeouts, next month's run);
- delivery: the real OutboxDeliverer sending every outbox row to local stand-ins: the repo's fake
  Twilio server (tests/whatsapp/fake_twilio.py) and an aiosmtpd server (plain SMTP, counting).

Reported per backend: run time, proformas/s, messages/s of the job and of delivery, ratios to the
baseline. Loopback only.

    .venv/bin/python bench/mora_run.py [--clients 5000] [--postgres]
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller

from bot import migrate, proforma
from bot.campaigns import mora, timeout
from bot.clock import ManualClock
from bot.db import make_engine
from bot.models import CampaignSend, Client, Invoice, Outbox, Product, Staff
from bot.portfolio.records import DatabaseRecords
from bot.app.wiring import build_runtime
from bot.scheduler import Scheduler
from bot.settings import Settings
from channels.email.sender import EmailChannel
from tests.whatsapp.conftest import ACCOUNT_SID, AUTH_TOKEN, SENDER, TEMPLATES
from tests.whatsapp.fake_twilio import FakeTwilio

POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PERIOD = "2026-12"
RUN_AT = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)  # 09:00 in La Paz on the 5th


class CountingHandler:
    """aiosmtpd handler that only counts: 5,000 proformas need not be kept in memory."""

    def __init__(self):
        self.count = 0
        self.bytes = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            self.bytes += len(envelope.original_content or envelope.content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database(postgres: bool, folder: Path) -> tuple[str, callable]:
    if not postgres:
        return f"sqlite:///{folder / 'bench.sqlite3'}", lambda: None
    admin = make_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"pv_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def portfolio(url: str, clients: int) -> None:
    """N clients in mora, inserted in bulk (the importer's validation is not what is measured)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        staff_id = conn.execute(insert(Staff).values(username="ejecutiva", full_name="Ejecutiva Bench",
                                                     role="ejecutivo", email="", active=True)
                                .returning(Staff.id)).scalar()
        conn.execute(insert(Client), [
            {"nit": f"{2000000000 + n}", "razon_social": f"Empresa de Prueba {n} S.R.L.", "tipo": "privada",
             "ejecutivo_id": staff_id, "email": f"cobranzas{n}@empresa{n % 97}.bo",
             "whatsapp": f"+5917{n:07d}"} for n in range(clients)])
        ids = dict(conn.execute(select(Client.nit, Client.id)).all())
        conn.execute(insert(Product), [
            {"contract": f"9{n:07d}", "client_id": ids[f"{2000000000 + n}"], "product_type": "internet",
             "number": "", "technology": "fibra", "plan": "Empresas 100 Mbps", "monthly_fee": Decimal("450.00"),
             "installed_on": date(2022, 3, 1), "min_permanence_months": 12, "status": "activo",
             "address": f"Av. Heroínas {n}, Cochabamba"} for n in range(clients)])
        products = conn.execute(select(Product.id)).scalars().all()
        conn.execute(insert(Invoice), [
            {"product_id": pid, "period": period, "amount": Decimal("450.00"), "status": "pendiente", "due_on": due}
            for pid in products for period, due in (("2026-10", date(2026, 11, 20)), ("2026-11", date(2026, 12, 20)))])
    engine.dispose()


def baseline(url: str, clients: int) -> tuple[float, float]:
    """fpdf2 rendering the same proforma N times; a bare executemany of 2 x N rows."""
    engine = make_engine(url)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        records = DatabaseRecords(session)
        client = records.client_by_id(session.scalar(select(func.min(Client.id))))
        lines = proforma.lines_for(records, client)
    document = proforma.content(client, lines, today=date(2026, 12, 5))
    started = time.perf_counter()
    for _ in range(clients):
        proforma.render_pdf(document)  # fpdf2 alone: the document is built once
    pdf_seconds = time.perf_counter() - started

    scratch = Table(f"bench_rows_{uuid.uuid4().hex[:6]}", MetaData(), Column("id", Integer, primary_key=True),
                    Column("client_id", Integer), Column("channel", String(16)), Column("address", String(254)),
                    Column("body", Text))
    scratch.create(engine)
    rows = [{"client_id": n, "channel": channel, "address": f"cobranzas{n}@empresa.bo", "body": "x" * 400}
            for n in range(clients) for channel in ("email", "whatsapp")]
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(scratch), rows)
    insert_seconds = time.perf_counter() - started
    scratch.drop(engine)
    engine.dispose()
    return pdf_seconds, insert_seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    n = args.clients
    folder = Path(tempfile.mkdtemp(prefix="pv-bench-mora-"))
    url, drop = database(args.postgres, folder)
    handler = CountingHandler()
    smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as twilio:
            migrate.upgrade(url)
            portfolio(url, n)
            pdf_seconds, insert_seconds = baseline(url, n)

            settings = Settings(
                _env_file=None, database_url=url, documents_dir=folder / "documents", mora_run_day=5,
                twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_whatsapp_from=SENDER,
                twilio_messaging_service_sid="", twilio_api_base_url=twilio.base_url,
                twilio_template_payment_reminder=TEMPLATES["payment_reminder"],
                smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="plain", email_from="empresas@comteco.bo",
                outbox_batch_size=200)
            clock = ManualClock(RUN_AT)
            runtime = build_runtime(settings, clock=clock)
            runtime.channels.register(EmailChannel(settings, runtime.sessions, clock=clock))
            with runtime.sessions.begin() as session:
                mora.schedule_run(session, settings=settings, period=PERIOD, now=RUN_AT)

            scheduler = Scheduler(runtime.sessions, clock=clock, handlers=mora.HANDLERS, runtime=settings)
            started = time.perf_counter()
            report = scheduler.run_due()
            job_seconds = time.perf_counter() - started
            batches = -(-n // mora.BATCH_SIZE)
            assert report.done == 1 + batches and not report.retried, report

            with runtime.sessions() as session:
                sends = session.scalar(select(func.count()).select_from(CampaignSend))
                outbox = session.scalar(select(func.count()).select_from(Outbox))
                timeouts = session.scalar(text("SELECT count(*) FROM jobs WHERE kind = :k"), {"k": timeout.JOB})
            assert sends == outbox == 2 * n and timeouts == 2 * n, (sends, outbox, timeouts)

            started = time.perf_counter()
            delivered = runtime.deliverer.deliver_due()
            delivery_seconds = time.perf_counter() - started
            whatsapp = len(twilio.sent())
            assert delivered.sent == 2 * n and not delivered.failed, delivered
            assert whatsapp == n and handler.count == n, (whatsapp, handler.count)
            runtime.engine.dispose()
    finally:
        smtp.stop()
        drop()
        shutil.rmtree(folder, ignore_errors=True)

    backend = "PostgreSQL" if args.postgres else "SQLite"
    bare = pdf_seconds + insert_seconds
    print(f"{backend}: {n} clients in mora -> {2 * n} messages ({n} emails with the proforma PDF, "
          f"{n} WhatsApp templates)")
    print(f"  baseline fpdf2 proforma x{n}  : {n / pdf_seconds:8.1f} PDFs/s ({pdf_seconds:.1f} s)")
    print(f"  baseline executemany {2 * n} rows: {2 * n / insert_seconds:8.0f} rows/s ({insert_seconds:.2f} s)")
    print(f"  mora job (Scheduler)          : {job_seconds:.1f} s, {n / job_seconds:.1f} proformas/s, "
          f"{2 * n / job_seconds:.1f} messages/s; ratio bare/job {bare / job_seconds:.2f}")
    print(f"  delivery (outbox)             : {delivery_seconds:.1f} s, {2 * n / delivery_seconds:.1f} messages/s "
          f"({handler.bytes / n / 1024:.0f} KiB per email)")
    print(f"  total run + delivery          : {job_seconds + delivery_seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
