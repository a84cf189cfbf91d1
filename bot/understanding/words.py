"""Matching the client's words against rules/vocabulary_abcj.yaml, tolerant of typos and accents.

Words are folded phonetically ("cayer aidi" is Caller ID) before the typo check. Used by the A, B,
C and J dialogs and by the trámite base class, which picks a product the client names by its type
("el internet") or by a quantifier ("todas", "las dos"). Kept apart from `phrases` (words compared
as written) and `mentions` (whole phrases): each matcher is what its dialogs were tuned against.
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


def type_mentions(words: list[str]) -> list[tuple[int, int, str]]:
    """(position, length, product type) of every type word, the longer phrase winning where two
    start at the same word and a later one never overlapping an earlier one."""
    hits: dict[int, tuple[int, str]] = {}
    for product_type, phrases in vocabulary()["product_type_words"].items():
        for phrase in phrases:
            size = len(str(phrase).split())
            for position in phrase_positions(words, phrase):
                if size > hits.get(position, (0, ""))[0]:
                    hits[position] = (size, product_type)
    mentions, end = [], 0
    for position in sorted(hits):
        size, product_type = hits[position]
        if position >= end:
            mentions.append((position, size, product_type))
            end = position + size
    return mentions


def _introduces_number(words: list[str], after: int) -> bool:
    connectors = set(vocabulary()["number_connectors"])
    for word in words[after:after + 4]:
        if any(ch.isdigit() for ch in word):
            return True
        if word not in connectors:
            return False
    return False


def free_product_types(words: list[str]) -> list[str]:
    """Product types named in words, not as the label of a number: in "la línea 4432211 y el
    internet" only the internet is named by its type."""
    types = []
    for position, size, product_type in type_mentions(words):
        if not _introduces_number(words, position + size) and product_type not in types:
            types.append(product_type)
    return types


def type_words() -> set[str]:
    """Every word of the product type phrases (they may stand next to option numbers)."""
    return {word for phrases in vocabulary()["product_type_words"].values()
            for phrase in phrases for word in str(phrase).split()}


def _quantifiers(words: list[str]) -> list[tuple[int, int, str]]:
    """(position, length, "all" | "both") of "todas", "ambas", "las dos"..."""
    answers = vocabulary()["list_answers"]
    found = []
    for label in ("both", "all"):
        for phrase in answers[label]:
            size = len(str(phrase).split())
            found += [(position, size, label) for position in phrase_positions(words, phrase)]
    return found


def quantifier_answer(words: list[str]) -> str | None:
    """"all" or "both" when the whole message is such an answer to a list ("todas", "ambas por
    favor", "las dos"); a quantifier inside a longer sentence ("todas las semanas") is not."""
    for position, size, label in _quantifiers(words):
        rest = words[:position] + words[position + size:]
        if all(word in vocabulary()["list_answers"]["option_words"] for word in rest):
            return label
    return None


def quantified_types(words: list[str]) -> dict[str, str]:
    """{product type: "all" | "both"} for "todas las líneas", "las dos líneas"."""
    starts = {position: product_type for position, _, product_type in type_mentions(words)}
    articles = set(vocabulary()["list_answers"]["quantifier_articles"])
    quantified = {}
    for position, size, label in _quantifiers(words):
        after = position + size
        while after < len(words) and words[after] in articles:
            after += 1
        if after in starts:
            quantified[starts[after]] = label
    return quantified

