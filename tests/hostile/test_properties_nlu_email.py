"""Property-based tests over the pure parsers: the NLU and the email parser never raise, whatever
a client (or a broken mailer) sends."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import documents
from bot.nlu import analyze, global_intent, normalise, yes_no
from channels.email import parse

TRAMITES = set("ABCDEFGHIJKL")
BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Spanish-looking text mixed with anything Unicode can hold (surrogates excluded: they cannot come
# out of a decoded HTTP form or email).
WORDS = st.sampled_from(["quiero", "dar de baja", "factura", "reclamo", "internet", "no", "sí", "NIT",
                         "1020304021", "4412345", "enero", "el mes pasado", "Bs 45,00", "agente", "menú",
                         "🙂", "\u200b", "\x00", "ñandú", "ＦＡＣＴＵＲＡ", "ǅ", "ß", "İ", "\ufeff"])
TEXT = st.one_of(
    st.text(),
    st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=40).map(" ".join),
)


@BOUNDED
@given(TEXT, st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_nlu_never_raises_and_gives_json(text, today):
    result = analyze(text, today)
    assert result.tramite is None or result.tramite in TRAMITES
    assert 0.0 <= result.confidence <= 1.0
    json.dumps(result.to_dict())
    assert global_intent(text) is None or isinstance(global_intent(text), str)
    assert yes_no(text) in (True, False, None)
    assert isinstance(normalise(text), str)


@pytest.mark.parametrize("text", [
    "a" * 200_000,
    "quiero dar de baja " * 20_000,
    "1020304021 " * 20_000,
    "🙂" * 100_000,
    "\u0301" * 100_000,  # combining accents only
    "ﷺ" * 50_000,  # expands 18x under NFKC
])
def test_nlu_on_huge_strings(text):
    result = analyze(text, date(2026, 11, 28))
    assert result.tramite is None or result.tramite in TRAMITES
    json.dumps(result.to_dict())
    global_intent(text)
    yes_no(text)
    normalise(text)


# --- email ---------------------------------------------------------------------------------------
HEADERS = st.sampled_from(["From", "To", "Subject", "Message-ID", "In-Reply-To", "References", "Date",
                           "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version"])
CHARSETS = st.sampled_from(["utf-8", "latin-1", "windows-1252", "utf-16", "x-unknown", "", "utf-7", "gb2312",
                            '"utf-8', "iso-2022-jp", "ascii"])
ENCODINGS = st.sampled_from(["base64", "quoted-printable", "7bit", "8bit", "x-uuencode", "binary", "bogus"])


@st.composite
def mime_bytes(draw):
    """A letter assembled by hand from hostile pieces: headers, boundaries, charsets, encodings."""
    boundary = draw(st.sampled_from(["b1", "", "=_x", "a" * 80, "b1\"\"", "--"]))
    lines = [f"{name}: {draw(st.text(max_size=40))}" for name in draw(st.lists(HEADERS, max_size=6))]
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "x"]))
    lines += [f"Content-Type: multipart/{subtype}; boundary=\"{boundary}\"", ""]
    for _ in range(draw(st.integers(0, 4))):
        ctype = draw(st.sampled_from(["text/plain", "text/html", "application/pdf", "image/jpeg",
                                      "message/rfc822", "multipart/mixed", "application/zip", "", "x/y"]))
        disposition = draw(st.sampled_from(["attachment", "inline", "x", ""]))
        lines += [f"--{boundary}",
                  f"Content-Type: {ctype}; charset={draw(CHARSETS)}; name=\"{draw(st.text(max_size=10))}\"",
                  f"Content-Transfer-Encoding: {draw(ENCODINGS)}",
                  f"Content-Disposition: {disposition}; filename*={draw(st.text(max_size=12))}", ""]
        lines.append(draw(st.text(max_size=80)))
    if draw(st.booleans()):
        lines.append(f"--{boundary}--")
    joined = "\r\n".join(lines).encode("utf-8", "surrogatepass")
    return joined + draw(st.binary(max_size=64))


def _check_letter(letter):
    assert isinstance(letter.text, str) and isinstance(letter.subject, str)
    assert isinstance(letter.sender, str)
    for file in parse.all_files(letter):
        assert isinstance(file.data, bytes) and isinstance(file.filename, str)
        try:  # the content decides, never the declared type
            assert documents.check(file.data) == documents.sniff(file.data)
        except documents.RejectedFile as exc:
            assert exc.reason in ("empty", "too_large", "unsupported")


@BOUNDED
@given(st.binary(max_size=4096))
def test_email_parser_on_arbitrary_bytes(raw):
    _check_letter(parse.parse(raw))


@BOUNDED
@given(mime_bytes())
def test_email_parser_on_malformed_mime(raw):
    _check_letter(parse.parse(raw))


def _letter_with(filename: str, content_type: str, data: bytes) -> bytes:
    message = EmailMessage()
    message["From"] = "Cliente <cliente@empresa.bo>"
    message["To"] = "postventa@comteco.example"
    message["Subject"] = "Adjunto"
    message["Message-ID"] = "<adjunto@empresa.bo>"
    message.set_content("Adjunto el documento.")
    maintype, subtype = content_type.split("/")
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def test_zip_bomb_attachment_is_neither_expanded_nor_accepted():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(10):
            archive.writestr(f"carta-{index}.pdf", b"%PDF-" + b"\0" * (50 * 1024 * 1024))  # 500 MB inside
    bomb = buffer.getvalue()
    assert len(bomb) < 1024 * 1024
    letter = parse.parse(_letter_with("carta.pdf.zip", "application/zip", bomb))
    [file] = parse.all_files(letter)
    assert file.data == bomb  # kept as sent: nothing was decompressed
    with pytest.raises(documents.RejectedFile) as refused:
        documents.check(file.data)
    assert refused.value.reason == "unsupported"


@pytest.mark.parametrize(("declared", "data", "verdict"), [
    ("application/pdf", b"<html><script>alert(1)</script></html>", None),
    ("application/pdf", b"MZ\x90\x00\x03" + b"\0" * 100, None),  # a Windows executable
    ("image/jpeg", b"GIF89a" + b"\0" * 100, None),
    ("image/jpeg", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png"),
    ("application/octet-stream", b"%PDF-1.7\n" + b"\0" * 100, "application/pdf"),
])
def test_declared_type_is_not_trusted(declared, data, verdict):
    [file] = parse.all_files(parse.parse(_letter_with("carta.pdf", declared, data)))
    assert file.content_type == declared and file.data == data
    if verdict is None:
        with pytest.raises(documents.RejectedFile):
            documents.check(file.data)
    else:
        assert documents.check(file.data) == verdict


@pytest.mark.parametrize("charset", ["utf-16", "x-no-such-charset", "utf-7", "iso-2022-jp", "ebcdic-cp-us"])
def test_wrong_charsets_decode_without_raising(charset):
    raw = (f"From: a@b.bo\r\nSubject: =?{charset}?B?////?=\r\nContent-Type: text/plain; charset={charset}\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + "Señor, mi factura está mal ¿por qué?".encode("cp1252")
    letter = parse.parse(raw)
    assert isinstance(letter.text, str) and letter.text
