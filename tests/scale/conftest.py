"""Scale-out and process-fault tests: real processes (uvicorn, `python -m bot worker`, PostgreSQL
clusters) on 127.0.0.1, driven by the harness of bench/scale_load.py, which these tests share so the
long benchmark and its short version in the suite run the same clients the same way."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from bot.db import make_engine
from tests.conftest import POSTGRES_URL, service_missing
from tests.support import ROOT
from tests.whatsapp.fake_twilio import MESSAGES, FakeTwilio

sys.path.insert(0, str(ROOT / "bench"))
import scale_load  # noqa: E402


@pytest.fixture
def harness():
    return scale_load


@pytest.fixture
def private_database():
    """A database of its own on the shared server (TEST_POSTGRES_URL), dropped afterwards."""
    try:
        admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001
        service_missing(f"PostgreSQL at {POSTGRES_URL}: {exc}")
    url, drop = scale_load.create_database(POSTGRES_URL)
    yield url
    drop()


class HoldingTwilio(FakeTwilio):
    """The fake Twilio server, able to hold the n-th Messages.json request until released: the
    worker is then inside the provider call, which is where a kill hurts most."""

    def __init__(self, account_sid: str, auth_token: str):
        super().__init__(account_sid, auth_token)
        self.hold_number = 0
        self.held = threading.Event()
        self.release = threading.Event()
        self._seen = 0
        fake, base = self, self.server.RequestHandlerClass

        class Holding(base):
            def do_POST(self) -> None:
                if MESSAGES.match(urlsplit(self.path).path):
                    with fake._lock:
                        fake._seen += 1
                        number = fake._seen
                    if number == fake.hold_number:
                        fake.held.set()
                        fake.release.wait(60)
                super().do_POST()

        self.server.RequestHandlerClass = Holding
        # The held request is answered to a worker that no longer exists: not an error worth a trace.
        self.server.handle_error = lambda request, address: None


@pytest.fixture
def holding_twilio():
    with HoldingTwilio(scale_load.ACCOUNT_SID, scale_load.AUTH_TOKEN) as fake:
        yield fake
        fake.release.set()


class PrivateCluster:
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder, its own port), so it can
    be stopped and started without touching the shared server other tests use."""

    def __init__(self, folder: Path, port: int):
        self.folder = folder
        self.data = folder / "data"
        self.port = port
        self.bin = self._bin_dir()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    @staticmethod
    def _bin_dir() -> Path | None:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        return candidates[-1].parent if candidates else None

    def _as_postgres(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", "postgres", "--", *command], capture_output=True, text=True,
                              timeout=timeout)

    def init(self) -> str | None:
        """None when it is running, else why it could not be started."""
        if self.bin is None or shutil.which("runuser") is None:
            return "no PostgreSQL binaries under /usr/lib/postgresql or no runuser"
        try:
            shutil.chown(self.folder, "postgres")
        except (LookupError, PermissionError) as exc:
            return f"cannot hand {self.folder} to the postgres user: {exc}"
        done = self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                 "--no-sync")
        if done.returncode != 0:
            return f"initdb failed: {done.stderr[-500:]}"
        return self.start()

    def start(self) -> str | None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        done = self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"),
                                 "-o", options, "-w", "start")
        return None if done.returncode == 0 else f"pg_ctl start failed: {done.stderr[-500:]}"

    def stop(self, mode: str = "fast") -> None:
        done = self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
        assert done.returncode == 0, done.stderr

    def destroy(self) -> None:
        if self.bin is not None and (self.data / "postmaster.pid").exists():
            self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")


@pytest.fixture
def private_cluster():
    # Directly under /tmp: pytest's tmp_path sits in folders only root may enter, and the cluster
    # runs as the postgres user.
    folder = Path(tempfile.mkdtemp(prefix="pv-pg-"))
    cluster = PrivateCluster(folder, scale_load.free_port())
    problem = cluster.init()
    if problem:
        cluster.destroy()
        shutil.rmtree(folder, ignore_errors=True)
        service_missing(f"private PostgreSQL cluster: {problem}")
    yield cluster
    cluster.destroy()
    shutil.rmtree(folder, ignore_errors=True)
