"""Money as the trámites quote it: Decimal with two decimals, never a float.

Two readings, named apart because they round differently: `amount` takes a figure written in the
rules (tariffs.yaml: 15, 12.5), `money` rounds a computed one (a prorated month) half up to the
cent, as an invoice does.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def amount(value) -> Decimal:
    """A tariff figure from YAML as money: Decimal with two decimals."""
    return Decimal(str(value)).quantize(CENT)


def money(value: Decimal) -> Decimal:
    """A computed amount rounded to the cent, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
