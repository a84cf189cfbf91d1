"""The demo simulator's services: a client's message enters Engine.handle exactly like a webhook's;
what the client sees are its own messages and the replies the outbox worker has delivered."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.addresses import normalise_address
from bot.engine import Engine, Outcome
from bot.models import Conversation, Document, Message
from bot.messaging import Attachment, InboundMessage

CHANNELS = {"whatsapp": "sim_whatsapp", "email": "sim_email"}
SHOWN_STATUSES = ("sent", "delivered", "read")
HISTORY = 100


class BadInput(Exception):
    status_code = 400


@dataclass
class FileUpload:
    filename: str
    data: bytes


def send(engine: Engine, *, kind: str, address: str, body: str, subject: str = "",
         files: list[FileUpload] | None = None) -> Outcome:
    channel = CHANNELS.get(kind)
    address = normalise_address(address or "")
    if channel is None or not address or (kind == "email") != ("@" in address):
        raise BadInput()
    body = (body or "").strip()[:4000]
    attachments = tuple(Attachment(filename=f.filename[:255], content_type="", data=f.data) for f in files or [] if f.data)
    if not body and not attachments:
        raise BadInput()
    return engine.handle(InboundMessage(channel=channel, address=address, body=body, subject=subject.strip()[:200],
                                        external_id=f"{channel}-in-{uuid.uuid4()}", attachments=attachments))


def history(session: Session, *, kind: str, address: str) -> list[dict]:
    channel = CHANNELS.get(kind)
    if channel is None:
        raise BadInput()
    conversation_id = session.scalar(select(Conversation.id).where(
        Conversation.channel == channel, Conversation.address == normalise_address(address or "")))
    if conversation_id is None:
        return []
    messages = list(session.scalars(
        select(Message).where(Message.conversation_id == conversation_id)
        .where((Message.direction == "in") | Message.status.in_(SHOWN_STATUSES))
        .order_by(Message.id.desc()).limit(HISTORY)))
    messages.reverse()
    files: dict[int, list[str]] = {}
    for message_id, filename in session.execute(select(Document.message_id, Document.filename).where(
            Document.message_id.in_([m.id for m in messages]))):
        files.setdefault(message_id, []).append(filename)
    return [{"id": m.id, "direction": m.direction, "body": m.body, "author": m.author,
             "at": m.created_at.isoformat(), "files": files.get(m.id, [])} for m in messages]
