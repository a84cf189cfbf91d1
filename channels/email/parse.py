"""Raw RFC 5322 bytes -> a Letter: who wrote, threading ids, the text a person wrote, the files.

Mail in the wild is malformed in every way imaginable (see ../shared/corpus/email/imap_tools):
headers are decoded tolerantly, text parts in any declared charset (unknown or lying ones fall back
to UTF-8, then Windows-1252), HTML-only letters are turned into text, forwarded message/rfc822
parts are folded in (their text and their files). Parsing never raises on bad input.

Inline images referenced from the HTML by `cid:` and smaller than INLINE_DECORATION_BYTES are
signature logos and the like: they are not handed on as documents, otherwise a company logo
would count as the signed letter a case is waiting for. A larger pasted picture (a photographed
letter) is kept.
"""
from __future__ import annotations

import binascii
import codecs
import email
import mimetypes
import quopri
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.header import decode_header as _decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from bs4 import BeautifulSoup, NavigableString, Tag

INLINE_DECORATION_BYTES = 50 * 1024
MAX_FORWARD_DEPTH = 3
FALLBACK_CHARSETS = ("utf-8", "cp1252")


@dataclass(frozen=True)
class File:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass
class Letter:
    message: Message  # the parsed message (compat32), for header checks in loops.py
    message_id: str = ""  # "<id@host>", or "" when the letter has none
    sender: str = ""  # lower-case address
    sender_name: str = ""
    subject: str = ""
    date: datetime | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""  # the body as text (text/plain preferred, else HTML converted)
    files: list[File] = field(default_factory=list)
    forwarded: list[Letter] = field(default_factory=list)

    def header(self, name: str) -> str:
        return decode_header(self.message.get(name, ""))


# --- headers -------------------------------------------------------------------------------------
def _charset_ok(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset.strip().strip('"').lower()).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Bytes in a declared charset that may be missing, unknown or wrong."""
    declared = _charset_ok(charset)
    for candidate in ([declared] if declared else []) + list(FALLBACK_CHARSETS):
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace")


def decode_header(value) -> str:
    """A header value with RFC 2047 encoded words (or raw 8-bit) -> text; never raises."""
    if value is None:
        return ""
    if isinstance(value, Header):
        # compat32 hands raw 8-bit header bytes over as a Header in charset "unknown-8bit".
        return " ".join("".join(decode_bytes(c, cs) if isinstance(c, bytes) else c
                                for c, cs in _decode_header(value)).split())
    if not isinstance(value, str):
        value = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        # Raw 8-bit header bytes (RFC 6532 UTF-8, or worse) smuggled through as surrogates.
        value = decode_bytes(value.encode("utf-8", "surrogateescape"))
    try:
        chunks = _decode_header(value)
    except Exception:  # noqa: BLE001 - malformed encoded words: keep the raw text
        return " ".join(value.split())
    out = []
    for chunk, charset in chunks:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    # decode_header drops the whitespace between an encoded word and plain text.
    text = "".join(out) if len(chunks) > 1 and any(isinstance(c, bytes) for c, _ in chunks) else " ".join(out)
    return " ".join(text.split())


ADDRESS = re.compile(r"[\w.+\-=!#$%&'*/?^`{|}~]+@[\w\-]+(\.[\w\-]+)+")


def _first_address(value: str) -> tuple[str, str]:
    try:
        pairs = getaddresses([value])
    except Exception:  # noqa: BLE001
        pairs = []
    for name, address in pairs:
        if ADDRESS.fullmatch(address.strip()):
            return name.strip(), address.strip().lower()
    match = ADDRESS.search(value)
    return "", match.group(0).lower() if match else ""


MSGID = re.compile(r"<[^<>\s]+>")


def message_ids(value: str) -> list[str]:
    """Message-IDs in a References / In-Reply-To value, in order, without repeats."""
    found = MSGID.findall(value or "")
    if not found and value and value.strip() and "@" in value and " " not in value.strip():
        found = [f"<{value.strip().strip('<>')}>"]
    return list(dict.fromkeys(found))


def _date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


# --- bodies --------------------------------------------------------------------------------------
def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken transfer encoding: take the raw text
        data = None
    if data is None:
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return data


def _part_text(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        charset = None
    return decode_bytes(_payload(part), charset)


BLOCKS = {"p", "div", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
          "section", "article", "header", "footer", "center", "address", "dl", "dt", "dd"}


def html_to_text(html: str) -> str:
    """HTML -> plain text that keeps lines and paragraphs; quoted blocks get '> ' prefixes."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title", "meta"]):
        tag.decompose()
    lines: list[str] = []
    _render(soup, lines, [""])
    text = "\n".join("" if re.fullmatch(r"[>\s]*", line) else line.rstrip()
                     for line in "".join(lines).split("\n"))
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r"\n\s*\n\s*(\n\s*)+", "\n\n", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def _render(node, out: list[str], prefix: list[str]) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            if child.__class__.__name__ in ("Comment", "Doctype", "Declaration", "ProcessingInstruction"):
                continue
            text = re.sub(r"\s+", " ", str(child))
            if text.strip() or (out and not out[-1].endswith((" ", "\n"))):
                out.append(text)
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name == "br":
            out.append("\n" + prefix[0])
        elif name == "hr":
            out.append("\n" + prefix[0] + "_" * 32 + "\n" + prefix[0])
        elif name == "blockquote":
            inner = prefix[0] + "> "
            out.append("\n" + inner)
            _render(child, out, [inner])
            out.append("\n" + prefix[0])
        elif name == "li":
            out.append("\n" + prefix[0] + "• ")
            _render(child, out, prefix)
        elif name in ("td", "th"):
            _render(child, out, prefix)
            out.append(" ")
        elif name in BLOCKS:
            out.append("\n" + prefix[0])
            _render(child, out, prefix)
            out.append("\n" + prefix[0])
        else:
            _render(child, out, prefix)


