"""Mora (procedure section I): once a month every client with pending invoices gets the factura
proforma by email (PDF attached) and a reminder by WhatsApp (the payment_reminder template outside
the 24-hour window). "Ya pagué" or a promised date ("pagaremos el viernes") schedules a check a
week later: the invoices are read again (after that week's re-import) and the client is thanked
or reminded.

The run reschedules itself for next month; `dedupe_key` "mora:YYYY-MM" makes that idempotent,
and `schedule_first` (through bot.scheduler.Bootstrap) schedules the first run when the worker starts (MORA_RUN_DAY > 0).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import documents, nlu, proforma, texts, window
from bot.campaigns import common
from bot.models import CampaignSend, Client, Contact, Conversation
from bot.portfolio.records import ClientInfo, DatabaseRecords
from bot.rules import load_rules
from bot.scheduler import JobContext, schedule
from bot.settings import Settings

CAMPAIGN = "mora"
RUN_JOB = "mora_run"
BATCH_JOB = "mora_batch"
FOLLOWUP_JOB = "mora_followup"
# Clients per batch job. Each batch is one short transaction: a 5,000-client run in one transaction
# held SQLite's write lock (and, on PostgreSQL, the conversations it touched) for minutes, so
# clients writing in meanwhile waited; a batch of 25 takes about a second.
BATCH_SIZE = 25


@lru_cache
def _phrases(kind: str) -> tuple[str, ...]:
    return tuple(nlu.normalise(p) for p in load_rules("campaigns.yaml")["mora"][kind])


def answer(text: str) -> str | None:
    """'paid' ("ya pagué"), 'promise' ("pagaremos el viernes") or None."""
    padded = f" {nlu.normalise(text)} "
    for kind in ("paid", "promise"):
        if any(f" {phrase} " in padded for phrase in _phrases(kind)):
            return kind
    return None


# --- when ----------------------------------------------------------------------------------------
def run_at(settings: Settings, period: str) -> datetime:
    year, month = (int(part) for part in period.split("-"))
    local = datetime.combine(date(year, month, settings.mora_run_day), time.fromisoformat(settings.mora_run_time),
                             tzinfo=ZoneInfo(settings.timezone))
    return local.astimezone(UTC)


def next_period(period: str) -> str:
    year, month = (int(part) for part in period.split("-"))
    return f"{year + month // 12}-{month % 12 + 1:02d}"


def upcoming_period(settings: Settings, now: datetime) -> str:
    """This month's run if it is still ahead, otherwise next month's."""
    local = now.astimezone(ZoneInfo(settings.timezone))
    period = f"{local.year}-{local.month:02d}"
    return period if run_at(settings, period) > now else next_period(period)


def schedule_run(session: Session, *, settings: Settings, period: str, now: datetime) -> int | None:
    return schedule(session, kind=RUN_JOB, due_at=run_at(settings, period), payload={"period": period},
                    dedupe_key=f"mora:{period}", now=now)


def enabled(settings: Settings) -> bool:
    return bool(settings.mora_run_day)  # MORA_RUN_DAY=0 switches the monthly run off


def schedule_first(session: Session, *, settings: Settings, now: datetime) -> int | None:
    """The coming run; the worker calls it once when it starts (bot.scheduler.Bootstrap)."""
    return schedule_run(session, settings=settings, period=upcoming_period(settings, now), now=now)


# --- the run -------------------------------------------------------------------------------------
def _email_of(session: Session, client: ClientInfo) -> str:
    if client.email:
        return client.email
    return session.scalar(select(Contact.email).where(Contact.client_id == client.id, Contact.email != "")
                          .order_by(Contact.id).limit(1)) or ""


def _variables(client: ClientInfo, lines: list) -> dict:
    total = sum((line.amount for line in lines), start=Decimal(0))
    return {"1": client.razon_social, "2": texts.money(total),
            "3": texts.long_date(min(line.due_on for line in lines))}


def run(ctx: JobContext) -> None:
    """Split the month's run into batch jobs (due now) and schedule next month's run."""
    session, now, settings = ctx.session, ctx.now, ctx.runtime
    period = ctx.job.payload["period"]
    client_ids = session.scalars(select(Client.id).order_by(Client.id)).all()
    for start in range(0, len(client_ids), BATCH_SIZE):
        batch = client_ids[start:start + BATCH_SIZE]
        schedule(session, kind=BATCH_JOB, due_at=now, payload={"period": period, "client_ids": batch},
                 dedupe_key=f"mora:{period}:from:{batch[0]}", now=now)
    schedule_run(session, settings=settings, period=next_period(period), now=now)


def run_batch(ctx: JobContext) -> None:
    """Proforma + reminder for each client of the batch with pending invoices. A batch retried
    after a failure skips what was already sent (campaign_sends is unique per client and channel)."""
    session, now, settings = ctx.session, ctx.now, ctx.runtime
    period = ctx.job.payload["period"]
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    records = DatabaseRecords(session)
    for client_id in ctx.job.payload["client_ids"]:
        client = records.client_by_id(client_id)
        if client is None:  # removed by a portfolio import since the run was split
            continue
        lines = proforma.lines_for(records, client)
        if lines:
            send_to_client(session, settings=settings, client=client, lines=lines, period=period,
                           today=today, now=now)


def send_to_client(session: Session, *, settings: Settings, client: ClientInfo, lines: list, period: str,
                   today: date, now: datetime) -> None:
    total = sum((line.amount for line in lines), start=Decimal(0))
    context = {"client": client, "invoices": lines, "total": total, "period": period}
    email = _email_of(session, client)
    if email and not common.already_sent(session, campaign=CAMPAIGN, run=period, client_id=client.id,
                                         channel=common.delivery_channel("email", settings)):
        pdf = proforma.render_pdf(proforma.content(client, lines, today=today))
        document = documents.record(session, documents.store(settings.documents_dir, pdf),
                                    filename=f"proforma-{client.nit}-{period}.pdf", now=now)
        session.flush()
        conversation = common.conversation_for(session, channel="email", address=email, client_id=client.id,
                                               now=now, settings=settings)
        common.send(session, campaign=CAMPAIGN, run=period, client_id=client.id, conversation=conversation,
                    body=texts.render("mora_email", **context), now=now, document_id=document.id,
                    payload={"subject": texts.render("mora_email_subject", **context).strip(),
                             "attachments": [{"document_id": document.id}]},
                    dialog="mora")
    if client.whatsapp and not common.already_sent(session, campaign=CAMPAIGN, run=period, client_id=client.id,
                                                   channel=common.delivery_channel("whatsapp", settings)):
        conversation = common.conversation_for(session, channel="whatsapp", address=client.whatsapp,
                                               client_id=client.id, now=now, settings=settings)
        common.send(session, campaign=CAMPAIGN, run=period, client_id=client.id, conversation=conversation,
                    body=texts.render("mora_whatsapp", **context), now=now, dialog="mora",
                    payload={"purpose": "payment_reminder", "variables": _variables(client, lines)})


# --- the answer and the follow-up ----------------------------------------------------------------
def record_answer(session: Session, row: CampaignSend, *, kind: str, words: str, now: datetime,
                  settings: Settings) -> None:
    row.answer, row.words, row.answered_at = kind, words[:2000], now
    schedule(session, kind=FOLLOWUP_JOB, due_at=now + timedelta(days=settings.mora_followup_days),
             payload={"send_id": row.id}, dedupe_key=f"mora-followup:{row.id}", now=now)


def follow_up(ctx: JobContext) -> None:
    """A week after "ya pagué" / a promise: read the invoices again, thank or remind."""
    session, now = ctx.session, ctx.now
    row = session.get(CampaignSend, ctx.job.payload["send_id"])
    records = DatabaseRecords(session)
    client = records.client_by_id(row.client_id)
    lines = proforma.lines_for(records, client)
    conversation = session.scalars(
        select(Conversation).where(Conversation.channel == row.channel, Conversation.address == row.address)
        .with_for_update()
    ).one()
    context = {"client": client, "invoices": lines, "total": sum((l.amount for l in lines), start=Decimal(0))}
    if lines:
        row.outcome = "still_pending"
        body = texts.render("mora_still_pending", **context)
        payload = {"purpose": "payment_reminder", "variables": _variables(client, lines)}
    else:
        row.outcome = "paid"
        body = texts.render("mora_paid_thanks", **context)
        payload = {}
        if row.channel == "whatsapp" and not window.is_open(conversation.last_inbound_at, now):
            return  # no template fits a thank-you; an unsolicited one is not worth a closed window
    if row.channel == "email":
        payload = {"subject": texts.render("mora_email_subject", period=row.run, **context).strip()}
    common.send(session, campaign=CAMPAIGN, run=f"{row.run}:followup:{row.id}", client_id=client.id,
                conversation=conversation, body=body, now=now, payload=payload)


HANDLERS = {RUN_JOB: run, BATCH_JOB: run_batch, FOLLOWUP_JOB: follow_up}
