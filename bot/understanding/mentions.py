"""Whole phrases in a normalised message: `mentions`, `first_match`.

Used by the H, I and L dialogs with rules/vocabulary_hikl.yaml. Kept apart from `words`
(phonetic folding, A, B, C, J) and `phrases` (as written with overlaps resolved, D, E, F): a
phrase here must appear whole, and only a single long word tolerates a typo ("caro" is not
"cero"), which is what the reasons and problems of those trámites were written for.
"""
from __future__ import annotations

from rapidfuzz import fuzz

from bot import nlu

FUZZY_MIN_LENGTH = 5  # shorter words must match exactly ("caro" is not "cero")
FUZZY_CUTOFF = 88


def mentions(normalised: str, phrase: str) -> bool:
    """Whole-word phrase in normalised text; single long words tolerate a typo."""
    phrase = nlu.normalise(phrase)
    if f" {phrase} " in f" {normalised} ":
        return True
    if " " in phrase or len(phrase) < FUZZY_MIN_LENGTH:
        return False
    return any(len(word) >= FUZZY_MIN_LENGTH and fuzz.ratio(word, phrase) >= FUZZY_CUTOFF
               for word in normalised.split())


def first_match(normalised: str, groups: dict[str, list[str]]) -> str | None:
    """The first key of `groups` ({key: [phrases]}) one of whose phrases the text mentions."""
    for code, phrases in groups.items():
        if any(mentions(normalised, p) for p in phrases):
            return code
    return None
