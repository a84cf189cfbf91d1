"""Import the portfolio CSV files: validate everything, then upsert by natural key.

All or nothing: every row of every file is checked first and any problem raises
PortfolioImportError before a single write. The caller owns the transaction; this module only
executes statements in it. Existing rows are read with one query per table and written with
bulk INSERT ... RETURNING and bulk UPDATE by primary key, so 10,000 rows cost a handful of
round trips, not one per row.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bot.models import (
    Base,
    BillingClaim,
    Client,
    Contact,
    Invoice,
    Product,
    Staff,
    Suspension,
    WorkOrder,
)
from bot.portfolio.csv_schema import (
    CLIENTES,
    CONTACTOS,
    FACTURAS,
    ORDENES,
    PRODUCTOS,
    RECLAMOS,
    SPEC_BY_NAME,
    SUSPENSIONES,
)
from bot.portfolio.issues import PortfolioImportError, message
from bot.portfolio.validation import RawFile, Row, read_directory, validate

EJECUTIVO_ROLE = "ejecutivo"


@dataclass(frozen=True)
class FileCounts:
    created: int = 0
    updated: int = 0  # existing rows whose values changed
    unchanged: int = 0  # existing rows the file repeats as they are


@dataclass
class ImportReport:
    files: dict[str, FileCounts] = field(default_factory=dict)  # only the files present
    staff_created: list[str] = field(default_factory=list)  # usernames of new ejecutivos

    def total(self) -> FileCounts:
        counts = self.files.values()
        return FileCounts(sum(c.created for c in counts), sum(c.updated for c in counts),
                          sum(c.unchanged for c in counts))

    def __str__(self) -> str:
        total = self.total()
        return message("summary_short", created=total.created, updated=total.updated,
                       unchanged=total.unchanged)


def import_cartera(session: Session, directory: Path) -> ImportReport:
    files, issues = read_directory(Path(directory))
    existing = _load_existing(session, files)
    rows, row_issues = validate(files, known={
        name: existing[name].keys() for name in (CLIENTES, PRODUCTOS) if name in existing})
    issues += row_issues
    if issues:
        raise PortfolioImportError(issues)
    report = _write(session, rows, existing)
    # Bulk statements bypass the identity map; make ORM objects the caller holds re-read.
    session.expire_all()
    return report


MODELS: dict[str, type[Base]] = {
    CLIENTES: Client, CONTACTOS: Contact, PRODUCTOS: Product, FACTURAS: Invoice,
    ORDENES: WorkOrder, RECLAMOS: BillingClaim, SUSPENSIONES: Suspension,
}
# The natural key of each file's rows, over model attributes: the same function serves rows
# read from the database and rows built from the CSV (with references already resolved to ids).
NATURAL_KEYS: dict[str, Callable[[dict], object]] = {
    CLIENTES: lambda r: r["nit"],
    CONTACTOS: lambda r: (r["client_id"], r["name"].casefold()),  # as csv_schema.key_part
    PRODUCTOS: lambda r: r["contract"],
    FACTURAS: lambda r: (r["product_id"], r["period"]),
    ORDENES: lambda r: r["number"],
    RECLAMOS: lambda r: r["number"],
    SUSPENSIONES: lambda r: (r["product_id"], r["starts_on"]),
}
# Which tables a file needs to read: its own, and those its references point into.
NEEDS = {
    CLIENTES: (CLIENTES,), CONTACTOS: (CLIENTES, CONTACTOS), PRODUCTOS: (CLIENTES, PRODUCTOS),
    FACTURAS: (PRODUCTOS, FACTURAS), ORDENES: (PRODUCTOS, ORDENES),
    RECLAMOS: (PRODUCTOS, RECLAMOS), SUSPENSIONES: (PRODUCTOS, SUSPENSIONES),
}

# Existing rows of one table as plain dicts (with their "id"), by natural key.
Table = dict[object, dict]


def _load_existing(session: Session, files: dict[str, RawFile]) -> dict[str, Table]:
    """One SELECT per table the present files touch."""
    needed = {table for name in files for table in NEEDS[name]}
    existing = {}
    for name, model in MODELS.items():
        if name not in needed:
            continue
        statement = select(*model.__table__.columns)
        if name == FACTURAS:
            # Invoices accumulate month after month; only the periods being imported matter.
            periods = files[FACTURAS].key_values("periodo") or set()
            statement = statement.where(Invoice.period.in_(sorted(periods)))
        key = NATURAL_KEYS[name]
        existing[name] = {key(row): row for row in map(dict, session.execute(statement).mappings())}
    return existing


def _write(session: Session, rows: dict[str, list[Row]],
           existing: dict[str, Table]) -> ImportReport:
    report = ImportReport()
    # Natural key -> id of the rows references point at; new rows are added as inserted.
    client_ids = {nit: row["id"] for nit, row in existing.get(CLIENTES, {}).items()}
    product_ids = {contract: row["id"] for contract, row in existing.get(PRODUCTOS, {}).items()}
    ids_by = {CLIENTES: (Client.nit, client_ids), PRODUCTOS: (Product.contract, product_ids)}
    refs = {"nit": client_ids, "contrato": product_ids}
    for name, model in MODELS.items():  # dependency order: clients before what points at them
        if name not in rows:
            continue
        if name == CLIENTES:
            usernames = {r.values["ejecutivo"] for r in rows[CLIENTES]}
            refs["ejecutivo"] = _ensure_staff(session, usernames, report)
        values = [_attributes(name, r, refs) for r in rows[name]]
        report.files[name] = _upsert(session, model, values, existing[name],
                                     key=NATURAL_KEYS[name], ids_by=ids_by.get(name))
    return report


def _attributes(file: str, row: Row, refs: dict[str, dict]) -> dict:
    """CSV values -> model attributes; reference columns become the referenced row's id."""
    spec = SPEC_BY_NAME[file]
    out = {}
    for name, value in row.values.items():
        column = spec.column(name)
        is_reference = column.refers_to is not None or name == "ejecutivo"
        out[column.attr] = refs[name][value] if is_reference else value
    return out


