"""The system of record as dialogs see it: who the client is, what they have, what is open.

Today it reads the tables the portfolio import fills; a live adapter to Smartflex can replace
DatabaseRecords by implementing SystemOfRecord. Results are small frozen dataclasses, never ORM
objects, so nothing a dialog holds can lazy-load or be written back by accident.

Callers pass normalised values: phones in E.164 and emails as written (compared lower-cased,
which is how the importer stores them — so '=' on the indexed column is enough).
Every query filters on an indexed column; see tests/portfolio/test_records.py.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from sqlalchemy import Select, select, union
from sqlalchemy.orm import Session

from bot.models import BillingClaim, Client, Contact, Invoice, Product, Staff, Suspension, WorkOrder


@dataclass(frozen=True)
class ClientInfo:
    id: int
    nit: str
    razon_social: str
    tipo: str  # privada | publica
    ejecutivo_username: str | None
    email: str
    whatsapp: str


@dataclass(frozen=True)
class ProductInfo:
    id: int
    contract: str
    client_id: int
    product_type: str
    number: str
    technology: str
    plan: str
    monthly_fee: Decimal
    installed_on: date
    min_permanence_months: int
    status: str  # activo | suspendido | retirado
    address: str


@dataclass(frozen=True)
class InvoiceInfo:
    contract: str
    period: str  # YYYY-MM
    amount: Decimal
    status: str
    due_on: date


@dataclass(frozen=True)
class WorkOrderInfo:
    number: str
    contract: str
    kind: str
    status: str
    opened_on: date
    cause: str


@dataclass(frozen=True)
class ClaimInfo:
    number: str
    contract: str
    period: str
    status: str  # asignado | atendido
    resolution: str


@dataclass(frozen=True)
class SuspensionInfo:
    contract: str
    starts_on: date
    ends_on: date


class SystemOfRecord(Protocol):
    def client_by_nit(self, nit: str) -> ClientInfo | None: ...
    def client_by_id(self, client_id: int) -> ClientInfo | None: ...
    def client_by_phone(self, e164: str) -> ClientInfo | None: ...
    def client_by_email(self, email: str) -> ClientInfo | None: ...
    def clients_by_phone(self, e164: str) -> list[ClientInfo]: ...
    def clients_by_email(self, email: str) -> list[ClientInfo]: ...
    def products(self, client_id: int, *, types: Iterable[str] | None = None,
                 active_only: bool = False) -> list[ProductInfo]: ...
    def product_by_contract_or_number(self, client_id: int, value: str) -> ProductInfo | None: ...
    def pending_invoices(self, client_id: int) -> list[InvoiceInfo]: ...
    def work_orders(self, contract: str) -> list[WorkOrderInfo]: ...
    def claims(self, contract: str, period: str | None = None) -> list[ClaimInfo]: ...
    def suspensions(self, contract: str) -> list[SuspensionInfo]: ...


_CLIENT = (Client.id, Client.nit, Client.razon_social, Client.tipo, Staff.username, Client.email,
           Client.whatsapp)
_PRODUCT = (Product.id, Product.contract, Product.client_id, Product.product_type, Product.number,
            Product.technology, Product.plan, Product.monthly_fee, Product.installed_on,
            Product.min_permanence_months, Product.status, Product.address)


class DatabaseRecords:
    def __init__(self, session: Session):
        self.session = session

    # --- clients ---------------------------------------------------------------------------
    def client_by_nit(self, nit: str) -> ClientInfo | None:
        return self._one_client(Client.nit == nit.strip())

    def client_by_id(self, client_id: int) -> ClientInfo | None:
        return self._one_client(Client.id == client_id)

    def client_by_phone(self, e164: str) -> ClientInfo | None:
        """The client this number belongs to; None if unknown or shared by several clients
        (an outside accountant may serve many empresas: then the dialog asks for the NIT)."""
        return _only(self.clients_by_phone(e164))

    def clients_by_phone(self, e164: str) -> list[ClientInfo]:
        e164 = e164.strip()
        if not e164:  # '' is the stored "no number": it would match everybody
            return []
        return self._clients_in(union(
            select(Contact.client_id).where(Contact.phone == e164),
            select(Client.id).where(Client.whatsapp == e164),
        ))

    def client_by_email(self, email: str) -> ClientInfo | None:
        """Same rule as client_by_phone: None when unknown or ambiguous."""
        return _only(self.clients_by_email(email))

    def clients_by_email(self, email: str) -> list[ClientInfo]:
        email = email.strip().lower()
        if not email:
            return []
        # NOTE clients.email has no index yet (see the strict xfail in test_records.py).
        return self._clients_in(union(
            select(Contact.client_id).where(Contact.email == email),
            select(Client.id).where(Client.email == email),
        ))

    def _client_query(self) -> Select:
        return select(*_CLIENT).outerjoin(Staff, Staff.id == Client.ejecutivo_id)

    def _one_client(self, condition) -> ClientInfo | None:
        row = self.session.execute(self._client_query().where(condition)).first()
        return ClientInfo(*row) if row else None

    def _clients_in(self, ids) -> list[ClientInfo]:
        query = self._client_query().where(Client.id.in_(ids)).order_by(Client.id)
        return [ClientInfo(*row) for row in self.session.execute(query)]

    # --- products --------------------------------------------------------------------------
    def products(self, client_id: int, *, types: Iterable[str] | None = None,
                 active_only: bool = False) -> list[ProductInfo]:
        """The client's products by contract; active_only keeps status 'activo'."""
        query = select(*_PRODUCT).where(Product.client_id == client_id)
        if types is not None:
            query = query.where(Product.product_type.in_(list(types)))
        if active_only:
            query = query.where(Product.status == "activo")
        return [ProductInfo(*row) for row in self.session.execute(query.order_by(Product.contract))]

    def product_by_contract_or_number(self, client_id: int, value: str) -> ProductInfo | None:
        """One of this client's products, named by contract or by line number; never another
        client's. A contract wins over a number; when several products share a line number
        (a line and its ADSL), an active one with the lowest contract is returned."""
        value = value.strip()
        if not value:
            return None
        query = select(*_PRODUCT).where(
            Product.client_id == client_id, (Product.contract == value) | (Product.number == value))
        found = [ProductInfo(*row) for row in self.session.execute(query)]
        found.sort(key=lambda p: (p.contract != value, p.status != "activo", p.contract))
        return found[0] if found else None

    # --- what is open on a product ---------------------------------------------------------
    def pending_invoices(self, client_id: int) -> list[InvoiceInfo]:
        """Unpaid invoices of all the client's products, the oldest due first."""
        query = (
            select(Product.contract, Invoice.period, Invoice.amount, Invoice.status, Invoice.due_on)
            .join(Product, Product.id == Invoice.product_id)
            .where(Product.client_id == client_id, Invoice.status == "pendiente")
            .order_by(Invoice.due_on, Product.contract, Invoice.period)
        )
        return [InvoiceInfo(*row) for row in self.session.execute(query)]

    def work_orders(self, contract: str) -> list[WorkOrderInfo]:
        """Damage orders of a contract, newest first (the procedure looks at the last one)."""
        query = (
            select(WorkOrder.number, Product.contract, WorkOrder.kind, WorkOrder.status,
                   WorkOrder.opened_on, WorkOrder.cause)
            .join(Product, Product.id == WorkOrder.product_id)
            .where(Product.contract == contract.strip())
            .order_by(WorkOrder.opened_on.desc(), WorkOrder.id.desc())
        )
        return [WorkOrderInfo(*row) for row in self.session.execute(query)]

    def claims(self, contract: str, period: str | None = None) -> list[ClaimInfo]:
        """Billing claims of a contract, newest period first; optionally of one period."""
        query = (
            select(BillingClaim.number, Product.contract, BillingClaim.period, BillingClaim.status,
                   BillingClaim.resolution)
            .join(Product, Product.id == BillingClaim.product_id)
            .where(Product.contract == contract.strip())
        )
        if period is not None:
            query = query.where(BillingClaim.period == period)
        query = query.order_by(BillingClaim.period.desc(), BillingClaim.id.desc())
        return [ClaimInfo(*row) for row in self.session.execute(query)]

    def suspensions(self, contract: str) -> list[SuspensionInfo]:
        """Temporary suspensions of a contract, the latest first (one per year is allowed)."""
        query = (
            select(Product.contract, Suspension.starts_on, Suspension.ends_on)
            .join(Product, Product.id == Suspension.product_id)
            .where(Product.contract == contract.strip())
            .order_by(Suspension.starts_on.desc())
        )
        return [SuspensionInfo(*row) for row in self.session.execute(query)]


def _only(clients: list[ClientInfo]) -> ClientInfo | None:
    return clients[0] if len(clients) == 1 else None
