"""Scale-out under load: 2 web processes + 1 worker on one PostgreSQL, clients with Twilio's retries.

Everything runs on 127.0.0.1 and stops by itself (bounded by --timeout):
- a private PostgreSQL database (CREATE DATABASE on TEST_POSTGRES_URL's server), migrated, with a
  generated portfolio of N clients whose WhatsApp numbers are registered (each with two lines);
- 2 web processes (`uvicorn --factory bot.app:create_app`, real sockets) and 1 worker process
  (`python -m bot worker`) that delivers replies to the fake Twilio REST server of
  tests/whatsapp/fake_twilio.py, running in this process;
- N simulated clients, all at once, each writing trámite G (detalle de llamadas) step by step over
  signed webhooks: "Hola", "quiero el detalle de llamadas", "1" (the first of its two lines),
  "de octubre". A client posts its next message once the previous post was answered; its messages
  alternate between the two web processes. About 10 % of posts are delivered twice as Twilio's
  retries do: half of them at the same moment to the other web process, half after the client's
  next message (an out-of-order pair).
Posts go through one pool of C concurrent requests (default 32, as bench/webhook_load.py).

Verified afterwards: each MessageSid stored once; every conversation back at the menu with exactly
one case G for its first line and October; each client got exactly 4 replies from the fake Twilio,
the last one naming its case; every outbox row sent; no deadlock (server statistics and logs) and
no error in the logs. Then the bare FastAPI endpoint of bench/webhook_load.py, also as 2 processes,
gets the same posts at the same concurrency. Reported: posts/s and p50/p99 latency side by side.

    .venv/bin/python bench/scale_load.py [--clients 500] [--concurrency 32] [--timeout 600]
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import migrate  # noqa: E402
from bot.clock import Clock  # noqa: E402
from bot.db import make_engine, make_session_factory, session_scope  # noqa: E402
from bot.portfolio.importer import import_cartera  # noqa: E402
from channels.whatsapp.signature import compute  # noqa: E402
from tests.whatsapp.fake_twilio import FakeTwilio  # noqa: E402

POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "scale-token-0123456789abcdef"
PUBLIC = "https://bot.scale.example"
PATH = "/webhooks/whatsapp"
SENDER = "whatsapp:+14155238886"
SCRIPT = ("Hola", "quiero el detalle de llamadas", "1", "de octubre")
EXECUTIVE = "ecarga"


def phone(n: int) -> str:
    return f"+59175{n:06d}"


def lines(n: int) -> tuple[str, str]:
    return f"45{2 * n:05d}", f"45{2 * n + 1:05d}"


def write_portfolio(folder: Path, clients: int) -> Path:
    """clientes/contactos/productos.csv in the import format: client n writes from phone(n)."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "clientes.csv": (["nit", "razon_social", "tipo", "ejecutivo", "email", "whatsapp"],
                         [[f"30{n:08d}", f"Empresa de Carga {n} S.R.L.", "privada", EXECUTIVE,
                           f"gerencia{n}@carga.example", phone(n)] for n in range(clients)]),
        "contactos.csv": (["nit", "nombre", "cargo", "telefono", "email"],
                          [[f"30{n:08d}", f"Contacto {n}", "Gerente", phone(n), f"contacto{n}@carga.example"]
                           for n in range(clients)]),
        "productos.csv": (["contrato", "nit", "producto", "numero", "tecnologia", "plan", "tarifa_mensual",
                           "fecha_instalacion", "permanencia_minima_meses", "estado", "direccion"],
                          [[f"9{n:05d}{k}", f"30{n:08d}", "telefonia_fija", lines(n)[k], "cobre",
                            "Línea Comercial", "65.00", "2018-03-01", "12", "activo",
                            f"Calle {n} número {k + 1}, Cochabamba"]
                           for n in range(clients) for k in (0, 1)]),
    }
    for name, (header, rows) in tables.items():
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return folder


def create_database(admin_url: str = POSTGRES_ADMIN) -> tuple[str, callable]:
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"pv_scale_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


