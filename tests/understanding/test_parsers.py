"""The shared parsers of the slot registry, on a Turn-like object as the dialog base hands them."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from bot.understanding.slots import PARSERS, Slot, fill, past_months, yes_no

TODAY = date(2026, 11, 20)


def turn(text: str = "", *, state: str = "start", months=(), data=None):
    return SimpleNamespace(text=text, state=state, data=dict(data or {}), scratch={}, today=TODAY,
                           nlu=SimpleNamespace(entities={"months": list(months)} if months else {}))


def test_past_months_takes_the_months_up_to_the_current_one_sorted_once_each():
    assert past_months(turn(months=["2026-11", "2026-08", "2026-08"])) == ["2026-08", "2026-11"]


def test_a_month_still_to_come_takes_nothing_and_is_noted_for_the_question():
    asked = turn(months=["2026-10", "2026-12"])
    assert past_months(asked) is None
    assert asked.scratch["future_months"] == ["2026-12"]
    assert PARSERS["past_months"].context(asked) == {"future": ["2026-12"]}


def test_no_month_named_is_no_answer():
    assert past_months(turn("el detalle por favor")) is None


@pytest.mark.parametrize("text, answer", [
    ("dale", True), ("correcto", True), ("así es", True), ("sí, por favor", True),
    ("mejor no", False), ("no", False), ("no gracias", False),
    ("tal vez", None), ("no tengo internet desde ayer", None),
])
def test_yes_no_reads_natural_answers(text, answer):
    assert yes_no(turn(text)) is answer


def test_a_yes_no_slot_is_read_only_in_its_state():
    slots = (Slot("accepts", "yes_no", "confirm", "K_ask_excess", parser="yes_no"),)
    elsewhere = turn("sí", state="start")
    assert fill(slots, elsewhere) == set() and elsewhere.data == {}
    asked = turn("sí", state="confirm")
    assert fill(slots, asked) == {"accepts"} and asked.data == {"accepts": True}


def test_months_are_read_in_any_state_but_never_over_an_answer_given():
    slots = (Slot("months", "months", "ask_months", "G_ask_months", parser="past_months"),)
    request = turn("detalle de agosto", months=["2026-08"])
    assert fill(slots, request) == {"months"} and request.data["months"] == ["2026-08"]
    answered = turn("y septiembre", state="ask_months", months=["2026-09"],
                    data={"months": ["2026-08"]})
    assert fill(slots, answered) == set() and answered.data["months"] == ["2026-08"]


@pytest.mark.parametrize("spec, message", [
    (dict(kind="moods"), "unknown kind"),
    (dict(kind="yes_no", parser="maybe"), "unknown parser"),
    (dict(kind="date", parser="yes_no"), "reads yes_no"),
])
def test_a_slot_names_a_known_kind_and_a_parser_of_that_kind(spec, message):
    with pytest.raises(ValueError, match=message):
        Slot("x", state="ask_x", ask="x", **spec)
