"""One raw letter -> the engine. Transport-free (the IMAP poller and the benchmark call it).

    parse -> loop/bounce check -> per-sender cap -> thread/case match -> InboundMessage -> engine

Letters that must get no automatic reply (auto-replies, bounces, lists, our own mail, senders over
EMAIL_REPLIES_PER_HOUR) are stored with `Engine.record`, which never runs a dialog: the message is
kept for staff, deduplicated like any other, and nothing can be sent back. This was chosen over a
"suppressed" send error because an out-of-office text must not move a dialog either.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import cases, texts
from bot.addresses import mask_address
from bot.clock import Clock
from bot.db import session_scope
from bot.engine import Engine, Outcome
from bot.enums import EventKind
from bot.messaging import Attachment, InboundMessage
from bot.models import Case, Conversation, Message
from bot.settings import Settings
from channels.email import loops, threads
from channels.email.parse import Letter, all_files, parse
from channels.email.quotes import strip_quotes

log = logging.getLogger(__name__)

CHANNEL = "email"
NO_SENDER = "sin-remitente@invalid"  # RFC 2606: can never be a real mailbox
MAX_TEXT = 20_000  # characters the dialog reads; the rest of a huge newsletter is noise


@dataclass
class Ingested:
    outcome: Outcome
    reason: str = ""  # why no reply can come ("" = handed to the dialog)
    case_match: str = ""  # "references" | "subject_tag" | ""


def external_id(letter: Letter, raw: bytes) -> str:
    """The Message-ID, or a stable hash of the bytes when the letter has none (or a silly one)."""
    if letter.message_id and len(letter.message_id) <= 255:
        return letter.message_id
    source = letter.message_id.encode() if letter.message_id else raw
    return "sha256:" + hashlib.sha256(source).hexdigest()


def own_addresses(settings: Settings) -> set[str]:
    return {a.strip().lower() for a in (settings.email_from, settings.imap_user) if "@" in a}


class Ingestor:
    def __init__(self, *, sessions: sessionmaker[Session], engine: Engine, settings: Settings, clock: Clock):
        self.sessions = sessions
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.own = own_addresses(settings)

    def ingest(self, raw: bytes) -> Ingested:
        letter = parse(raw)
        verdict = loops.classify(letter, own_addresses=self.own)
        if verdict.bounce and verdict.failed and verdict.original_ids:
            with session_scope(self.sessions) as session:
                mark_bounced(session, verdict.original_ids, now=self.clock.now())
        reason = verdict.reason
        with self.sessions() as session:  # reads only: nothing to commit
            if not reason and self._over_cap(session, letter.sender):
                reason = "rate_limited"
            known, match = self._thread(session, letter)
        message = InboundMessage(
            channel=CHANNEL,
            address=letter.sender or NO_SENDER,
            body=self._text(letter, in_thread=known or match is not None),
            external_id=external_id(letter, raw),
            received_at=letter.date,
            attachments=tuple(Attachment(f.filename, f.content_type, data=f.data) for f in all_files(letter)),
            profile_name=letter.sender_name,
            subject=letter.subject,
            meta=self._meta(letter, match),
        )
        if reason:
            log.info("email %s from %s stored without reply: %s", message.external_id, mask_address(message.address),
                     reason)
            return Ingested(self.engine.record(message), reason=reason)
        return Ingested(self.engine.handle(message), case_match=match.how if match else "")

    # --- pieces --------------------------------------------------------------------------------
    def _over_cap(self, session: Session, sender: str) -> bool:
        """Two robots answering each other: a human never needs this many replies in an hour."""
        if not sender:
            return False
        since = self.clock.now() - timedelta(hours=1)
        sent = session.scalar(
            select(func.count(Message.id))
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.channel == CHANNEL, Conversation.address == sender,
                   Message.direction == "out", Message.author == "bot", Message.created_at >= since)
        )
        return sent >= self.settings.email_replies_per_hour

    def _thread(self, session: Session, letter: Letter) -> tuple[bool, threads.CaseMatch | None]:
        ids = list(dict.fromkeys(letter.in_reply_to + letter.references))
        known = bool(ids) and session.scalar(
            select(Message.id).where(Message.channel == CHANNEL, Message.external_id.in_(ids)).limit(1)
        ) is not None
        match = threads.find_case(session, sender=letter.sender, thread_ids=ids, subject=letter.subject)
        return known, match

    def _text(self, letter: Letter, *, in_thread: bool) -> str:
        """What the dialog reads: subject and the new part of the body, forwarded letters after.
        A reply in a thread we know skips the subject: it is ours, or a request already read."""
        body = strip_quotes(letter.text, subject=letter.subject,
                            has_thread_headers=bool(letter.in_reply_to or letter.references))
        parts = [] if in_thread else [threads.clean_subject(letter.subject)]
        parts.append(body)
        for inner in letter.forwarded:
            parts.append(texts.environment().get_template("email/forwarded.txt").render(
                sender=inner.sender, sender_name=inner.sender_name, subject=inner.subject,
                text=strip_quotes(inner.text, subject=inner.subject)).strip())
        return "\n\n".join(p for p in parts if p and p.strip())[:MAX_TEXT]

    def _meta(self, letter: Letter, match: threads.CaseMatch | None) -> dict:
        meta: dict = {"reply_payload": threads.thread_payload(
            message_id=letter.message_id, references=letter.references or letter.in_reply_to,
            subject=letter.subject)}
        if match is not None:
            meta["case_id"] = match.case_id
        return meta


def mark_bounced(session: Session, original_ids: list[str], *, now) -> list[int]:
    """Our outbound messages named by a delivery report become failed, with an event on the case.
    Idempotent: a bounce processed twice changes nothing the second time."""
    rows = session.scalars(
        select(Message).where(Message.channel == CHANNEL, Message.direction == "out",
                              Message.external_id.in_(original_ids))
    ).all()
    marked = []
    for message in rows:
        if message.status == "failed":
            continue
        message.status = "failed"
        message.error_code = "bounced"
        marked.append(message.id)
        if message.case_id is not None:
            case = session.get(Case, message.case_id)
            cases.add_event(session, case=case, now=now, actor="email", kind=EventKind.EMAIL_BOUNCED,
                            detail={"message_id": message.id, "external_id": message.external_id})
        log.warning("email message %s bounced", message.id)
    return marked
