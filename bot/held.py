"""A client's files while a person holds the conversation (takeover): the bot stays silent, but
nothing is lost. The files complete the waiting case's requirements exactly as in bot mode, and
the holder gets a task in the queue, so a signed letter sent mid-conversation is never left
"Falta" on the case page."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot import requirements
from bot.models import Case, Conversation, Document, Message, StaffTask

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