def load_portfolio(url: str, folder: Path, clients: int) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        import_cartera(session, write_portfolio(folder, clients))
    engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(url: str, twilio_url: str, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMAP_", "SMTP_", "EMAIL_", "TWILIO_"))}
    env.update(DATABASE_URL=url, PUBLIC_BASE_URL=PUBLIC, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
               TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_WHATSAPP_FROM=SENDER, TWILIO_MESSAGING_SERVICE_SID="",
               TWILIO_API_BASE_URL=twilio_url, DOCUMENTS_DIR=str(folder / "documents"), LOG_LEVEL="WARNING",
               SECRET_KEY="scale-secret-key-0123456789", WORKER_POLL_SECONDS="0.2", DEMO_MODE="false",
               MORA_RUN_DAY="0", PYTHONUNBUFFERED="1")
    return env


class Process:
    """A child process whose stderr goes to a log file that can be searched afterwards."""

    def __init__(self, name: str, command: list[str], env: dict, logs: Path):
        self.name = name
        self.log = logs / f"{name}.log"
        self._handle = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._handle, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._handle.close()

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def start_web(name: str, env: dict, logs: Path, *, target: str = "bot.app:create_app",
              app_dir: Path = ROOT, workers: int = 1) -> tuple[Process, str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--no-access-log", "--app-dir", str(app_dir)]
    if workers > 1:
        command += ["--workers", str(workers)]
    return Process(name, command, env, logs), f"http://127.0.0.1:{port}"


def wait_until_serving(process: Process, url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited: {process.text()[-2000:]}")
        try:
            httpx.get(url + "/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{process.name} did not start in {timeout} s")


def start_worker(env: dict, logs: Path, name: str = "worker") -> Process:
    return Process(name, [sys.executable, "-m", "bot", "worker"], env, logs)


# --- the clients -------------------------------------------------------------------------------

def sid(run: str, client: int, step: int) -> str:
    return f"SM{run}{client:06d}{step:02d}".ljust(34, "0")


def signed(fields: list[tuple[str, str]]) -> tuple[bytes, dict]:
    return urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded",
                                        "X-Twilio-Signature": compute(AUTH_TOKEN, PUBLIC + PATH, dict(fields))}


def form(address: str, body: str, message_sid: str) -> list[tuple[str, str]]:
    """Field for field what Twilio posts for a WhatsApp text."""
    return [("SmsMessageSid", message_sid), ("NumMedia", "0"), ("ProfileName", "Cliente"),
            ("MessageType", "text"), ("WaId", address[1:]), ("SmsStatus", "received"), ("Body", body),
            ("To", SENDER), ("NumSegments", "1"), ("ReferralNumMedia", "0"), ("MessageSid", message_sid),
            ("AccountSid", ACCOUNT_SID), ("From", f"whatsapp:{address}"), ("ApiVersion", "2010-04-01")]


@dataclass
class Step:
    """One client message: where it goes first and how Twilio's retry, if any, arrives."""
    body: bytes
    headers: dict
    target: int  # index of the web process
    retry: str = ""  # "", "together" (same moment, other process) or "late" (after the next message)


@dataclass
class ClientPlan:
    client: int
    steps: list[Step] = field(default_factory=list)


def plan(clients: range, run: str, *, duplicate_share: float = 0.10, seed: int = 7) -> list[ClientPlan]:
    randomness = random.Random(seed)
    plans = []
    for n in clients:
        client = ClientPlan(n)
        for k, text_ in enumerate(SCRIPT):
            body, headers = signed(form(phone(n), text_, sid(run, n, k)))
            retry = ""
            if randomness.random() < duplicate_share:
                retry = randomness.choice(("together", "late"))
            client.steps.append(Step(body, headers, (n + k) % 2, retry))
        plans.append(client)
    return plans


def all_posts(plans: list[ClientPlan]) -> int:
    return sum(len(p.steps) + sum(1 for s in p.steps if s.retry) for p in plans)


@dataclass
class LoadResult:
    posts: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def per_second(self) -> float:
        return self.posts / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    @property
    def p50_ms(self) -> float:
        return 1000 * statistics.median(self.latencies)

    @property
    def p99_ms(self) -> float:
        return self.percentile(0.99)


async def _run_clients(urls: list[str], plans: list[ClientPlan], concurrency: int, timeout: float) -> LoadResult:
    # aiohttp, as bench/webhook_load.py: httpx's AsyncClient would measure the client, not the servers.
    # The semaphore, not the connector, bounds the load, so latency excludes waiting for a slot.
    slots = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends: reusing one the server is
    # closing at that moment is a "connection reset", the client's doing, not the server's.
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=2)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        async def post(step: Step, target: int) -> None:
            async with slots:
                started = time.perf_counter()
                async with http.post(urls[target] + PATH, data=step.body, headers=step.headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        async def client(p: ClientPlan) -> None:
            late: Step | None = None
            for step in p.steps:
                if step.retry == "together":
                    await asyncio.gather(post(step, step.target), post(step, 1 - step.target))
                else:
                    await post(step, step.target)
                if late is not None:  # the retry of the previous message arrives after this one
                    await post(late, 1 - late.target)
                    late = None
                if step.retry == "late":
                    late = step
            if late is not None:
                await post(late, 1 - late.target)

        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(client(p) for p in plans)), timeout)
        elapsed = time.perf_counter() - started
    return LoadResult(len(latencies), elapsed, latencies, statuses)


