"""What the back-office shows about campaigns: clients in mora, recent sends, scheduled jobs."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import CampaignSend, Client, InboundFailure, Invoice, Job, Product


@dataclass(frozen=True)
class ClientInMora:
    id: int
    nit: str
    razon_social: str
    invoices: int
    total: Decimal


def clients_in_mora(session: Session, *, ejecutivo_id: int | None = None) -> list[ClientInMora]:
    query = (
        select(Client.id, Client.nit, Client.razon_social, func.count(Invoice.id), func.sum(Invoice.amount))
        .join(Product, Product.client_id == Client.id)
        .join(Invoice, Invoice.product_id == Product.id)
        .where(Invoice.status == "pendiente")
        .group_by(Client.id, Client.nit, Client.razon_social)
        .order_by(Client.razon_social)
    )
    if ejecutivo_id is not None:
        query = query.where(Client.ejecutivo_id == ejecutivo_id)
    return [ClientInMora(*row) for row in session.execute(query)]


def recent_sends(session: Session, *, limit: int = 100) -> list[tuple[CampaignSend, str]]:
    return [(send, name) for send, name in session.execute(
        select(CampaignSend, Client.razon_social).join(Client, Client.id == CampaignSend.client_id)
        .order_by(CampaignSend.id.desc()).limit(limit)
    )]


def open_jobs(session: Session, *, limit: int = 200) -> list[Job]:
    """Pending and failed jobs, failed first: what the responsable watches."""
    return list(session.scalars(
        select(Job).where(Job.status.in_(["pending", "failed"]))
        .order_by(Job.status, Job.due_at, Job.id).limit(limit)
    ))


def inbound_failures(session: Session, *, limit: int = 100) -> list[InboundFailure]:
    """Letters that could not be processed (moved to the mailbox's Revisar folder), newest first:
    kept for a person to read there and answer by hand."""
    return list(session.scalars(
        select(InboundFailure).where(InboundFailure.resolved_at.is_(None))
        .order_by(InboundFailure.id.desc()).limit(limit)
    ))
