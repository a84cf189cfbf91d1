"""Database tables. Every query lives in the repositories; this module is only the schema."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

Money = Numeric(12, 2)
# BigInteger ids on PostgreSQL, but SQLite only auto-increments INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32))  # ejecutivo, gestor_comercial, ...
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)


class Client(Base):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    nit: Mapped[str] = mapped_column(String(20), unique=True)
    razon_social: Mapped[str] = mapped_column(String(200))
    tipo: Mapped[str] = mapped_column(String(10))  # privada | publica
    ejecutivo_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    email: Mapped[str] = mapped_column(String(254), default="", index=True)  # lower-case
    whatsapp: Mapped[str] = mapped_column(String(20), default="", index=True)

    ejecutivo: Mapped[Staff | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(back_populates="client")
    products: Mapped[list[Product]] = relationship(back_populates="client")


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("client_id", "name"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20), default="", index=True)  # E.164
    email: Mapped[str] = mapped_column(String(254), default="", index=True)  # lower-case

    client: Mapped[Client] = relationship(back_populates="contacts")


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    contract: Mapped[str] = mapped_column(String(30), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    product_type: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(30), default="", index=True)
    technology: Mapped[str] = mapped_column(String(10))
    plan: Mapped[str] = mapped_column(String(80), default="")
    monthly_fee: Mapped[Decimal] = mapped_column(Money)
    installed_on: Mapped[date] = mapped_column(Date)
    min_permanence_months: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12))
    address: Mapped[str] = mapped_column(String(300), default="")

    client: Mapped[Client] = relationship(back_populates="products")


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("product_id", "period"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(10))  # pendiente | pagada
    due_on: Mapped[date] = mapped_column(Date)


class WorkOrder(Base):
    __tablename__ = "work_orders"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # dano
    status: Mapped[str] = mapped_column(String(24))
    opened_on: Mapped[date] = mapped_column(Date)
    cause: Mapped[str] = mapped_column(String(300), default="")


class BillingClaim(Base):
    __tablename__ = "billing_claims"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(12))  # asignado | atendido
    resolution: Mapped[str] = mapped_column(Text, default="")


class Suspension(Base):
    __tablename__ = "suspensions"
    __table_args__ = (UniqueConstraint("product_id", "starts_on"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "address"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(254))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    dialog: Mapped[str] = mapped_column(String(32), default="main")
    state: Mapped[str] = mapped_column(String(48), default="start")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    mode: Mapped[str] = mapped_column(String(8), default="bot")  # bot | human
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Message(Base):
    """Append-only: rows are inserted, only the delivery status of outbound ones changes."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_messages_conversation", "conversation_id", "id"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    author: Mapped[str] = mapped_column(String(64), default="")  # client | bot | staff username
    status: Mapped[str] = mapped_column(String(16), default="")  # outbound delivery status
    error_code: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The id of the webhook/IMAP fetch that produced it (an inbound message and its replies share
    # it), so one id follows a message through web, worker and provider logs.
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    redacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # body blanked (retention)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_queue", "status", "current_role", "due_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    tramite: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(20), default="abierto")
    current_role: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    quoted_costs: Mapped[list] = mapped_column(JSON, default=list)
    requirements: Mapped[list] = mapped_column(JSON, default=list)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    client: Mapped[Client] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(order_by="CaseEvent.id")


class CaseEvent(Base):
    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    filename: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # file deleted (retention)
    # The letter's words (bot/letters), read by the worker's read_letter job: text | ocr |
    # unreadable; None while not read (or not a letter read at all).
    text: Mapped[str | None] = mapped_column(Text)
    text_status: Mapped[str | None] = mapped_column(String(12))


class Outbox(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(254))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffTask(Base):
    """Work for a person that is not (yet) a case: handoffs, calls to make."""

    __tablename__ = "staff_tasks"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="abierta")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Job(Base):
    """Durable background work (media downloads, follow-ups, campaigns), run by the worker."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "status", "due_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|done|failed
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MailboxState(Base):
    """Where IMAP polling resumes: (UIDVALIDITY, last UID) per mailbox folder."""

    __tablename__ = "mailbox_states"
    __table_args__ = (UniqueConstraint("account", "folder"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account: Mapped[str] = mapped_column(String(254))
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PendingTurn(Base):
    """An inbound message the webhook stored for the worker to answer (the dialog's turn).

    The webhook answers Twilio after one short transaction; the worker takes a conversation's
    pending turns in message order under the conversation's lock and deletes each row in the
    transaction that answers it, so the table only ever holds what is waiting."""

    __tablename__ = "pending_turns"
    __table_args__ = (Index("ix_pending_turns_conversation", "conversation_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InboundFailure(Base):
    """An inbound message that could not be processed: kept for staff to see, never dropped."""

    __tablename__ = "inbound_failures"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(255), default="")
    sender: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- Back-office ------------------------------------------------------------------------------

class StaffSession(Base):
    """A signed-in staff member. The cookie carries a signed random token; only its hash is
    stored, so a database leak does not hand out live sessions. A new row on every login."""

    __tablename__ = "staff_sessions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """Every sign-in try; throttling counts recent failures per account and per address here,
    so all web processes share one count."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username", "username", "at"),
        Index("ix_login_attempts_address", "address", "at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Visit(Base):
    """Cronograma de visitas (procedure L, Anexo 1). One technician, one slot, one visit: the
    partial unique index refuses a second booking unless the first was cancelled."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ux_visits_technician_slot", "technician", "visit_date", "slot", unique=True,
              sqlite_where=text("status != 'cancelada'"),
              postgresql_where=text("status != 'cancelada'")),
        Index("ix_visits_date", "visit_date"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    visit_date: Mapped[date] = mapped_column(Date)
    slot: Mapped[str] = mapped_column(String(16))
    technician: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(300), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="programada")  # programada|realizada|cancelada
    engineering_report: Mapped[str] = mapped_column(Text, default="")  # "Servicio de Ingeniería"
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    client: Mapped[Client] = relationship()
    case: Mapped[Case | None] = relationship()


class CampaignOptout(Base):
    """A contact who asked not to receive campaign messages ("no deseo recibir mensajes", "STOP").
    Case messages still reach them; every campaign send checks this table (bot/campaigns)."""

    __tablename__ = "campaign_optouts"
    __table_args__ = (UniqueConstraint("channel", "address"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(254))
    words: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CampaignSend(Base):
    """One campaign message to one contact (mora of 2026-12 to Importadora's WhatsApp) and what the
    contact answered: the record of the interaction, the guard against sending a run twice, and
    the source of campaign reports."""

    __tablename__ = "campaign_sends"
    __table_args__ = (
        UniqueConstraint("campaign", "run", "client_id", "channel"),
        Index("ix_campaign_sends_client", "client_id", "id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign: Mapped[str] = mapped_column(String(32))  # mora | fidelizacion | preventivo
    run: Mapped[str] = mapped_column(String(32))  # e.g. the period "2026-12"
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(254))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    status: Mapped[str] = mapped_column(String(16))  # sent | opted_out
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    answer: Mapped[str] = mapped_column(String(32), default="")  # e.g. paid | promise
    words: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(32), default="")  # follow-up: paid | still_pending
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Campaign(Base):
    """A campaign staff create, preview and launch from the back-office: fidelización (procedure J,
    over the portfolio or a chosen list) or técnico preventivo (K, over an uploaded list). Its
    sends are campaign_sends rows with this campaign_id; its audience is campaign_targets."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # fidelizacion | preventivo
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="borrador")  # borrador | lanzada | terminada
    audience: Mapped[str] = mapped_column(String(12), default="lista")  # cartera | lista
    options: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. {"ejecutivo_id": 3}
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    launched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignTarget(Base):
    """One client a campaign reaches, with what it offers or checks (for K: the opportunity the
    analista found, e.g. migrate this ADSL line to fibre) and where it came from (the list's row)."""

    __tablename__ = "campaign_targets"
    __table_args__ = (UniqueConstraint("campaign_id", "client_id", "product_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    opportunity: Mapped[str] = mapped_column(String(24), default="")  # fibra | otro_producto | problema
    detail: Mapped[str] = mapped_column(Text, default="")
    source_row: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pendiente")  # pendiente | enviado | respondido | omitido
    outcome: Mapped[str] = mapped_column(String(32), default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
