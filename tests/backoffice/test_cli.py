"""`python -m bot create-user` and the demo accounts of `setup-demo`, as real subprocesses."""
from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from backoffice import security
from bot.models import Staff
from tests.support import ROOT


def run_bot(*args: str, url: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], check=False, cwd=ROOT, input=stdin, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "DATABASE_URL": url})


def test_create_user_reads_the_password_from_stdin(db):
    result = run_bot("create-user", "--username", "pmendoza", "--role", "responsable", "--full-name",
                     "Patricia Mendoza", url=db.url, stdin="una-clave-larga\n")
    assert result.returncode == 0, result.stderr
    assert "pmendoza" in result.stdout and "una-clave-larga" not in result.stdout
    with db.sessions() as session:
        staff = session.scalars(select(Staff).where(Staff.username == "pmendoza")).one()
    assert staff.role == "responsable" and security.verify_password(staff.password_hash, "una-clave-larga")


def test_create_user_refuses_a_bad_role_or_a_short_password(db):
    assert run_bot("create-user", "--username", "x1", "--role", "jefe", url=db.url, stdin="una-clave-larga\n").returncode == 2
    result = run_bot("create-user", "--username", "x1", "--role", "ejecutivo", url=db.url, stdin="corta\n")
    assert result.returncode == 2 and "al menos 8" in result.stderr


def test_setup_demo_creates_and_prints_the_demo_staff(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    first = run_bot("setup-demo", url=url)
    assert first.returncode == 0, first.stderr
    for username in ("mrojas", "lvargas", "jquiroga", "gcomercial", "gtecnico", "atecnico", "responsable"):
        assert username in first.stdout
    assert "postventa-demo" in first.stdout
    again = run_bot("setup-demo", url=url)  # printed on every start while they keep the demo password
    assert "responsable" in again.stdout
