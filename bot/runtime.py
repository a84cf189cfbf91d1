"""The parts of one process, wired once by the composition root (bot/app/wiring.py).

Staff pages and channel routes receive this; they never build parts themselves.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.engine import Engine
from bot.messaging import ChannelRegistry
from bot.outbox import OutboxDeliverer
from bot.settings import Settings
from bot.worker import Worker


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
    email_poller: object | None = None  # channels.email.inbound.MailboxPoller when IMAP_HOST is set

