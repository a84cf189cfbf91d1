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
        # Channel pollers and background jobs (e.g. WhatsApp media downloads), run before delivery
        # so the replies they enqueue go out in the same pass. Registered by build_runtime.
        self.tasks: list[Callable[[], object]] = []

    def run_once(self) -> None:
        for task in self.tasks:
            try:
                task()
            except Exception:
                log.exception("worker task %s failed", getattr(task, "__qualname__", task))
        report = self.deliverer.deliver_due()
        if report.sent or report.failed or report.retried:
            log.info("outbox: %s sent, %s retried, %s failed", report.sent, report.retried, report.failed)

    def run_forever(self) -> None:
        log.info("worker started")
        while not self.stopping.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("worker iteration failed; retrying")
            self.stopping.wait(self.poll_seconds)
        log.info("worker stopped")

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
