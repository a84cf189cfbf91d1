"""The correlation id: one id per inbound webhook/letter, carried in a context variable while this
process works on it and stored on the messages it produces, so the worker that delivers the reply
(another process, maybe another machine) logs the same id. Nothing here is shared through memory."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)
# What a caller-supplied X-Request-ID may look like: it ends up in logs and a column of 64.
ACCEPTED = re.compile(r"[A-Za-z0-9._:\-]{1,64}")


def current() -> str | None:
    return _current.get()


def new() -> str:
    return uuid.uuid4().hex


def clean(value: str | None) -> str | None:
    """A usable id from an untrusted header, or None (a new one is made then)."""
    value = (value or "").strip()
    return value if ACCEPTED.fullmatch(value) else None


@contextmanager
def bound(correlation_id: str | None) -> Iterator[str]:
    """Make `correlation_id` (a new one if None) current for the block; restored afterwards."""
    correlation_id = correlation_id or new()
    token = _current.set(correlation_id)
    try:
        yield correlation_id
    finally:
        _current.reset(token)
