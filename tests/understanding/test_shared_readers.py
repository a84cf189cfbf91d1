"""Option numbers, phones and amounts: one reading for every dialog that needs them."""
from __future__ import annotations

from decimal import Decimal

import pytest

from bot.understanding.amounts import amount, money
from bot.understanding.mentions import first_match, mentions
from bot.understanding.options import option_numbers
from bot.understanding.phones import phone_e164, shown_phone
from bot.understanding.phrases import find
from bot.understanding.words import word_matches


@pytest.mark.parametrize("text, numbers", [
    ("2", [2]), ("la 1 y la 3", [1, 3]), ("opciones 2 y 3", [2, 3]),
    ("por 3 meses", []), ("hola", []),
])
def test_option_numbers(text, numbers):
    assert option_numbers(text) == numbers


def test_option_numbers_may_allow_extra_words():
    assert option_numbers("la linea 2") == []
    assert option_numbers("la linea 2", also={"linea"}) == [2]


@pytest.mark.parametrize("raw, e164", [
    ("4412345", "+59144412345"),  # a local fixed line gets the area code
    ("441-2345", "+59144412345"),
    ("71234567", "+59171234567"),
    ("+591 4 4412345", "+59144412345"),
    ("12345", None),
    ("+4412345", None),  # written with "+": international as written, and no valid number
])
def test_phone_e164(raw, e164):
    assert phone_e164(raw, area_code="4") == e164


def test_shown_phone():
    assert shown_phone("+59171234567") == "+591 71234567"
    assert shown_phone(None) is None


def test_amount_reads_a_tariff_figure_and_money_rounds_half_up():
    assert amount(12.5) == Decimal("12.50") and amount("15") == Decimal("15.00")
    assert money(Decimal("270.665")) == Decimal("270.67")
    assert amount("270.665") == Decimal("270.66")  # a figure is not rounded like a computed sum


def test_the_three_word_matchers_differ_where_they_were_kept_apart():
    # Phonetic folding: "yamada" sounds like "llamada"; written, it is another word.
    assert word_matches("yamada", "llamada")
    assert find("yamada en espera", {"waiting": ["llamada en espera"]}) == []
    # As written, the longer of two overlapping phrases wins.
    groups = {"lift": ["levantar la suspension"], "suspend": ["suspension"]}
    assert find("quiero levantar la suspension", groups) == ["lift"]
    # Whole phrases: a multi-word phrase tolerates no typo, one long word does.
    assert mentions("otra empresa", "otra empresa") and not mentions("otra empreza", "otra empresa")
    groups = {"price": ["caro"], "quality": ["servicio"]}
    assert first_match("esta muy caro el servicio", groups) == "price"