def run_clients(urls: list[str], plans: list[ClientPlan], *, concurrency: int = 32,
                timeout: float = 300) -> LoadResult:
    return asyncio.run(_run_clients(urls, plans, concurrency, timeout))


def wait_for_replies(twilio: FakeTwilio, expected: int, timeout: float) -> float:
    """Seconds until the fake Twilio accepted `expected` messages (or the timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout and len(twilio.sent()) < expected:
        time.sleep(0.2)
    return time.monotonic() - started


def expected_month(today: date) -> str:
    """"de octubre" is the last October that is over."""
    return f"{today.year if today.month > 10 else today.year - 1}-10"


# --- verification ------------------------------------------------------------------------------

def verify(url: str, runs: dict[int, str], twilio: FakeTwilio, logs: list[Process]) -> list[str]:
    """Every problem found, as text; empty when the run was right. `runs`: client -> its run id."""
    clients = len(runs)
    problems: list[str] = []
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = dict(conn.execute(text(
            "SELECT external_id, count(*) FROM messages WHERE direction = 'in' GROUP BY external_id")).all())
        planned = {sid(run, n, k) for n, run in runs.items() for k in range(len(SCRIPT))}
        if set(stored) != planned or any(count != 1 for count in stored.values()):
            problems.append(f"inbound: {len(stored)} distinct of {len(planned)} planned, "
                            f"{sum(stored.values())} rows")
        states = conn.execute(text("SELECT address, dialog, state FROM conversations")).all()
        wrong = [row for row in states if (row.dialog, row.state) != ("main", "menu")]
        if len(states) != clients or wrong:
            problems.append(f"conversations: {len(states)}, not at the menu: {wrong[:5]}")
        cases = conn.execute(text(
            "SELECT c.address, k.tramite, k.data FROM cases k JOIN conversations c ON c.id = k.conversation_id"
        )).all()
        month = expected_month(Clock().today())
        by_address: dict[str, list] = {}
        for address, tramite, data in cases:
            by_address.setdefault(address, []).append((tramite, data.get("lines"), data.get("months")))
        for n in runs:
            if by_address.get(phone(n)) != [("G", [lines(n)[0]], [month])]:
                problems.append(f"client {n}: cases {by_address.get(phone(n))}")
                break
        outbox = dict(conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all())
        if outbox != {"sent": clients * len(SCRIPT)}:
            problems.append(f"outbox: {outbox}")
        deadlocks = conn.execute(text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
                                 ).scalar()
        if deadlocks:
            problems.append(f"PostgreSQL counted {deadlocks} deadlocks")
    engine.dispose()
    replies: dict[str, list[str]] = {}
    for request in twilio.sent():
        replies.setdefault(request.value("To"), []).append(request.value("Body") or "")
    for n in runs:
        got = replies.get(f"whatsapp:{phone(n)}", [])
        if len(got) != len(SCRIPT) or "PV-" not in got[-1]:
            problems.append(f"client {n}: {len(got)} replies, last {got[-1:]}")
            break
    if len(twilio.sent()) != clients * len(SCRIPT):
        problems.append(f"Twilio accepted {len(twilio.sent())} messages, expected {clients * len(SCRIPT)}")
    for process in logs:
        log = process.text().lower()
        for needle in ("deadlock", "traceback", "error"):
            if needle in log:
                problems.append(f"{process.name} log mentions {needle!r}")
    return problems


# --- the run -----------------------------------------------------------------------------------

@dataclass
class ScaleRun:
    real: LoadResult
    bare: LoadResult | None
    drain_seconds: float
    problems: list[str]


def scale_run(clients: int, *, concurrency: int = 32, timeout: float = 600, with_bare: bool = True,
              warm_clients: int = 4) -> ScaleRun:
    """`warm_clients` more clients run first, unmeasured, so each process has loaded what it needs."""
    run = uuid.uuid4().hex[:6]
    measured, warm = range(clients), range(clients, clients + warm_clients)
    runs = {n: run for n in measured} | {n: "W" + run[1:] for n in warm}
    with tempfile.TemporaryDirectory() as tmp, FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as twilio:
        folder = Path(tmp)
        url, drop = create_database()
        processes: list[Process] = []
        try:
            load_portfolio(url, folder / "cartera", clients + warm_clients)
            env = app_env(url, twilio.base_url, folder)
            webs = [start_web(f"web{i}", env, folder) for i in (1, 2)]
            processes += [p for p, _ in webs]
            processes.append(start_worker(env, folder))
            for process, address in webs:
                wait_until_serving(process, address)
            urls = [a for _, a in webs]
            warm_plans = plan(warm, runs[warm.start]) if warm_clients else []
            run_clients(urls, warm_plans, concurrency=concurrency, timeout=timeout)
            plans = plan(measured, run)
            try:
                real = run_clients(urls, plans, concurrency=concurrency, timeout=timeout)
            except (aiohttp.ClientError, TimeoutError):
                for process in processes:
                    print(f"{process.name}: exit code {process.popen.poll()}\n{process.text()[-3000:]}",
                          file=sys.stderr)
                raise
            drain = wait_for_replies(twilio, len(runs) * len(SCRIPT), timeout)
            for process in processes:
                process.stop()
            problems = verify(url, runs, twilio, processes)
            if real.statuses != {200: all_posts(plans)}:
                problems.append(f"HTTP statuses {real.statuses}")
        finally:
            for process in processes:
                process.stop()
            drop()
        bare = None
        if with_bare:
            bare = bare_run(warm_plans, plans, folder, concurrency=concurrency, timeout=timeout)
    return ScaleRun(real, bare, drain, problems)


def bare_run(warm_plans: list[ClientPlan], plans: list[ClientPlan], folder: Path, *, concurrency: int,
             timeout: float) -> LoadResult:
    """The same posts, same pattern, to 2 processes of bench/webhook_load.py's bare endpoint."""
    webs = [start_web(f"bare{i}", dict(os.environ), folder, target="webhook_load:bare_app",
                      app_dir=ROOT / "bench") for i in (1, 2)]
    try:
        for process, address in webs:
            wait_until_serving(process, address)
        urls = [a for _, a in webs]
        run_clients(urls, warm_plans, concurrency=concurrency, timeout=timeout)
        return run_clients(urls, plans, concurrency=concurrency, timeout=timeout)
    finally:
        for process, _ in webs:
            process.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the load and for the drain")
    args = parser.parse_args()
    result = scale_run(args.clients, concurrency=args.concurrency, timeout=args.timeout)
    print(f"{args.clients} clients x {len(SCRIPT)} messages (trámite G step by step), ~10 % delivered twice, "
          f"{args.concurrency} concurrent posts; 2 web processes + 1 worker, PostgreSQL")
    print("| endpoint | posts | posts/s | p50 ms | p99 ms | max ms | HTTP statuses |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, r in (("real (2 web + 1 worker)", result.real), ("bare FastAPI (2 processes)", result.bare)):
        print(f"| {name} | {r.posts} | {r.per_second:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
              f"{1000 * max(r.latencies):.0f} | {r.statuses} |")
    print(f"ratio real/bare: throughput {result.real.per_second / result.bare.per_second:.3f}, "
          f"p50 {result.real.p50_ms / result.bare.p50_ms:.1f}x, p99 {result.real.p99_ms / result.bare.p99_ms:.1f}x")
    print(f"worker: last reply delivered {result.drain_seconds:.1f} s after the last post")
    print("verification:", "all checks passed" if not result.problems else "; ".join(result.problems))
    return 0 if not result.problems else 1


if __name__ == "__main__":
    sys.exit(main())
