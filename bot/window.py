"""WhatsApp's 24-hour rule: free text only within 24 h of the client's last message.

Outside the window only an approved template (ContentSid + ContentVariables) reaches the client;
one is configured per purpose. A free-text message that would not arrive is never sent as if it
would: it is marked failed (code `outside_window`, or Twilio's 63016 from a status callback) and the
client's ejecutivo gets a task saying so, with the templates that can be sent instead.

Outbox payload keys this module defines (read by the sender):
    purpose        one of PURPOSES: if the window is closed, send that template instead of the body
    variables      {"1": "...", ...} ContentVariables of the template
    template_only  true: send the template even inside the window (staff chose it explicitly)
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outbox, texts
from bot.clock import LOCAL_TZ, as_utc
from bot.models import Client, Conversation, Message, StaffTask
from bot.settings import Settings

WINDOW = timedelta(hours=24)
PURPOSES = ("reopen", "case_update", "payment_reminder", "quality_check", "loyalty_check",
            "preventive_offer")
TASK_KIND = "whatsapp_window"
WINDOW_CLOSED_CODES = ("outside_window", "63016")


WHATSAPP_CHANNELS = ("whatsapp", "sim_whatsapp")


def is_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    return last_inbound_at is not None and as_utc(now) - as_utc(last_inbound_at) < WINDOW


def closes_at(conversation: Conversation) -> datetime | None:
    """When free text stops reaching this WhatsApp conversation (None: it never opened)."""
    last = conversation.last_inbound_at
    return as_utc(last) + WINDOW if last is not None else None


def free_text(conversation: Conversation, now: datetime) -> bool:
    """Free text reaches email and console always, WhatsApp only inside the window."""
    return conversation.channel not in WHATSAPP_CHANNELS or is_open(conversation.last_inbound_at, now)


def templates(settings: Settings) -> dict[str, str]:
    """Purpose -> ContentSid, only the configured ones."""
    configured = {purpose: getattr(settings, f"twilio_template_{purpose}") for purpose in PURPOSES}
    return {purpose: sid for purpose, sid in configured.items() if sid}


def report_closed(session: Session, *, message: Message, settings: Settings, now: datetime,
                  code: str) -> StaffTask | None:
    """Tell the client's ejecutivo that a message did not go out, and what can be sent instead.

    One open task per conversation is enough: several replies bouncing off the same closed window
    are the same problem.
    """
    conversation = session.get(Conversation, message.conversation_id)
    open_task = session.scalar(select(StaffTask.id).where(
        StaffTask.kind == TASK_KIND, StaffTask.conversation_id == conversation.id,
        StaffTask.status == "abierta"))
    if open_task is not None:
        return None
    client = session.get(Client, conversation.client_id) if conversation.client_id else None
    task = StaffTask(
        kind=TASK_KIND,
        status="abierta",
        assignee_id=client.ejecutivo_id if client else None,
        client_id=conversation.client_id,
        conversation_id=conversation.id,
        case_id=message.case_id,
        note=texts.render("whatsapp_window_closed_staff", code=code, body=message.body,
                          last_inbound_at=(as_utc(conversation.last_inbound_at).astimezone(LOCAL_TZ)
                                           if conversation.last_inbound_at else None),
                          purposes=list(templates(settings))),
        created_at=now,
    )
    session.add(task)
    return task


def enqueue_template(session: Session, *, conversation: Conversation, purpose: str,
                     variables: dict[str, str], now: datetime, author: str = "bot",
                     case_id: int | None = None) -> Message:
    """Queue an approved template (e.g. staff reopening a conversation after the window closed).

    The message body only records, for staff, which template went out; the client sees the
    template's approved text.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"unknown template purpose {purpose!r}")
    variables = {str(k): str(v) for k, v in variables.items()}
    body = texts.render("whatsapp_template_log", purpose=purpose, variables=variables)
    return outbox.enqueue(session, conversation=conversation, now=now, author=author, case_id=case_id,
                          body=body, payload={"purpose": purpose, "variables": variables,
                                              "template_only": True})
