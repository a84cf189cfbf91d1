"""Back-office tests: the real sub-application over the `demo` database (SQLite and PostgreSQL),
driven through HTTP with a signed-in staff member, with a clock the test moves."""
from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from backoffice import accounts
from backoffice.app import mount
from bot.clock import ManualClock
from bot.models import Staff
from bot.app.wiring import build_runtime
from bot.settings import Settings
from channels.console import RecordingChannel
from bot.messaging import ChannelRegistry
from tests.backoffice.support import NOW, StaffClient, demo_hash


@pytest.fixture
def staff(demo):
    """The demo accounts of setup-demo, all with the demo password."""
    with demo.sessions.begin() as session:
        for account in accounts.demo_accounts():
            row = session.scalars(select(Staff).where(Staff.username == account.username)).one_or_none()
            if row is None:
                row = Staff(username=account.username, role=account.role, full_name=account.full_name)
                session.add(row)
            row.role, row.full_name, row.password_hash, row.active = (
                account.role, account.full_name, demo_hash(), True)
    return demo


@pytest.fixture
def clock():
    return ManualClock(NOW)


@pytest.fixture
def runtime(staff, clock, tmp_path):
    settings = Settings(database_url=staff.url, demo_mode=True, secret_key="test-secret-" + "k" * 40,
                        documents_dir=tmp_path / "documents")
    channels = ChannelRegistry(*(RecordingChannel(n) for n in ("whatsapp", "email", "console")))
    rt = build_runtime(settings, clock=clock, channels=channels)
    yield rt
    rt.engine.dispose()


@pytest.fixture
def app(runtime) -> FastAPI:
    app = FastAPI()
    app.state.runtime = runtime
    mount(app, runtime)  # exactly what bot.app.create_app mounts
    return app


@pytest.fixture
def login(app):
    def sign_in(username: str, **kwargs) -> StaffClient:
        client = StaffClient(app, **kwargs)
        response = client.login(username)
        assert response.status_code == 303, response.text
        return client

    return sign_in


