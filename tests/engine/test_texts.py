"""Amounts and dates as a Bolivian client reads them; missing template variables are errors."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from jinja2 import UndefinedError

from bot import texts


@pytest.mark.parametrize(("amount", "shown"), [
    (Decimal("36"), "Bs 36,00"), (Decimal("1250.5"), "Bs 1.250,50"), (12, "Bs 12,00"), ("0.5", "Bs 0,50"),
])
def test_money(amount, shown):
    assert texts.money(amount) == shown


def test_dates_and_periods():
    assert texts.long_date(date(2026, 12, 15)) == "15 de diciembre de 2026"
    assert texts.long_date("2027-01-01") == "1 de enero de 2027"
    assert texts.period("2026-08") == "agosto de 2026"


def test_a_missing_variable_fails_instead_of_printing_nothing():
    with pytest.raises(UndefinedError):
        texts.render("intake_case_opened", tramite=None)


def test_no_model_stays_registered_in_the_shared_machines(engine, portfolio):
    from bot.messaging import InboundMessage
    from dialogs.registry import dialogs

    for n, text in enumerate(["Hola", "7", "agosto", "cancelar"]):
        engine.handle(InboundMessage("console", "+59170000001", text, f"m-{n}"))
    assert all(dialog.machine.models == [] for dialog in dialogs().values())
