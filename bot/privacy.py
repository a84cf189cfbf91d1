"""Data-protection requests: everything we hold about one client, exported or purged.

`export_client` writes one JSON file (every row that belongs to the client: portfolio, contacts,
conversations, messages, cases and their events, tasks, documents' metadata) plus a copy of each
stored document. `purge_client` deletes the same rows and the files no other client references.
"""
from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, inspect, select, update
from sqlalchemy.orm import Session

from bot import documents as document_store
from bot.models import (
    BillingClaim,
    Case,
    CaseEvent,
    Client,
    Contact,
    Conversation,
    Document,
    Invoice,
    Message,
    Outbox,
    Product,
    StaffTask,
    Suspension,
    WorkOrder,
)


def _row(obj) -> dict:
    return {c.key: getattr(obj, c.key) for c in inspect(obj).mapper.column_attrs}


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def _owned(session: Session, client: Client) -> dict[str, list]:
    product_ids = select(Product.id).where(Product.client_id == client.id)
    conversation_ids = select(Conversation.id).where(Conversation.client_id == client.id)
    case_ids = select(Case.id).where(Case.client_id == client.id)
    message_ids = select(Message.id).where(Message.conversation_id.in_(conversation_ids))
    return {
        "contacts": session.scalars(select(Contact).where(Contact.client_id == client.id)).all(),
        "products": session.scalars(select(Product).where(Product.client_id == client.id)).all(),
        "invoices": session.scalars(select(Invoice).where(Invoice.product_id.in_(product_ids))).all(),
        "work_orders": session.scalars(select(WorkOrder).where(WorkOrder.product_id.in_(product_ids))).all(),
        "billing_claims": session.scalars(select(BillingClaim).where(BillingClaim.product_id.in_(product_ids))).all(),
        "suspensions": session.scalars(select(Suspension).where(Suspension.product_id.in_(product_ids))).all(),
        "conversations": session.scalars(select(Conversation).where(Conversation.client_id == client.id)).all(),
        "messages": session.scalars(select(Message).where(Message.conversation_id.in_(conversation_ids))
                                    .order_by(Message.id)).all(),
        "cases": session.scalars(select(Case).where(Case.client_id == client.id)).all(),
        "case_events": session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(case_ids))).all(),
        "tasks": session.scalars(select(StaffTask).where(StaffTask.client_id == client.id)).all(),
        "documents": session.scalars(select(Document).where(
            Document.case_id.in_(case_ids) | Document.message_id.in_(message_ids))).all(),
    }


def export_client(session: Session, nit: str, target: Path, documents_dir: Path) -> Path:
    client = session.scalars(select(Client).where(Client.nit == nit)).one_or_none()
    if client is None:
        raise LookupError(nit)
    owned = _owned(session, client)
    target.mkdir(parents=True, exist_ok=True)
    files = target / "documentos"
    for document in owned["documents"]:
        source = document_store.resolve(documents_dir, document.path)
        if source.exists():
            files.mkdir(exist_ok=True)
            shutil.copyfile(source, files / f"{document.id}-{Path(document.filename).name or document.sha256}")
    payload = {"client": _row(client), **{name: [_row(r) for r in rows] for name, rows in owned.items()}}
    out = target / f"cliente-{nit}.json"
    out.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
    return out


def purge_client(session: Session, nit: str, documents_dir: Path) -> dict[str, int]:
    client = session.scalars(select(Client).where(Client.nit == nit)).one_or_none()
    if client is None:
        raise LookupError(nit)
    owned = _owned(session, client)
    counts = {name: len(rows) for name, rows in owned.items()}
    paths = {d.path for d in owned["documents"]}
    message_ids = [m.id for m in owned["messages"]]
    case_ids = [c.id for c in owned["cases"]]
    conversation_ids = [c.id for c in owned["conversations"]]
    # Children first; bulk statements so this stays fast for a large client.
    session.execute(delete(Document).where(Document.id.in_([d.id for d in owned["documents"]])))
    session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(case_ids)))
    session.execute(delete(StaffTask).where(StaffTask.client_id == client.id))
    session.execute(delete(StaffTask).where(StaffTask.conversation_id.in_(conversation_ids)))
    session.execute(delete(Outbox).where(Outbox.message_id.in_(message_ids)))
    session.execute(update(Message).where(Message.id.in_(message_ids)).values(case_id=None))
    session.execute(delete(Message).where(Message.id.in_(message_ids)))
    session.execute(delete(Case).where(Case.id.in_(case_ids)))
    session.execute(delete(Conversation).where(Conversation.id.in_(conversation_ids)))
    # The database's ON DELETE CASCADE removes contacts, products and the products' rows.
    session.execute(delete(Client).where(Client.id == client.id))
    still_used = set(session.scalars(select(Document.path).where(Document.path.in_(paths))))
    for path in paths - still_used:
        document_store.resolve(documents_dir, path).unlink(missing_ok=True)
    return counts
