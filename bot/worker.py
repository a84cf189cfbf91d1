"""The worker: delivers the outbox now; email polling and timers join this loop later."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bot.outbox import OutboxDeliverer

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, deliverer: OutboxDeliverer, *, poll_seconds: float = 1.0):
        self.deliverer = deliverer
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        # Set by whoever just stored work for this worker (the webhook's deferred turn, in the
        # same process): the loop runs at once instead of at the next poll.
        self.woken = threading.Event()
        # Channel pollers and background jobs (e.g. WhatsApp media downloads), run before delivery
        # so the replies they enqueue go out in the same pass. Registered by build_runtime.
        self.tasks: list[Callable[[], object]] = []
        # Long-running passes (the job scheduler: campaigns, the mora run). run_once runs them inline,
        # like tasks (tests get one deterministic pass); run_forever loops each in its own thread.
        self.background: list[Callable[[], object]] = []
        # Blocking listeners (PostgreSQL LISTEN, bot/wakeup.py), each given `stopping`; run_forever
        # only: a test's run_once never waits on them.
        self.listeners: list[Callable[[threading.Event], None]] = []

    def run_once(self, *, with_background: bool = True) -> None:
        for task in self.tasks + (self.background if with_background else []):
            try:
                task()
            except Exception:
                log.exception("worker task %s failed", getattr(task, "__qualname__", task))
        report = self.deliverer.deliver_due()
        if report.sent or report.failed or report.retried:
            log.info("outbox: %s sent, %s retried, %s failed", report.sent, report.retried, report.failed)

    def run_forever(self) -> None:
        log.info("worker started")
        threads = [threading.Thread(target=self._loop, args=(task,), name=f"worker-{n}", daemon=True)
                   for n, task in enumerate(self.background)]
        threads += [threading.Thread(target=listener, args=(self.stopping,), name=f"listener-{n}", daemon=True)
                    for n, listener in enumerate(self.listeners)]
        for thread in threads:
            thread.start()
        while not self.stopping.is_set():
            try:
                self.run_once(with_background=False)
            except Exception:
                log.exception("worker iteration failed; retrying")
            self.woken.wait(self.poll_seconds)
            self.woken.clear()
        for thread in threads:
            thread.join(timeout=30)
        log.info("worker stopped")

    def _loop(self, task: Callable[[], object]) -> None:
        while not self.stopping.is_set():
            try:
                task()
            except Exception:
                log.exception("worker task %s failed", getattr(task, "__qualname__", task))
            self.stopping.wait(self.poll_seconds)

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="worker", daemon=True)
        thread.start()
        return thread

    def wake(self) -> None:
        self.woken.set()

    def stop(self) -> None:
        self.stopping.set()
        self.woken.set()
