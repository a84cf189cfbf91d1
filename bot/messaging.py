"""The neutral message shapes every channel speaks, the adapter Protocol and the registry.

Channel adapters (channels/) implement `Channel` and are registered by the composition root
(bot/app); the core only ever sees these types.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    url: str | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    address: str  # E.164 phone or lower-case email: who wrote
    body: str
    external_id: str  # provider id (Twilio MessageSid, email Message-ID); unique per channel
    received_at: datetime | None = None
    attachments: tuple[Attachment, ...] = ()
    profile_name: str = ""
    subject: str = ""
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int  # our messages.id
    channel: str
    address: str
    body: str
    payload: dict = field(default_factory=dict)
    correlation_id: str | None = None  # of the inbound message that caused it: logged at delivery


@dataclass(frozen=True)
class SendResult:
    external_id: str | None = None
    status: str = "sent"


class TransientSendError(Exception):
    """Worth retrying later: rate limits, 5xx, network trouble."""


class PermanentSendError(Exception):
    """Retrying cannot help: invalid address, rejected content."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = code


class Channel(Protocol):
    name: str

    def send(self, message: OutboundMessage) -> SendResult: ...
class ChannelRegistry:
    """Name -> adapter. The outbox only delivers rows whose channel is registered in this process."""

    def __init__(self, *channels: Channel):
        self._channels: dict[str, Channel] = {}
        for channel in channels:
            self.register(channel)

    def register(self, channel: Channel) -> None:
        self._channels[channel.name] = channel

    def get(self, name: str) -> Channel | None:
        return self._channels.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._channels)


# Mail that is not a reply in a conversation (the daily report to staff): (message, recipient).
# The email adapter provides it; raising TransientSendError / PermanentSendError as `send` does.
MailSender = Callable[[EmailMessage, str], None]
