"""Lone dates of an answer and the calendar arithmetic the trámites share."""
from __future__ import annotations

from datetime import date

import pytest

from bot.understanding.dates import add_months, ahead, bare_date, years_written


def test_a_bare_day_of_january_said_in_november_is_next_years():
    today = date(2026, 11, 20)
    day, year_written = bare_date("5 de enero", today)
    assert (day, year_written) == (date(2026, 1, 5), False)
    assert ahead(day, today) == date(2027, 1, 5)


def test_a_day_that_passed_days_ago_stays_as_written():
    today = date(2026, 11, 28)
    day, _ = bare_date("desde el 1 de noviembre", today)
    assert ahead(day, today) == date(2026, 11, 1)


def test_a_day_still_ahead_is_kept():
    assert ahead(date(2026, 12, 1), date(2026, 11, 20)) == date(2026, 12, 1)


def test_a_written_year_is_noticed():
    said = bare_date("hasta el 28 de febrero de 2027", date(2026, 11, 20))
    assert said == (date(2027, 2, 28), True)
    assert years_written("del 5 de enero de 2027 al 28 de febrero") == [True, False]


def test_no_date_in_the_text():
    assert bare_date("por tres meses", date(2026, 11, 20)) == (None, False)


@pytest.mark.parametrize("day, months, expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),  # the month's last day where it is shorter
    (date(2026, 11, 15), 2, date(2027, 1, 15)),
    (date(2027, 3, 16), -15, date(2025, 12, 16)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
])
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected
