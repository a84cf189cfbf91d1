"""Text normalisation shared by every NLU step.

Three levels, each built on the previous one:
- fold(): lower-case and strip accents, punctuation kept; entity regexes need "/",
  "@", "," and "." to read dates, emails and amounts.
- normalise(): the public form; words only, WhatsApp shorthand expanded.
- phonetic(): folds spellings Bolivian clients mix up (ll/y, v/b, z/s, ce/se, silent h,
  doubled letters) so one phrase in the data file also matches "detaye de yamadas".
  Only the classifier uses it, on both the message and the phrases.
"""
from __future__ import annotations

import re
import unicodedata

from .rules import rules

_NUMBER_SIGN = re.compile(r"\b([nN])\s*[º°]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# "holaaaa", "graciaaas": three or more of the same letter is emphasis, not spelling.
_EMPHASIS = re.compile(r"([a-z])\1{2,}")

_ABBREVIATIONS: dict[str, str] = {
    str(k): str(v) for k, v in rules()["abbreviations"].items()
}

_PHONETIC_STEPS = [
    (re.compile(r"ll"), "y"),
    (re.compile(r"v"), "b"),
    (re.compile(r"z"), "s"),
    (re.compile(r"x"), "s"),
    (re.compile(r"c(?=[ei])"), "s"),
    (re.compile(r"(?<!c)h"), ""),
    (re.compile(r"([a-z])\1+"), r"\1"),
]


def fold(text: str) -> str:
    """Lower-case without accents ("Línea Nº" -> "linea no"); other characters kept."""
    # "Nº"/"N°" would fold to "no" and read as a negation; spell it as "nro".
    text = _NUMBER_SIGN.sub(r"\1ro ", text)
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise(text: str) -> str:
    """Words only: lower-case, no accents, emojis or punctuation, shorthand expanded."""
    words = _NON_WORD.sub(" ", fold(text)).split()
    out = []
    for word in words:
        word = _EMPHASIS.sub(r"\1", word)
        out.append(_ABBREVIATIONS.get(word, word))
    return " ".join(out)


def phonetic(normalised: str) -> str:
    """Spelling-insensitive key of already normalised text (for matching only)."""
    for pattern, replacement in _PHONETIC_STEPS:
        normalised = pattern.sub(replacement, normalised)
    return normalised
