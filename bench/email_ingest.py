"""Letters per second ingested from a real Dovecot, next to a bare imap-tools fetch of the same letters.

A throwaway Dovecot (IMAP + LMTP on loopback ports, tests/email/servers.py) gets N Spanish letters by
IMAP APPEND: requests written in full or in part, from registered contacts and from unknown senders,
some with a signed PDF. Then, in the same run:

- baseline: `MailBox.fetch(mark_seen=False, bulk=100)` of every letter (imap-tools parses each one);
- ingestion: one `MailboxPoller.poll_once()` over the same letters: fetch with BODY.PEEK, parse, strip
  quotes, loop checks, thread lookup, the conversation engine (dialog, case, outbox row) in one
  transaction per letter, then \\Seen and a move to Procesados.

Reported: letters/s of each and the ratio ingestion / bare fetch. Bounded, loopback only.

    .venv/bin/python bench/email_ingest.py [--letters 1000] [--postgres]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import date
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trustme
from imap_tools import MailBoxUnencrypted

from bot import migrate
from bot.clock import FixedDateClock
from bot.db import make_engine
from bot.portfolio.importer import import_cartera
from bot.app.wiring import build_runtime
from bot.settings import Settings
from tests.email.servers import DOVECOT, Dovecot

DEMO = ROOT / "bot" / "demo" / "cartera"
POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CONTACTS = ["contabilidad@empresa.bo", "gerencia@empresa.bo", "sistemas@tiquipaya.gob.bo",
            "contabilidad@farmaciassantarosa.com.bo"]
BODIES = [
    ("Solicitud de detalle de llamadas",
     "Estimados:\n\nSolicitamos el detalle de llamadas de agosto y septiembre de la línea 4412345.\n\n"
     "Adjuntamos la carta firmada.\n\nAtentamente,\nMaría Fernanda Céspedes", True),
    ("Detalle de llamadas", "Buenos días, necesitamos el detalle de llamadas de la línea 4412345.\n\nGracias", False),
    ("Consulta", "Hola, quisiera saber cuánto debemos.\n\nSaludos", False),
    ("Reclamo", "Buenas tardes, el internet no funciona desde ayer en nuestra oficina.\n\nAtte.", False),
]


def letters(count: int) -> list[bytes]:
    out = []
    for n in range(count):
        sender = CONTACTS[n % len(CONTACTS)] if n % 3 else f"cliente{n % 50}@correo{n % 7}.com.bo"
        subject, body, with_pdf = BODIES[n % len(BODIES)]
        message = EmailMessage()
        message["From"] = sender
        message["To"] = "empresas@comteco.bo"
        message["Subject"] = subject
        message["Message-ID"] = f"<bench-{n}-{uuid.uuid4().hex[:8]}@correo.bo>"
        message["Date"] = "Sat, 28 Nov 2026 08:45:12 -0400"
        message.set_content(body)
        message.add_alternative("<p>" + body.replace("\n", "<br>") + "</p>", subtype="html")
        if with_pdf:
            message.add_attachment(PDF, "application", "pdf", filename="carta.pdf")
        out.append(message.as_bytes())
    return out


class TimedEngine:
    """The real engine, with the time spent inside it added up."""

    def __init__(self, engine):
        self.engine = engine
        self.seconds = 0.0

    def _timed(self, method, message):
        started = time.perf_counter()
        try:
            return method(message)
        finally:
            self.seconds += time.perf_counter() - started

    def handle(self, message):
        return self._timed(self.engine.handle, message)

    def record(self, message):
        return self._timed(self.engine.record, message)


def database(postgres: bool, folder: Path) -> tuple[str, callable]:
    if not postgres:
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        return url, lambda: None
    admin = make_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"pv_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    if DOVECOT is None:
        print("dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)", file=sys.stderr)
        return 1
    folder = Path(tempfile.mkdtemp(prefix="pv-bench-email-"))
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    server = Dovecot(folder / "cert.pem", folder / "key.pem")
    server.start()
    url, drop = database(args.postgres, folder)
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            from sqlalchemy.orm import Session

            with Session(bind=conn) as session:
                import_cartera(session, DEMO)
                session.flush()
        engine.dispose()
        user, password = server.add_user("bench")
        with server.mailbox(user, password) as box:
            for raw in letters(args.letters):
                box.append(raw, "INBOX")

        started = time.perf_counter()
        with MailBoxUnencrypted("127.0.0.1", server.imap_port).login(user, password) as box:
            fetched = sum(1 for message in box.fetch(mark_seen=False, bulk=100) if message.uid)
        bare = time.perf_counter() - started
        assert fetched == args.letters, fetched

        settings = Settings(_env_file=None, database_url=url, documents_dir=folder / "documents",
                            imap_host="127.0.0.1", imap_port=server.imap_port, imap_security="plain",
                            imap_user=user, imap_password=password, email_from="empresas@comteco.bo",
                            email_replies_per_hour=10**6)
        runtime = build_runtime(settings, clock=FixedDateClock(date(2026, 11, 28)))
        timed = TimedEngine(runtime.conversations)
        runtime.email_poller.ingestor.engine = timed  # composition, to split the time below
        started = time.perf_counter()
        report = runtime.email_poller.poll_once(force=True)
        ingest = time.perf_counter() - started
        runtime.email_poller.close()
        runtime.engine.dispose()
        assert report.processed == args.letters and not report.failed, report
    finally:
        server.close()
        drop()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{backend}: {args.letters} letters")
    print(f"  bare imap-tools fetch : {args.letters / bare:8.1f} letters/s ({bare:.2f} s)")
    print(f"  ingestion (poller)    : {args.letters / ingest:8.1f} letters/s ({ingest:.2f} s)")
    print(f"  ratio ingestion/fetch : {bare / ingest:.3f}")
    print(f"  of which engine       : {timed.seconds / ingest:.0%} (dialogs, NLU, case, outbox row; "
          f"{timed.seconds / args.letters * 1000:.1f} ms/letter); email channel "
          f"{(ingest - timed.seconds) / args.letters * 1000:.1f} ms/letter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
