"""Terminal channel: the same engine and outbox, with replies printed as `bot> ...`."""
from __future__ import annotations

import sys
from typing import TextIO

from channels.base import OutboundMessage, SendResult

PROMPT = "bot> "


class ConsoleChannel:
    name = "console"

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout

    def send(self, message: OutboundMessage) -> SendResult:
        # Each reply starts on its own line beginning with "bot>", so scripts can split them.
        self.stream.write(PROMPT + message.body + "\n")
        self.stream.flush()
        return SendResult(external_id=None)


class RecordingChannel:
    """Keeps what it was asked to send; for tests and the simulator, same code path as real ones."""

    def __init__(self, name: str = "console"):
        self.name = name
        self.sent: list[OutboundMessage] = []

    def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(external_id=None)
