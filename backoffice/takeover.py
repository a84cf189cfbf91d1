"""Take a conversation over, answer the client, hand it back to the bot.

Holding is decided by the database: one conditional UPDATE ... WHERE held_by_id IS NULL. Of two
people pressing "Tomar conversación" at once, exactly one row is updated; the other is told who
holds it. While held (mode "human") the engine records the client's messages and stays silent.

Staff replies enter the outbox like the bot's, authored by the staff username, and go out through
the client's own channel. WhatsApp allows free text only within 24 hours of the client's last
message; outside that window only an approved template may go (the page offers it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from backoffice import notify, policy, repository
from bot import cases as case_log
from bot import documents, outbox, texts
from bot import window as whatsapp_window
from bot.models import Case, Conversation, Staff

EMAIL_CHANNELS = ("email", "sim_email")
MAX_REPLY = 4000
MAX_FILES = 5
# Where "Devolver al bot" may leave the conversation: (dialog, state).
HAND_BACK_STEPS = {"main/menu": ("main", "menu"), "main/start": ("main", "start"), "current": None}


class TakeoverRefused(Exception):
    status_code = 409

    def __init__(self, reason: str, holder: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.holder = holder


@dataclass(frozen=True)
class Window:
    free_text: bool  # a staff member may write freely now
    channel_kind: str  # whatsapp | email | other
    closes_at: datetime | None


def window(conversation: Conversation, now: datetime) -> Window:
    if conversation.channel in whatsapp_window.WHATSAPP_CHANNELS:
        return Window(free_text=whatsapp_window.free_text(conversation, now), channel_kind="whatsapp",
                      closes_at=whatsapp_window.closes_at(conversation))
    kind = "email" if conversation.channel in EMAIL_CHANNELS else "other"
    return Window(free_text=True, channel_kind=kind, closes_at=None)


def may_take_over(staff: Staff, case: Case | None) -> bool:
    if case is not None:
        return policy.may(staff, "take_over", case)
    return policy.may_page(staff, "take_over_conversation")


def _audit(session: Session, case: Case | None, staff: Staff, now: datetime, kind: str, **detail) -> None:
    if case is not None:
        case_log.add_event(session, case=case, now=now, actor=staff.username, kind=kind, detail=detail)


def take_over(session: Session, staff: Staff, conversation: Conversation, *, case: Case | None,
              now: datetime) -> None:
    if not may_take_over(staff, case):
        raise policy.Forbidden("take_over")
    taken = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.held_by_id.is_(None))
        .values(mode="human", held_by_id=staff.id, updated_at=now)
    ).rowcount
    session.refresh(conversation)
    if not taken:
        if conversation.held_by_id == staff.id:
            return
        holder = repository.staff_by_id(session, conversation.held_by_id)
        raise TakeoverRefused("held_by_other", holder.username if holder else None)
    for task in repository.open_handoffs(session, conversation.id):
        task.status = "en_curso"
        task.assignee_id = staff.id
    _tell_client(session, staff, conversation, case, now, "staff_joined")
    _audit(session, case, staff, now, "taken_over", conversation_id=conversation.id)


def _tell_client(session: Session, staff: Staff, conversation: Conversation, case: Case | None,
                 now: datetime, template: str) -> None:
    """One line when a person joins or leaves a chat, so the client knows who answers. Not by
    email (every staff email is signed) nor outside WhatsApp's 24-hour window (free text only)."""
    if conversation.channel in EMAIL_CHANNELS or not window(conversation, now).free_text:
        return
    outbox.enqueue(session, conversation=conversation, now=now, author=staff.username,
                   body=texts.render(template, staff_name=staff.full_name or staff.username),
                   case_id=case.id if case else None)


def _require_holder(staff: Staff, conversation: Conversation) -> None:
    if conversation.held_by_id != staff.id:
        raise TakeoverRefused("not_holder")


