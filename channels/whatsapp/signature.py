"""X-Twilio-Signature: every webhook is checked before anything else reads it.

Twilio signs the URL it requested plus every posted field (names sorted, blank values included, new
fields it adds without notice too), so the check runs over the whole form as received. The URL is
rebuilt from PUBLIC_BASE_URL, not from the request: behind a TLS-terminating proxy the app sees
http://internal-host while Twilio signed https://public-host.

Two keys: the account Auth Token (HMAC-SHA1, the classic scheme) and, when a Webhooks Rule with a
SharedKey matched, that key's secret (HMAC-SHA256, announced in X-Twilio-Webhooks-Signature-Settings).
"""
from __future__ import annotations

import logging

from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from twilio.request_validator import (
    HMAC_SHA1,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from bot.settings import Settings

log = logging.getLogger(__name__)


def compute(secret: str, url: str, params, algorithm: str = HMAC_SHA1) -> str:
    """The signature Twilio sends for this URL and these fields (what tests sign requests with)."""
    return RequestValidator(secret).compute_signature(url, params, algorithm)


def public_url(base_url: str, path: str, query: str) -> str:
    """The URL Twilio requested: our public base, the path and the raw query string as sent."""
    url = base_url.rstrip("/") + path
    return f"{url}?{query}" if query else url


def is_valid(settings: Settings, *, url: str, params, signature: str, signature_settings: str) -> bool:
    if not signature:
        return False
    algorithm = get_signature_algorithm(signature_settings)
    if signature_settings:
        secret = settings.twilio_webhook_shared_key.get_secret_value()
    else:
        secret = settings.twilio_auth_token.get_secret_value()
    if not secret:
        # An empty key would let anyone compute a valid signature.
        return False
    return RequestValidator(secret).validate(url, params, signature, algorithm=algorithm)


async def signed_form(request: Request) -> FormData:
    """FastAPI dependency: the posted form, if Twilio signed it; otherwise 403 and nothing read."""
    settings: Settings = request.app.state.runtime.settings
    form = await request.form()
    url = public_url(settings.public_base_url, request.url.path, request.url.query)
    if not is_valid(settings, url=url, params=form, signature=request.headers.get(SIGNATURE_HEADER, ""),
                    signature_settings=request.headers.get(SIGNATURE_SETTINGS_HEADER, "")):
        log.warning("refused unsigned or badly signed webhook to %s from %s", url,
                    request.client.host if request.client else "?")
        raise HTTPException(status_code=403, detail="invalid signature")
    return form
