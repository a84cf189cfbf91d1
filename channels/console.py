"""Terminal channel: the same engine and outbox, with replies printed as `bot> ...`."""
from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TextIO

from bot.addresses import normalise_address
from bot.letters.jobs import LetterReader
from bot.texts import render_cli
from bot.messaging import Attachment, InboundMessage, OutboundMessage, SendResult

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


def run_chat(runtime, sender: str, stdin: TextIO, stdout: TextIO, *, interactive: bool = False) -> None:
    """One client message per line in; every reply out through the outbox and the console channel.

    `/adjuntar PATH [text]` sends a file, as a client attaches a PDF or a photo.
    """
    address = normalise_address(sender)
    if interactive:
        print(render_cli("chat_intro"), file=stdout)
    while True:
        if interactive:
            stdout.write("usted> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            return
        text = line.rstrip("\n")
        if not text.strip():
            continue
        attachments: tuple[Attachment, ...] = ()
        if text.startswith("/adjuntar "):
            _, path, *rest = text.split(maxsplit=2)
            file = Path(path).expanduser()
            if not file.is_file():
                print(render_cli("chat_no_file", path=file), file=sys.stderr)
                continue
            attachments = (Attachment(filename=file.name, content_type="", data=file.read_bytes()),)
            text = rest[0] if rest else ""
        outcome = runtime.conversations.handle(
            InboundMessage(channel="console", address=address, body=text,
                           external_id=f"console-{uuid.uuid4()}", attachments=attachments)
        )
        # A letter sent without words is read by the worker's read_letter job (bot/letters); the
        # chat runs it at once, so the answer follows the file as it would a moment later.
        for task in runtime.worker.background:
            if isinstance(task, LetterReader):
                task()
        runtime.deliverer.deliver_due(conversation_id=outcome.conversation_id)
