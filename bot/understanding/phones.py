"""A phone number the client writes as the one to call: validated, in E.164.

One reading for every trámite (E's reference phone, J's contact phone): a local number of 7
digits gets the area code of the trámite's rules; a number written with "+" is international
as written and never gets one.
"""
from __future__ import annotations

import re

import phonenumbers

from bot.addresses import normalise_phone

LOCAL_DIGITS = 7  # a fixed line without its area code


def phone_e164(raw: str, *, area_code: str) -> str | None:
    """E.164 of a valid Bolivian (or international) number, or None."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) == LOCAL_DIGITS and not raw.strip().startswith("+"):
        raw = area_code + digits
    e164 = normalise_phone(raw)
    if e164 is None or not phonenumbers.is_valid_number(phonenumbers.parse(e164)):
        return None
    return e164


def shown_phone(e164: str | None) -> str | None:
    """A stored E.164 number as a person reads it: "+591 4 4412345"."""
    if not e164:
        return None
    international = phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(phonenumbers.parse(e164), international)
