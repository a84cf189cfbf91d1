"""Passwords (Argon2), signed session cookies, CSRF tokens and the security headers.

The session cookie carries `token.signature` (itsdangerous): the random token identifies a
`staff_sessions` row (stored only as its SHA-256), the signature lets a forged or truncated cookie be
refused before the database is asked. CSRF tokens are per session (synchroniser pattern); the login
form, before any session exists, uses a token bound to a signed pre-login cookie.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, Signer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

SESSION_COOKIE = "pv_session"
PRELOGIN_COOKIE = "pv_prelogin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~0.3 s on this project's
# 2-core machines. Hashes made with other parameters are upgraded at the next login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# A hash of a random password: verifying against it when the account does not exist costs the
# same time as a real check, so response time does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def secret_key(settings: Settings) -> str:
    """SECRET_KEY, or a key generated once for this machine and kept under var/."""
    configured = settings.secret_key.get_secret_value()
    if configured:
        return configured
    path = PROJECT_ROOT / "var" / "secret_key"
    if not path.exists():
        # Several web processes start at once (uvicorn --workers): the key is written whole to a
        # file of this process, then linked into place, which only one can do; the others read it.
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"secret_key.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
            log.warning("SECRET_KEY is not set: generated %s (set SECRET_KEY when running on several machines)",
                        path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return Path(path).read_text().strip()


class Signing:
    def __init__(self, key: str):
        self._session = Signer(key, salt="pv-session")
        self._prelogin = Signer(key, salt="pv-prelogin")
        self._key = key.encode()

    def sign_session(self, token: str) -> str:
        return self._session.sign(token).decode()

    def unsign_session(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return self._session.unsign(value).decode()
        except BadSignature:
            return None

    def sign_prelogin(self, token: str) -> str:
        return self._prelogin.sign(token).decode()

    def unsign_prelogin(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return self._prelogin.unsign(value).decode()
        except BadSignature:
            return None

    def prelogin_csrf(self, prelogin_token: str) -> str:
        return hmac.new(self._key, b"login-csrf:" + prelogin_token.encode(), hashlib.sha256).hexdigest()


CONTENT_SECURITY_POLICY = "; ".join([  # noqa: FLY002 - one directive a line
    "default-src 'self'",
    "script-src 'self'",  # no inline scripts, no eval, no CDN
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeadersMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): adds the headers to every response of the sub-app."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
