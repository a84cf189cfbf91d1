"""While a person holds the conversation (takeover) the bot stays silent, but nobody is left waiting
and nothing is lost: the client's files complete the waiting case's requirements exactly as in bot
mode (the holder gets a task), and a message the holder leaves unanswered HELD_REPLY_MINUTES gets
the client a short "ya tiene su mensaje" and the holder (and the responsable) a task."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import outbox, requirements, texts, window
from bot.clock import Clock, as_utc
from bot.db import session_scope
from bot.models import Case, Conversation, Document, Message, Staff, StaffTask

log = logging.getLogger(__name__)

TASK_KIND = "archivo_en_atencion"  # the staff queue's label: templates/backoffice/_labels.html


def files_while_held(session: Session, *, conversation: Conversation, inbound: Message,
                     stored: list[Document], now: datetime, case: Case | None = None) -> None:
    """`case`: the one the message itself points at (an email reply in its thread), else the
    conversation's case that waits for a document."""
    if not stored:
        return
    case = case or requirements.waiting_case(session, conversation.id)
    if case is not None:
        for document in stored:
            document.case_id = case.id
        requirements.receive_documents(session, case, [d.id for d in stored], now=now, actor="client")
        if inbound.case_id is None:
            inbound.case_id = case.id
    session.add(StaffTask(kind=TASK_KIND, status="abierta", assignee_id=conversation.held_by_id,
                          client_id=conversation.client_id, conversation_id=conversation.id,
                          case_id=case.id if case is not None else None,
                          note=", ".join(d.filename for d in stored)[:500], created_at=now))


def staff_reply():
    """Conditions of a message a person sent (its author is a staff username, not the bot's)."""
    return Message.direction == "out", Message.author.not_in(("bot", "client", ""))


WAITING_TASK = "espera_sin_respuesta"  # templates/backoffice/_labels.html
CHECK_EVERY = timedelta(minutes=1)  # the scan reads held conversations only; once a minute is plenty


class SilentHoldCheck:
    """A worker task: a held conversation whose client wrote and got no staff reply within
    HELD_REPLY_MINUTES. The client is told once per unanswered message (templates/messages/
    held_waiting.j2) and the holder gets a task, which the responsable sees in the queue too."""

    def __init__(self, sessions: sessionmaker[Session], *, settings, clock: Clock):
        self.sessions, self.settings, self.clock = sessions, settings, clock
        self._next = None

    def __call__(self) -> int:
        minutes = self.settings.held_reply_minutes
        now = self.clock.now()
        if minutes <= 0 or (self._next is not None and now < self._next):
            return 0
        self._next = now + min(CHECK_EVERY, timedelta(minutes=minutes))
        with session_scope(self.sessions) as session:
            return remind(session, now=now, minutes=minutes)


def remind(session: Session, *, now: datetime, minutes: float) -> int:
    cutoff = now - timedelta(minutes=minutes)
    held = session.scalars(
        select(Conversation).where(Conversation.mode == "human", Conversation.held_by_id.is_not(None),
                                   Conversation.last_inbound_at <= cutoff)
        .with_for_update(skip_locked=True)
    ).all()
    told = 0
    for conversation in held:
        last_in = session.scalars(select(Message).where(
            Message.conversation_id == conversation.id, Message.direction == "in")
            .order_by(Message.id.desc()).limit(1)).first()
        if last_in is None or as_utc(last_in.created_at) > cutoff:
            continue
        answered = session.scalar(select(Message.id).where(
            Message.conversation_id == conversation.id, *staff_reply(), Message.id > last_in.id).limit(1))
        if answered is not None:
            continue
        if session.scalar(select(StaffTask.id).where(
                StaffTask.kind == WAITING_TASK, StaffTask.conversation_id == conversation.id,
                StaffTask.note == f"mensaje {last_in.id}").limit(1)) is not None:
            continue  # already told for this message
        holder = session.get(Staff, conversation.held_by_id)
        session.add(StaffTask(kind=WAITING_TASK, status="abierta", assignee_id=conversation.held_by_id,
                              client_id=conversation.client_id, conversation_id=conversation.id,
                              case_id=last_in.case_id, note=f"mensaje {last_in.id}", created_at=now))
        if window.free_text(conversation, now):
            outbox.enqueue(session, conversation=conversation, now=now, case_id=last_in.case_id,
                           body=texts.render("held_waiting",
                                             staff_name=holder.full_name if holder else ""))
        told += 1
    if told:
        log.info("%d held conversations waiting for a staff reply over %g minutes", told, minutes)
    return told

