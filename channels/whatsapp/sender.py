"""The outbound adapter: one outbox row -> one or more `client.messages.create` calls.

Text longer than Twilio's 1,600 characters is split on sentence boundaries; each document goes as
its own media message (WhatsApp takes one medium per message, documents carry no caption). The
parts already accepted by Twilio are remembered on the outbox row, so a retry after a rate limit on
part two does not send part one again.

Errors: 429, 5xx and network trouble are worth retrying (TransientSendError, the outbox backs off);
any other 4xx is permanent and carries Twilio's error code to the message.
"""
from __future__ import annotations

import json
import logging
import re

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot import window
from bot.addresses import WHATSAPP_PREFIX, normalise_phone
from bot.clock import Clock
from bot.db import session_scope
from bot.messaging import OutboundMessage, PermanentSendError, SendResult, TransientSendError
from bot.pacing import Pacer
from bot.models import Conversation, Message, Outbox
from bot.settings import Settings
from channels.whatsapp import links

log = logging.getLogger(__name__)

MAX_BODY = 1600
STATUS_PATH = "/webhooks/whatsapp/status"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_SPACE = re.compile(r"\s+")


def whatsapp_address(raw: str) -> str | None:
    """Any written phone -> `whatsapp:+E164`; the prefix rules live in bot.addresses."""
    phone = normalise_phone(raw)
    return f"{WHATSAPP_PREFIX}{phone}" if phone else None


def split_text(text: str, limit: int = MAX_BODY) -> list[str]:
    """Parts of at most `limit` characters, cut after the last sentence (or line) that fits;
    a sentence longer than a whole part is cut between words, a word longer still is cut hard."""
    text = text.strip()
    parts = []
    while len(text) > limit:
        window_ = text[: limit + 1]  # a boundary right after the limit-th character still fits
        cut = limit
        for pattern in (_SENTENCE_END, _SPACE):
            ends = [m.start() for m in pattern.finditer(window_) if 0 < m.start() <= limit]
            if ends:
                cut = ends[-1]
                break
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], *, clock: Clock,
                 http_client: TwilioHttpClient | None = None, timeout: float = 15.0):
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
                             http_client=http_client or TwilioHttpClient(timeout=timeout))
        if settings.twilio_api_base_url:
            # Every Messages call goes to the local mock (tests, Prism) instead of api.twilio.com.
            self.client.api.base_url = settings.twilio_api_base_url.rstrip("/")
        if settings.twilio_messaging_service_sid:
            self.sender = {"messaging_service_sid": settings.twilio_messaging_service_sid}
        else:
            sender = settings.twilio_whatsapp_from
            self.sender = {"from_": whatsapp_address(sender) or sender}
        self.status_url = settings.public_base_url.rstrip("/") + STATUS_PATH
        # Shared by the worker's sending threads: never above WHATSAPP_SEND_RATE calls a second.
        self.pacer = Pacer(settings.whatsapp_send_rate)
        # Media go slower still (WHATSAPP_MEDIA_RATE): a media part waits for both pacers.
        self.media_pacer = Pacer(settings.whatsapp_media_rate)

    def send(self, message: OutboundMessage) -> SendResult:
        to = whatsapp_address(message.address)
        if to is None:
            raise PermanentSendError(f"not a phone number: {message.address!r}", code="invalid_address")
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            stored = session.get(Message, message.message_id)
            conversation = session.get(Conversation, stored.conversation_id)
            parts, refusal = self._plan(message, window.is_open(conversation.last_inbound_at, now))
            if refusal:
                window.report_closed(session, message=stored, settings=self.settings, now=now, code=refusal)
        if refusal:
            raise PermanentSendError("WhatsApp's 24-hour window is closed and no approved template "
                                     "was given for this message", code=refusal)
        done: list[str] = list(message.payload.get("sent_parts") or [])
        status = "queued"
        for index, part in enumerate(parts):
            if index < len(done):
                continue
            created = self._create(message, to, part)
            done.append(created.sid)
            status = created.status or status
            if index < len(parts) - 1:
                self._remember_parts(message.message_id, done)
        return SendResult(external_id=done[0] if done else None, status=status)

    def _plan(self, message: OutboundMessage, window_open: bool) -> tuple[list[dict], str]:
        """The create() arguments of each part, or a refusal code when nothing may be sent."""
        payload = message.payload
        purpose = payload.get("purpose")
        if purpose and (payload.get("template_only") or not window_open):
            content_sid = window.templates(self.settings).get(purpose)
            if not content_sid:
                return [], "template_missing"
            variables = json.dumps(payload.get("variables") or {}, ensure_ascii=False)
            return [{"content_sid": content_sid, "content_variables": variables}], ""
        if not window_open:
            return [], "outside_window"
        parts = [{"body": text} for text in split_text(message.body)]
        media_urls = list(payload.get("media_urls") or [])
        media_urls += [links.signed_url(self.settings, document_id, now=self.clock.now())
                       for document_id in payload.get("document_ids") or []]
        parts += [{"media_url": [url]} for url in media_urls]
        return parts, ""

    def _create(self, message: OutboundMessage, to: str, part: dict):
        self.pacer.wait()
        if "media_url" in part:
            # Last, so nothing delays the call after its media slot: media stay 1/rate apart.
            self.media_pacer.wait()
        try:
            return self.client.messages.create(
                to=to, status_callback=f"{self.status_url}?message={message.message_id}",
                **self.sender, **part)
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise TransientSendError(f"Twilio {exc.status} {exc.code}: {exc.msg}") from exc
            code = str(exc.code or exc.status)
            if code == "63016":  # refused synchronously for the window: same handling as the callback
                self._report_closed(message.message_id, code)
            raise PermanentSendError(f"Twilio {exc.status} {code}: {exc.msg}", code=code) from exc
        except requests.RequestException as exc:
            raise TransientSendError(f"{type(exc).__name__}: {exc}") from exc

    def _report_closed(self, message_id: int, code: str) -> None:
        with session_scope(self.sessions) as session:
            window.report_closed(session, message=session.get(Message, message_id), settings=self.settings,
                                 now=self.clock.now(), code=code)

    def _remember_parts(self, message_id: int, sids: list[str]) -> None:
        with session_scope(self.sessions) as session:
            row = session.scalars(select(Outbox).where(Outbox.message_id == message_id)).one()
            row.payload = {**(row.payload or {}), "sent_parts": sids}
