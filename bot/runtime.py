"""Wires settings -> database -> engine -> outbox -> worker, once per process."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.db import make_engine, make_session_factory
from bot.engine import Engine
from bot.outbox import OutboxDeliverer
from bot.settings import Settings
from bot.worker import Worker
from channels.registry import ChannelRegistry


@dataclass
class Runtime:
    settings: Settings
    engine: SqlEngine
    sessions: sessionmaker[Session]
    conversations: Engine
    channels: ChannelRegistry
    deliverer: OutboxDeliverer
    worker: Worker
    clock: Clock


def build_runtime(settings: Settings, *, clock: Clock | None = None,
                  channels: ChannelRegistry | None = None) -> Runtime:
    clock = clock or Clock()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    channels = channels or ChannelRegistry()
    deliverer = OutboxDeliverer(sessions, channels, clock=clock, max_attempts=settings.outbox_max_attempts,
                                batch_size=settings.outbox_batch_size)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        conversations=Engine(sessions, settings=settings, clock=clock),
        channels=channels,
        deliverer=deliverer,
        worker=Worker(deliverer, poll_seconds=settings.worker_poll_seconds),
        clock=clock,
    )
