"""The composition root: settings -> database -> dialogs -> engine -> channels -> outbox ->
scheduler -> worker, once per process. The only place that knows every package."""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import channels as channels_package
from bot import attachments, held, quality, retention, wakeup
from bot.campaigns import registry as campaigns
from bot.clock import Clock
from bot.db import make_engine, make_session_factory
from bot.engine import Engine
from bot.letters.jobs import LetterReader
from bot.messaging import ChannelRegistry
from bot.outbox import OutboxDeliverer
from bot.reports import daily
from bot.runtime import Runtime
from bot.scheduler import Bootstrap, Scheduler
from bot.settings import Settings
from bot.worker import Worker
from channels.email.sender import mail_sender
from channels.simulator import register_simulators
from dialogs.registry import dialogs


def channel_wirings() -> dict[str, ModuleType]:
    """`channels/<name>/wiring.py` of every channel package: `install(...)` registers the adapter and
    its worker tasks; an optional `include_routes(app, settings)` adds its webhooks. A new channel is
    a new package there; nothing here names it."""
    found = {}
    for info in sorted(pkgutil.iter_modules(channels_package.__path__), key=lambda m: m.name):
        if info.ispkg:
            found[info.name] = importlib.import_module(f"{channels_package.__name__}.{info.name}.wiring")
    return found


def build_runtime(settings: Settings, *, clock: Clock | None = None,
                  channels: ChannelRegistry | None = None) -> Runtime:
    clock = clock or Clock()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    channels = channels or ChannelRegistry()
    if settings.demo_mode:
        register_simulators(channels)  # the /simulador page's WhatsApp-like chat and email form
    deliverer = OutboxDeliverer(sessions, channels, clock=clock, max_attempts=settings.outbox_max_attempts,
                                batch_size=settings.outbox_batch_size, concurrency=settings.outbox_concurrency)
    conversations = Engine(sessions, settings=settings, clock=clock, dialogs=dialogs())
    worker = Worker(deliverer, poll_seconds=settings.worker_poll_seconds)
    # First task of every pass: the turns the webhook stored (Engine.defer_turn), answered before
    # the outbox is delivered in the same pass.
    worker.tasks.append(conversations.take_pending_turns)
    if not settings.is_sqlite:  # web and worker in other processes: woken by NOTIFY (bot/wakeup.py)
        worker.listeners.append(wakeup.Listener(settings.database_url, worker.wake))
    # Durable timers and campaigns: every job kind with its handler, one scheduler per process.
    scheduler = Scheduler(sessions, clock=clock, runtime=settings, handlers={
        **quality.HANDLERS, **campaigns.handlers(), **daily.handlers(mail_sender(settings)),
        **retention.HANDLERS})
    # Recurring jobs schedule their first run when the worker starts (idempotent across processes).
    recurring = [*campaigns.recurring(settings), *(m for m in (daily, retention) if m.enabled(settings))]
    for module in recurring:
        worker.tasks.append(Bootstrap(sessions, settings=settings, clock=clock,
                                      schedule_first=module.schedule_first))
    # Attachments the disk refused when their message came (disk full, folder unwritable).
    worker.tasks.append(attachments.Retrier(sessions, conversations, clock=clock))
    # Held conversations whose client waits for a person too long.
    worker.tasks.append(held.SilentHoldCheck(sessions, settings=settings, clock=clock))
    # A monthly mora run or a campaign can keep the scheduler busy for minutes: in run_forever it
    # gets its own thread, so replies to clients are never queued behind it.
    worker.background.append(scheduler.run_due)
    # Letters sent without a request in words: OCR takes seconds a page, so in its own thread too.
    worker.background.append(LetterReader(sessions, conversations, settings=settings, clock=clock))
    # Every channel package installs itself when its settings are present: WhatsApp (Twilio) when
    # TWILIO_ACCOUNT_SID is set (adapter + media download jobs), email when IMAP_HOST is set (SMTP
    # adapter + the IMAP poller, a worker task, which `install` returns).
    installed = {name: module.install(settings=settings, sessions=sessions, engine=conversations, clock=clock,
                                      channels=channels, worker=worker)
                 for name, module in channel_wirings().items()}
    email_poller = installed.get("email")
    if settings.demo_mode:
        # Campaigns reach /simulador on the channels nobody configured (no Twilio, no SMTP).
        settings.simulate(tuple(name for name in ("whatsapp", "email") if channels.get(name) is None))
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        conversations=conversations,
        channels=channels,
        deliverer=deliverer,
        worker=worker,
        clock=clock,
        email_poller=email_poller,
    )
