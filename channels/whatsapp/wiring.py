"""Turns the channel on when TWILIO_ACCOUNT_SID is set: adapter, media jobs, routes."""
from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.engine import Engine
from bot.messaging import ChannelRegistry
from bot.settings import Settings
from bot.worker import Worker
from channels.whatsapp.media import MediaDownloader, MediaJobs
from channels.whatsapp.routes import install_writer_gate, router
from channels.whatsapp.sender import WhatsAppChannel


def configured(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid)


def install(*, settings: Settings, sessions: sessionmaker[Session], engine: Engine, clock: Clock,
            channels: ChannelRegistry, worker: Worker) -> None:
    if not configured(settings):
        return
    if channels.get(WhatsAppChannel.name) is None:
        channels.register(WhatsAppChannel(settings, sessions, clock=clock))
    jobs = MediaJobs(sessions, engine, MediaDownloader(settings), clock=clock,
                     max_attempts=settings.whatsapp_media_max_attempts)
    worker.tasks.append(jobs.run_due)


def include_routes(app: FastAPI, settings: Settings) -> None:
    if configured(settings):
        install_writer_gate(app, settings)
        app.include_router(router)
