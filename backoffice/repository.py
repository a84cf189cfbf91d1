"""Every back-office query. Routes and services ask here; nothing else builds SELECTs."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case as when
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from backoffice import policy
from bot import held
from bot.clock import as_utc
from bot.enums import CaseStatus
from bot.models import (
    Case,
    CaseEvent,
    Client,
    Contact,
    Conversation,
    Document,
    Message,
    Product,
    Staff,
    StaffTask,
)

PAGE_SIZE = 25
TIMELINE_LIMIT = 200
TABS = ("todos", "mios", "sin_asignar", "vencidos")
ALL_STATUSES = "todos"  # the "Estado" filter's value for open and finished cases alike


@dataclass
class QueueFilters:
    tab: str = "todos"
    tramite: str = ""
    status: str = ""
    channel: str = ""
    ejecutivo: str = ""  # username of the client's ejecutivo(a)
    q: str = ""
    page: int = 1

    def query(self, **override) -> dict:
        values = {"tab": self.tab, "tramite": self.tramite, "estado": self.status, "canal": self.channel,
                  "ejecutivo": self.ejecutivo, "q": self.q, "pagina": self.page}
        values.update(override)
        return {k: v for k, v in values.items() if v not in ("", None, 1) or k == "tab"}


@dataclass
class QueueRow:
    id: int
    number: str
    tramite: str
    status: str
    current_role: str
    assignee: str | None
    razon_social: str
    nit: str
    channel: str | None
    opened_at: datetime
    due_at: datetime
    overdue: bool
    mode: str | None
    held_by: str | None


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    counts: dict[str, int] = field(default_factory=dict)


def _scope(staff: Staff, filters: QueueFilters):
    """Which cases this person's queue holds before the tab and the filters."""
    conditions = []
    if filters.status == ALL_STATUSES:
        pass
    elif filters.status:
        conditions.append(Case.status == filters.status)
    else:
        conditions.append(Case.status.in_(policy.open_statuses()))
    if staff.role != policy.RESPONSABLE:
        conditions.append(Case.current_role == staff.role)
        conditions.append(or_(Case.assignee_id == staff.id, Case.assignee_id.is_(None)))
    return conditions


def _search(q: str):
    q = q.strip()
    if not q:
        return None
    like = f"%{q}%"
    digits = re.sub(r"\D", "", q)
    options = [Case.number.ilike(like), Client.nit.ilike(like), Client.razon_social.ilike(like),
               Client.email.ilike(like), Conversation.address.ilike(like)]
    contact = exists().where(Contact.client_id == Client.id, Contact.email.ilike(like))
    if len(digits) >= 4:
        phone = f"%{digits}%"
        options += [Client.whatsapp.like(phone), Conversation.address.like(phone), Client.nit.like(phone)]
        contact = exists().where(Contact.client_id == Client.id,
                                 or_(Contact.email.ilike(like), Contact.phone.like(phone)))
    options.append(contact)
    # A line or contract number of the client, and the words of a message in the case's conversation
    # (a LIKE scan of messages: staff search is rare and interactive, so it is kept out of the hot path).
    product = Product.contract.ilike(like)
    if len(digits) >= 4:
        product = or_(product, Product.number.like(f"%{digits}%"))
    options.append(exists().where(Product.client_id == Client.id, product))
    if len(q) >= 3:
        options.append(exists().where(Message.conversation_id == Case.conversation_id, Message.body.ilike(like)))
    return or_(*options)


def _filtered(staff: Staff, filters: QueueFilters):
    conditions = _scope(staff, filters)
    if filters.tramite:
        conditions.append(Case.tramite == filters.tramite)
    if filters.channel:
        conditions.append(Conversation.channel == filters.channel)
    if filters.ejecutivo:
        owner = aliased(Staff)
        conditions.append(Client.ejecutivo_id == select(owner.id).where(owner.username == filters.ejecutivo)
                          .scalar_subquery())
    search = _search(filters.q)
    if search is not None:
        conditions.append(search)
    return conditions


def _tab_condition(tab: str, staff: Staff, now: datetime):
    if tab == "mios":
        return Case.assignee_id == staff.id
    if tab == "sin_asignar":
        return Case.assignee_id.is_(None)
    if tab == "vencidos":
        return Case.due_at < now
    return None


