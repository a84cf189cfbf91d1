"""Email threading: our Message-IDs, In-Reply-To/References, the case tag in the subject.

An incoming letter joins a case by In-Reply-To/References first (they name a message we stored,
ours or the client's, that belongs to the case), then by the `[PV-2026-000123]` subject tag, but
the tag only counts when the sender is a registered contact of that case's client: a subject is
easy to copy, and another company's mail must never land in someone else's case.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Case, Message
from bot.portfolio.records import DatabaseRecords

CHANNEL = "email"
CASE_TAG = re.compile(r"\[(PV-\d{4}-\d{6,})\]")
PREFIXES = re.compile(r"^\s*((re|res|aw|sv|antw|fwd?|rv|tr|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
MAX_REFERENCES = 12


def case_tag(subject: str) -> str | None:
    match = CASE_TAG.search(subject or "")
    return match.group(1) if match else None


def clean_subject(subject: str) -> str:
    """'RE: Fwd: [PV-2026-000123] Detalle' -> 'Detalle'."""
    subject = CASE_TAG.sub("", subject or "")
    subject = PREFIXES.sub("", subject)
    return " ".join(subject.split())


def make_message_id(message_id: int, created_at: datetime, domain: str) -> str:
    """Stable per outbound message, so a retried send carries the same id (clients dedupe it)."""
    return f"<pv.{message_id}.{int(created_at.timestamp())}@{domain}>"


@dataclass(frozen=True)
class CaseMatch:
    case_id: int
    how: str  # "references" | "subject_tag"


def find_case(session: Session, *, sender: str, thread_ids: list[str], subject: str) -> CaseMatch | None:
    if thread_ids:
        case_id = session.scalar(
            select(Message.case_id)
            .where(Message.channel == CHANNEL, Message.external_id.in_(thread_ids),
                   Message.case_id.is_not(None))
            .order_by(Message.id.desc())
            .limit(1)
        )
        if case_id is not None:
            return CaseMatch(case_id, "references")
    number = case_tag(subject)
    if number is None:
        return None
    case = session.scalar(select(Case).where(Case.number == number))
    if case is None or not sender:
        return None
    clients = {c.id for c in DatabaseRecords(session).clients_by_email(sender)}
    return CaseMatch(case.id, "subject_tag") if case.client_id in clients else None


def thread_payload(*, message_id: str, references: list[str], subject: str) -> dict:
    """What a reply to this letter needs: RFC 5322 In-Reply-To / References and the subject."""
    chain = [r for r in references if r != message_id]
    if message_id:
        chain.append(message_id)
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1):]  # keep the root, as RFC 5322 suggests
    return {"in_reply_to": message_id, "references": chain, "subject": clean_subject(subject)}


def fallback_thread(session: Session, message: Message) -> dict:
    """Threading for an outbound message enqueued without a payload (e.g. a staff reply): reply to
    the latest real Message-ID the client sent in this conversation."""
    rows = session.execute(
        select(Message.external_id)
        .where(Message.conversation_id == message.conversation_id, Message.direction == "in",
               Message.id < message.id, Message.external_id.like("<%>"))
        .order_by(Message.id.desc())
        .limit(MAX_REFERENCES)
    ).scalars().all()
    if not rows:
        return {}
    return {"in_reply_to": rows[0], "references": list(reversed(rows)), "subject": ""}
