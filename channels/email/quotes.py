"""Only what the client wrote now: quoted history is cut from replies, the client's words never.

The body is read line by line (measured on tests/email/fixtures/replies: Gmail, Outlook desktop,
web and mobile, Apple Mail, Thunderbird, Yahoo, Zimbra, Roundcube, Lotus Notes, Samsung Email;
top-, bottom- and inline-posting; and on the shared corpus of real letters):

1. Quoted blocks: runs of `>` lines, with the attribution line just above them ("El ... escribió:",
   "On ... wrote:", "Em ... escreveu:", "Le ... a écrit :", "Am ... schrieb X:", "Il ... ha scritto:",
   "X escribió el ...:", also wrapped over two or three lines). A block is removed; what the client
   wrote above, between and below blocks (bottom-posting, inline answers) is kept.
2. History that is not marked with `>`: our own marker line ("##- ... -##", which tops every email
   we send), Outlook header blocks ("De:/Enviado el:/Para:/Asunto:", "From:/Sent:/To:/Subject:",
   bold "*De:*", with or without the "____" rule line above), "-----Mensaje original-----",
   Lotus "-----X escribió: -----", and an attribution line not followed by `>` lines (Yahoo indents
   instead). Everything below is history, except text the client wrote under the footer of our own
   email ("Para continuar, responda a este correo"): Outlook users who write below the quote.
3. Signatures at the very end, only when recognised: "Enviado desde mi iPhone", "Obtener Outlook
   para Android" and such; a "-- " block; a closing ("Saludos cordiales,") followed by a name and a
   role or contact line. A signature that carries a NIT is kept: it is a datum we ask for.

Where unsure, the text is kept: losing the client's words is worse than keeping a quote. An
Outlook-like block counts only with an address or a time in it (a letter's own "De:/Para:/Asunto:/
Fecha:" heading is not history), and if cutting leaves nothing while the history is not one of our
emails, the letter is kept whole.

A forward is not a reply: "RV:/Fwd:" letters keep the forwarded text, which usually *is* the
request ("le reenvío la solicitud de nuestro gerente"); so does a "Forwarded message" block the
client pasted into a reply. A letter that is not a reply keeps its own `>` quotes (a quoted norm).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import quotequail

log = logging.getLogger(__name__)

MARKER = re.compile(r"^.*##-.*-##.*$", re.MULTILINE)
REPLY_PREFIX = re.compile(r"^\s*(re|res|aw|sv|antw)\s*(\[\d+\])?\s*:", re.IGNORECASE)
FORWARD_PREFIX = re.compile(r"^\s*(fwd?|rv|reenv(iado|ío|io)?|tr|wg)\s*:", re.IGNORECASE)
# Footer of every email we send (templates/email/reply.txt and reply.html).
OUR_FOOTER = re.compile(r"Para continuar, responda a este correo", re.IGNORECASE)

QUOTED = re.compile(r"^\s*>")
_VERB = (r"(?:escribió|escribio|wrote|a\s+écrit|a\s+ecrit|schrieb|escreveu|ha\s+scritto|scrisse|"
         r"schreef|skrev|написал\(а\)|napisał\(a\))")
# "El lun, 3 nov 2026 a las 10:15, Ana <ana@x.bo> escribió:" and its kin in other languages.
ATTRIBUTION = re.compile(
    rf"^(?:El|On|Le|Am|Em|Il|Op|Den|Dnia)\b.{{0,400}}?\b{_VERB}(?:\s.{{0,160}})?\s*:$", re.IGNORECASE)
# "Comteco Empresas <empresas@comteco.bo> escribió el 28/11/2026 9:00:" (one line, starting with
# a name: a wrapped "empresas@comteco.bo> ha scritto:" is the end of a longer attribution).
ATTRIBUTION_AFTER = re.compile(
    rf"^(?-i:[\"'A-ZÁÉÍÓÚÑ]).{{0,200}}?\b{_VERB}(?:\s+(?:el|on|em|le|am|il)\b.{{0,160}})?\s*:$", re.IGNORECASE)
# Lotus Notes: '-----"Comteco Empresas" <empresas@comteco.bo> escribió: -----'
LOTUS = re.compile(rf"^-{{3,}}.{{0,200}}\b{_VERB}\s*:\s*-{{3,}}$", re.IGNORECASE)
ORIGINAL_MESSAGE = re.compile(
    r"^-{2,}\s*(?:Mensaje original|Original Message|Mensagem original|Message d'origine|"
    r"Ursprüngliche Nachricht|Messaggio originale|Oorspronkelijk bericht)\s*-{2,}$",
    re.IGNORECASE)
FORWARDED = re.compile(
    r"^(?:-{2,}\s*(?:Forwarded message|Mensaje reenviado|Mensagem encaminhada|Message transféré|"
    r"Weitergeleitete Nachricht|Messaggio inoltrato|Doorgestuurd bericht)\s*-{2,}|"
    r"(?:Begin forwarded message|Inicio del mensaje reenviado|Início da mensagem reencaminhada|"
    r"Début du message réexpédié|Anfang der weitergeleiteten (?:Nachricht|E-Mail))\s*:)$",
    re.IGNORECASE)
RULE_LINE = re.compile(r"^_{10,}$")
HEADER = re.compile(r"^\*{0,2}\s*([^\W\d_][\w .'-]{0,20}?)\s*\*{0,2}\s*:\s*\*{0,2}\s*(.*)$")
HEADER_FIELDS = {
    "from": ("de", "from", "von", "da", "van", "remitente", "expéditeur"),
    "date": ("enviado", "enviado el", "enviados", "enviada", "enviado em", "sent", "fecha", "date",
             "gesendet", "datum", "data", "envoyé", "envoyé le", "inviato", "received"),
    "to": ("para", "to", "an", "a", "à", "destinatario", "destinatarios", "per", "aan", "till"),
    "cc": ("cc", "cco", "bcc", "copia", "kopie"),
    "subject": ("asunto", "subject", "betreff", "assunto", "objet", "oggetto", "onderwerp", "tema"),
    "other": ("importancia", "importance", "prioridad", "priority", "reply-to", "responder a",
              "datos adjuntos", "attachments", "anexos"),
}
_FIELD_OF = {name: fld for fld, names in HEADER_FIELDS.items() for name in names}
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")

DEVICE_TAGLINE = re.compile(
    r"^(?:(?:Enviado|Enviada|Sent|Envoyé|Gesendet|Inviato)\s+(?:desde|from|de|von|da|con|with)\s+"
    r"(?:mi\s+|my\s+|mon\s+|meinem\s+|il\s+mio\s+|el\s+)?.{0,40}?\b(?:iPhone|iPad|Android|Samsung|"
    r"Galaxy|Huawei|Xiaomi|Redmi|Motorola|BlackBerry|móvil|movil|celular|teléfono|telefono|"
    r"smartphone|dispositivo|tablet|Outlook|Yahoo|Correo|Mail|Gmail|mobile|ProtonMail)\b.{0,60}|"
    r"(?:Obtener|Get|Descargar|Descargue|Download)\s+Outlook\s+(?:para|for)\s+(?:Android|iOS)\b.{0,60})$",
    re.IGNORECASE)
CLOSING = re.compile(
    r"^(?:(?:muchas\s+)?gracias|saludos(?:\s+cordiales)?|cordiales\s+saludos|un\s+(?:cordial\s+)?saludo|"
    r"atentamente|atte|cordialmente|best\s+regards|kind\s+regards|regards|best|thanks|sincerely|"
    r"mit\s+freundlichen\s+grüßen|cordialement|atenciosamente|cumprimentos|distinti\s+saluti)[\s,.!]*$",
    re.IGNORECASE)
ROLE_OR_CONTACT = re.compile(
    r"\b(?:gerente|jef[ea]|encargad[oa]|contador[a]?|asistente|director[a]?|responsable|"
    r"administrador[a]?|coordinador[a]?|analista|supervisor[a]?|secretari[oa]|auxiliar|departamento|"
    r"dpto|área|unidad|manager|officer|head|assistant|accountant|tel|telf|teléfono|telefono|cel|"
    r"celular|fono|móvil|movil|fax|int|phone|mobile|www|https?|av|calle)\b|@|"
    r"\b(?:S\.R\.L|S\.A|Ltda|Inc|LLC|R\.L)\.?(?=\s|$|[,;|])", re.IGNORECASE)
KEEP_SIGNATURE = re.compile(r"\bNIT\b", re.IGNORECASE)


def is_forward(subject: str) -> bool:
    return bool(FORWARD_PREFIX.match(subject or ""))


def is_reply(subject: str, *, has_thread_headers: bool) -> bool:
    return has_thread_headers or bool(REPLY_PREFIX.match(subject or ""))


def _plain(line: str) -> str:
    return line.replace("\ufeff", "").replace("\u200b", "").replace("\xa0", " ").strip()


def _blank(line: str) -> bool:
    return not _plain(line)


def _quoted(line: str) -> bool:
    return bool(QUOTED.match(_plain(line)))


# --- finding history -----------------------------------------------------------------------------
def _attribution_start(lines: list[str], end: int) -> int | None:
    """The first line of an attribution ending at line `end`, trying one line, then two, then three."""
    if not _plain(lines[end]).endswith(":") or _quoted(lines[end]):
        return None
    for size in (1, 2, 3):
        start = end - size + 1
        if start < 0:
            return None
        part = [_plain(line) for line in lines[start:end + 1]]
        if any(not p or p.startswith(">") for p in part):
            return None
        # A wrapped attribution does not end a sentence halfway (that is the client's line above).
        if any(p.endswith((".", "!", "?", ";")) for p in part[:-1]):
            return None
        joined = " ".join(part)
        if len(joined) > 400 or not re.search(r"\d|@", joined):
            continue
        if ATTRIBUTION.match(joined) or (size == 1 and (ATTRIBUTION_AFTER.match(joined) or LOTUS.match(joined))):
            return start
    return None


def _header_block(lines: list[str], start: int) -> int:
    """End (exclusive) of an email header block starting at `start`, or `start` if there is none.
    It must name a sender and a date or subject among three fields, and hold an address or a time."""
    fields: dict[str, str] = {}
    index, continuation = start, 0
    while index < len(lines):
        line = _plain(lines[index])
        match = HEADER.match(line) if line else None
        name = match.group(1).strip().lower() if match else ""
        if match and name in _FIELD_OF:
            fields.setdefault(_FIELD_OF[name], match.group(2))
            continuation = 0
        elif line and fields and continuation < 2 and not line.startswith(">"):
            continuation += 1  # a long "Para:" list wrapped onto the next line
        else:
            break
        index += 1
    while index > start and not HEADER.match(_plain(lines[index - 1])):
        index -= 1  # trailing continuation lines are text, not headers
    known = {f for f in fields if f != "other"}
    evidence = any("@" in v for v in fields.values()) or bool(_TIME.search(fields.get("date", "")))
    if len(known) >= 3 and "from" in known and ({"date", "subject"} & known) and evidence:
        return index
    return start


def _next_text(lines: list[str], index: int) -> int:
    while index < len(lines) and _blank(lines[index]):
        index += 1
    return index


@dataclass
class _Read:
    kept: list[str] = field(default_factory=list)
    history: bool = False  # something was recognised as history
    ours: bool = False  # the history is one of our emails (marker or footer)
    unmarked: bool = False  # history was cut at a line not marked with '>'


def _read(lines: list[str], *, reply: bool) -> _Read:
    out = _Read()
    blocks: list[tuple[int, int]] = []  # [start, end) of quoted blocks, attribution included
    index, exempt_until, cut = 0, -1, None
    while index < len(lines):
        line = _plain(lines[index])
        if not line or index < exempt_until:
            index += 1
            continue
        if line.startswith(">"):
            end = index
            while end < len(lines) and (_quoted(lines[end]) or
                                        (_blank(lines[end]) and _next_text(lines, end) < len(lines)
                                         and _quoted(lines[_next_text(lines, end)]))):
                end += 1
            blocks.append((index, end))
            index = end
            continue
        if FORWARDED.match(line):
            # The client forwards this: its header block is the forwarded letter's, not history.
            header = _next_text(lines, index + 1)
            exempt_until = max(_header_block(lines, header), header) if header < len(lines) else index
            index += 1
            continue
        if MARKER.match(line) or ORIGINAL_MESSAGE.match(line) or LOTUS.match(line):
            cut = index
            break
        if RULE_LINE.match(line):
            header = _next_text(lines, index + 1)
            if header < len(lines) and _header_block(lines, header) > header:
                cut = index
                break
        if _header_block(lines, index) > index:
            cut = index
            break
        start = _attribution_start(lines, index)
        if start is not None:
            after = _next_text(lines, index + 1)
            if after < len(lines) and _quoted(lines[after]):
                # The attribution goes with the quoted block below it.
                end = after
                while end < len(lines) and (_quoted(lines[end]) or
                                            (_blank(lines[end]) and _next_text(lines, end) < len(lines)
                                             and _quoted(lines[_next_text(lines, end)]))):
                    end += 1
                blocks.append((start, end))
                index = end
                continue
            cut = start
            break
        index += 1

    top = lines[:cut] if cut is not None else lines
    removed: set[int] = set()
    for start, end in blocks:
        if cut is not None and start >= cut:
            continue
        block = [_plain(line) for line in lines[start:end]]
        ours = any(MARKER.search(b) or OUR_FOOTER.search(b) for b in block)
        attributed = not block[0].startswith(">")
        if reply or ours or attributed:
            removed.update(range(start, end))
            out.history = True
            out.ours = out.ours or ours
    for number, line in enumerate(top):
        if number in removed:
            if number - 1 not in removed:
                out.kept.append("")
        else:
            out.kept.append(line)

    if cut is not None:
        out.history = out.unmarked = True
        history = lines[cut:]
        out.ours = out.ours or any(MARKER.search(h) or OUR_FOOTER.search(h) for h in history)
        # Text under the footer of our own email, before any older history, is the client's.
        footer = next((n for n, h in enumerate(history) if OUR_FOOTER.search(h) and not _quoted(h)), None)
        if footer is not None:
            below = _read(history[footer + 1:], reply=reply)
            out.kept += [""] + below.kept
    return out


# --- signatures ----------------------------------------------------------------------------------
def _strip_signature(lines: list[str]) -> tuple[list[str], bool]:
    """Lines without a recognised signature at the end; and whether only device taglines went."""
    lines = list(lines)
    only_taglines = True
    changed = True
    while changed:
        changed = False
        while lines and _blank(lines[-1]):
            lines.pop()
        if lines and DEVICE_TAGLINE.match(_plain(lines[-1])):
            lines.pop()
            changed = True
            continue
        text = [_plain(line) for line in lines]
        tail_start = None
        for number in range(len(text) - 1, max(-1, len(text) - 13), -1):
            if text[number] == "--":
                tail = [t for t in text[number + 1:] if t]
                if 1 <= len(tail) <= 10 and all(len(t) <= 100 for t in tail):
                    tail_start = number
                break
            if CLOSING.match(text[number].strip("*")):
                tail = [t for t in text[number + 1:] if t]
                if (1 <= len(tail) <= 7 and all(len(t) <= 90 and not t.endswith("?") for t in tail)
                        and any(ROLE_OR_CONTACT.search(t) for t in tail)
                        and "" not in [t for t in text[number + 1:]][2:]):
                    tail_start = number
                break
        if tail_start is not None and not any(KEEP_SIGNATURE.search(t) for t in text[tail_start:]):
            lines = lines[:tail_start]
            only_taglines = False
            changed = True
    return lines, only_taglines


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if line.strip() or (out and out[-1].strip()):
            out.append(line if line.strip() else "")
    return "\n".join(out).strip()


# --- fallbacks for replies in which nothing was recognised ---------------------------------------
def _quotequail(text: str) -> str | None:
    """quotequail knows attribution lines in a few more languages (Dutch, Swedish, Russian)."""
    try:
        unwrapped = quotequail.unwrap(text)
    except Exception:
        log.exception("quotequail failed; keeping the text")
        return None
    if not unwrapped or unwrapped.get("type") != "reply":
        return None
    kept = "\n\n".join(p.strip() for p in (unwrapped.get("text_top", ""), unwrapped.get("text_bottom", ""))
                       if p and p.strip())
    return kept or None


def _mail_parser_reply(text: str) -> str:
    from mailparser_reply import EmailReplyParser

    try:
        return EmailReplyParser(languages=["es", "en"]).parse_reply(text=text) or text
    except Exception:
        log.exception("mail-parser-reply failed; keeping the text")
        return text


def _fallback(text: str) -> str | None:
    found = _quotequail(text)
    if found:
        return found
    # mail-parser-reply also cuts signatures and closings: taken only when what it cut starts with
    # a header-like line (a date or an address, ending in ':'), i.e. a quote header we do not know.
    reply = _mail_parser_reply(text).strip()
    body = text.strip()
    if reply and reply != body and body.startswith(reply):
        rest = [line.strip() for line in body[len(reply):].split("\n") if line.strip()]
        if rest and rest[0].endswith(":") and re.search(r"\d|@", rest[0]) and not CLOSING.match(rest[0]):
            return reply
    return None


def strip_quotes(text: str, *, subject: str = "", has_thread_headers: bool = False) -> str:
    """The new part of a reply. A forward keeps its forwarded text; plain letters pass through."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if is_forward(subject):
        # Only our own marker is cut: below it is our email, forwarded back to us.
        marker = next((n for n, line in enumerate(lines) if MARKER.match(_plain(line))), None)
        return _tidy(lines[:marker]) if marker else text.strip()
    reply = is_reply(subject, has_thread_headers=has_thread_headers)
    read = _read(lines, reply=reply)
    if not read.history:
        if not reply:
            return text.strip()
        found = _fallback(text)
        if found is not None:
            return found
        kept, _ = _strip_signature(lines)
        tidy = _tidy(kept)
        return tidy if tidy and tidy != _tidy(lines) else text.strip()
    if not _tidy(read.kept):
        # Nothing above or below the history: a reply with only an attachment, if the history is
        # ours (or marked with '>'); otherwise we are unsure what it is and keep it all.
        return "" if read.ours or not read.unmarked else text.strip()
    kept, only_taglines = _strip_signature(read.kept)
    if not _tidy(kept) and not only_taglines:
        kept = read.kept  # never cut a letter down to nothing for a signature
    return _tidy(kept)