def reply(session: Session, staff: Staff, conversation: Conversation, *, body: str, case: Case | None,
          now: datetime, files: list[tuple[str, bytes]] = (), documents_dir: Path | None = None):
    """`files`: (name, bytes) the person attached; stored like the client's (same checks) and
    sent with the reply: attached to the email, as media on WhatsApp (signed links)."""
    _require_holder(staff, conversation)
    body = (body or "").strip()
    files = [(name, data) for name, data in files if data]
    if not body and not files:
        raise TakeoverRefused("empty")
    if len(body) > MAX_REPLY:
        raise TakeoverRefused("too_long")
    if len(files) > MAX_FILES:
        raise TakeoverRefused("too_many_files")
    if not window(conversation, now).free_text:
        raise TakeoverRefused("window_closed")
    stored = []
    for name, data in files:
        try:
            stored.append((name, documents.store(documents_dir, data)))
        except documents.RejectedFile as exc:
            raise TakeoverRefused(f"file_{exc.reason}") from None
    records = [documents.record(session, file, filename=name, now=now, case_id=case.id if case else None)
               for name, file in stored]
    session.flush()
    payload = _threading(session, conversation)
    if records:  # WhatsApp sends media by URL (the sender signs a link per document)
        payload["document_ids"] = [d.id for d in records]
    message = outbox.enqueue(session, conversation=conversation, body=body, now=now, author=staff.username,
                             case_id=case.id if case else None, payload=payload)
    for document in records:  # email attaches the message's documents; the simulator lists them
        document.message_id = message.id
    message.attachments = [{"document_id": d.id, "filename": d.filename} for d in records]
    _audit(session, case, staff, now, "replied", message_id=message.id,
           **({"files": [d.filename for d in records]} if records else {}))
    return message


def send_reengage_template(session: Session, staff: Staff, conversation: Conversation, *, case: Case | None,
                           now: datetime):
    """Outside WhatsApp's 24-hour window: the approved template asking the client to write back."""
    _require_holder(staff, conversation)
    message = notify.to_client(session, conversation=conversation, case=case, template="backoffice_reengage",
                               author=staff.username, now=now)
    _audit(session, case, staff, now, "template_sent", message_id=message.id, template="backoffice_reengage")
    return message


def _threading(session: Session, conversation: Conversation) -> dict:
    """Email replies thread under the client's last message (In-Reply-To / References)."""
    if conversation.channel not in EMAIL_CHANNELS:
        return {}
    last = repository.last_inbound(session, conversation.id)
    if last is None or not last.external_id:
        return {}
    return {"in_reply_to": last.external_id, "references": [last.external_id]}


def hand_back(session: Session, staff: Staff, conversation: Conversation, *, step: str, case: Case | None,
              now: datetime) -> None:
    if step not in HAND_BACK_STEPS:
        raise TakeoverRefused("bad_step")
    target = HAND_BACK_STEPS[step]
    values = {"mode": "bot", "held_by_id": None, "updated_at": now}
    if target is not None:
        dialog, state = target
        if state == "menu" and conversation.client_id is None:
            state = "start"  # an unidentified client is asked for the NIT first
        values.update(dialog=dialog, state=state, data={})
    holder_ok = Conversation.held_by_id == staff.id
    if staff.role == policy.RESPONSABLE:
        holder_ok = or_(holder_ok, Conversation.held_by_id.is_not(None), Conversation.mode == "human")
    released = session.execute(update(Conversation).where(Conversation.id == conversation.id, holder_ok)
                               .values(**values)).rowcount
    if not released:
        raise TakeoverRefused("not_holder")
    session.refresh(conversation)
    for task in repository.open_handoffs(session, conversation.id, statuses=("abierta", "en_curso")):
        task.status = "atendida"
    _tell_client(session, staff, conversation, case, now, "staff_left")
    _audit(session, case, staff, now, "handed_back", conversation_id=conversation.id, step=step)


def release_with_case(session: Session, staff: Staff, case: Case, *, now: datetime) -> None:
    """The holder derived, resolved or closed the case: the conversation goes back to the bot (at
    the menu), so the client's next question is answered instead of waiting in no queue."""
    conversation = repository.conversation(session, case.conversation_id)
    if conversation is None or conversation.mode != "human" or conversation.held_by_id != staff.id:
        return
    hand_back(session, staff, conversation, step="main/menu", case=case, now=now)
