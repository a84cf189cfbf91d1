"""Shared fixtures: real SQLite and real PostgreSQL, both migrated with Alembic.

Every database test runs twice, once per backend (`db` fixture is parametrised).
A PostgreSQL that cannot be reached skips those tests, unless REQUIRE_SERVICES=1
(set by .ci/run), where a missing service fails the run instead.
"""
from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot import migrate
from bot.db import make_engine, make_session_factory
from bot.models import Base

pytest_plugins = ["tests.chat_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_missing(reason: str):
    """Skip on a developer's laptop; fail in CI, which must never pass by skipping."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service not available: {reason}")
    pytest.skip(reason)


def shared_path(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        if REQUIRE_SERVICES:
            pytest.fail(f"../shared/{relative} is required in CI but absent")
        pytest.skip(f"../shared/{relative} is absent (a user's clone); CI has it")
    return path


@dataclass
class Database:
    backend: str
    url: str
    engine: Engine
    sessions: sessionmaker[Session]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database():
    """One throwaway database per test session, migrated once; tables truncated per test."""
    try:
        admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        yield exc
        return
    name = f"pv_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path, sqlite_template) -> Database:
    yield from _open(request, request.param, tmp_path, sqlite_template)


@pytest.fixture
def postgres_db(request, tmp_path, sqlite_template) -> Database:
    """For behaviour only PostgreSQL has (SKIP LOCKED between workers, table locks)."""
    yield from _open(request, "postgres", tmp_path, sqlite_template)


def _open(request, backend: str, tmp_path, sqlite_template):
    if backend == "sqlite":
        path = tmp_path / "db.sqlite3"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
        engine = make_engine(url)
    else:
        pg = request.getfixturevalue("postgres_database")
        if isinstance(pg, Exception):
            service_missing(f"PostgreSQL at {POSTGRES_URL}: {pg}")
        url = pg
        engine = make_engine(url)
        _truncate_all(engine)
    database = Database(backend, url, engine, make_session_factory(engine))
    yield database
    engine.dispose()


@pytest.fixture
def sqlite_db(tmp_path, sqlite_template) -> Database:
    path = tmp_path / "db.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    yield Database("sqlite", url, engine, make_session_factory(engine))
    engine.dispose()


def _load_demo(database: Database) -> Database:
    from bot.portfolio import DEMO_CARTERA_DIR, import_cartera

    with database.sessions.begin() as session:
        import_cartera(session, DEMO_CARTERA_DIR)
    return database


@pytest.fixture
def demo(db) -> Database:
    """`db` with the demo portfolio of bot/demo/cartera imported."""
    return _load_demo(db)


@pytest.fixture
def postgres_demo(postgres_db) -> Database:
    return _load_demo(postgres_db)
