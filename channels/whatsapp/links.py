"""Signed, expiring links to our documents, so Twilio can fetch the media we send.

The link names the document and an expiry time, and carries an HMAC of both keyed from the Auth
Token: nobody can guess a link to another client's document, and a leaked link stops working.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from bot.settings import Settings

# Twilio fetches the media right after the message is created; an hour covers its queueing.
TTL = timedelta(hours=1)
PATH = "/whatsapp/documents/{document_id}"


def _key(settings: Settings) -> bytes:
    # Derived, so the link key is not the token itself and cannot sign a webhook.
    token = settings.twilio_auth_token.get_secret_value().encode()
    return hmac.new(token, b"whatsapp-document-links", hashlib.sha256).digest()


def _signature(settings: Settings, document_id: int, expires: int) -> str:
    return hmac.new(_key(settings), f"{document_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_url(settings: Settings, document_id: int, *, now: datetime, ttl: timedelta = TTL) -> str:
    expires = int((now + ttl).timestamp())
    path = PATH.format(document_id=document_id)
    return (f"{settings.public_base_url.rstrip('/')}{path}"
            f"?expires={expires}&signature={_signature(settings, document_id, expires)}")


def verify(settings: Settings, document_id: int, *, expires: int, signature: str, now: datetime) -> bool:
    if not settings.twilio_auth_token.get_secret_value() or now.timestamp() > expires:
        return False
    # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, i.e. a 500, found
    # by tests/hostile/test_schemathesis.py); surrogatepass encodes whatever a query can carry.
    return hmac.compare_digest(_signature(settings, document_id, expires).encode(),
                               signature.encode("utf-8", "surrogatepass"))
