"""Demo data for `make run`: the demo portfolio, loaded only into an empty database."""
from __future__ import annotations

from pathlib import Path
from typing import TextIO

from sqlalchemy import func, select

from bot.db import make_engine, make_session_factory, session_scope
from bot.models import Client
from bot.portfolio.importer import import_cartera


def load_if_empty(database_url: str, directory: Path, out: TextIO) -> bool:
    engine = make_engine(database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            if session.scalar(select(func.count()).select_from(Client)):
                out.write("La base de datos ya tiene cartera; no se cargan datos de demostración.\n")
                return False
            report = import_cartera(session, directory)
        out.write(f"Cartera de demostración cargada: {report}\n")
        return True
    finally:
        engine.dispose()
