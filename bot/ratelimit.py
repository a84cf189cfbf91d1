"""Per-sender inbound rate limit, counted in the database so every web process agrees.

The window slides: a message is over the limit when the conversation already has
INBOUND_RATE_PER_MINUTE inbound messages in the 60 seconds before it. Messages over the limit
count too, so a sender who keeps flooding stays limited until they pause for a minute; there is
no window boundary where twice the limit gets through (the burst rule). Counting uses the index
(conversation_id, created_at); the conversation row is locked by the engine, so two processes
cannot both decide "first in window".
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import Message

WINDOW = timedelta(seconds=60)
LIMITED = "rate_limited"  # messages.status of an inbound message stored but not read


def over_limit(session: Session, inbound: Message, *, limit: int) -> bool:
    """True (and the message marked) when `inbound` is beyond `limit` in its window; 0 = no limit."""
    if limit <= 0:
        return False
    earlier = session.scalar(
        select(func.count(Message.id)).where(
            Message.conversation_id == inbound.conversation_id, Message.direction == "in",
            # Earlier ones only: a turn answered later (Engine.defer_turn) must not count the
            # messages that arrived after it.
            Message.created_at > inbound.created_at - WINDOW, Message.id < inbound.id)
    )
    if earlier < limit:
        return False
    inbound.status = LIMITED
    return True


def first_in_window(session: Session, inbound: Message) -> bool:
    """Whether `inbound` is the first limited message of the last minute: only it gets the
    "please slow down" reply, so a flood is not answered with a flood."""
    return session.scalar(
        select(Message.id).where(
            Message.conversation_id == inbound.conversation_id, Message.direction == "in",
            Message.status == LIMITED, Message.created_at > inbound.created_at - WINDOW,
            Message.id < inbound.id).limit(1)
    ) is None