def _ensure_staff(session: Session, usernames: Iterable[str],
                  report: ImportReport) -> dict[str, int]:
    wanted = set(usernames)
    # (A Result has .keys(), so dict(result) would take it for a mapping: unpack rows instead.)
    found = {username: id_ for username, id_ in session.execute(
        select(Staff.username, Staff.id).where(Staff.username.in_(sorted(wanted))))}
    missing = sorted(wanted - found.keys())
    if missing:
        created = session.execute(insert(Staff).returning(Staff.username, Staff.id),
                                  [{"username": u, "role": EJECUTIVO_ROLE} for u in missing])
        found.update((username, id_) for username, id_ in created)
        report.staff_created = missing
    return found


def _upsert(session: Session, model: type[Base], values: list[dict], existing: Table, *,
            key: Callable[[dict], object], ids_by: tuple | None) -> FileCounts:
    """Insert new keys, update changed ones; ids_by=(key column, dict) collects new rows' ids.

    Ids are matched on the key column RETURNING gives back: asking RETURNING for parameter
    order instead makes SQLite send one INSERT per row.
    """
    inserts: list[dict] = []
    updates: list[dict] = []
    unchanged = 0
    for row in values:
        current = existing.get(key(row))
        if current is None:
            inserts.append(row)
        elif any(current[attr] != value for attr, value in row.items()):
            updates.append({**row, "id": current["id"]})
        else:
            unchanged += 1
    if inserts and ids_by is not None:
        column, ids = ids_by
        returned = session.execute(insert(model).returning(model.id, column), inserts)
        ids.update((natural, id_) for id_, natural in returned)
    elif inserts:
        session.execute(insert(model), inserts)
    if updates:
        session.execute(update(model), updates)
    return FileCounts(len(inserts), len(updates), unchanged)
