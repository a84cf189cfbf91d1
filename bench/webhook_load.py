"""Signed WhatsApp webhooks under load: the real app against a bare endpoint, side by side.

Two uvicorn servers on 127.0.0.1, each its own process (one worker, like `python -m bot serve`):
- real: bot.app.create_app with the WhatsApp channel on: signature check, form parsing, engine
  (dedupe, conversation lock, dialog, outbox row) in the threadpool, empty TwiML;
- bare: a FastAPI endpoint that parses the same form and returns the same empty TwiML.
The same N signed posts (text messages from many numbers, a few conversations each, every
MessageSid new) go to each at C concurrent connections. Reported: posts/s, p50/p99/max latency, and
real/bare ratios. Afterwards the real database must hold exactly N inbound messages.

    .venv/bin/python bench/webhook_load.py [--posts 3000] [--concurrency 32] [--postgres]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import httpx
from fastapi import FastAPI, Request, Response
from sqlalchemy import func, select, text
from twilio.twiml.messaging_response import MessagingResponse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import migrate  # noqa: E402
from bot.db import make_engine, make_session_factory, session_scope  # noqa: E402
from bot.models import Message  # noqa: E402
from bot.portfolio.importer import import_cartera  # noqa: E402
from channels.whatsapp.signature import compute  # noqa: E402

DEMO = ROOT / "bot" / "demo" / "cartera"
POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "bench-token-0123456789abcdef"
PUBLIC = "https://bot.bench.example"
PATH = "/webhooks/whatsapp"
TEXTS = ["Hola", "buenas tardes", "quiero el detalle de llamadas de octubre", "1020304021", "300101",
         "menú", "necesito ayuda con mi factura", "gracias"]


def bare_app() -> FastAPI:
    """The baseline: same form parsing, same answer, nothing else."""
    app = FastAPI()
    twiml = str(MessagingResponse())

    @app.post(PATH)
    async def webhook(request: Request) -> Response:
        await request.form()
        return Response(twiml, media_type="text/xml")

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(target: str, env: dict, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--no-access-log", "--app-dir", str(ROOT / "bench")]  # cwd has bot/
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start")


def signed_posts(count: int, run: str) -> list[tuple[str, dict]]:
    """Text messages from count // 8 numbers, 8 each, interleaved; every MessageSid new."""
    numbers = max(count // len(TEXTS), 1)
    posts = []
    for n in range(count):
        phone = f"+5916{n % numbers:07d}"
        fields = [("SmsMessageSid", ""), ("NumMedia", "0"), ("ProfileName", "Cliente Bench"), ("MessageType", "text"),
                  ("WaId", phone[1:]), ("SmsStatus", "received"), ("Body", TEXTS[(n // numbers) % len(TEXTS)]),
                  ("To", "whatsapp:+14155238886"), ("NumSegments", "1"), ("ReferralNumMedia", "0"),
                  ("MessageSid", f"SM{run}{n:024d}"), ("AccountSid", ACCOUNT_SID), ("From", f"whatsapp:{phone}"),
                  ("ApiVersion", "2010-04-01")]
        fields[0] = ("SmsMessageSid", fields[10][1])
        signature = compute(AUTH_TOKEN, PUBLIC + PATH, dict(fields))
        posts.append((urlencode(fields), {"Content-Type": "application/x-www-form-urlencoded",
                                          "X-Twilio-Signature": signature}))
    return posts


async def load(url: str, posts: list[tuple[str, dict]], concurrency: int) -> dict:
    # aiohttp as the client: httpx's AsyncClient itself topped out near 80 posts/s at 32
    # connections here, which would have measured the client, not the servers.
    queue: asyncio.Queue = asyncio.Queue()
    for post in posts:
        queue.put_nowait(post)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as client:
        async def worker():
            while not queue.empty():
                body, headers = queue.get_nowait()
                start = time.perf_counter()
                async with client.post(url + PATH, data=body.encode(), headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - start)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "posts": len(posts), "seconds": elapsed, "per_second": len(posts) / elapsed, "statuses": statuses,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "max_ms": 1000 * latencies[-1],
    }


def prepare_database(postgres: bool, folder: Path) -> tuple[str, callable]:
    if not postgres:
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        cleanup = lambda: None  # noqa: E731
    else:
        admin = make_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"pv_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"

        def cleanup():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        import_cartera(session, DEMO)
    engine.dispose()
    return url, cleanup


def engine_only(url: str, posts: list[tuple[str, dict]]) -> float:
    """ms per message of the same work without HTTP and signature: parse + engine, sequential."""
    from urllib.parse import parse_qsl

    from bot.clock import Clock
    from bot.engine import Engine
    from dialogs.registry import dialogs
    from bot.settings import Settings
    from channels.whatsapp import inbound

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    clock = Clock()
    conversations = Engine(sessions, settings=Settings(database_url=url), clock=clock, dialogs=dialogs())
    forms = [dict(parse_qsl(body, keep_blank_values=True)) for body, _ in posts]
    started = time.perf_counter()
    for form in forms:
        inbound.accept(conversations, sessions, clock, inbound.parse(form))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return 1000 * elapsed / len(forms)


def inbound_count(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(Message).where(Message.direction == "in")).scalar()
    engine.dispose()
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--engine-posts", type=int, default=500,
                        help="messages for the in-process, no-HTTP measurement")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL at TEST_POSTGRES_URL instead of SQLite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url, cleanup = prepare_database(args.postgres, Path(tmp))
        env = {"DATABASE_URL": url, "PUBLIC_BASE_URL": PUBLIC, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
               "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
               "TWILIO_API_BASE_URL": "http://127.0.0.1:9", "DOCUMENTS_DIR": str(Path(tmp) / "documents"),
               "LOG_LEVEL": "WARNING", "SECRET_KEY": "bench-secret-key-0123456789"}
        results = {}
        try:
            for name, target in (("bare", "webhook_load:bare_app"), ("real", "bot.app:create_app")):
                port = free_port()
                server = start_server(target, env, port)
                try:
                    asyncio.run(load(f"http://127.0.0.1:{port}", signed_posts(args.warmup, "W" + name[0]),
                                     args.concurrency))
                    results[name] = asyncio.run(load(f"http://127.0.0.1:{port}",
                                                     signed_posts(args.posts, "R" + name[0]), args.concurrency))
                finally:
                    server.terminate()
                    server.wait(timeout=10)
            stored = inbound_count(url) - args.warmup  # only the real app stores its warm-up
            engine_ms = engine_only(url, signed_posts(args.engine_posts, "E"))
        finally:
            cleanup()

    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{args.posts} signed posts, {args.concurrency} connections, {backend}, one uvicorn worker each")
    print("| endpoint | posts/s | p50 ms | p99 ms | max ms | HTTP statuses |")
    print("|---|---:|---:|---:|---:|---|")
    for name, r in results.items():
        print(f"| {name} | {r['per_second']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.0f} "
              f"| {r['statuses']} |")
    real, bare = results["real"], results["bare"]
    print(f"ratio real/bare: throughput {real['per_second'] / bare['per_second']:.3f}, "
          f"p50 {real['p50_ms'] / bare['p50_ms']:.1f}x, p99 {real['p99_ms'] / bare['p99_ms']:.1f}x")
    print(f"inbound messages stored by the real app: {stored} of {args.posts}")
    service_ms = 1000 / real["per_second"]
    print(f"parse + engine alone, sequential, no HTTP: {engine_ms:.1f} ms/message "
          f"= {engine_ms / service_ms:.0%} of the real endpoint's {service_ms:.1f} ms/message")
    ok = stored == args.posts and real["statuses"] == {200: args.posts} and real["max_ms"] < 15_000
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
