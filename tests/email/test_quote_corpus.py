"""Quote stripping never loses the client's words.

1. Our own corpus of replies (tests/email/fixtures/replies, written for this project): one body per
   mail program and habit — Gmail, Outlook desktop/web/mobile, Apple Mail, Thunderbird, Yahoo,
   Zimbra, Roundcube, Lotus Notes, Samsung Email; top-, bottom- and inline-posting; forwards; no
   quote at all — each with the text the client wrote now (`<name>.expected.txt`).
2. The shared corpus of real letters (../shared/corpus/email): a letter whose body has words outside
   `>` lines never comes back empty.
3. A property: whatever the client writes above, below or between a quoted block, every word of it
   survives, and the quoted block does not.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.email.parse import parse
from channels.email.quotes import strip_quotes
from tests.conftest import shared_path

REPLIES = Path(__file__).resolve().parent / "fixtures" / "replies"
CASES = tomllib.loads((REPLIES / "cases.toml").read_text(encoding="utf-8"))


def test_every_fixture_has_its_expected_text_and_an_entry():
    bodies = {p.name.removesuffix(".txt") for p in REPLIES.glob("*.txt") if not p.name.endswith(".expected.txt")}
    expected = {p.name.removesuffix(".expected.txt") for p in REPLIES.glob("*.expected.txt")}
    assert bodies == expected == set(CASES)
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_reply_corpus(name):
    case = CASES[name]
    body = (REPLIES / f"{name}.txt").read_text(encoding="utf-8")
    expected = (REPLIES / f"{name}.expected.txt").read_text(encoding="utf-8").strip()
    got = strip_quotes(body, subject=case["subject"], has_thread_headers=case["thread"])
    assert got == expected, f"{case['client']}: got {got!r}"
    # The same body with Windows line ends gives the same text.
    assert strip_quotes(body.replace("\n", "\r\n"), subject=case["subject"],
                        has_thread_headers=case["thread"]) == expected


# --- the shared corpus of real letters -----------------------------------------------------------
def _has_unquoted_words(text: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith(">") for line in text.splitlines())


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")}


def test_real_letters_never_come_back_empty():
    corpus = shared_path("corpus/email/imap_tools")
    files = sorted(corpus.rglob("*.eml"))
    assert files, f"no .eml files under {corpus}"
    checked = 0
    for path in files:
        letter = parse(path.read_bytes())
        threaded = bool(letter.in_reply_to or letter.references)
        for text, subject in [(letter.text, letter.subject)] + [(i.text, i.subject) for i in letter.forwarded]:
            got = strip_quotes(text, subject=subject, has_thread_headers=threaded)
            # Nothing is invented: every line we return was in the letter.
            assert _lines(got) <= _lines(text), path.name
            if _has_unquoted_words(text):
                checked += 1
                assert got.strip(), f"{path.name}: the client's text was lost"
    assert checked > 50


# --- the property --------------------------------------------------------------------------------
WORDS = ["detalle", "llamadas", "línea", "factura", "agosto", "septiembre", "octubre", "carta", "solicitud",
         "empresa", "necesitamos", "por", "favor", "mes", "pasado", "también", "traslado", "oficina", "señal",
         "número", "cuenta", "contrato", "gerencia", "Cochabamba", "Bs", "NIT", "sí", "no", "la", "de", "del",
         "urgente", "ñandú", "año", "el", "los", "con"]
NUMBERS = st.integers(min_value=0, max_value=99_999_999).map(str) | st.sampled_from(["4412345", "1020304050", "12,00"])
TOKEN = st.sampled_from(WORDS) | NUMBERS
CLIENT_LINE = st.lists(TOKEN, min_size=2, max_size=12).map(" ".join).map(lambda s: s[0].upper() + s[1:] + ".")
CLIENT_TEXT = st.lists(CLIENT_LINE, min_size=1, max_size=4).map("\n".join)

ATTRIBUTIONS = [
    "El sáb, 28 nov 2026 a las 9:00, Comteco Empresas (<empresas@comteco.bo>)\nescribió:",
    "El 28/11/26 a las 9:00, Comteco Empresas escribió:",
    "On Sat, Nov 28, 2026 at 9:00 AM Comteco Empresas <empresas@comteco.bo> wrote:",
    "Em sáb., 28 de nov. de 2026 às 09:00, Comteco Empresas <empresas@comteco.bo> escreveu:",
    "Le sam. 28 nov. 2026 à 09:00, Comteco Empresas <empresas@comteco.bo> a écrit :",
    "Am Sa., 28. Nov. 2026 um 09:00 Uhr schrieb Comteco Empresas <empresas@comteco.bo>:",
    "Il giorno sab 28 nov 2026 alle ore 09:00 Comteco Empresas <empresas@comteco.bo> ha scritto:",
    "Comteco Empresas <empresas@comteco.bo> escribió el 28/11/2026 9:00:",
    "",  # a '>' block with no attribution line
]
OUR_LINES = ["##- Por favor, escriba su respuesta encima de esta línea -##", "",
             "¿Sobre qué línea es su solicitud?", "1. Línea 7700001", "2. Línea 7700002",
             "Costo: Bs 99,00.", "--", "Post Venta Empresas - Comteco",
             "Para continuar, responda a este correo."]
QUOTE = st.tuples(st.sampled_from(ATTRIBUTIONS),
                  st.lists(st.sampled_from(OUR_LINES), min_size=1, max_size=6),
                  st.sampled_from(["> ", ">", ">> "]))


def _quote_block(attribution: str, lines: list[str], prefix: str) -> str:
    quoted = "\n".join(prefix + line if line else prefix.strip() for line in lines)
    return f"{attribution}\n{quoted}" if attribution else quoted


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(above=st.none() | CLIENT_TEXT, between=st.none() | CLIENT_TEXT, below=st.none() | CLIENT_TEXT,
       first=QUOTE, second=QUOTE, two_blocks=st.booleans(), gap=st.sampled_from(["\n", "\n\n"]),
       subject=st.sampled_from(["Re: Detalle de llamadas", "RE: Detalle", "Detalle de llamadas"]))
def test_the_clients_words_survive_wherever_they_are(above, between, below, first, second, two_blocks, gap,
                                                     subject):
    parts = [above, _quote_block(*first)]
    if two_blocks:
        parts += [between, _quote_block(*second)]
    parts.append(below)
    body = gap.join(p for p in parts if p)
    got = strip_quotes(body, subject=subject, has_thread_headers=True)
    client = [p for p in (above, between if two_blocks else None, below) if p]
    for text in client:
        for line in text.split("\n"):
            assert line in got, f"lost {line!r} from {body!r}: {got!r}"
    assert not re.search(r"7700001|7700002|99,00|##-|Post Venta", got), f"quote kept: {got!r}"
    if not client:
        assert got == ""
