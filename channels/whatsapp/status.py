"""Delivery status callbacks -> the message's status and error code, never moving backwards.

Callbacks can arrive out of order (a late "sent" after "delivered"), so a status only replaces a
lower one. Failure outranks every success: a message split in parts shows failed if any part
failed. Error 63016 (free text outside the 24-hour window) is handled like a refusal by the sender.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import window
from bot.clock import Clock
from bot.db import session_scope
from bot.models import Message
from bot.settings import Settings

log = logging.getLogger(__name__)

RANK = {
    "": 0, "pending": 0, "accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4,
    "delivered": 5, "read": 6, "canceled": 7, "undelivered": 8, "failed": 9,
}
FAILED = ("undelivered", "failed", "canceled")


def apply(sessions: sessionmaker[Session], settings: Settings, clock: Clock, form: Mapping[str, str], *,
          message_id: int | None = None) -> bool:
    """Record one callback; False when it names no message of ours or changes nothing."""
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if status not in RANK:
        log.info("status %r of %s ignored", status, sid)
        return False
    with session_scope(sessions) as session:
        # Our status URL names the message (it may call back before the SID is recorded, and a
        # message split in parts has several SIDs); a console-configured URL gives only the SID.
        where = Message.id == message_id if message_id is not None else Message.external_id == sid
        message = session.scalars(
            select(Message).where(where, Message.channel == "whatsapp", Message.direction == "out")
            .with_for_update()
        ).one_or_none()
        if message is None:
            log.info("status %s for unknown message %s (id %s)", status, sid, message_id)
            return False
        if RANK[status] <= RANK.get(message.status, 0):
            return False
        message.status = status
        if status in FAILED:
            message.error_code = str(form.get("ErrorCode") or "")[:16]
            if message.error_code in window.WINDOW_CLOSED_CODES:
                window.report_closed(session, message=message, settings=settings, now=clock.now(),
                                     code=message.error_code)
        return True
