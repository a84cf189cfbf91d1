"""Every text a client or staff member reads is a Jinja2 template; this is the one Environment."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.rules import load_rules, menu_items

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
LOCALE = "es_BO"


def money(amount: Decimal | float | str) -> str:
    """Bs 1.250,00 — the way amounts appear on a Bolivian invoice."""
    return "Bs " + format_decimal(Decimal(str(amount)), format="#,##0.00", locale=LOCALE)


def long_date(value: date | datetime | str) -> str:
    """15 de diciembre de 2026."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, "d 'de' MMMM 'de' y", locale=LOCALE)


def period(value: str) -> str:
    """'2026-08' -> 'agosto de 2026'."""
    year, month = value.split("-")
    return format_date(date(int(year), int(month), 1), "MMMM 'de' y", locale=LOCALE)


@lru_cache
def labels() -> dict:
    return load_rules("labels.yaml")


def product_label(product) -> str:
    name = labels()["product_types"].get(product.product_type, product.product_type)
    number = f" {product.number}" if product.number else ""
    return f"{name}{number} (contrato {product.contract}, {product.address})"


@lru_cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "htm", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["long_date"] = long_date
    env.filters["period"] = period
    env.filters["product_label"] = product_label
    env.filters["charge_text"] = lambda code: labels()["charges"][code]
    env.globals["labels"] = labels
    env.globals["menu_items"] = menu_items
    return env


def render(name: str, **context) -> str:
    """Render `templates/messages/<name>.j2` into a client-facing message."""
    text = environment().get_template(f"messages/{name}.j2").render(**context)
    # Templates are written readable; collapse the blank lines that control blocks leave.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out)


def render_cli(name: str, **context) -> str:
    """Operator-facing lines printed by `python -m bot ...` (templates/cli/)."""
    return environment().get_template(f"cli/{name}.j2").render(**context).rstrip("\n")
