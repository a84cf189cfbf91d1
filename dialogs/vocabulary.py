"""Matching the client's words against the vocabulary files, tolerant of typos and accents.

Shared by the trámite dialogs (and the base class, which uses it to pick a product the client
names by its type: "el internet").
"""
from __future__ import annotations

from functools import lru_cache

from rapidfuzz import fuzz

from bot import nlu
from bot.nlu.normalise import phonetic
from bot.rules import load_rules

TYPO_CUTOFF = 86  # word similarity (after phonetic folding) that still counts as the same word
TYPO_MIN_LENGTH = 6  # shorter words must match exactly: one typo in "pin" is another word


@lru_cache
def vocabulary() -> dict:
    return load_rules("vocabulary_abcj.yaml")


def words_of(text: str) -> list[str]:
    return nlu.normalise(text).split()


def word_matches(word: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        prefix = pattern[:-1]
        return word.startswith(prefix) or phonetic(word).startswith(phonetic(prefix))
    if word == pattern:
        return True
    if len(pattern) < TYPO_MIN_LENGTH or not word[:1].isalpha():
        return False
    return fuzz.ratio(phonetic(word), phonetic(pattern)) >= TYPO_CUTOFF


def phrase_positions(words: list[str], phrase: str) -> list[int]:
    """Where a vocabulary phrase starts in the normalised words of a message."""
    pattern = str(phrase).split()
    size = len(pattern)
    return [i for i in range(len(words) - size + 1)
            if all(word_matches(words[i + k], pattern[k]) for k in range(size))]


def find_labels(words: list[str], table: dict[str, list]) -> list[tuple[int, str]]:
    """(position, label) for every phrase of `table` (label -> phrases) found, in text order."""
    found = {}
    for label, phrases in table.items():
        for phrase in phrases:
            for position in phrase_positions(words, phrase):
                found.setdefault(position, label)
    return sorted(found.items())


def products_named_by_type(dialog, turn) -> list[str]:
    """Contracts the message names by product type ("el plan de internet"): for each type
    mentioned, the client's only candidate product of that type."""
    types = {t for _, t in find_labels(words_of(turn.text), vocabulary()["product_type_words"])}
    candidates = dialog.candidates(turn)
    chosen = []
    for product_type in sorted(types):
        of_type = [p.contract for p in candidates if p.product_type == product_type]
        if len(of_type) == 1:
            chosen.extend(of_type)
    return chosen
