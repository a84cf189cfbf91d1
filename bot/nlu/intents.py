"""Conversation-level intents: menu / cancel / human, and yes-no answers.

Both only fire on short replies whose every word is accounted for: the intent's phrase
plus polite filler. "quiero cancelar mi servicio de internet" keeps "servicio" and
"internet" unexplained, so it is not a "cancel" (it is a retiro, trámite H).
"""
from __future__ import annotations

import re

from .normalise import normalise
from .rules import rules

_MAX_WORDS = 10
_FILLERS = frozenset(normalise(str(w)) for w in rules()["fillers"])


def _phrase_table(groups: dict[str, list]) -> list[tuple[tuple[str, ...], str]]:
    """(words, label) pairs, longest first, so "no acepto" wins over "no"."""
    table = [
        (tuple(normalise(str(phrase)).split()), label)
        for label, phrases in groups.items()
        for phrase in phrases
    ]
    return sorted(table, key=lambda item: len(item[0]), reverse=True)


_GLOBAL = _phrase_table(rules()["global_intents"])
_ANSWERS = _phrase_table(
    {label: rules()["yes_no"][label] for label in ("unsure", "yes", "no")}
)
# Emojis become the word they stand for, so "👍 gracias" reads like "si gracias".
_EMOJI_WORDS = [(str(e), " si ") for e in rules()["yes_no"]["yes_emojis"]] + [
    (str(e), " no ") for e in rules()["yes_no"]["no_emojis"]
]
_CLAUSE_BREAK = re.compile(r"[,.;:!?¡¿\n]+")


def _find(words: list[str], phrase: tuple[str, ...]) -> int | None:
    size = len(phrase)
    for start in range(len(words) - size + 1):
        if tuple(words[start : start + size]) == phrase:
            return start
    return None


def global_intent(text: str) -> str | None:
    """"menu", "cancel" or "human" when that is the whole message, else None."""
    words = normalise(text).split()
    if not words or len(words) > _MAX_WORDS:
        return None
    for phrase, intent in _GLOBAL:
        start = _find(words, phrase)
        if start is None:
            continue
        rest = words[:start] + words[start + len(phrase) :]
        if all(word in _FILLERS for word in rest):
            return intent
    return None


def yes_no(text: str) -> bool | None:
    """True / False for a yes or no reply; None when it is neither or unclear.

    Only the first clause is read: "no, la linea es otra" is a no, while
    "no tengo internet" is a report, not an answer."""
    for emoji, word in _EMOJI_WORDS:
        text = text.replace(emoji, word)
    clauses = [c for c in _CLAUSE_BREAK.split(text) if normalise(c)]
    if not clauses:
        return None
    words = normalise(clauses[0]).split()
    if len(words) > _MAX_WORDS:
        return None
    answer: str | None = None
    position = 0
    while position < len(words):
        for phrase, label in _ANSWERS:
            if tuple(words[position : position + len(phrase)]) == phrase:
                if label == "unsure" or (answer is not None and answer != label):
                    return None
                answer = label
                position += len(phrase)
                break
        else:
            if words[position] not in _FILLERS:
                return None
            position += 1
    if answer is None:
        return None
    return answer == "yes"
