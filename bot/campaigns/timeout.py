"""A campaign question left unanswered must not hold the conversation forever.

When common.send() puts an idle conversation into a campaign's answer dialog (mora, fidelización,
preventivo), it schedules this job. CAMPAIGN_ANSWER_DAYS after the send, a conversation still
waiting for that very send's answer goes back to the menu silently (the client is not written to:
nothing new to say), and a send nobody answered gets the outcome "sin_respuesta" for the reports.

common.send() has no settings at hand, so it schedules a first check a day later; that check
(which has the runtime's settings) moves the job to the exact day. Both are idempotent per send.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import scheduler
from bot.clock import as_utc
from bot.models import CampaignSend, Conversation
from bot.scheduler import JobContext
from bot.settings import Settings

JOB = "campaign_answer_timeout"
FIRST_CHECK = timedelta(days=1)
NO_ANSWER = "sin_respuesta"


def due(send_row: CampaignSend, settings: Settings) -> datetime:
    return as_utc(send_row.created_at) + timedelta(days=settings.campaign_answer_days)


def schedule(session: Session, send_row: CampaignSend, now: datetime, settings: Settings | None = None, *,
             dialog: str = "") -> int | None:
    due_at = due(send_row, settings) if settings is not None else now + FIRST_CHECK
    return scheduler.schedule(session, kind=JOB, due_at=due_at,
                              payload={"send_id": send_row.id, "dialog": dialog},
                              dedupe_key=f"campaign-answer:{send_row.id}", now=now)


def expire(ctx: JobContext) -> None:
    session, now, settings = ctx.session, ctx.now, ctx.runtime
    row = session.get(CampaignSend, ctx.job.payload["send_id"])
    if row is None:
        return  # the client's data was purged meanwhile
    if now < due(row, settings):
        scheduler.schedule(session, kind=JOB, due_at=due(row, settings),
                           payload=ctx.job.payload,
                           dedupe_key=f"campaign-answer:{row.id}:exact", now=now)
        return
    conversation = session.scalars(
        select(Conversation).where(Conversation.channel == row.channel, Conversation.address == row.address)
        .with_for_update()
    ).one_or_none()
    if conversation is not None and conversation.dialog == (ctx.job.payload.get("dialog") or conversation.dialog) \
            and (conversation.data or {}).get("send_id") == row.id:
        conversation.dialog, conversation.state, conversation.data = "main", "menu", {}
    if not row.answer and not row.outcome:
        row.outcome = NO_ANSWER


HANDLERS = {JOB: expire}
