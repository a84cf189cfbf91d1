"""The analista's técnico preventivo list (procedure K.1-3): a CSV or XLSX file with one row per
opportunity found in the cartera (NIT, producto, oportunidad, detalle).

CSV as spreadsheets save it: ';' or ',' separated, UTF-8 with or without BOM, else Latin-1. Every
row is checked against the portfolio and every problem is reported with its row and column (the
portfolio importer's way: the file is accepted whole or not at all).
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from functools import lru_cache

from openpyxl import load_workbook
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot import nlu
from bot.models import Client, Product
from bot.rules import load_rules
from bot.texts import environment

REQUIRED = ("nit", "opportunity")
FIBRA, OTHER_PRODUCT, PROBLEM = "fibra", "otro_producto", "problema"
# What K migrates (dialogs/tramite_k.py): a product on cobre of these types.
MIGRATES = ("internet", "duo_pack", "multipack", "telefonia_fija")
MIGRATES_FROM = "cobre"


@dataclass(frozen=True)
class ListError:
    """One problem: `row` is the row in the file (header = 1), None for the whole file; `field` is
    the column as the file names it, None for a whole row."""

    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        return self.message


@lru_cache
def _rules() -> dict:
    return load_rules("campaigns.yaml")["preventive"]


@lru_cache
def _lookup(group: str) -> dict[str, str]:
    return {nlu.normalise(word): code for code, words in _rules()[group].items() for word in words}


def opportunity_code(value: str) -> str | None:
    return _lookup("opportunities").get(nlu.normalise(value))


def _error(row: int | None, field: str | None, key: str, **params) -> ListError:
    text = environment().get_template("backoffice/preventive_list_issue.txt").render(
        row=row, field=field, key=key, **params).strip()
    return ListError(row, field, text)


# --- reading the file ----------------------------------------------------------------------------
def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps a NIT typed as a number as 1020304021.0
    return str(value).strip()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # Excel's "CSV" on Windows; never fails


def _csv_rows(data: bytes) -> list[tuple[int, list[str]]]:
    text = _decode(data)
    first = text.split("\n", 1)[0]
    # A Spanish-locale Excel separates with ';' (and writes decimals with ','): trust the header.
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    for cells in reader:
        rows.append((reader.line_num, [_cell(c) for c in cells]))
    return rows


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [(n, [_cell(c) for c in values])
                for n, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()


def read(data: bytes, filename: str) -> tuple[list[tuple[int, list[str]]], list[ListError]]:
    """(row number, cells) of every non-empty row, header included."""
    name = filename.lower()
    try:
        if name.endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
            rows = _xlsx_rows(data)
        elif name.endswith((".csv", ".txt")):
            rows = _csv_rows(data)
        else:
            return [], [_error(None, None, "file_type", filename=filename)]
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, csv.Error) as exc:
        return [], [_error(None, None, "unreadable", detail=type(exc).__name__)]
    rows = [(n, cells) for n, cells in rows if any(cells)]  # spreadsheets append empty rows
    if not rows:
        return [], [_error(None, None, "empty")]
    return rows, []


def _header(cells: list[str]) -> tuple[dict[str, int], dict[str, str], list[ListError]]:
    known = _lookup("columns")
    positions: dict[str, int] = {}
    names: dict[str, str] = {}
    errors = []
    for position, cell in enumerate(cells):
        column = known.get(nlu.normalise(cell))
        if cell and column is None:
            errors.append(_error(1, cell, "unknown_column", expected=_expected_columns()))
        elif column in positions:
            errors.append(_error(1, cell, "duplicate_column"))
        elif column is not None:
            positions[column], names[column] = position, cell
    for column in (*REQUIRED, "product"):
        if column not in positions:
            errors.append(_error(1, _rules()["columns"][column][0], "missing_column"))
    return positions, names, errors


def _expected_columns() -> str:
    return ", ".join(words[0] for words in _rules()["columns"].values())


# --- checking each row against the portfolio -----------------------------------------------------
def parse_list(data: bytes, filename: str, *, session: Session) -> tuple[list[dict], list[ListError]]:
    """The campaign targets (dicts for launcher.add_targets) or, if anything is wrong, no rows and
    every error found."""
    rows, errors = read(data, filename)
    if errors:
        return [], errors
    (_, header), body = rows[0], rows[1:]
    positions, names, errors = _header(header)
    if errors:
        return [], errors
    if not body:
        return [], [_error(None, None, "no_rows")]
    def cell(cells: list[str], column: str) -> str:
        position = positions.get(column)
        return cells[position] if position is not None and position < len(cells) else ""

    portfolio = _Portfolio(session, nits={cell(c, "nit") for _, c in body},
                           references={cell(c, "product") for _, c in body})
    targets: list[dict] = []
    seen: dict[tuple, int] = {}
    for number, cells in body:
        row, row_errors = _check_row(portfolio, number, names, lambda column, cells=cells: cell(cells, column))
        errors += row_errors
        if row is None:
            continue
        key = (row["client_id"], row["product_id"])  # one target per client and product
        if key in seen:
            errors.append(_error(number, None, "duplicate_row", first=seen[key]))
            continue
        seen[key] = number
        targets.append(row)
    return ([], errors) if errors else (targets, [])


def _check_row(portfolio: _Portfolio, number: int, names: dict[str, str], value) -> tuple[dict | None, list]:
    errors = []
    nit, reference, detail = value("nit"), value("product"), value("detail")
    opportunity = opportunity_code(value("opportunity"))
    if not value("opportunity"):
        errors.append(_error(number, names["opportunity"], "required"))
    elif opportunity is None:
        errors.append(_error(number, names["opportunity"], "opportunity", value=value("opportunity"),
                             choices=", ".join(_rules()["opportunities"])))
    client = None
    if not nit:
        errors.append(_error(number, names["nit"], "required"))
    else:
        client = portfolio.clients.get(nit)
        if client is None:
            errors.append(_error(number, names["nit"], "unknown_nit", value=nit))
    if opportunity == OTHER_PRODUCT and not detail:
        errors.append(_error(number, names.get("detail", _rules()["columns"]["detail"][0]), "detail_required"))
    product = None
    if not reference:
        if opportunity in (FIBRA, PROBLEM):  # another product may be offered without naming one
            errors.append(_error(number, names["product"], "required"))
    elif client is not None:
        product, problem = portfolio.product(client, reference)
        if problem is not None:
            errors.append(_error(number, names["product"], problem[0], value=reference, **problem[1]))
        elif opportunity == FIBRA and (product.product_type not in MIGRATES or product.technology != MIGRATES_FROM):
            errors.append(_error(number, names["product"], "not_migratable", value=reference,
                                 technology=product.technology))
        elif product.status != "activo":
            errors.append(_error(number, names["product"], "not_active", value=reference, status=product.status))
    if errors:
        return None, errors
    return {"client_id": client.id, "product_id": product.id if product else None, "opportunity": opportunity,
            "detail": detail[:2000], "source_row": number}, []


CHUNK = 1000  # values per IN (...): well under SQLite's and PostgreSQL's parameter limits


class _Portfolio:
    """The clients and products a list names, read with a few queries (not two per row)."""

    def __init__(self, session: Session, *, nits: set[str], references: set[str]):
        self.clients: dict[str, Client] = {}
        self.products: dict[str, list[tuple[Product, str]]] = {}  # contract or number -> (product, NIT)
        for chunk in _chunks(sorted(v for v in nits if v)):
            self.clients.update((c.nit, c) for c in session.scalars(select(Client).where(Client.nit.in_(chunk))))
        for chunk in _chunks(sorted(v for v in references if v)):
            query = select(Product, Client.nit).join(Client, Client.id == Product.client_id).where(
                or_(Product.contract.in_(chunk), Product.number.in_(chunk)))
            for product, nit in session.execute(query):
                for value in {product.contract, product.number} & set(chunk):
                    self.products.setdefault(value, []).append((product, nit))

    def product(self, client: Client, reference: str) -> tuple[Product | None, tuple | None]:
        """The client's product by contract or line number; else why not (unknown, another client's).
        A contract wins over a line number, an active product over a retired one (as records.py)."""
        found = self.products.get(reference, [])
        mine = sorted((p for p, _ in found if p.client_id == client.id),
                      key=lambda p: (p.contract != reference, p.status != "activo", p.contract))
        if mine:
            return mine[0], None
        if found:
            return None, ("other_client", {"owner": found[0][1]})
        return None, ("unknown_product", {})


def _chunks(values: list[str]):
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]
