"""Pacing of sends to a provider that limits messages per second (Twilio: 10 a second per WhatsApp
sender by default, up to 50 for text on request). Threads that send concurrently share one pacer;
each call is given the next free slot, 1/rate apart, so the configured rate is never exceeded even
in a burst (no bucket to save up)."""
from __future__ import annotations

import threading
import time


class Pacer:
    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0  # 0: not paced
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)
