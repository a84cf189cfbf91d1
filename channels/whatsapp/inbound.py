"""Twilio's inbound form -> InboundMessage, and where it goes from there.

Text goes to the engine at once. Media is only recorded here (its URL, no data) and downloaded by a
durable job afterwards, so the webhook answers well inside Twilio's 15 seconds whatever the CDN does;
the job hands the files to the engine (`media.py`). Messages without text that the bot cannot read
(a location, a contact card, a voice note) are recorded and answered with what it can read.
"""
from __future__ import annotations

import mimetypes
from collections.abc import Mapping

from sqlalchemy.orm import Session, sessionmaker

from bot import texts
from bot.addresses import mask_address, normalise_phone
from bot.clock import Clock
from bot.engine import Engine, Outcome
from bot.messaging import Attachment, InboundMessage
from channels.whatsapp import media

CHANNEL = "whatsapp"
# Declared types never downloaded: nothing in them can become a document of a case. Whatever is
# downloaded is still sniffed; the declared type only spares a useless download.
NOT_DOWNLOADED = {"audio": "audio", "video": "video", "text/vcard": "contacts", "text/x-vcard": "contacts",
                  "text/directory": "contacts"}
MAX_MEDIA = 10  # Twilio delivers at most 10 media per message
META_FIELDS = ("WaId", "MessageType", "To", "AccountSid", "Latitude", "Longitude", "Address", "Label",
               "ButtonText", "ButtonPayload", "OriginalRepliedMessageSid", "ReferralSourceUrl")


class BadPayload(ValueError):
    """Signed by Twilio, yet without a sender or a message id: recorded, never processed."""


def clean(form: Mapping[str, str]) -> dict[str, str]:
    """The signed form without NUL characters, which no text column (PostgreSQL) can hold. Run
    after the signature check, which is over the form exactly as posted; the last of repeated
    fields wins, as with FormData.get."""
    return {str(name).replace("\x00", ""): str(value).replace("\x00", "") for name, value in form.items()}


def parse(form: Mapping[str, str]) -> InboundMessage:
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid") or ""
    address = normalise_phone(form.get("From", ""))
    if not sid or address is None:
        # The full sender is kept in inbound_failures; the error text goes to the log: masked.
        raise BadPayload(f"no MessageSid or invalid From {mask_address(form.get('From', ''))!r}")
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError:
        count = 0
    count = max(0, min(count, MAX_MEDIA))  # NumMedia=10**20 looped here, blocking the event loop
    attachments = []
    for index in range(count):
        url = form.get(f"MediaUrl{index}", "")
        if url:
            content_type = form.get(f"MediaContentType{index}", "")
            attachments.append(Attachment(filename=media_filename(index, content_type),
                                          content_type=content_type, url=url))
    return InboundMessage(
        channel=CHANNEL,
        address=address,
        body=form.get("Body", ""),
        external_id=sid,
        attachments=tuple(attachments),
        profile_name=form.get("ProfileName", ""),
        meta={name: form[name] for name in META_FIELDS if form.get(name)},
    )


def media_filename(index: int, content_type: str) -> str:
    """WhatsApp gives no file name; this one only labels the file for staff and in replies."""
    extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
    return f"whatsapp-{index + 1}{extension}"


def skipped_kind(content_type: str) -> str | None:
    content_type = content_type.split(";")[0].strip().lower()
    return NOT_DOWNLOADED.get(content_type) or NOT_DOWNLOADED.get(content_type.split("/")[0])


def unreadable_kind(message: InboundMessage) -> str:
    """What a message without readable text is, to answer it sensibly."""
    if "Latitude" in message.meta:
        return "location"
    for attachment in message.attachments:
        kind = skipped_kind(attachment.content_type)
        if kind:
            return kind
    return "other"


def unreadable_notice(message: InboundMessage) -> str:
    return texts.render("whatsapp_unsupported", kind=unreadable_kind(message),
                        label=message.meta.get("Label") or message.meta.get("Address", ""))


def accept(engine: Engine, sessions: sessionmaker[Session], clock: Clock, message: InboundMessage) -> Outcome:
    """Engine first (dedupe on MessageSid, one transaction), then the media job (deduped too).

    The job is enqueued even for a duplicate: a retried delivery after a crash between the two
    steps must not lose the files.
    """
    downloads = [a for a in message.attachments if skipped_kind(a.content_type) is None]
    skipped = len(downloads) < len(message.attachments)
    if message.body.strip() and not message.attachments and len(message.body) <= engine.settings.max_message_chars:
        # The common case, plain text: stored now, answered by the worker (Engine.defer_turn).
        return engine.defer_turn(message)
    if message.body.strip():
        outcome = engine.handle(message)
        if skipped and not outcome.duplicate:
            engine.receive_documents(message_id=outcome.message_id, notices=[unreadable_notice(message)])
    else:
        outcome = engine.record(message, reply="" if downloads else unreadable_notice(message))
    if downloads:
        media.enqueue(sessions, message_sid=message.external_id, media=downloads, now=clock.now())
    return outcome
