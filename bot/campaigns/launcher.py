"""Campaigns staff create, preview and launch from the back-office (procedure J fidelización, K
técnico preventivo): the part every kind shares.

A kind is a module of this package exposing LAUNCHED = True, CAMPAIGN (its name, also campaign_sends.campaign), DIALOG (the
dialog that reads the client's answer) and `message(session, *, settings, campaign, target, client,
channel) -> (body, payload)`; `client` is the `bot.models.Client` row. Launching fills the audience
(the portfolio, optionally one ejecutivo's clients; or the list already added) and schedules a
"campaign_send" job; each run sends to a batch of clients and reschedules itself until nobody is
left, so a 600-client portfolio never holds one long transaction and a crash loses nothing: the
batch's sends, target marks and the job's "done" commit together.

One message per client and channel (campaign_sends is unique on campaign, run, client, channel with
run = the campaign id): a client with several targets (K: two lines to migrate) gets one message,
built for their first pending target, and all their targets are marked.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections import Counter
from functools import cache
from datetime import datetime
from types import ModuleType

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

import bot.campaigns as campaigns_package
from bot.campaigns import common
from bot.models import Campaign, CampaignSend, CampaignTarget, Client, Message
from bot.scheduler import JobContext, schedule


@cache
def kinds() -> dict[str, str]:
    """Kind name -> module: every module of bot.campaigns that declares LAUNCHED = True (staff create
    and launch it from the back-office), so a new kind is one module, not a line here too.
    Found on first use, not at import: a kind module imports this one, and discovering while it
    is half imported (its LAUNCHED not yet set) left it out."""
    kinds = {}
    for info in pkgutil.iter_modules(campaigns_package.__path__):
        module = importlib.import_module(f"{campaigns_package.__name__}.{info.name}")
        if getattr(module, "LAUNCHED", False):
            kinds[module.CAMPAIGN] = module.__name__
    return kinds


SEND_JOB = "campaign_send"
BATCH = 50  # clients per job run: short transactions, and the worker's other tasks keep running
CHANNELS = ("whatsapp", "email")


def kind_module(kind: str) -> ModuleType:
    return importlib.import_module(kinds()[kind])


# --- creating ------------------------------------------------------------------------------------
def create(session: Session, *, kind: str, name: str, audience: str, options: dict | None,
           staff_id: int | None, now: datetime) -> Campaign:
    if kind not in kinds():
        raise ValueError(f"unknown campaign kind {kind!r}")
    if audience not in ("cartera", "lista"):
        raise ValueError(f"unknown audience {audience!r}")
    campaign = Campaign(kind=kind, name=name.strip()[:200], status="borrador", audience=audience,
                        options=dict(options or {}), created_by_id=staff_id, created_at=now)
    session.add(campaign)
    session.flush()
    return campaign


def add_targets(session: Session, campaign: Campaign, rows: list[dict]) -> int:
    """Add clients (and products) to the audience; a (client, product) already there is skipped.
    Returns how many were added. The explicit check is needed because the UNIQUE constraint does
    not stop duplicates when product_id is NULL (NULLs are distinct in SQL)."""
    existing = {(client_id, product_id) for client_id, product_id in session.execute(
        select(CampaignTarget.client_id, CampaignTarget.product_id)
        .where(CampaignTarget.campaign_id == campaign.id)
    )}
    values = []
    for row in rows:
        key = (row["client_id"], row.get("product_id"))
        if key in existing:
            continue
        existing.add(key)
        values.append({"campaign_id": campaign.id, "client_id": key[0], "product_id": key[1],
                       "opportunity": row.get("opportunity") or "", "detail": row.get("detail") or "",
                       "source_row": row.get("source_row"), "status": "pendiente", "outcome": ""})
    if not values:
        return 0
    # One multi-row statement: a 600-client portfolio is one round trip, not 600.
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    result = session.execute(insert(CampaignTarget).values(values)
                             .on_conflict_do_nothing(index_elements=["campaign_id", "client_id", "product_id"]))
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(values)


def _portfolio(session: Session, campaign: Campaign):
    query = select(Client.id).order_by(Client.id)
    if campaign.options.get("ejecutivo_id"):
        query = query.where(Client.ejecutivo_id == int(campaign.options["ejecutivo_id"]))
    return query


def targets(session: Session, campaign: Campaign) -> list[CampaignTarget]:
    return list(session.scalars(
        select(CampaignTarget).where(CampaignTarget.campaign_id == campaign.id).order_by(CampaignTarget.id)
    ))


# --- preview -------------------------------------------------------------------------------------
def addresses(session: Session, client: Client) -> dict[str, str]:
    """Where a client is reached: the registered WhatsApp and email (or a contact's email)."""
    found = {"whatsapp": client.whatsapp, "email": common.email_of(session, client)}
    return {channel: address for channel, address in found.items() if address}


def preview_client(session: Session, campaign: Campaign, client_id: int | None = None) -> Client | None:
    """Who the preview shows: the chosen client, else the first target, else the first client of
    the portfolio the campaign will reach."""
    if client_id is None:
        first = session.scalars(select(CampaignTarget.client_id).where(CampaignTarget.campaign_id == campaign.id)
                                .order_by(CampaignTarget.id).limit(1)).first()
        client_id = first if first is not None else session.scalars(_portfolio(session, campaign).limit(1)).first()
    return session.get(Client, client_id) if client_id is not None else None


def preview(session: Session, *, settings, campaign: Campaign,
            client_id: int | None = None) -> list[tuple[str, str]]:
    """The real message(s) the chosen client would get, per channel; nothing is sent or stored."""
    client = preview_client(session, campaign, client_id)
    if client is None:
        return []
    target = session.scalars(select(CampaignTarget).where(CampaignTarget.campaign_id == campaign.id,
                                                          CampaignTarget.client_id == client.id)
                             .order_by(CampaignTarget.id).limit(1)).first()
    if target is None:  # a transient row, never added to the session
        target = CampaignTarget(campaign_id=campaign.id, client_id=client.id, product_id=None,
                                opportunity="", detail="", status="pendiente", outcome="")
    module = kind_module(campaign.kind)
    return [(channel, module.message(session, settings=settings, campaign=campaign, target=target,
                                     client=client, channel=channel)[0])
            for channel in addresses(session, client)]


# --- launching and sending -----------------------------------------------------------------------
def launch(session: Session, campaign: Campaign, *, now: datetime) -> int | None:
    """borrador -> lanzada, the audience filled and the first batch due now. A second click (or a
    second staff member) does nothing: only a draft is launched and the job key is fixed."""
    if campaign.status != "borrador":
        return None
    if campaign.audience == "cartera":
        add_targets(session, campaign, [{"client_id": client_id}
                                        for client_id in session.scalars(_portfolio(session, campaign))])
    campaign.status, campaign.launched_at = "lanzada", now
    return schedule(session, kind=SEND_JOB, due_at=now, payload={"campaign_id": campaign.id},
                    dedupe_key=f"campaign:{campaign.id}:launch", now=now)


def send_batch(ctx: JobContext) -> None:
    session, now, settings = ctx.session, ctx.now, ctx.runtime
    campaign = session.get(Campaign, ctx.job.payload["campaign_id"], with_for_update=True)
    if campaign is None or campaign.status != "lanzada":
        return
    module = kind_module(campaign.kind)
    pending = list(session.scalars(
        select(CampaignTarget).where(CampaignTarget.campaign_id == campaign.id,
                                     CampaignTarget.status == "pendiente")
        .order_by(CampaignTarget.client_id, CampaignTarget.id)
    ))
    by_client: dict[int, list[CampaignTarget]] = {}
    for target in pending:
        by_client.setdefault(target.client_id, []).append(target)
    for client_id in list(by_client)[:BATCH]:
        _send_to_client(session, settings=settings, module=module, campaign=campaign,
                        client_targets=by_client[client_id], now=now)
    if len(by_client) > BATCH:
        schedule(session, kind=SEND_JOB, due_at=now, payload={"campaign_id": campaign.id},
                 dedupe_key=f"campaign:{campaign.id}:after:{ctx.job.id}", now=now)
    else:
        campaign.status, campaign.finished_at = "terminada", now


def _send_to_client(session: Session, *, settings, module: ModuleType, campaign: Campaign,
                    client_targets: list[CampaignTarget], now: datetime) -> None:
    client = session.get(Client, client_targets[0].client_id)
    reach = addresses(session, client)
    sent = False
    for channel, address in reach.items():
        earlier = session.scalar(select(CampaignSend.status).where(
            CampaignSend.campaign == module.CAMPAIGN, CampaignSend.run == str(campaign.id),
            CampaignSend.client_id == client.id,
            CampaignSend.channel == common.delivery_channel(channel, settings)))
        if earlier is not None:  # already sent (or skipped) in an earlier run: never twice
            sent = sent or earlier == "sent"
            continue
        body, payload = module.message(session, settings=settings, campaign=campaign,
                                       target=client_targets[0], client=client, channel=channel)
        conversation = common.conversation_for(session, channel=channel, address=address, client_id=client.id,
                                               now=now, settings=settings)
        row = common.send(session, campaign=module.CAMPAIGN, run=str(campaign.id), client_id=client.id,
                          conversation=conversation, body=body, now=now, payload=payload,
                          dialog=module.DIALOG, campaign_id=campaign.id)
        sent = sent or row.status == "sent"
    if sent:
        status, outcome = "enviado", ""
    else:
        status, outcome = "omitido", "opted_out" if reach else "sin_canal"
    for target in client_targets:
        target.status, target.outcome = status, outcome


# --- reading -------------------------------------------------------------------------------------
# Message.status (outbox and provider callbacks) -> what the campaign page counts.
DELIVERY_STAGE = {"pending": "queued", "sent": "sent", "queued": "sent", "accepted": "sent",
                  "delivered": "delivered", "read": "delivered", "failed": "failed", "undelivered": "failed"}


def progress(session: Session, campaign: Campaign) -> dict:
    """Counts by target status and by outcome, plus the messages sent and opted-out per channel."""
    rows = session.execute(select(CampaignTarget.status, CampaignTarget.outcome)
                           .where(CampaignTarget.campaign_id == campaign.id)).all()
    sends = session.execute(select(CampaignSend.channel, CampaignSend.status)
                            .where(CampaignSend.campaign_id == campaign.id)).all()
    # A send row is written when the message is queued; its delivery is the message's own status.
    delivery = session.execute(select(CampaignSend.channel, Message.status)
                               .join(Message, Message.id == CampaignSend.message_id)
                               .where(CampaignSend.campaign_id == campaign.id)).all()
    return {
        "delivery": dict(Counter(f"{channel}:{DELIVERY_STAGE.get(status, 'queued')}"
                                 for channel, status in delivery)),
        "total": len(rows),
        "by_status": dict(Counter(status for status, _ in rows)),
        "by_outcome": dict(Counter(outcome for _, outcome in rows if outcome)),
        "sends": dict(Counter(f"{channel}:{status}" for channel, status in sends)),
    }


def targets_of_send(session: Session, send: CampaignSend) -> list[CampaignTarget]:
    """The target row(s) an answer belongs to: the send's campaign and client."""
    if send.campaign_id is None:
        return []
    return list(session.scalars(
        select(CampaignTarget).where(CampaignTarget.campaign_id == send.campaign_id,
                                     CampaignTarget.client_id == send.client_id)
        .order_by(CampaignTarget.id)
    ))


HANDLERS = {SEND_JOB: send_batch}
