"""Turns the channel on when IMAP_HOST is set: the SMTP adapter and the IMAP poller task."""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.engine import Engine
from bot.messaging import ChannelRegistry
from bot.settings import Settings
from bot.worker import Worker
from channels.email.inbound import MailboxPoller
from channels.email.ingest import Ingestor
from channels.email.sender import EmailChannel

log = logging.getLogger(__name__)


def configured(settings: Settings) -> bool:
    return bool(settings.imap_host)


def install(*, settings: Settings, sessions: sessionmaker[Session], engine: Engine, clock: Clock,
            channels: ChannelRegistry, worker: Worker):
    """Returns the poller (or None), for callers that drive it themselves."""
    if not configured(settings):
        return None
    for name in ("imap_security", "smtp_security"):
        if getattr(settings, name).lower() not in ("ssl", "starttls", "plain"):
            raise ValueError(f"{name.upper()} must be ssl, starttls or plain")
    if not settings.smtp_host or not settings.email_from:
        # Replies wait in the outbox (its rows are only claimed for registered channels).
        log.warning("IMAP_HOST is set but SMTP_HOST or EMAIL_FROM is not: email replies are not sent")
    elif channels.get(EmailChannel.name) is None:
        channels.register(EmailChannel(settings, sessions, clock=clock))
    ingestor = Ingestor(sessions=sessions, engine=engine, settings=settings, clock=clock)
    poller = MailboxPoller(settings, sessions, ingestor, clock=clock)
    worker.tasks.append(poller.poll_once)
    return poller