def queue(session: Session, staff: Staff, filters: QueueFilters, *, now: datetime) -> QueuePage:
    conditions = _filtered(staff, filters)
    counts_row = session.execute(
        select(
            func.count(),
            func.sum(when((Case.assignee_id == staff.id, 1), else_=0)),
            func.sum(when((Case.assignee_id.is_(None), 1), else_=0)),
            func.sum(when((Case.due_at < now, 1), else_=0)),
        ).select_from(Case).join(Client, Client.id == Case.client_id)
        .outerjoin(Conversation, Conversation.id == Case.conversation_id).where(*conditions)
    ).one()
    counts = {"todos": counts_row[0] or 0, "mios": counts_row[1] or 0, "sin_asignar": counts_row[2] or 0,
              "vencidos": counts_row[3] or 0}
    tab = filters.tab if filters.tab in TABS else "todos"
    total = counts[tab]
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    assignee = aliased(Staff)
    holder = aliased(Staff)
    query = (
        select(Case, Client.razon_social, Client.nit, Conversation.channel, Conversation.mode,
               assignee.username, holder.username)
        .join(Client, Client.id == Case.client_id)
        .outerjoin(Conversation, Conversation.id == Case.conversation_id)
        .outerjoin(assignee, assignee.id == Case.assignee_id)
        .outerjoin(holder, holder.id == Conversation.held_by_id)
        .where(*conditions)
        .order_by(when((Case.status == CaseStatus.REABIERTO, 0), else_=1), Case.due_at, Case.id)  # reopened first
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    tab_condition = _tab_condition(tab, staff, now)
    if tab_condition is not None:
        query = query.where(tab_condition)
    rows = [
        QueueRow(id=c.id, number=c.number, tramite=c.tramite, status=c.status, current_role=c.current_role,
                 assignee=assignee_name, razon_social=razon, nit=nit, channel=channel, opened_at=c.opened_at,
                 due_at=c.due_at, overdue=as_utc(c.due_at) < now and c.status in policy.open_statuses(),
                 mode=mode, held_by=held)
        for c, razon, nit, channel, mode, assignee_name, held in session.execute(query)
    ]
    return QueuePage(rows=rows, total=total, page=page, pages=pages, counts=counts)


@dataclass
class HeldRow:
    """A conversation a person holds, for "Mis conversaciones"."""
    conversation_id: int
    channel: str
    address: str
    client: str | None
    holder: str
    last_inbound_at: datetime | None
    unanswered: int  # client messages after the holder's last reply
    case_id: int | None
    case_number: str | None


def held_conversations(session: Session, staff: Staff) -> list[HeldRow]:
    """Mine (the responsable sees everybody's), the ones waiting longest for a reply first."""
    last_reply = (select(func.max(Message.id)).where(Message.conversation_id == Conversation.id, *held.staff_reply())
                  .correlate(Conversation).scalar_subquery())
    unanswered = (select(func.count(Message.id)).where(Message.conversation_id == Conversation.id,
                                                        Message.direction == "in",
                                                        Message.id > func.coalesce(last_reply, 0))
                  .correlate(Conversation).scalar_subquery())
    latest_case = (select(Case.id).where(Case.conversation_id == Conversation.id).order_by(Case.id.desc())
                   .limit(1).correlate(Conversation).scalar_subquery())
    holder = aliased(Staff)
    query = (select(Conversation, Client.razon_social, holder.full_name, holder.username, unanswered,
                    Case.id, Case.number)
             .join(holder, holder.id == Conversation.held_by_id)
             .outerjoin(Client, Client.id == Conversation.client_id)
             .outerjoin(Case, Case.id == latest_case)
             .where(Conversation.mode == "human")
             .order_by(when((unanswered > 0, 0), else_=1), Conversation.last_inbound_at, Conversation.id))
    if staff.role != policy.RESPONSABLE:
        query = query.where(Conversation.held_by_id == staff.id)
    return [HeldRow(conversation_id=c.id, channel=c.channel, address=c.address, client=razon,
                    holder=full_name or username, last_inbound_at=c.last_inbound_at, unanswered=waiting or 0,
                    case_id=case_id, case_number=number)
            for c, razon, full_name, username, waiting, case_id, number in session.execute(query.limit(200))]


def open_tasks(session: Session, staff: Staff) -> list[tuple[StaffTask, Client | None, Conversation | None]]:
    query = (select(StaffTask, Client, Conversation)
             .outerjoin(Client, Client.id == StaffTask.client_id)
             .outerjoin(Conversation, Conversation.id == StaffTask.conversation_id)
             .where(StaffTask.status == "abierta")
             .order_by(StaffTask.created_at, StaffTask.id))
    if staff.role != policy.RESPONSABLE:
        if staff.role != "ejecutivo":
            return []
        query = query.where(or_(StaffTask.assignee_id == staff.id, StaffTask.assignee_id.is_(None)))
    return [tuple(row) for row in session.execute(query.limit(100))]


def filter_options(session: Session) -> dict:
    return {
        "ejecutivos": session.scalars(select(Staff).where(Staff.role == "ejecutivo", Staff.active.is_(True))
                                      .order_by(Staff.username)).all(),
        "channels": session.scalars(select(Conversation.channel).distinct().order_by(Conversation.channel)).all(),
    }


# --- one case ----------------------------------------------------------------------------------
def case_by_id(session: Session, case_id: int) -> Case | None:
    return session.scalars(
        select(Case).where(Case.id == case_id)
        .options(selectinload(Case.client).selectinload(Client.contacts),
                 selectinload(Case.client).selectinload(Client.products),
                 selectinload(Case.client).selectinload(Client.ejecutivo))
    ).one_or_none()


def case_by_number(session: Session, number: str) -> Case | None:
    return session.scalars(select(Case).where(Case.number == number.strip().upper())).one_or_none()


def has_acted(session: Session, case: Case, username: str) -> bool:
    return bool(session.scalar(select(exists().where(CaseEvent.case_id == case.id, CaseEvent.actor == username))))


def events(session: Session, case_id: int) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def staff_by_id(session: Session, staff_id: int | None) -> Staff | None:
    return session.get(Staff, staff_id) if staff_id is not None else None


def staff_by_username(session: Session, username: str) -> Staff | None:
    return session.scalars(select(Staff).where(Staff.username == username)).one_or_none()


def staff_of_role(session: Session, role: str) -> list[Staff]:
    return list(session.scalars(select(Staff).where(Staff.role == role, Staff.active.is_(True))
                                .order_by(Staff.username)))


def all_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.role, Staff.username)))


