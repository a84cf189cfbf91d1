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


# --- masking for logs: enough to tell messages apart, not enough to identify a client ------------
def mask_phone(phone: str) -> str:
    """'+59170000001' -> '+591700****1'."""
    if len(phone) <= 5:
        return "*" * len(phone)
    return phone[:-5] + "****" + phone[-1]


def mask_email(email: str) -> str:
    """'gerencia@empresa.bo' -> 'g***@empresa.bo'."""
    local, _, domain = email.rpartition("@")
    return (local[:1] + "***@" + domain) if local else "***"


def mask_nit(nit: str) -> str:
    """'1020304021' -> '10******21'."""
    return nit[:2] + "*" * max(len(nit) - 4, 0) + nit[-2:] if len(nit) > 4 else "*" * len(nit)


def mask_address(address: str) -> str:
    """Any client address (phone, email, 'whatsapp:+591...') in a form fit for a log line."""
    address = address.strip()
    if "@" in address:
        return mask_email(address)
    if address.lower().startswith(WHATSAPP_PREFIX):
        address = address[len(WHATSAPP_PREFIX):]
    return mask_phone(address)
