"""Mail that must never get an automatic answer, and bounces of our own mail.

Rules from RFC 3834 and what Zammad (`auto_response_check.rb`) and FreeScout (`isAutoResponder`,
bounce checks) do. A letter that matches is still stored (the engine's `record`) so staff see it;
it only never reaches a dialog, so no reply can be produced.
"""
from __future__ import annotations

import email
import re
from dataclasses import dataclass, field
from email.message import Message

from channels.email.parse import Letter, decode_header, message_ids

DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
BULK_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}


@dataclass(frozen=True)
class Verdict:
    reason: str  # "" = a person wrote; answer it
    bounce: bool = False
    failed: bool = False  # the report says delivery failed for good (not only delayed)
    original_ids: list[str] = field(default_factory=list)  # Message-IDs of the bounced mail

    @property
    def suppressed(self) -> bool:
        return bool(self.reason)


def _header(message: Message, name: str) -> str:
    return decode_header(message.get(name, "")).strip()


def _has(message: Message, name: str) -> bool:
    return message.get(name) is not None


def is_daemon(address: str) -> bool:
    return address.split("@", 1)[0].lower() in DAEMON_LOCALPARTS


def classify(letter: Letter, *, own_addresses: set[str]) -> Verdict:
    """Why this letter must not be answered ("" when it may be), and what a bounce refers to."""
    message = letter.message
    content_type = message.get_content_type()
    report_type = (message.get_param("report-type") or "").lower() if content_type == "multipart/report" else ""
    if content_type == "multipart/report" and report_type in ("delivery-status", ""):
        return _bounce(letter)
    if is_daemon(letter.sender):
        return _bounce(letter)
    if content_type == "multipart/report":
        return Verdict("report")  # read receipts (disposition-notification) and the like
    if letter.sender and letter.sender in own_addresses:
        return Verdict("own_address")
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return Verdict("auto_submitted")
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if _has(message, name):
            return Verdict("autoreply")
    suppress = _header(message, "X-Auto-Response-Suppress").lower()
    if any(token in suppress for token in ("all", "autoreply", "oof")):
        return Verdict("response_suppressed")
    for name in ("Precedence", "X-Precedence"):
        if _header(message, name).lower() in BULK_PRECEDENCE:
            return Verdict("bulk")
    if _has(message, "List-Id") or _has(message, "List-Unsubscribe"):
        return Verdict("mailing_list")
    x_loop = _header(message, "X-Loop").lower()
    if x_loop and (x_loop in ("yes", "true") or any(a in x_loop for a in own_addresses)):
        return Verdict("loop")
    return_path = message.get_all("Return-Path") or []
    if return_path and all(re.fullmatch(r"\s*<\s*>\s*", str(v)) for v in return_path):
        return Verdict("null_return_path")
    if not letter.sender:
        return Verdict("no_sender")
    return Verdict("")


# --- bounces -------------------------------------------------------------------------------------
STATUS = re.compile(r"^\s*Status\s*:\s*([245])\.\d{1,3}\.\d{1,3}", re.IGNORECASE | re.MULTILINE)
ACTION = re.compile(r"^\s*Action\s*:\s*(\w+)", re.IGNORECASE | re.MULTILINE)
BODY_MESSAGE_ID = re.compile(r"^\s*Message-ID\s*:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


def _bounce(letter: Letter) -> Verdict:
    """A delivery report: which of our messages it is about, and whether delivery failed."""
    ids: list[str] = []
    actions: list[str] = []
    statuses: list[str] = []
    found_report = False
    for part in letter.message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            found_report = True
            text = _delivery_status_text(part)
            actions += [a.lower() for a in ACTION.findall(text)]
            statuses += STATUS.findall(text)
        elif content_type == "text/rfc822-headers":
            headers = email.message_from_bytes(_raw(part))
            ids += message_ids(str(headers.get("Message-ID", "")))
        elif content_type == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                ids += message_ids(str(inner.get("Message-ID", "")))
    # Plain-text bounces (qmail, Exchange's older forms) quote the original headers in the body.
    ids += BODY_MESSAGE_ID.findall(letter.text)
    ids += letter.in_reply_to + letter.references
    ids = [i for i in dict.fromkeys(ids) if i != letter.message_id]
    if found_report and actions:
        failed = "failed" in actions
    elif statuses:
        failed = "5" in statuses
    else:
        failed = not found_report  # a bare "Undelivered Mail" from MAILER-DAEMON
    return Verdict("bounce", bounce=True, failed=failed, original_ids=ids)


def _raw(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    if data is None:
        payload = part.get_payload()
        if isinstance(payload, list):
            return b"\n".join(p.as_bytes() for p in payload if isinstance(p, Message))
        data = str(payload).encode("utf-8", "surrogateescape")
    return data


def _delivery_status_text(part: Message) -> str:
    # compat32 parses message/delivery-status into a list of header blocks.
    payload = part.get_payload()
    if isinstance(payload, list):
        return "\n".join(
            "\n".join(f"{k}: {v}" for k, v in block.items()) for block in payload if isinstance(block, Message)
        )
    return _raw(part).decode("utf-8", "replace")
