"""Received files (signed letters, photos) stored on disk by content hash, recorded as documents.

The file name a client gives is untrusted: it is kept only as metadata; the path on disk is derived
from the SHA-256, so it can neither escape the storage folder nor collide.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.models import Document

# Content sniffing: the declared type is not trusted.
SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"%PDF-", 0, "application/pdf"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
    (b"ftypheic", 4, "image/heic"),
    (b"ftypheix", 4, "image/heic"),
    (b"ftypmif1", 4, "image/heic"),
]
ALLOWED_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic"}
MAX_BYTES = 10 * 1024 * 1024


def sniff(data: bytes) -> str | None:
    for magic, offset, content_type in SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return content_type
    return None


class RejectedFile(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # too_large | unsupported | empty


@dataclass(frozen=True)
class StoredFile:
    path: str
    sha256: str
    size: int
    content_type: str


def check(data: bytes, *, max_bytes: int = MAX_BYTES) -> str:
    if not data:
        raise RejectedFile("empty")
    if len(data) > max_bytes:
        raise RejectedFile("too_large")
    content_type = sniff(data)
    if content_type not in ALLOWED_TYPES:
        raise RejectedFile("unsupported")
    return content_type


def store(root: Path, data: bytes, *, max_bytes: int = MAX_BYTES) -> StoredFile:
    content_type = check(data, max_bytes=max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    relative = Path(digest[:2]) / digest
    target = root / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(target)  # atomic: a reader never sees half a file
    return StoredFile(str(relative), digest, len(data), content_type)


def record(session: Session, stored: StoredFile, *, filename: str, now: datetime,
           case_id: int | None = None, message_id: int | None = None) -> Document:
    document = Document(case_id=case_id, message_id=message_id, path=stored.path, filename=filename[:255],
                        sha256=stored.sha256, size=stored.size, content_type=stored.content_type,
                        created_at=now)
    session.add(document)
    return document


def resolve(root: Path, relative: str) -> Path:
    """The absolute path of a stored document; refuses anything outside the storage folder."""
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise PermissionError(relative)
    return path