def _filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    if not name:
        raw = part.get_param("name")
        name = email.utils.collapse_rfc2231_value(raw) if raw else None
    name = decode_header(name) if name else ""
    if "\ufffd" in name:
        name = _raw_param_filename(part) or name
    name = name.replace("/", "_").replace("\\", "_").strip()
    if name:
        return name
    extension = mimetypes.guess_extension(part.get_content_type()) or ".bin"
    return f"adjunto{index}{extension}"


def _raw_param_filename(part: Message) -> str:
    """A file name written in raw 8-bit (UTF-8) that the header parser turned into U+FFFD."""
    for header in ("Content-Disposition", "Content-Type"):
        raw = decode_header(part.get(header, ""))
        match = re.search(r'(?:file)?name\s*=\s*"?([^";]+)', raw, re.IGNORECASE)
        if match and "\ufffd" not in match.group(1):
            return match.group(1).strip()
    return ""


def _cid(part: Message) -> str:
    return (part.get("Content-ID") or "").strip().strip("<>")


@dataclass
class _Walk:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    forwarded: list[Letter] = field(default_factory=list)
    cid_candidates: list[tuple[str, File]] = field(default_factory=list)


def _walk(part: Message, walk: _Walk, depth: int) -> None:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        if depth < MAX_FORWARD_DEPTH:
            walk.forwarded.append(_letter(_inner_message(part), depth + 1))
        return
    if part.is_multipart():
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                _walk(sub, walk, depth)
        return
    try:
        disposition = part.get_content_disposition()
    except Exception:  # noqa: BLE001
        disposition = None
    try:
        has_name = bool(part.get_filename()) or bool(part.get_param("name"))
    except Exception:  # noqa: BLE001 - a malformed parameter: treat as unnamed
        has_name = False
    if content_type in ("text/plain", "text/html") and disposition != "attachment" and not has_name:
        (walk.plain if content_type == "text/plain" else walk.html).append(_part_text(part))
        return
    if content_type.startswith("multipart/") or content_type == "message/delivery-status" \
            or content_type == "text/rfc822-headers":
        return  # structure or delivery-report data, not a file the client sent
    data = _payload(part)
    file = File(_filename(part, len(walk.files) + 1), content_type, data,
                inline=disposition == "inline" or (disposition is None and bool(_cid(part))))
    if _cid(part) and content_type.startswith("image/"):
        walk.cid_candidates.append((_cid(part), file))
    walk.files.append(file)


def _inner_message(part: Message) -> Message:
    """The message inside a message/rfc822 part, also when (against RFC 2046) it is base64."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if inner is not None and encoding in ("base64", "quoted-printable"):
        body = inner.get_payload()
        if isinstance(body, str) and not inner.keys():
            raw = body.encode("ascii", "ignore")
            try:
                decoded = binascii.a2b_base64(raw) if encoding == "base64" else quopri.decodestring(raw)
            except binascii.Error:  # truncated or corrupt base64: read what is there as it is
                decoded = raw
            return email.message_from_bytes(decoded)
    if inner is None:
        raw = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
        return email.message_from_bytes(raw)
    return inner


def _letter(message: Message, depth: int = 0) -> Letter:
    walk = _Walk()
    _walk(message, walk, depth)
    plain = "\n\n".join(t for t in walk.plain if t.strip())
    html = "\n\n".join(walk.html)
    text = plain if plain.strip() else (html_to_text(html) if html.strip() else "")
    html_lower = html.lower()
    decorations = {id(f) for cid, f in walk.cid_candidates
                   if f"cid:{cid.lower()}" in html_lower and len(f.data) < INLINE_DECORATION_BYTES}
    sender_name, sender = _first_address(decode_header(message.get("From", "")))
    message_id = message_ids(str(message.get("Message-ID", "") or ""))
    return Letter(
        message=message,
        message_id=message_id[0] if message_id else "",
        sender=sender,
        sender_name=sender_name,
        subject=decode_header(message.get("Subject", "")),
        date=_date(decode_header(message.get("Date", ""))),
        in_reply_to=message_ids(str(message.get("In-Reply-To", "") or "")),
        references=message_ids(" ".join(str(v) for v in (message.get_all("References") or []))),
        text=text.replace("\r\n", "\n").replace("\r", "\n").strip(),
        files=[f for f in walk.files if id(f) not in decorations],
        forwarded=walk.forwarded,
    )


def parse(raw: bytes) -> Letter:
    return _letter(email.message_from_bytes(raw))


def all_files(letter: Letter) -> list[File]:
    """The letter's files and those of the messages it forwards."""
    files = list(letter.files)
    for inner in letter.forwarded:
        files.extend(all_files(inner))
    return files
