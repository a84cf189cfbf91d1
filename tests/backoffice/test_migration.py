"""Migration 0002 matches the models on both databases, and goes down and up again."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot import migrate
from bot.models import Base

BACKOFFICE_TABLES = {"staff_sessions", "login_attempts", "visits"}


def test_schema_matches_the_models(db):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_downgrade_to_0001_and_back(db):
    config = migrate.alembic_config(db.url)
    command.downgrade(config, "0001")
    db.engine.dispose()
    assert not BACKOFFICE_TABLES & set(inspect(db.engine).get_table_names())
    command.upgrade(config, "head")
    db.engine.dispose()
    assert BACKOFFICE_TABLES <= set(inspect(db.engine).get_table_names())