def conversation(session: Session, conversation_id: int | None) -> Conversation | None:
    return session.get(Conversation, conversation_id) if conversation_id is not None else None


def client_conversation_ids(session: Session, case: Case) -> list[int]:
    """The case's own conversation and every other conversation of its client (both channels)."""
    ids = set(session.scalars(select(Conversation.id).where(Conversation.client_id == case.client_id)))
    if case.conversation_id is not None:
        ids.add(case.conversation_id)
    return sorted(ids)


@dataclass
class TimelineItem:
    message: Message
    documents: list[Document]


def timeline(session: Session, conversation_ids: list[int], *, case_id: int | None = None) -> list[TimelineItem]:
    """The last messages of these conversations (and any message filed under the case), oldest first,
    each with the documents it brought."""
    condition = Message.conversation_id.in_(conversation_ids) if conversation_ids else None
    if case_id is not None:
        by_case = Message.case_id == case_id
        condition = by_case if condition is None else or_(condition, by_case)
    if condition is None:
        return []
    messages = list(session.scalars(select(Message).where(condition).order_by(Message.id.desc())
                                    .limit(TIMELINE_LIMIT)))
    messages.reverse()
    documents: dict[int, list[Document]] = {}
    if messages:
        for document in session.scalars(select(Document).where(
                Document.message_id.in_([m.id for m in messages])).order_by(Document.id)):
            documents.setdefault(document.message_id, []).append(document)
    return [TimelineItem(m, documents.get(m.id, [])) for m in messages]


def case_documents(session: Session, case_id: int) -> dict[int, Document]:
    return {d.id: d for d in session.scalars(select(Document).where(Document.case_id == case_id))}


def document(session: Session, document_id: int) -> Document | None:
    return session.get(Document, document_id)


def document_conversation_id(session: Session, document: Document) -> int | None:
    if document.message_id is None:
        return None
    return session.scalar(select(Message.conversation_id).where(Message.id == document.message_id))


def cases_of_conversation(session: Session, conversation_id: int) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.conversation_id == conversation_id)
                                .order_by(Case.id.desc()).limit(20)))


def last_inbound(session: Session, conversation_id: int) -> Message | None:
    return session.scalars(select(Message).where(Message.conversation_id == conversation_id,
                                                 Message.direction == "in")
                           .order_by(Message.id.desc()).limit(1)).one_or_none()


def open_handoffs(session: Session, conversation_id: int, *,
                  statuses: tuple[str, ...] = ("abierta",)) -> list[StaffTask]:
    return list(session.scalars(select(StaffTask).where(StaffTask.conversation_id == conversation_id,
                                                        StaffTask.status.in_(statuses))))


def client_by_nit(session: Session, nit: str) -> Client | None:
    return session.scalars(select(Client).where(Client.nit == nit.strip())).one_or_none()


def latest_conversation_of_client(session: Session, client_id: int) -> Conversation | None:
    return session.scalars(select(Conversation).where(Conversation.client_id == client_id)
                           .order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(1)).one_or_none()


def live_stamp(session: Session, conversation_ids: list[int], case_id: int | None) -> tuple:
    """Changes whenever a message arrives, a delivery status moves or the case log grows."""
    message_stamp = (0, 0)
    if conversation_ids:
        message_stamp = session.execute(
            select(func.coalesce(func.max(Message.id), 0), func.count(Message.id))
            .where(Message.conversation_id.in_(conversation_ids))).one()
    event_stamp = 0
    if case_id is not None:
        event_stamp = session.scalar(select(func.coalesce(func.max(CaseEvent.id), 0))
                                     .where(CaseEvent.case_id == case_id))
    return tuple(message_stamp), event_stamp

