"""What every campaign does: find (or start) the contact's conversation, send through the opt-out
gate, record the send, hand the answer to the campaign's small dialog."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.addresses import normalise_address
from bot.campaigns import optout, timeout
from bot.models import CampaignSend, Contact, Conversation


def conversation_for(session: Session, *, channel: str, address: str, client_id: int,
                     now: datetime, settings=None) -> Conversation:
    """The contact's conversation, created if the bot never talked to them; locked like the engine's."""
    channel = delivery_channel(channel, settings)
    address = normalise_address(address)
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(Conversation)
        .values(channel=channel, address=address, client_id=client_id, dialog="main", state="menu",
                data={}, mode="bot", created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["channel", "address"])
    )
    conversation = session.scalars(
        select(Conversation).where(Conversation.channel == channel, Conversation.address == address)
        .with_for_update()
    ).one()
    if conversation.client_id is None:
        conversation.client_id = client_id
    return conversation


def delivery_channel(channel: str, settings) -> str:
    """In DEMO_MODE a campaign reaches the simulator (/simulador) on the channels that are not
    installed, so a demo shows the whole round trip (Settings.delivery_channel)."""
    return settings.delivery_channel(channel) if settings is not None else channel


def email_of(session: Session, client) -> str:
    """The client's registered email, else the first contact's (a Client row or a ClientInfo)."""
    if client.email:
        return client.email
    return session.scalar(select(Contact.email).where(Contact.client_id == client.id, Contact.email != "")
                          .order_by(Contact.id).limit(1)) or ""


def already_sent(session: Session, *, campaign: str, run: str, client_id: int, channel: str) -> bool:
    return session.scalar(
        select(CampaignSend.id).where(CampaignSend.campaign == campaign, CampaignSend.run == run,
                                      CampaignSend.client_id == client_id, CampaignSend.channel == channel)
    ) is not None


def send(session: Session, *, campaign: str, run: str, client_id: int, conversation: Conversation,
         body: str, now: datetime, payload: dict | None = None, document_id: int | None = None,
         dialog: str | None = None, campaign_id: int | None = None) -> CampaignSend:
    """Send one campaign message (unless the contact opted out) and record it. With `dialog`, a
    conversation that is idle (bot, main dialog) reads the next answer with that dialog; a client
    busy with a trámite or held by staff gets the message without being interrupted."""
    message = optout.send(session, conversation=conversation, body=body, now=now, payload=payload)
    row = CampaignSend(campaign=campaign, run=run, client_id=client_id, channel=conversation.channel,
                       address=conversation.address, message_id=message.id if message else None,
                       document_id=document_id, campaign_id=campaign_id,
                       status="sent" if message else "opted_out",
                       answer="", words="", outcome="", created_at=now)
    session.add(row)
    session.flush()
    if message is not None and dialog is not None and conversation.mode == "bot" \
            and conversation.dialog == "main":
        conversation.dialog, conversation.state, conversation.data = dialog, "asked", {"send_id": row.id}
        timeout.schedule(session, row, now, dialog=dialog)  # an unanswered question frees the chat later
    return row
