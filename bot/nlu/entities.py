"""Entities in a client's message: identifiers, contacts, amounts, dates, menu picks.

Numbers are read in a fixed order and each span is blanked once read, so a digit run
is never two things: emails, amounts ("Bs 36"), dates, then numbers named by a
keyword ("NIT 1023456029", "contrato 300145", "linea 4412345"), then bare numbers by
shape: 6 digits is a contract (the portfolio's format), 7 a fixed line, 8 starting
with 6/7 a mobile (checked with phonenumbers), 9-13 a NIT.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import phonenumbers

from . import dates
from .normalise import fold, normalise
from .rules import rules

_EMAIL = re.compile(r"[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
_AMOUNT_NUMBER = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_CURRENCY = r"(?:bs|bob|bolivianos?)"
_AMOUNTS = (
    re.compile(rf"\b{_CURRENCY}\b\.?\s*(?P<n>{_AMOUNT_NUMBER})(?:\s*\.?-)?"),
    re.compile(rf"(?<![\d.,])(?P<n>{_AMOUNT_NUMBER})(?:\s*\.?-)?\s*{_CURRENCY}\b\.?"),
)
# Up to a few words may sit between a keyword and its number ("NIT de la empresa:").
_GAP = r"[^\d\n]{0,25}?"
_NIT = re.compile(rf"\bnit\b(?P<gap>{_GAP})(?P<n>\d+(?:[.-]\d+)*)")
_CONTRACT = re.compile(
    rf"\b(?:contratos?|ctos?)\b(?P<gap>{_GAP})"
    r"(?P<n>\d{4,10}(?:\s*(?:,|;|/|y|e)\s*\d{4,10})*)"
)
# A gap that names something else breaks the link ("NIT y la linea 4412345").
_OTHER_KEYWORD = re.compile(r"\b(?:nit|contratos?|ctos?|lineas?|telefonos?|celular|whatsapp)\b")
_LINE_KEYWORD = re.compile(
    r"\b(?:lineas?|telefonos?|telf?|fono|numeros?|nros?|celular(?:es)?|cel|movil|fijo|"
    r"whatsapp|wsp)\b[^\d\n]{0,20}$"
)
# A case reference as the bot gives it ("PV-2026-000123"), also typed "pv 2026 123".
_CASE_NUMBER = re.compile(r"\bpv[\s\-_/]*(?P<year>20\d\d)[\s\-_/]*(?P<n>\d{1,6})\b")
_DIGIT_RUN = re.compile(r"(?<![\w@])\+?\d+(?:[ .-]\d+)*(?![\w@])")
_MENU = re.compile(
    r"(?:(?:la\s+|el\s+)?(?:opcion|numero)\s+|la\s+|el\s+|elijo\s+(?:la\s+)?)?(?P<n>\w+)"
)
_NUMBER_WORDS = {normalise(str(k)): v for k, v in rules()["number_words"].items()}
_BOLIVIA = 591
_KIND = phonenumbers.PhoneNumberType


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _amount(raw: str) -> str:
    """Spanish or English separators to "1250.00": a last separator followed by one or
    two digits is the decimal point, any other separator groups thousands."""
    decimals = re.search(r"[.,](\d{1,2})$", raw)
    whole = raw[: decimals.start()] if decimals else raw
    cents = (decimals.group(1) if decimals else "").ljust(2, "0")
    return f"{int(re.sub(r'[^0-9]', '', whole))}.{cents}"


def _local_line(digits: str, *, named: bool) -> str | None:
    """Local digits of a Bolivian line, or None. `named`: a keyword said it is a line.

    Fixed lines are 7 local digits; without a keyword only those starting 2-4 (the
    departments' numbering) count, since 7-digit identity numbers exist too. Mobiles
    are 8 digits and must be valid for phonenumbers."""
    national = digits
    if digits.startswith(str(_BOLIVIA)) and len(digits) in (10, 11):
        national, named = digits[3:], True
    if len(national) == 7 and (named or national[0] in "234"):
        return national
    if len(national) == 8:
        try:
            number = phonenumbers.parse(national, "BO")
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(number):
            return None
        kind = phonenumbers.number_type(number)
        if kind in (_KIND.MOBILE, _KIND.FIXED_LINE_OR_MOBILE):
            return national
        if kind == _KIND.FIXED_LINE and named:
            # area code + local number ("+591 4 4412345"); the desk works with local digits
            area = phonenumbers.length_of_geographical_area_code(number)
            return national[area:] if len(national) - area == 7 else None
    return None


def _keyword_numbers(text: str, found: dict[str, Any]) -> str:
    for match in list(_NIT.finditer(text)):
        digits = re.sub(r"\D", "", match["n"])
        if _OTHER_KEYWORD.search(match["gap"]) or not 7 <= len(digits) <= 13:
            continue
        found.setdefault("nit", digits)
        text = _blank(text, *match.span("n"))
    for match in list(_CONTRACT.finditer(text)):
        if _OTHER_KEYWORD.search(match["gap"]):
            continue
        found.setdefault("contracts", []).extend(re.findall(r"\d+", match["n"]))
        text = _blank(text, *match.span("n"))
    return text


def _bare_numbers(text: str, found: dict[str, Any]) -> None:
    """Digit runs, possibly spaced ("44 12 345", "+591 71234567"): the longest run of up
    to four groups that is a line wins; other groups are read one by one."""
    for run in _DIGIT_RUN.finditer(text):
        groups = re.findall(r"\d+", run.group())
        named = bool(_LINE_KEYWORD.search(text[max(0, run.start() - 40) : run.start()]))
        i = 0
        while i < len(groups):
            for j in range(min(len(groups), i + 4), i, -1):
                line = _local_line("".join(groups[i:j]), named=named and i == 0)
                if line:
                    found.setdefault("lines", []).append(line)
                    i = j
                    break
            else:
                digits = groups[i]
                if len(digits) == 6:
                    found.setdefault("contracts", []).append(digits)
                elif 9 <= len(digits) <= 13:
                    found.setdefault("nit", digits)
                i += 1


def menu_choice(text: str) -> int | None:
    """1-12 when the whole message picks a menu entry: "3", "opcion 3", "la tres"."""
    match = _MENU.fullmatch(normalise(text))
    if not match:
        return None
    token = match["n"]
    value = int(token) if token.isdigit() else _NUMBER_WORDS.get(token)
    return int(value) if value is not None and value == int(value) and 1 <= value <= 12 else None


def extract(text: str, today: date) -> dict[str, Any]:
    found: dict[str, Any] = {}
    folded = fold(text)
    emails = []
    for match in list(_EMAIL.finditer(folded)):
        emails.append(match.group())
        folded = _blank(folded, *match.span())
    amounts = []
    for pattern in _AMOUNTS:
        for match in list(pattern.finditer(folded)):
            amounts.append((match.start(), _amount(match["n"])))
            folded = _blank(folded, *match.span())
    case_numbers = []
    for match in list(_CASE_NUMBER.finditer(folded)):
        case_numbers.append(f"PV-{match['year']}-{int(match['n']):06d}")
        folded = _blank(folded, *match.span())
    date_entities, folded = dates.extract(folded, today)
    folded = _keyword_numbers(folded, found)
    _bare_numbers(folded, found)
    choice = menu_choice(text)
    if choice is not None:
        found["menu_choice"] = choice
    found.update(date_entities)
    if emails:
        found["emails"] = emails
    if case_numbers:
        found["case_numbers"] = list(dict.fromkeys(case_numbers))
    if amounts:
        found["amounts"] = [value for _, value in sorted(amounts)]
    for key in ("contracts", "lines", "emails"):
        if key in found:
            found[key] = list(dict.fromkeys(found[key]))
    return found
