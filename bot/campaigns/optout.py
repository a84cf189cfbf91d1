"""Opt-out of campaign messages: "no deseo recibir mensajes", "STOP", "baja de mensajes".

The engine calls `handle` before any dialog reads the message (and before the global commands):
the request is recorded per (channel, address) and confirmed; the conversation stays where it was.
Every campaign send goes through `send`, which skips opted-out contacts. Case messages (replies,
notices about the client's own requests) use `outbox.enqueue` directly and are never blocked.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot import nlu, outbox
from bot.addresses import normalise_address
from bot.models import CampaignOptout, Conversation, Message
from bot.rules import load_rules


@lru_cache
def _phrases() -> tuple[frozenset[str], tuple[str, ...]]:
    rules = load_rules("campaigns.yaml")["optout"]
    return (frozenset(nlu.normalise(p) for p in rules["exact"]),
            tuple(nlu.normalise(p) for p in rules["contains"]))


def asks_to_opt_out(text: str) -> bool:
    exact, contains = _phrases()
    normalised = nlu.normalise(text)
    padded = f" {normalised} "
    return normalised in exact or any(f" {phrase} " in padded for phrase in contains)


def record(session: Session, *, channel: str, address: str, now: datetime, words: str = "") -> None:
    """Idempotent: a second "STOP" keeps the first date."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(CampaignOptout)
        .values(channel=channel, address=normalise_address(address), words=words[:500], at=now)
        .on_conflict_do_nothing(index_elements=["channel", "address"])
    )


def opted_out(session: Session, *, channel: str, address: str) -> bool:
    return session.scalar(
        select(CampaignOptout.id).where(CampaignOptout.channel == channel,
                                        CampaignOptout.address == normalise_address(address))
    ) is not None


def handle(turn) -> bool:
    """The engine's hook: True when the message was an opt-out (recorded and confirmed)."""
    if not asks_to_opt_out(turn.text):
        return False
    services = turn.services
    conversation = services.conversation
    record(services.session, channel=conversation.channel, address=conversation.address,
           now=services.now, words=turn.text)
    services.say("campaign_optout_confirmed")
    return True


def send(session: Session, *, conversation: Conversation, body: str, now: datetime,
         case_id: int | None = None, payload: dict | None = None) -> Message | None:
    """Queue a campaign message unless the contact opted out (then None: nothing is sent)."""
    if opted_out(session, channel=conversation.channel, address=conversation.address):
        return None
    return outbox.enqueue(session, conversation=conversation, body=body, now=now, case_id=case_id,
                          payload=payload)
