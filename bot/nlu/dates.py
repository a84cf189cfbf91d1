"""Months, date ranges and durations in a message, resolved against `today`.

- months: "agosto y septiembre", "agosto de 2025", "08/2026", "el mes pasado",
  "este mes", "los ultimos 3 meses", "de agosto a octubre" -> ["YYYY-MM", ...].
  A month without a year is its most recent past-or-current occurrence: clients ask
  about bills and calls that already happened.
  "los ultimos N meses" are the N months before the current one: the current month has
  no closed bill or call detail yet.
- date_range: "del 1 de diciembre al 31 de enero", "desde el 15 de diciembre hasta el
  15 de marzo", "a partir del 1 de diciembre por 3 meses" -> {"start", "end"}.
  Explicit dates are read by dateparser (current year unless written); an end that
  falls before its start moves to the next year. A start with no end gives {"start"}.
- duration_months: "por 3 meses", "durante dos meses", "por 90 dias" -> 3.

Text comes in folded (lower-case, no accents, punctuation kept). Spans read here are
blanked in the returned text so their digits are not taken for lines or contracts.
dateparser costs ~2 ms a call (~250 ms the first time), so it is imported and called
only when a day-and-month date is present.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from .rules import rules

_MONTHS: dict[str, int] = {str(k): int(v) for k, v in rules()["months"].items()}
_NUMBERS: dict[str, float] = {str(k): float(v) for k, v in rules()["number_words"].items()}

_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + ")"
_NUMBER = "(?:" + "|".join([r"\d+", *sorted(map(re.escape, _NUMBERS), key=len, reverse=True)]) + ")"
_DATE = (
    rf"\d{{1,2}}(?:ro|ero|o)?\s+de\s+{_MONTH}(?:\s+(?:de|del)\s+\d{{4}})?"
    # "-" only with a four-digit year: "44-12-345" is a phone line, not a date
    r"|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}-\d{1,2}-\d{4}"
)
_ANY_DATE = re.compile(rf"\b(?:{_DATE})\b")
_RANGE = re.compile(
    rf"\b(?:del?|desde(?:\s+el)?|entre(?:\s+el)?)\s+(?P<a>{_DATE})\s+"
    rf"(?:al?|hasta(?:\s+el)?|y(?:\s+el)?)\s+(?P<b>{_DATE})\b"
)
_START = re.compile(
    rf"\b(?P<prefix>a\s+partir\s+del?|desde(?:\s+el)?|del?|el)\s+(?P<a>{_DATE})\b"
)
_DURATION = re.compile(
    rf"\b(?:por|durante|x|unos|unas|lapso\s+de|periodo\s+de|plazo\s+de)\s+"
    rf"(?:(?:unos|unas|los|las|el|un|una)\s+)?(?P<n>{_NUMBER})\s+"
    r"(?P<unit>mes(?:es)?|dias?|semanas?|anos?)\b"
)

_MONTH_REF = rf"{_MONTH}(?:\s+(?:de\s+|del\s+)?\d{{4}})?|(?:0?[1-9]|1[0-2])[/-]20\d{{2}}"
_MONTH_RANGE = re.compile(
    rf"\b(?:de|del|desde)\s+(?P<a>{_MONTH_REF})\s+(?:a|al|hasta)\s+(?P<b>{_MONTH_REF})\b"
)
_NUMERIC_MONTH = re.compile(
    r"\b(?:(?P<m>0?[1-9]|1[0-2])[/-](?P<y>20\d{2})|(?P<y2>20\d{2})-(?P<m2>0[1-9]|1[0-2]))\b"
)
_MONTH_ITEM = re.compile(rf"\b(?P<m>{_MONTH})(?:\s+(?:de\s+|del\s+)?(?P<y>\d{{4}}))?\b")
_LIST_GLUE = re.compile(r"\s*(?:,\s*y|,|y|e|/|-)\s*")
_RELATIVE = [
    (re.compile(r"\bmes\s+antepasado\b"), -2),
    (re.compile(r"\b(?:el\s+)?mes\s+(?:pasado|anterior)\b"), -1),
    (re.compile(r"\b(?:este|el\s+presente|presente)\s+mes\b"), 0),
    (re.compile(r"\bmes\s+(?:actual|en\s+curso|corriente)\b"), 0),
    (re.compile(r"\b(?:el\s+)?(?:proximo|siguiente)\s+mes\b|\bmes\s+que\s+viene\b"), 1),
]
_LAST_N = re.compile(
    rf"\b(?:los\s+)?(?:ultimos\s+(?P<a>{_NUMBER})|(?P<b>{_NUMBER})\s+ultimos)\s+meses\b"
)


def _number(token: str) -> float | None:
    return float(token) if token.isdigit() else _NUMBERS.get(token)


def _shift(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _add_months(day: date, months: int) -> date:
    year, month = _shift(day.year, day.month, months)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _recent(month: int, today: date) -> tuple[int, int]:
    return (today.year if month <= today.month else today.year - 1), month


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _parse_date(text: str, today: date) -> tuple[date | None, bool]:
    """A day-and-month date and whether the year was written."""
    import dateparser  # slow to import and first call; only needed for explicit dates

    text = re.sub(r"^(\d{1,2})(?:ro|ero|o)\b", r"\1", text.strip())
    text = re.sub(r"\bsetiembre\b", "septiembre", text)
    parsed = dateparser.parse(
        text,
        languages=["es"],
        settings={
            "RELATIVE_BASE": datetime.combine(today, time()),
            "DATE_ORDER": "DMY",
            "PREFER_DAY_OF_MONTH": "first",
        },
    )
    explicit_year = bool(re.search(r"\d{4}|/\d{1,2}/\d{2}$", text))
    return (parsed.date() if parsed else None), explicit_year


def duration_months(text: str) -> int | None:
    found = _DURATION.search(text)
    if not found:
        return None
    amount = _number(found["n"])
    if amount is None:
        return None
    unit = found["unit"]
    if unit.startswith("mes"):
        months = amount
    elif unit.startswith("ano"):
        months = amount * 12
    elif unit.startswith("semana"):
        months = amount * 7 / 30
    else:
        months = amount / 30
    months = int(months + 0.5)
    return months if months >= 1 else None


def _date_range(text: str, today: date, months: int | None) -> dict[str, str] | None:
    found = _RANGE.search(text)
    if found:
        start, _ = _parse_date(found["a"], today)
        end, end_year_written = _parse_date(found["b"], today)
        if start and end:
            if end < start and not end_year_written:
                end = _add_months(end, 12)
            return {"start": start.isoformat(), "end": end.isoformat()}
    for found in _START.finditer(text):
        is_start = found["prefix"].startswith(("a partir", "desde"))
        if not (is_start or months):
            continue
        start, _ = _parse_date(found["a"], today)
        if start is None:
            continue
        if months:
            end = _add_months(start, months) - timedelta(days=1)
            return {"start": start.isoformat(), "end": end.isoformat()}
        return {"start": start.isoformat()}
    return None


def _month_ref(ref: str) -> tuple[int, int | None]:
    numeric = _NUMERIC_MONTH.fullmatch(ref)
    if numeric:
        return int(numeric["m"] or numeric["m2"]), int(numeric["y"] or numeric["y2"])
    item = _MONTH_ITEM.fullmatch(ref)
    assert item is not None
    return _MONTHS[item["m"]], (int(item["y"]) if item["y"] else None)


def _month_ranges(text: str, today: date, out: set[tuple[int, int]]) -> str:
    for found in list(_MONTH_RANGE.finditer(text)):
        (first, first_year), (last, last_year) = _month_ref(found["a"]), _month_ref(found["b"])
        if last_year is not None:
            end = (last_year, last)
        elif first_year is not None:
            end = (first_year if last >= first else first_year + 1, last)
        else:
            end = _recent(last, today)
        year = first_year if first_year is not None else (end[0] if first <= last else end[0] - 1)
        current = (year, first)
        for _ in range(24):  # a range longer than two years is a typo, not a request
            out.add(current)
            if current == end:
                break
            current = _shift(*current, 1)
        text = _blank(text, *found.span())
    return text


def _month_lists(text: str, today: date, out: set[tuple[int, int]]) -> None:
    items = list(_MONTH_ITEM.finditer(text))
    groups: list[list[re.Match[str]]] = []
    for item in items:
        if groups and _LIST_GLUE.fullmatch(text[groups[-1][-1].end() : item.start()]):
            groups[-1].append(item)
        else:
            groups.append([item])
    for group in groups:
        # A year written at the end applies to the list: "noviembre, diciembre y enero
        # de 2026" is 2025-11, 2025-12, 2026-01.
        later: tuple[int, int] | None = None
        for item in reversed(group):
            month = _MONTHS[item["m"]]
            if item["y"]:
                later = (int(item["y"]), month)
            elif later is not None:
                later = (later[0] if month <= later[1] else later[0] - 1, month)
            out.add(later if later is not None else _recent(month, today))


def months(text: str, today: date) -> tuple[list[str], str]:
    """Months mentioned, sorted, and the text with those mentions blanked."""
    out: set[tuple[int, int]] = set()
    for pattern, delta in _RELATIVE:
        for found in list(pattern.finditer(text)):
            out.add(_shift(today.year, today.month, delta))
            text = _blank(text, *found.span())
    for found in list(_LAST_N.finditer(text)):
        count = _number(found["a"] or found["b"])
        if count and 1 <= count <= 24:
            out.update(_shift(today.year, today.month, -k) for k in range(1, int(count) + 1))
        text = _blank(text, *found.span())
    text = _month_ranges(text, today, out)
    for found in list(_NUMERIC_MONTH.finditer(text)):
        out.add((int(found["y"] or found["y2"]), int(found["m"] or found["m2"])))
        text = _blank(text, *found.span())
    _month_lists(text, today, out)
    return [f"{year:04d}-{month:02d}" for year, month in sorted(out)], text


def extract(text: str, today: date) -> tuple[dict[str, Any], str]:
    """Date entities of folded `text`, and the text with dates and months blanked."""
    found: dict[str, Any] = {}
    duration = duration_months(text)
    if duration:
        found["duration_months"] = duration
    if _ANY_DATE.search(text):
        date_range = _date_range(text, today, duration)
        if date_range:
            found["date_range"] = date_range
        # Day-and-month dates are days, not month mentions ("15 de diciembre").
        for match in list(_ANY_DATE.finditer(text)):
            text = _blank(text, *match.span())
    month_list, text = months(text, today)
    if month_list:
        found["months"] = month_list
    return found, text
