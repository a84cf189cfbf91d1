"""The portfolio ("cartera de clientes") CSV format: files, columns, and how each value is read.

Seven files, each optional, UTF-8 with a header row:

    clientes.csv      nit, razon_social, tipo, ejecutivo, [email], [whatsapp]
    contactos.csv     nit, nombre, [cargo], [telefono], [email]
    productos.csv     contrato, nit, producto, [numero], tecnologia, [plan], tarifa_mensual,
                      fecha_instalacion, [permanencia_minima_meses], estado, [direccion]
    facturas.csv      contrato, periodo, importe, estado, vencimiento
    ordenes.csv       numero, contrato, tipo, estado, fecha, [causal]
    reclamos.csv      numero, contrato, periodo, estado, [resolucion]
    suspensiones.csv  contrato, desde, hasta

A column in brackets may be left out of the header: new rows then get the model's default and
existing rows keep their value, so a partial export cannot blank data it does not carry.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import phonenumbers

from bot.portfolio.issues import FieldError

Parser = Callable[[str], object]

CLIENTES = "clientes.csv"
CONTACTOS = "contactos.csv"
PRODUCTOS = "productos.csv"
FACTURAS = "facturas.csv"
ORDENES = "ordenes.csv"
RECLAMOS = "reclamos.csv"
SUSPENSIONES = "suspensiones.csv"


# --- value parsers: str (already stripped, never empty) -> value, or FieldError ----------------

def text(maximum: int | None, *, multiline: bool = False) -> Parser:
    def parse(value: str) -> str:
        # Spreadsheets leave doubled and trailing blanks; a resolution may keep its paragraphs.
        lines = value.splitlines() if multiline else [value]
        value = "\n".join(" ".join(line.split()) for line in lines).strip()
        if maximum is not None and len(value) > maximum:
            raise FieldError("too_long", length=len(value), maximum=maximum)
        return value
    return parse


def _pattern(regex: str, key: str, maximum: int) -> Parser:
    compiled = re.compile(regex)

    def parse(value: str) -> str:
        if not compiled.fullmatch(value):
            raise FieldError(key, value=value)
        if len(value) > maximum:
            raise FieldError("too_long", length=len(value), maximum=maximum)
        return value
    return parse


nit = _pattern(r"[0-9]{4,20}", "nit", 20)
code = _pattern(r"[0-9A-Za-z./-]+", "code", 30)
username = _pattern(r"[0-9A-Za-z._-]+", "username", 64)


def _fold(value: str) -> str:
    """'Daño' -> 'dano': enum values are matched without case or accents."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def choice(*choices: str) -> Parser:
    def parse(value: str) -> str:
        folded = _fold(value)
        if folded not in choices:
            raise FieldError("choice", value=value, choices=", ".join(choices))
        return folded
    return parse


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_AMOUNT = re.compile(r"\d{1,10}(\.\d{1,2})?")  # Numeric(12, 2): ten digits before the point


def iso_date(value: str) -> date:
    # fromisoformat alone would also take '20260315' and week dates; the format is strict.
    if not _DATE.fullmatch(value):
        raise FieldError("date", value=value)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError("date", value=value) from None


def period(value: str) -> str:
    if not _PERIOD.fullmatch(value):
        raise FieldError("period", value=value)
    return value


def amount(value: str) -> Decimal:
    if not _AMOUNT.fullmatch(value):
        raise FieldError("amount", value=value)
    return Decimal(value)


def months(value: str) -> int:
    if not value.isascii() or not value.isdigit() or int(value) > 120:
        raise FieldError("integer", value=value, minimum=0, maximum=120)
    return int(value)


