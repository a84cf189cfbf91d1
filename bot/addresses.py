"""Who wrote: one place that turns channel addresses into comparable keys."""
from __future__ import annotations

import phonenumbers

WHATSAPP_PREFIX = "whatsapp:"


def normalise_phone(raw: str, region: str = "BO") -> str | None:
    """Any written form of a phone number -> E.164, or None if it is not a valid number."""
    raw = raw.strip()
    if raw.lower().startswith(WHATSAPP_PREFIX):
        raw = raw[len(WHATSAPP_PREFIX):]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_address(raw: str) -> str:
    """An email (lower-cased) or a phone in E.164; anything else is kept as given."""
    raw = raw.strip()
    if "@" in raw:
        return raw.lower()
    return normalise_phone(raw) or raw


def is_email(address: str) -> bool:
    return "@" in address
