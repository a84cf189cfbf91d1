"""The conversation engine: one inbound message in, state + replies committed in one transaction.

    dedupe -> load & lock conversation -> identify -> global intents -> dialog event
           -> conversation state, data, replies (outbox rows), cases: ONE commit

The conversation row is locked while the message is processed (SELECT ... FOR UPDATE on
PostgreSQL; BEGIN IMMEDIATE serialises writers on SQLite), so two messages of one conversation are
applied one after the other even when they reach different processes.
"""
from __future__ import annotations

import copy
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot import attachments as deferred_files
from bot import documents, held, letters, nlu, outbox, ratelimit, requirements, rules, texts, unavailable, wakeup
from bot.addresses import is_email, mask_address, normalise_address
from bot.campaigns import optout
from bot.clock import Clock
from bot.db import session_scope
from bot.dialog import QUEUED_REQUESTS, START_KEYS, Dialog, Turn
from bot.letters.jobs import schedule_reading
from bot.messaging import Attachment, InboundMessage
from bot.models import Case, Conversation, Document, InboundFailure, Message, PendingTurn
from bot.observability import correlation
from bot.portfolio.records import DatabaseRecords
from bot.settings import Settings
from bot.turn import TurnServices

log = logging.getLogger(__name__)

MAX_DIALOG_HOPS = 4  # main -> trámite -> main ...; a loop beyond this is a bug, not a conversation


@dataclass
class AttachmentResult:
    stored: list = field(default_factory=list)  # Document rows
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (filename, reason)
    unwritten: list = field(default_factory=list)  # Attachments the disk refused: deferred (bot/attachments.py)
    error: str = ""  # why the disk refused them


@dataclass
class Outcome:
    duplicate: bool = False
    conversation_id: int | None = None
    message_id: int | None = None
    replies: list[str] = field(default_factory=list)
    case_numbers: list[str] = field(default_factory=list)
    dialog: str = ""
    state: str = ""


