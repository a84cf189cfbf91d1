"""Messages per second through the conversation engine (console path, no HTTP).

For each backend (SQLite file, PostgreSQL) and each size of existing history (1,000 and 100,000
conversations already in the database), a fresh migrated database gets the demo portfolio, the
history rows, then N scripted client conversations are replayed through `Engine.handle` and the
outbox is delivered to a recording channel. Reported: messages/s and per-message p50/p99.
Per-message cost must not grow with the number of conversations: compare the two sizes.

    .venv/bin/python bench/engine_throughput.py [--sizes 1000 100000] [--conversations 300]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import migrate  # noqa: E402
from bot.clock import FixedDateClock  # noqa: E402
from bot.db import make_engine, make_session_factory, session_scope  # noqa: E402
from bot.engine import Engine
from dialogs.registry import dialogs  # noqa: E402
from bot.models import Conversation, Message  # noqa: E402
from bot.outbox import OutboxDeliverer  # noqa: E402
from bot.portfolio.importer import import_cartera  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.messaging import InboundMessage  # noqa: E402
from channels.console import RecordingChannel  # noqa: E402
from bot.messaging import ChannelRegistry  # noqa: E402

DEMO = ROOT / "bot" / "demo" / "cartera"
POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# Realistic conversations: identification by NIT + contract, then a trámite, written in full or step
# by step. Each script is one client's messages.
SCRIPTS = [
    ["Hola buenas tardes", "1020304021", "300101", "quiero el detalle de llamadas de agosto y septiembre de la linea 4412345"],
    ["buenos dias", "NIT 1020304021 contrato 300101", "7", "de la linea 4412345 de octubre"],
    ["Hola", "1020304021", "300101", "necesito hablar con un ejecutivo"],
    ["Hola, tengo un problema con el internet, no funciona desde ayer", "1020304021", "300101", "menu", "9"],
    ["Buenas tardes", "NIT 1020304021 contrato 300101",
     "quiero habilitar el identificador de llamadas en la linea 4412345"],
    ["Hola", "1029384017", "300301",
     "queremos suspender temporalmente el internet desde el 1 de diciembre de 2026 por 2 meses", "si"],
    ["Hola", "1067788015", "300701",
     "reclamo por la factura de septiembre de la linea 4701234, nos cobraron de mas"],
    ["Buen dia", "1020304021", "300104", "cuanto debemos?"],
    ["Hola", "1031122019", "300401", "el internet no funciona, sin servicio en todo el edificio"],
]


def seed_history(sessions, size: int) -> None:
    now = datetime.now(UTC)
    batch = 10_000
    with session_scope(sessions) as session:
        for start in range(0, size, batch):
            rows = [
                {"channel": "whatsapp", "address": f"+5917{n:07d}", "dialog": "main", "state": "menu",
                 "data": {}, "mode": "bot", "created_at": now, "updated_at": now, "last_inbound_at": now}
                for n in range(start, min(start + batch, size))
            ]
            session.execute(insert(Conversation), rows)
        first_id = session.scalar(text("SELECT min(id) FROM conversations"))
        for start in range(0, size, batch):
            rows = [
                {"conversation_id": first_id + n, "direction": "in", "channel": "whatsapp",
                 "external_id": f"SMhist{n:010d}", "body": "Hola", "attachments": [], "author": "client",
                 "status": "received", "error_code": "", "created_at": now}
                for n in range(start, min(start + batch, size))
            ]
            session.execute(insert(Message), rows)


class Bench:
    """One database with `size` existing conversations and an engine over it."""

    def __init__(self, url: str, size: int):
        migrate.upgrade(url)
        self.engine = make_engine(url)
        sessions = make_session_factory(self.engine)
        with session_scope(sessions) as session:
            import_cartera(session, DEMO)
        seed_history(sessions, size)
        # Measure steady state, not the aftermath of the bulk load: fold the WAL back / refresh stats.
        if self.engine.dialect.name == "sqlite":
            raw = self.engine.raw_connection()
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.close()
        else:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        clock = FixedDateClock(datetime(2026, 11, 28).date())
        self.bot = Engine(sessions, settings=Settings(database_url=url), clock=clock, dialogs=dialogs())
        self.channel = RecordingChannel("console")
        self.deliverer = OutboxDeliverer(sessions, ChannelRegistry(self.channel), clock=clock)
        self.latencies: list[float] = []
        self.size = size
        # Warm up caches (NLU data, templates, dialog machines) outside the measurement.
        self.bot.handle(InboundMessage("console", "+59160000000", "Hola", f"warm-{uuid.uuid4()}"))

    def conversation(self, n: int) -> None:
        address = f"+5916{n:07d}"
        for body in SCRIPTS[n % len(SCRIPTS)]:
            t0 = time.perf_counter()
            outcome = self.bot.handle(InboundMessage("console", address, body, f"b-{n}-{uuid.uuid4().hex}"))
            self.deliverer.deliver_due(conversation_id=outcome.conversation_id)
            self.latencies.append(time.perf_counter() - t0)

    def result(self) -> dict:
        latencies = sorted(self.latencies)
        total = sum(latencies)
        return {
            "messages": len(latencies),
            "per_second": len(latencies) / total,  # messages per second of engine time
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "replies": len(self.channel.sent),
        }


def run_side_by_side(urls: dict[int, str], conversations: int) -> dict[int, dict]:
    """Both sizes in one process, conversations interleaved: whatever else the machine does
    weighs on both the same way, so their ratio is what the size costs."""
    benches = {size: Bench(url, size) for size, url in urls.items()}
    for n in range(conversations):
        for bench in benches.values():
            bench.conversation(n)
    results = {size: bench.result() for size, bench in benches.items()}
    for bench in benches.values():
        bench.engine.dispose()
    return results


def sqlite_url(tmp: Path, size: int) -> str:
    return f"sqlite:///{tmp / f'bench-{size}.sqlite3'}"


def postgres_url(size: int):
    admin = make_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"pv_bench_{size}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return admin, name, POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--conversations", type=int, default=300)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends:
            cleanup = []
            if backend == "sqlite":
                urls = {size: sqlite_url(Path(tmp), size) for size in args.sizes}
            else:
                urls = {}
                for size in args.sizes:
                    admin, name, url = postgres_url(size)
                    urls[size] = url
                    cleanup.append((admin, name))
            try:
                by_size = run_side_by_side(urls, args.conversations)
            finally:
                for admin, name in cleanup:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()
            for size, result in by_size.items():
                results.append((backend, size, result))
                print(f"{backend:8} {size:>7} existing: {result['per_second']:7.1f} msg/s  "
                      f"p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms  "
                      f"({result['messages']} messages, {result['replies']} replies)", flush=True)
    print()
    print("| backend | existing conversations | messages | msg/s | p50 ms | p99 ms | msg/s vs smallest |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for backend, size, r in results:
        base = next(x for b, s, x in results if b == backend)
        print(f"| {backend} | {size:,} | {r['messages']} | {r['per_second']:.1f} | {r['p50_ms']:.2f} | "
              f"{r['p99_ms']:.2f} | {r['per_second'] / base['per_second']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
