"""Matching the client's words against rules/vocabulary_def.yaml as written: find, first, confirm.

Used by the D, E and F dialogs. Kept apart from `words` (A, B, C, J), which folds words
phonetically before the typo check, and from `mentions` (H, I, L): this one compares them as
written and lets the longer of two overlapping phrases win; mixing the matchers in one module
would make it easy to call the wrong one and change what a trámite understands.
"""
from __future__ import annotations

from functools import lru_cache

from rapidfuzz import fuzz

from bot import nlu
from bot.rules import load_rules

FUZZY_WORD_MIN_LEN = 6  # shorter words must match exactly: one typo in "luz" is another word
FUZZY_WORD_CUTOFF = 86


@lru_cache
def vocabulary() -> dict:
    return load_rules("vocabulary_def.yaml")


def _word_matches(word: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        return word.startswith(pattern[:-1])
    if word == pattern:
        return True
    return (len(pattern) >= FUZZY_WORD_MIN_LEN and len(word) >= FUZZY_WORD_MIN_LEN
            and fuzz.ratio(word, pattern) >= FUZZY_WORD_CUTOFF)


@lru_cache(maxsize=4096)
def _pattern(phrase: str) -> tuple[str, ...]:
    """A phrase as normalised words; a trailing "*" (prefix match) survives normalisation."""
    words: list[str] = []
    for raw in str(phrase).split():
        normalised = nlu.normalise(raw.rstrip("*")).split()
        if raw.endswith("*") and normalised:
            normalised[-1] += "*"
        words.extend(normalised)
    return tuple(words)


def find(text: str, groups: dict) -> list:
    """Keys of `groups` ({key: [phrases]}) whose phrases occur in `text`, in the order of
    `groups`. Where two hits overlap only the longer one counts ("levantar la suspension"
    hides "suspension"), so one data file can hold both."""
    words = nlu.normalise(text).split()
    hits = []  # (length, start, end, key)
    for key, phrases in groups.items():
        for phrase in phrases:
            pattern = _pattern(phrase)
            n = len(pattern)
            for i in range(len(words) - n + 1):
                if all(_word_matches(words[i + k], pattern[k]) for k in range(n)):
                    hits.append((n, i, i + n, key))
    hits.sort(key=lambda h: -h[0])
    kept: list[tuple] = []
    for hit in hits:
        if not any(hit[1] < other[2] and other[1] < hit[2] for other in kept):
            kept.append(hit)
    found = {h[3] for h in kept}
    return [key for key in groups if key in found]


def first(text: str, groups: dict):
    keys = find(text, groups)
    return keys[0] if keys else None


def confirm(text: str) -> bool | None:
    """Yes/no of a confirmation, looser than nlu.yes_no: 'sí, es correcta', 'no estoy conforme'."""
    answer = nlu.yes_no(text)
    if answer is not None:
        return answer
    words = vocabulary()["confirm"]
    keys = find(text, {"unsure": words["unsure"], "no": words["no"], "yes": words["yes"]})
    if "unsure" in keys or not keys:
        return None
    return "no" not in keys