def phone(value: str) -> str:
    """Any way a Bolivian writes a number -> E.164, the form the channels identify people by."""
    try:
        number = phonenumbers.parse(value, "BO")
    except phonenumbers.NumberParseException:
        raise FieldError("phone", value=value) from None
    if not phonenumbers.is_valid_number(number):
        raise FieldError("phone", value=value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+")


def email(value: str) -> str:
    # Lower-cased so lookups compare with '=' and can use the index.
    if not _EMAIL.fullmatch(value):
        raise FieldError("email", value=value)
    if len(value) > 254:
        raise FieldError("too_long", length=len(value), maximum=254)
    return value.lower()


# --- the files -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    name: str
    attr: str  # model attribute it lands in
    parse: Parser
    optional: bool = False  # may be missing from the header, and may be empty
    refers_to: str | None = None  # a file whose key this value must name (or the database)


@dataclass(frozen=True)
class FileSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # natural key: columns that identify a row across imports

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


C = Column
SPECS: tuple[FileSpec, ...] = (  # in dependency order: a file only refers to earlier ones
    FileSpec(CLIENTES, (
        C("nit", "nit", nit),
        C("razon_social", "razon_social", text(200)),
        C("tipo", "tipo", choice("privada", "publica")),
        C("ejecutivo", "ejecutivo_id", username),
        C("email", "email", email, optional=True),
        C("whatsapp", "whatsapp", phone, optional=True),
    ), key=("nit",)),
    FileSpec(CONTACTOS, (
        C("nit", "client_id", nit, refers_to=CLIENTES),
        C("nombre", "name", text(200)),
        C("cargo", "role", text(120), optional=True),
        C("telefono", "phone", phone, optional=True),
        C("email", "email", email, optional=True),
    ), key=("nit", "nombre")),
    FileSpec(PRODUCTOS, (
        C("contrato", "contract", code),
        C("nit", "client_id", nit, refers_to=CLIENTES),
        C("producto", "product_type", choice("telefonia_fija", "internet", "tv_cable", "hspa",
                                             "duo_pack", "multipack", "boliviatel")),
        C("numero", "number", code, optional=True),
        C("tecnologia", "technology", choice("cobre", "fibra", "hspa", "movil")),
        C("plan", "plan", text(80), optional=True),
        C("tarifa_mensual", "monthly_fee", amount),
        C("fecha_instalacion", "installed_on", iso_date),
        C("permanencia_minima_meses", "min_permanence_months", months, optional=True),
        C("estado", "status", choice("activo", "suspendido", "retirado")),
        C("direccion", "address", text(300), optional=True),
    ), key=("contrato",)),
    FileSpec(FACTURAS, (
        C("contrato", "product_id", code, refers_to=PRODUCTOS),
        C("periodo", "period", period),
        C("importe", "amount", amount),
        C("estado", "status", choice("pendiente", "pagada")),
        C("vencimiento", "due_on", iso_date),
    ), key=("contrato", "periodo")),
    FileSpec(ORDENES, (
        C("numero", "number", code),
        C("contrato", "product_id", code, refers_to=PRODUCTOS),
        C("tipo", "kind", choice("dano")),
        C("estado", "status", choice("registrada", "asignada", "cerrada_sin_solucion",
                                     "cerrada_solucionada")),
        C("fecha", "opened_on", iso_date),
        C("causal", "cause", text(300), optional=True),
    ), key=("numero",)),
    FileSpec(RECLAMOS, (
        C("numero", "number", code),
        C("contrato", "product_id", code, refers_to=PRODUCTOS),
        C("periodo", "period", period),
        C("estado", "status", choice("asignado", "atendido")),
        C("resolucion", "resolution", text(None, multiline=True), optional=True),
    ), key=("numero",)),
    FileSpec(SUSPENSIONES, (
        C("contrato", "product_id", code, refers_to=PRODUCTOS),
        C("desde", "starts_on", iso_date),
        C("hasta", "ends_on", iso_date),
    ), key=("contrato", "desde")),
)
SPEC_BY_NAME = {spec.name: spec for spec in SPECS}

# Empty optional values become the model's default for that column.
BLANK = {"email": "", "whatsapp": "", "role": "", "phone": "", "number": "", "plan": "",
         "min_permanence_months": 0, "address": "", "cause": "", "resolution": ""}


def key_part(column: str, value: object) -> object:
    """Contact names are matched without case: 'ANA PÉREZ' updates 'Ana Pérez'."""
    return value.casefold() if column == "nombre" and isinstance(value, str) else value
