"""Messages the back-office sends the client on a staff action (requirement rejected, no technical
feasibility, visit scheduled): rendered from templates/messages/, sent through the outbox on the
client's own channel, like every other reply.

The payload names the template and its variables, so the WhatsApp adapter can send it as an
approved template when the 24-hour window is closed.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot import outbox, texts
from bot.models import Case, Conversation, Message


def to_client(session: Session, *, conversation: Conversation | None, case: Case | None, template: str,
              author: str, now: datetime, **variables) -> Message | None:
    if conversation is None:
        return None  # the client never wrote: staff inform by phone, as the procedure allows
    body = texts.render(template, case=case, channel=conversation.channel, **variables)
    # Outside WhatsApp's 24-hour window the adapter sends the approved "case update" template
    # instead (README: {{1}} case number, {{2}} the news); the body is the in-window text.
    news = body.splitlines()[0][:200] if body else ""
    payload = {"template": template, "purpose": "case_update",
               "variables": {"1": case.number if case else "", "2": news}}
    return outbox.enqueue(session, conversation=conversation, body=body, now=now, author=author,
                          case_id=case.id if case else None, payload=payload)
