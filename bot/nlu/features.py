"""What the statistical model reads in a message: the same code at training and at run time.

Three blocks, each a function of the message alone:
- character n-grams (2-5, inside words padded with a space, as scikit-learn's
  "char_wb") of the normalised text: robust to typos, inflection and glued words;
- word unigrams and bigrams of the normalised text;
- the phrase rules' scores (bot/nlu/classify.py) per trámite, and which one the rules
  alone would pick: the precise signals staff maintain in nlu.yaml.
Digits are read as their shape ("4412345" -> "0000000"): a number is a line or an
amount, which number it is does not say what the client wants.
"""
from __future__ import annotations

import re

from . import classify
from .normalise import normalise

TRAMITES = tuple("ABCDEFGHIJKL")
CASE_QUERIES = ("estado", "anular")
LABELS = TRAMITES + CASE_QUERIES
CHAR_SIZES = range(2, 6)
_DIGIT = re.compile(r"\d")
# A case reference as the desk writes it ("PV-2026-000123"); normalise() keeps its parts.
_CASE_REF = re.compile(r"\bpv ?20\d\d ?\d{3,}\b")


def feature_text(text: str) -> str:
    """The normalised words the n-gram blocks read, numbers folded to their shape."""
    folded = normalise(classify._EMAIL.sub(" ", text))
    folded = _CASE_REF.sub(" refcaso ", folded)
    return _DIGIT.sub("0", folded)


def char_grams(norm: str) -> list[str]:
    grams = []
    for word in norm.split():
        padded = f" {word} "
        size_of = len(padded)
        for size in CHAR_SIZES:
            if size > size_of:
                if size == CHAR_SIZES[0]:
                    grams.append(padded)
                break
            grams.extend(padded[i : i + size] for i in range(size_of - size + 1))
    return grams


def word_grams(norm: str) -> list[str]:
    words = norm.split()
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


NEGATORS = frozenset({"no", "ni", "sin", "nunca", "tampoco", "jamas"})
NEGATION_WINDOW = 4


def negated_word_grams(norm: str) -> list[str]:
    """word_grams() plus "~word" for each word shortly after a negator: "no necesitamos el
    detalle" is not a request for the detalle."""
    grams = word_grams(norm)
    left = 0
    for word in norm.split():
        if word in NEGATORS:
            left = NEGATION_WINDOW
        elif left:
            grams.append("~" + word)
            left -= 1
    return grams


def rule_features(found: dict[str, float]) -> list[float]:
    """Per trámite: its rule score / 100 (capped), then 1.0 for the rules' own pick."""
    pick = classify.decide(found).tramite
    scores = [min(found.get(code, 0.0), 130.0) / 100.0 for code in TRAMITES]
    return scores + [1.0 if code == pick else 0.0 for code in TRAMITES]


RULE_FEATURES = 2 * len(TRAMITES)
