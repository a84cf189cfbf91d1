"""Dates in a client's answer that the NLU leaves alone, and calendar arithmetic on them.

The NLU reads a date range ("del 1 al 15 de diciembre") and months; a lone date answering
"¿desde qué fecha?" and whether its year was written are read here, with the NLU's own month
words so both understand the same dates.
"""
from __future__ import annotations

import calendar
import re
from datetime import date
from functools import lru_cache

from bot import nlu
from bot.nlu.normalise import fold
from bot.nlu.rules import rules as nlu_rules

_YEAR_WRITTEN = re.compile(r"\d{4}|/\d{2}$")


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), the month's last day where it has fewer days."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@lru_cache
def _date_pattern() -> re.Pattern:
    month = "|".join(sorted((str(m) for m in nlu_rules()["months"]), key=len, reverse=True))
    return re.compile(
        rf"\b\d{{1,2}}(?:ro|ero|o)?\s+de\s+(?:{month})(?:\s+(?:de|del)\s+\d{{4}})?\b"
        r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{1,2}-\d{1,2}-\d{4}\b")


def bare_date(text: str, today: date) -> tuple[date | None, bool]:
    """A lone date answering "¿desde/hasta qué fecha?" ("el 1 de diciembre"), which the NLU
    reads only inside a range; resolved by the NLU itself. Also: whether a year was written."""
    found = _date_pattern().search(fold(text))
    if not found:
        return None, False
    span = found.group()
    entities = nlu.analyze(f"desde el {span}", today=today).entities
    value = entities.get("date_range", {}).get("start")
    return (date.fromisoformat(value) if value else None), bool(_YEAR_WRITTEN.search(span))


def years_written(text: str) -> list[bool]:
    """For each date of the message, in order, whether its year was written."""
    return [bool(_YEAR_WRITTEN.search(found.group()))
            for found in _date_pattern().finditer(fold(text))]


def ahead(day: date, today: date) -> date:
    """A date written without its year, read as the client means it: a suspension or a
    reconnection is planned, so a day that passed long ago is next year's ("desde el 5 de
    enero" said in November). A day that passed recently stays as written ("desde el 1 de
    noviembre" said on the 28th) and the client is told it passed: the nearer one wins."""
    if day >= today:
        return day
    next_year = add_months(day, 12)
    return next_year if next_year - today < today - day else day
