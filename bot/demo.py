"""Demo data for `make run`: the demo portfolio, loaded only into an empty database."""
from __future__ import annotations

from pathlib import Path
from typing import TextIO

from sqlalchemy import func, select

from bot.db import make_engine, make_session_factory, session_scope
from bot.models import Client
from bot.portfolio.importer import import_cartera
from bot.texts import render_cli


def load_if_empty(database_url: str, directory: Path, out: TextIO) -> bool:
    engine = make_engine(database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            if session.scalar(select(func.count()).select_from(Client)):
                out.write(render_cli("demo_skipped") + "\n")
                return False
            report = import_cartera(session, directory)
        out.write(render_cli("demo_loaded", report=report) + "\n")
        return True
    finally:
        engine.dispose()