class Engine:
    def __init__(self, sessions: sessionmaker[Session], *, settings: Settings, clock: Clock,
                 dialogs: Mapping[str, Dialog], records_factory=DatabaseRecords):
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.records_factory = records_factory
        # Name -> dialog, built once per process by the composition root (dialogs/registry.py).
        self.dialogs = dialogs

    def handle(self, message: InboundMessage) -> Outcome:
        # The webhook's (or IMAP fetch's) correlation id, or a new one for callers without one.
        with correlation.bound(correlation.current()):
            return self._handle(message)

    def _handle(self, message: InboundMessage) -> Outcome:
        message, truncated = self._within_limit(message)
        with session_scope(self.sessions) as session:
            conversation, inbound, now = self._store(session, message)
            if inbound is None:
                return Outcome(duplicate=True, conversation_id=conversation.id)
            return self._turn(session, conversation, message, inbound, now, truncated=truncated)

    def _store(self, session: Session, message: InboundMessage) -> tuple[Conversation, Message | None, datetime]:
        """The start of every inbound path: lock the conversation, insert the message unless its
        provider id was seen (None then), move `last_inbound_at` (WhatsApp's 24-hour window)."""
        address = normalise_address(message.address)
        conversation = self._lock_conversation(session, message.channel, address)
        now = self.clock.now()
        inbound = self._record_inbound(session, conversation, message, now)
        if inbound is None:
            log.info("duplicate %s message %s ignored", message.channel, message.external_id)
            return conversation, None, now
        log.info("inbound %s message %s from %s", message.channel, message.external_id, mask_address(address))
        conversation.last_inbound_at = now
        conversation.updated_at = now
        return conversation, inbound, now

    def _turn(self, session: Session, conversation: Conversation, message: InboundMessage, inbound: Message,
              now, *, truncated: bool = False) -> Outcome:
        """What the bot does with one stored inbound message, under the conversation's lock, in the
        caller's transaction: inline (`handle`) or later, from the worker (`take_pending_turns`)."""
        outcome = Outcome(conversation_id=conversation.id, message_id=inbound.id)
        if conversation.mode == "human":
            # A person holds the conversation: the bot stays silent; staff see the message, and
            # its files still reach the case waiting for them (bot/held.py).
            documents = self._store_attachments(session, conversation, message, inbound, now, defer=True)
            held.files_while_held(session, conversation=conversation, inbound=inbound,
                                  stored=documents.stored, now=now,
                                  case=self._referenced_case(session, conversation, message))
            if documents.unwritten:
                deferred_files.defer(session, message=inbound, files=documents.unwritten,
                                     error=documents.error, now=now)
            outcome.dialog, outcome.state = conversation.dialog, conversation.state
            return outcome
        if ratelimit.over_limit(session, inbound, limit=self.settings.inbound_rate_per_minute):
            # Stored (staff see it) but not read: a flood must not drive the dialog.
            log.warning("%s message %s from %s over INBOUND_RATE_PER_MINUTE; not answered",
                        message.channel, message.external_id, mask_address(conversation.address))
            if ratelimit.first_in_window(session, inbound):
                outbox.enqueue(session, conversation=conversation, now=now,
                               body=texts.render("rate_limited"),
                               payload=message.meta.get("reply_payload"))
            outcome.dialog, outcome.state = conversation.dialog, conversation.state
            return outcome
        documents = self._store_attachments(session, conversation, message, inbound, now, defer=True)
        if self._letter_to_read(session, conversation, message, documents):
            # The request is in the letter: the worker reads it (read_letter jobs) and the
            # answer follows then; staff see the message and its files meanwhile.
            schedule_reading(session, message=inbound, documents=documents.stored, now=now,
                             reply_payload=message.meta.get("reply_payload"))
            for filename, reason in documents.rejected:
                outbox.enqueue(session, conversation=conversation, now=now,
                               payload=message.meta.get("reply_payload"),
                               body=texts.render("attachment_rejected", filename=filename, reason=reason,
                                                 max_mb=self.settings.max_attachment_bytes // (1024 * 1024)))
            outcome.dialog, outcome.state = conversation.dialog, conversation.state
            return outcome
        services = self._run_dialog(session, conversation, message, now, documents, inbound=inbound)
        if truncated:
            services.replies.insert(0, texts.render("message_truncated",
                                                    limit=self.settings.max_message_chars))
        referenced = self._referenced_case(session, conversation, message)
        if documents.stored and not services.opened_cases:
            if services.documents_kept:
                services.replies.insert(0, texts.render("document_kept", count=len(documents.stored)))
            else:
                self._documents_for_waiting_case(session, services, documents.stored, now,
                                                 case=referenced)
        if services.replies:
            case_id = services.opened_cases[-1].id if services.opened_cases else None
            # meta["reply_payload"]: what the channel needs to send the reply (email threading).
            outbox.enqueue(session, conversation=conversation, body="\n\n".join(services.replies),
                           now=now, case_id=case_id, payload=message.meta.get("reply_payload"))
        inbound.case_id = (services.opened_cases[-1].id if services.opened_cases
                           else referenced.id if referenced is not None else None)
        if message.meta.get("letter_of") and inbound.case_id is not None:
            original = session.get(Message, message.meta["letter_of"])
            if original.case_id is None:  # the message the letter came with, on the case page too
                original.case_id = inbound.case_id
        if documents.unwritten:
            # After the dialog, so the staff task names the client it identified.
            deferred_files.defer(session, message=inbound, files=documents.unwritten, error=documents.error, now=now)
        outcome.replies = services.replies
        outcome.case_numbers = [c.number for c in services.opened_cases]
        outcome.dialog, outcome.state = conversation.dialog, conversation.state
        return outcome

    # --- the webhook's fast path (issue 16) ---------------------------------------------------
    def defer_turn(self, message: InboundMessage) -> Outcome:
        """Store a plain text message and leave the dialog's turn to the worker
        (`take_pending_turns`): the provider gets its answer after one short transaction. Dedupe,
        the conversation lock and `last_inbound_at` (WhatsApp's 24-hour window) as in `handle`. A
        message with files or over MAX_MESSAGE_CHARS goes through `handle`."""
        with correlation.bound(correlation.current()):
            message, _ = self._within_limit(message)
            with session_scope(self.sessions) as session:
                conversation, inbound, now = self._store(session, message)
                if inbound is None:
                    return Outcome(duplicate=True, conversation_id=conversation.id)
                session.add(PendingTurn(message_id=inbound.id, conversation_id=conversation.id, created_at=now))
                wakeup.notify(session)  # a worker in another process hears it at commit
                return Outcome(conversation_id=conversation.id, message_id=inbound.id,
                               dialog=conversation.dialog, state=conversation.state)

    def take_pending_turns(self, *, batch: int = 50, at_most: int = 500) -> int:
        """Worker: answer the messages `defer_turn` stored, the oldest conversation first and each
        conversation's messages in order. One transaction per message under the conversation's
        lock; on PostgreSQL a conversation another worker holds is skipped (SKIP LOCKED), so
        several workers share the load without reordering anybody's messages. `at_most` turns a
        call, so the replies of a flood start leaving (the outbox pass) before it is all read."""
        taken = 0
        while taken < at_most:
            with self.sessions() as session:
                waiting = session.scalars(select(PendingTurn.conversation_id)
                                          .group_by(PendingTurn.conversation_id)
                                          .order_by(func.min(PendingTurn.id)).limit(batch)).all()
            before = taken
            for conversation_id in waiting:
                while taken < at_most and self._take_turn(conversation_id):
                    taken += 1
            if taken == before:
                return taken  # nothing waiting, or all of it held by other workers
        return taken

    def _take_turn(self, conversation_id: int) -> bool:
        try:
            with session_scope(self.sessions) as session:
                conversation = session.scalars(select(Conversation).where(Conversation.id == conversation_id)
                                               .with_for_update(skip_locked=True)).one_or_none()
                if conversation is None:
                    return False  # another worker is answering this conversation
                pending = session.scalars(select(PendingTurn).where(PendingTurn.conversation_id == conversation_id)
                                          .order_by(PendingTurn.id).limit(1)).one_or_none()
                if pending is None:
                    return False
                inbound = session.get(Message, pending.message_id)
                session.delete(pending)
                message = InboundMessage(channel=inbound.channel, address=conversation.address, body=inbound.body,
                                         external_id=inbound.external_id or "")
                with correlation.bound(inbound.correlation_id or correlation.current()):
                    self._turn(session, conversation, message, inbound, self.clock.now())
                return True
        except Exception as exc:
            if unavailable.is_unavailable(exc):
                raise  # the database is down: the turn stays pending for the next pass
            log.exception("turn of conversation %s failed; the client is told and staff see it", conversation_id)
            return self._failed_turn(conversation_id, exc)

    def _failed_turn(self, conversation_id: int, exc: Exception) -> bool:
        """A message the dialog cannot answer (a bug) must not block the conversation's next ones:
        it leaves the queue, staff see it among inbound failures and the client gets an apology."""
        with session_scope(self.sessions) as session:
            pending = session.scalars(select(PendingTurn).where(PendingTurn.conversation_id == conversation_id)
                                      .order_by(PendingTurn.id).limit(1).with_for_update()).one_or_none()
            if pending is None:
                return False
            inbound = session.get(Message, pending.message_id)
            conversation = session.get(Conversation, conversation_id)
            session.delete(pending)
            session.add(InboundFailure(channel=inbound.channel, external_id=(inbound.external_id or "")[:255],
                                       sender=conversation.address, error=f"{type(exc).__name__}: {exc}"[:2000],
                                       created_at=self.clock.now()))
            if conversation.mode != "human":
                outbox.enqueue(session, conversation=conversation, body=texts.render("internal_error"),
                               now=self.clock.now())
            return True

    def _within_limit(self, message: InboundMessage) -> tuple[InboundMessage, bool]:
        """A huge body (a pasted log, an attack) is cut at MAX_MESSAGE_CHARS before anything reads it."""
        if "\x00" in message.body:  # no text column (PostgreSQL) holds NUL; nobody types one
            message = replace(message, body=message.body.replace("\x00", ""))
        limit = self.settings.max_message_chars
        if len(message.body) <= limit:
            return message, False
        log.warning("%s message %s from %s has %d characters; kept the first %d", message.channel,
                    message.external_id, mask_address(message.address), len(message.body), limit)
        return replace(message, body=message.body[:limit]), True

    def record(self, message: InboundMessage, *, reply: str = "") -> Outcome:
        """Record an inbound message without running the dialog; answer `reply` if given.

        For messages with nothing for the dialog to read: WhatsApp media still being downloaded
        (`receive_documents` follows), a location, a contact card. Dedupe, the conversation lock and
        `last_inbound_at` (WhatsApp's 24-hour window) work as in `handle`.
        """
        with correlation.bound(correlation.current()):
            return self._record(message, reply=reply)

    def _record(self, message: InboundMessage, *, reply: str = "") -> Outcome:
        with session_scope(self.sessions) as session:
            conversation, inbound, now = self._store(session, message)
            if inbound is None:
                return Outcome(duplicate=True, conversation_id=conversation.id)
            outcome = Outcome(conversation_id=conversation.id, message_id=inbound.id,
                              dialog=conversation.dialog, state=conversation.state)
            if reply and conversation.mode != "human":
                outbox.enqueue(session, conversation=conversation, body=reply, now=now)
                outcome.replies = [reply]
            return outcome

    def receive_documents(self, *, message_id: int, attachments: Sequence[Attachment] = (),
                          rejected: Sequence[tuple[str, str]] = (), notices: Sequence[str] = (),
                          deferred: bool = False) -> Outcome:
        """Files of a message recorded earlier, handed over when the channel has them (WhatsApp media
        is downloaded by a job). Stored and matched like inline attachments: kept for the trámite
        being collected, or attached to the case waiting for them; replies go to the outbox; one
        transaction, conversation locked. `rejected` are (filename, reason) the channel refused
        itself; `notices` are rendered texts added to the reply. A message whose documents were
        already stored changes nothing (a job run twice). `deferred`: files the engine could not
        write when the message came (bot/attachments.py); those already stored are skipped.
        """
        # The replies carry the id of the message the files came with (set when it arrived).
        with self.sessions() as session:
            correlation_id = session.scalar(select(Message.correlation_id).where(Message.id == message_id))
        with correlation.bound(correlation_id or correlation.current()):
            return self._receive_documents(message_id=message_id, attachments=attachments, rejected=rejected,
                                           notices=notices, deferred=deferred)

    def _receive_documents(self, *, message_id: int, attachments: Sequence[Attachment],
                           rejected: Sequence[tuple[str, str]], notices: Sequence[str],
                           deferred: bool) -> Outcome:
        with session_scope(self.sessions) as session:
            inbound = session.get(Message, message_id)
            conversation = session.scalars(
                select(Conversation).where(Conversation.id == inbound.conversation_id).with_for_update()
            ).one()
            outcome = Outcome(conversation_id=conversation.id, message_id=inbound.id)
            stored = set(session.scalars(select(Document.sha256).where(Document.message_id == inbound.id)))
            if deferred:
                attachments = [a for a in attachments
                               if a.data is None or hashlib.sha256(a.data).hexdigest() not in stored]
            if (stored and not deferred) or (deferred and not attachments):
                outcome.duplicate = True
                return outcome
            now = self.clock.now()
            files = InboundMessage(channel=inbound.channel, address=conversation.address, body="",
                                   external_id=inbound.external_id or "", attachments=tuple(attachments))
            documents = self._store_attachments(session, conversation, files, inbound, now)
            documents.rejected.extend(rejected)
            if conversation.mode == "human":
                # A person holds the conversation: the bot is silent; the files go to the waiting case.
                held.files_while_held(session, conversation=conversation, inbound=inbound,
                                      stored=documents.stored, now=now)
                return outcome
            records = self.records_factory(session)
            services = TurnServices(session=session, conversation=conversation, records=records,
                                    settings=self.settings, now=now)
            if conversation.client_id is not None:
                services.client = records.client_by_id(conversation.client_id)
            for filename, reason in documents.rejected:
                services.say("attachment_rejected", filename=filename, reason=reason,
                             max_mb=self.settings.max_attachment_bytes // (1024 * 1024))
            services.replies.extend(notices)
            if documents.stored and conversation.dialog != "main":
                # As in `handle`: files sent during a trámite are kept for the case it will open.
                conversation.data = {**(conversation.data or {}), "document_ids": [
                    *(conversation.data or {}).get("document_ids", []), *[d.id for d in documents.stored]]}
                services.replies.insert(0, texts.render("document_kept", count=len(documents.stored)))
            elif documents.stored and not self._asks_something(inbound.body or "") and \
                    self._letter_to_read(session, conversation, files, documents):
                # Files whose words ask nothing (a WhatsApp photo or PDF of a letter; words that ask
                # something were answered when the message came): the worker reads them, the
                # letter's words and the message's are answered together.
                schedule_reading(session, message=inbound, documents=documents.stored, now=now)
            elif documents.stored:
                self._documents_for_waiting_case(session, services, documents.stored, now)
            case_id = services.opened_cases[-1].id if services.opened_cases else None
            if case_id is not None and inbound.case_id is None:
                inbound.case_id = case_id
            if services.replies:
                outbox.enqueue(session, conversation=conversation, body="\n\n".join(services.replies),
                               now=now, case_id=case_id)
            outcome.replies = services.replies
            outcome.dialog, outcome.state = conversation.dialog, conversation.state
            return outcome

    # --- storage ---------------------------------------------------------------------------------
    def _lock_conversation(self, session: Session, channel: str, address: str) -> Conversation:
        now = self.clock.now()
        insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
        session.execute(
            insert(Conversation)
            .values(channel=channel, address=address, dialog="main", state="start", data={},
                    mode="bot", created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["channel", "address"])
        )
        return session.scalars(
            select(Conversation)
            .where(Conversation.channel == channel, Conversation.address == address)
            .with_for_update()
        ).one()

    def _record_inbound(self, session: Session, conversation: Conversation, message: InboundMessage,
                        now) -> Message | None:
        """Insert the message unless its provider id was seen: the unique key decides, not a read."""
        insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
        result = session.execute(
            insert(Message)
            .values(conversation_id=conversation.id, direction="in", channel=message.channel,
                    external_id=message.external_id, body=message.body,
                    attachments=[{"filename": a.filename, "content_type": a.content_type, "url": a.url}
                                 for a in message.attachments],
                    author="client", status="received", error_code="", created_at=now,
                    correlation_id=correlation.current())
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
            .returning(Message)  # the stored row as an ORM object: no read after the insert
        )
        return result.scalar()

    # --- dialogs -----------------------------------------------------------------------------
    def _store_attachments(self, session: Session, conversation: Conversation, message: InboundMessage,
                           inbound: Message, now, *, defer: bool = False) -> AttachmentResult:
        """`defer`: a file the disk refuses (full, folder unwritable) is left in `unwritten` for a
        retry job and the message goes on without it; otherwise the OSError rolls the turn back for
        the caller (a job) to retry."""
        result = AttachmentResult()
        for attachment in message.attachments:
            if attachment.data is None:
                continue  # a URL the channel downloads later (WhatsApp media)
            try:
                stored = documents.store(self.settings.documents_dir, attachment.data,
                                         max_bytes=self.settings.max_attachment_bytes)
            except documents.RejectedFile as exc:
                log.info("attachment %r refused: %s", attachment.filename, exc.reason)
                result.rejected.append((attachment.filename, exc.reason))
                continue
            except OSError as exc:
                if not defer:
                    raise
                log.error("could not store attachment of message %s: %s", inbound.id, exc)
                result.unwritten.append(attachment)
                result.error = f"{type(exc).__name__}: {exc}"
                continue
            document = documents.record(session, stored, filename=attachment.filename, now=now,
                                        message_id=inbound.id)
            session.flush()
            result.stored.append(document)
        return result

    def _documents_for_waiting_case(self, session: Session, services: TurnServices, stored: list, now,
                                    case: Case | None = None) -> None:
        """A document sent after the case was opened completes that case's requirements.
        `case`: the one the message itself points at (an email reply in that case's thread)."""
        case = case or requirements.waiting_case(session, services.conversation.id)
        if case is None:
            services.say("document_received_no_case", count=len(stored))
            return
        for document in stored:
            document.case_id = case.id
        received = requirements.receive_documents(session, case, [d.id for d in stored], now=now)
        services.opened_cases.append(case)  # replies of this turn belong to that case
        services.say(
            "document_received",
            case=case,
            received=received,
            pending=requirements.missing(case.requirements),
            role_name=services.role_name(case.current_role),
            moved_on=case.status == "en_proceso",
            sla_hours=rules.sla_hours(case.tramite),
        )

    def _letter_to_read(self, session: Session, conversation: Conversation, message: InboundMessage,
                        documents: AttachmentResult) -> bool:
        """A PDF or a photo whose message asks for nothing in words ("Adjunto nuestra carta", or no
        words at all), at the menu, with no case waiting for a document: the request is in the letter."""
        if message.meta.get("letter_of") or conversation.dialog != "main":
            return False
        # Stored files, or WhatsApp media still to be downloaded (declared type): a caption such as
        # "Adjunto la carta firmada" waits for the letter instead of getting the menu.
        if not any(letters.is_letter(d.content_type) for d in documents.stored) and \
                not any(a.data is None and letters.is_letter(a.content_type) for a in message.attachments):
            return False
        if message.meta.get("case_id") is not None:
            return False  # a reply in a case's thread (or with its tag): the files are for that case
        if requirements.waiting_case(session, conversation.id) is not None:
            return False  # the files are for the case that asked for them
        return not self._asks_something(message.body)

    def _asks_something(self, words: str) -> bool:
        if not words.strip():
            return False
        return nlu.global_intent(words) is not None or \
            nlu.analyze(words, today=self.clock.today()).tramite is not None

    def letter_read(self, *, message_id: int, reply_payload: dict | None = None) -> Outcome | None:
        """Every letter of message `message_id` read (bot/letters/jobs.py): its words and the
        letters' text go through the dialog as one inbound message of the same conversation.
        Idempotent: the external id is derived from the original message's. None while a letter
        of the message is still unread."""
        with self.sessions() as session:
            inbound = session.get(Message, message_id)
            conversation = session.get(Conversation, inbound.conversation_id)
            found = session.scalars(select(Document).where(Document.message_id == message_id)
                                    .order_by(Document.id)).all()
            found = [d for d in found if letters.is_letter(d.content_type)]
            if not found or any(d.text_status is None for d in found):
                return None
            readable = [d for d in found if d.text_status in ("text", "ocr") and (d.text or "").strip()]
            body = "\n\n".join(part for part in [(inbound.body or "").strip(),
                                                  *[(d.text or "").strip() for d in readable]] if part)
            letter = InboundMessage(
                channel=inbound.channel, address=conversation.address,
                body=body[:self.settings.max_message_chars],  # a long letter is read as far as the limit
                external_id=f"{inbound.external_id or inbound.id}#carta"[:255],
                meta={"letter_of": inbound.id, "document_ids": [d.id for d in found],
                      "letter_unreadable": not readable, "reply_payload": reply_payload})
            correlation_id = inbound.correlation_id
        with correlation.bound(correlation_id or correlation.current()):
            return self._handle(letter)

    def _referenced_case(self, session: Session, conversation: Conversation, message: InboundMessage) -> Case | None:
        """The case a channel says this message belongs to (`meta["case_id"]`: an email reply's
        In-Reply-To/References). Only an open case of the conversation's own client counts."""
        case_id = message.meta.get("case_id")
        if case_id is None or conversation.client_id is None:
            return None
        case = session.get(Case, case_id)
        if case is None or case.client_id != conversation.client_id or case.status not in requirements.OPEN_STATUSES:
            return None
        return case

    def _case_reply_with_files(self, session: Session, conversation: Conversation, message: InboundMessage,
                               documents: AttachmentResult) -> bool:
        """A reply in a case's thread that brings files and asks for nothing new ("Adjunto la carta
        firmada. Saludos"): the files are for that case, as if sent without words; the words stay
        on the message for staff. A trámite being collected reads the message as usual."""
        if not documents.stored or conversation.dialog != "main":
            return False
        if self._referenced_case(session, conversation, message) is None:
            return False
        return nlu.global_intent(message.body) is None and \
            nlu.analyze(message.body, today=self.clock.today()).tramite is None

    def _run_dialog(self, session: Session, conversation: Conversation, message: InboundMessage, now,
                    documents: AttachmentResult, *, inbound: Message | None = None) -> TurnServices:
        records = self.records_factory(session)
        services = TurnServices(session=session, conversation=conversation, records=records,
                                settings=self.settings, now=now)
        for filename, reason in documents.rejected:
            services.say("attachment_rejected", filename=filename, reason=reason,
                         max_mb=self.settings.max_attachment_bytes // (1024 * 1024))
        if conversation.client_id is not None:
            services.client = records.client_by_id(conversation.client_id)
        elif conversation.state == "start":
            known = (records.client_by_email(conversation.address) if is_email(conversation.address)
                     else records.client_by_phone(conversation.address))
            if known is not None:
                services.identify(known)

        if message.meta.get("letter_unreadable"):
            # Nothing could be read in the letter and the words asked for nothing: say so.
            services.say("letter_unreadable", count=len(message.meta.get("document_ids") or []))
            return services
        analysis = nlu.analyze(message.body, today=self.clock.today())
        # A deep copy: nested values mutated in place would otherwise also change the loaded
        # "original", and the ORM would see no change to write.
        turn = Turn(state=conversation.state, data=copy.deepcopy(conversation.data or {}), text=message.body,
                    nlu=analysis, today=self.clock.today(), services=services, dialogs=self.dialogs)
        turn.scratch["document_ids"] = [d.id for d in documents.stored]
        if message.meta.get("letter_of"):
            # The letter read by the worker: its documents came with the original message and
            # count for the case this message opens (the carta de solicitud among them).
            turn.scratch["document_ids"] = list(message.meta.get("document_ids") or [])
        if (not message.body.strip() or self._case_reply_with_files(session, conversation, message, documents)) \
                and (documents.stored or documents.rejected):
            # Only files, no words: nothing for the dialog to read. Files sent during a trámite
            # are kept for the case it will open; otherwise they go to a case waiting for them.
            if documents.stored and conversation.dialog != "main":
                conversation.data = {**(conversation.data or {}), "document_ids": [
                    *(conversation.data or {}).get("document_ids", []), *turn.scratch["document_ids"]]}
                services.documents_kept = True
            return services
        savepoint = session.begin_nested()
        try:
            dialog_name, state = self._fire(conversation, turn)
            services.documents_kept = bool(turn.scratch.get("documents_kept"))
            savepoint.commit()
        except Exception:
            # The message is kept (it was inserted before the savepoint) and answered politely;
            # the conversation stays where it was. Logged with the traceback for the team.
            savepoint.rollback()
            log.exception("dialog %s/%s failed on message %s", conversation.dialog, conversation.state,
                          message.external_id)
            if inbound is not None:
                inbound.error_code = "dialog_error"  # counted by /metrics (postventa_dialog_errors)
            services.replies = []
            services.opened_cases = []
            services.say("internal_error")
            return services
        conversation.dialog, conversation.state = dialog_name, state
        conversation.data = turn.data
        return services

    def _fire(self, conversation: Conversation, turn: Turn) -> tuple[str, str]:
        dialog_name = conversation.dialog if conversation.dialog in self.dialogs else "main"
        if optout.handle(turn):  # "STOP": campaigns stop, confirmed; the dialog stays where it was
            return dialog_name, turn.state
        intent = nlu.global_intent(turn.text)
        if intent == "cancel" and dialog_name == "main" and turn.nlu.case_query == "anular":
            intent = None  # nothing in progress to cancel: "anular mi solicitud" is about a case
        if intent is not None:
            return self._global(intent, turn, dialog_name)
        event = "message"
        for _ in range(MAX_DIALOG_HOPS):
            self.dialogs[dialog_name].fire(turn, event)
            if turn.jump is None:
                return dialog_name, turn.state
            dialog_name, target_state = turn.jump
            turn.jump = None
            # Collected data belongs to one dialog run; what the next run is for and the
            # client's other requests cross over.
            keys = (QUEUED_REQUESTS, *START_KEYS) if target_state is None else (QUEUED_REQUESTS,)
            carried = {key: turn.data[key] for key in keys if key in turn.data}
            turn.data.clear()
            turn.data.update(carried)
            if target_state is not None:
                turn.state = target_state
                self.dialogs[dialog_name].arrive(turn)
                return dialog_name, turn.state
            turn.state = self.dialogs[dialog_name].initial
            event = "start"
        raise RuntimeError(f"dialog hops exceeded at {dialog_name}/{turn.state}")

    def _global(self, intent: str, turn: Turn, dialog_name: str) -> tuple[str, str]:
        """'menú', 'cancelar', 'hablar con un ejecutivo' work at any point of any dialog."""
        services = turn.services
        if intent == "human":
            services.handoff(reason="pedido_del_cliente")
            services.say("handoff")
            return dialog_name, turn.state
        keep = {k: v for k, v in turn.data.items() if k in ("id_failures",)}
        turn.data.clear()
        turn.data.update(keep)
        if intent == "cancel":
            services.say("cancelled")
        if services.client is None:
            turn.state = "start"
            self.dialogs["main"].fire(turn, "start")
            return "main", turn.state
        services.say("menu")
        return "main", "menu"
