"""Only what the client wrote now: quoted history is cut from replies.

Three layers, each catching what the previous one misses (measured on Spanish Gmail, Outlook and
Apple Mail forms, see tests/email/test_quotes.py):
1. our own marker line, which tops every email we send ("##- ... -##"): below it is our text;
2. quotequail (Gmail "El lun, 3 nov 2026 a las 10:15, X escribió:", "On ... wrote:", `>` blocks,
   Outlook "De:/Enviado:/Para:/Asunto:" headers);
3. our own patterns for what quotequail leaves (Outlook "De: ... Enviado el:" without a rule line,
   "-----Mensaje original-----"), then mail-parser-reply as the last resort.

A forward is not a reply: "RV:/Fwd:" letters keep the forwarded text, which usually *is* the
request ("le reenvío la solicitud de nuestro gerente").
"""
from __future__ import annotations

import logging
import re

import quotequail

log = logging.getLogger(__name__)

MARKER = re.compile(r"^.*##-.*-##.*$", re.MULTILINE)
REPLY_PREFIX = re.compile(r"^\s*(re|res|aw|sv|antw)\s*(\[\d+\])?\s*:", re.IGNORECASE)
FORWARD_PREFIX = re.compile(r"^\s*(fwd?|rv|reenv(iado|ío|io)?|tr|wg)\s*:", re.IGNORECASE)
# "El lun, 3 nov 2026 a las 10:15, Ana <ana@x.bo> escribió:" possibly wrapped over two lines.
ATTRIBUTION = re.compile(
    r"^[ \t]*(El|On|Le|Am|Em)\b[^\n]{0,200}(\n[^\n]{0,200})?\b(escribió|wrote|a écrit|schrieb|escreveu)\s*:[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
OUTLOOK_HEADER = re.compile(
    r"^[ \t*]*(De|From)[ \t*]*:[^\n]*\n[ \t*]*(Enviado(?: el)?|Sent|Fecha|Date)[ \t*]*:",
    re.MULTILINE | re.IGNORECASE,
)
ORIGINAL_MESSAGE = re.compile(
    r"^[ \t]*-{2,}[ \t]*(Mensaje original|Original Message|Mensaje reenviado|Forwarded message)[ \t]*-{2,}",
    re.MULTILINE | re.IGNORECASE,
)
RULE_LINE = re.compile(r"^[ \t]*_{10,}[ \t]*$", re.MULTILINE)


def is_forward(subject: str) -> bool:
    return bool(FORWARD_PREFIX.match(subject or ""))


def is_reply(subject: str, *, has_thread_headers: bool) -> bool:
    return has_thread_headers or bool(REPLY_PREFIX.match(subject or ""))


def _cut(text: str, start: int) -> str:
    return text[:start].rstrip()


def _drop_trailing_quotes(text: str) -> str:
    """A trailing run of '>' lines and a rule line above a quote are history too."""
    lines = text.rstrip().split("\n")
    while lines and (lines[-1].lstrip().startswith(">") or not lines[-1].strip()):
        lines.pop()
    text = "\n".join(lines)
    rule = list(RULE_LINE.finditer(text))
    if rule and not text[rule[-1].end():].strip():
        text = text[:rule[-1].start()]
    return text.rstrip()


def _own_patterns(text: str) -> str:
    starts = [m.start() for pattern in (ATTRIBUTION, OUTLOOK_HEADER, ORIGINAL_MESSAGE)
              for m in [pattern.search(text)] if m]
    if starts:
        text = _cut(text, min(starts))
    return _drop_trailing_quotes(text)


def _mail_parser_reply(text: str) -> str:
    from mailparser_reply import EmailReplyParser

    try:
        return EmailReplyParser(languages=["es", "en"]).parse_reply(text=text) or text
    except Exception:
        log.exception("mail-parser-reply failed; keeping the text")
        return text


def strip_quotes(text: str, *, subject: str = "", has_thread_headers: bool = False) -> str:
    """The new part of a reply. A forward keeps its forwarded text; plain letters pass through."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    marker = MARKER.search(text)
    if marker:
        text = _drop_trailing_quotes(_own_patterns(_cut(text, marker.start()) + "\n"))
        if ATTRIBUTION.search(text) is None:
            return text.strip()
    forward = is_forward(subject)
    reply = is_reply(subject, has_thread_headers=has_thread_headers)
    try:
        unwrapped = quotequail.unwrap(text)
    except Exception:
        log.exception("quotequail failed; using the fallbacks")
        unwrapped = None
    if unwrapped and unwrapped.get("type") == "reply":
        return _own_patterns(unwrapped.get("text_top", "")).strip()
    if unwrapped and unwrapped.get("type") == "forward":
        # Outlook writes the same "De:/Enviado:" block for replies and forwards.
        if reply and not forward:
            return _own_patterns(unwrapped.get("text_top", "")).strip()
        return text.strip()
    if forward or not reply:
        return text.strip()
    stripped = _own_patterns(text)
    if stripped != text.rstrip():
        return stripped.strip()
    return _drop_trailing_quotes(_mail_parser_reply(text)).strip()
