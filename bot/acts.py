"""Dialog acts: thanks, ok, greetings and goodbyes said as the whole message.

A client typing between meetings closes with "gracias 👍" or opens with "buenas tardes": those are
not requests and must not be answered with "no logré entender" and the menu. Phrases are business
data (dialogs/rules/dialog_acts.yaml); this module only matches them: every word of the message must
belong to some act phrase or to the fillers, so any other word ("gracias, y el detalle de octubre")
makes it a request for the NLU to read.
"""
from __future__ import annotations

import re
from functools import lru_cache

from bot.nlu.normalise import normalise  # the module: bot.nlu's reading asks dialog_act()
from bot.rules import load_rules

MAX_WORDS = 12
_EMOJI = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]")


@lru_cache
def _table() -> tuple[list[tuple[tuple[str, ...], str]], frozenset[str], list[str], dict[str, str]]:
    data = load_rules("dialog_acts.yaml")
    phrases, emojis = [], {}
    for act, entries in data["acts"].items():
        for entry in entries:
            entry = str(entry)
            if _EMOJI.fullmatch(entry):
                emojis[entry] = act
                continue
            phrases.append((tuple(normalise(entry).split()), act))
    phrases.sort(key=lambda item: len(item[0]), reverse=True)  # "muchas gracias" before "gracias"
    fillers = frozenset(normalise(str(w)) for w in data["fillers"])
    return phrases, fillers, list(data["priority"]), emojis


def dialog_act(text: str) -> str | None:
    """"thanks", "ok", "greeting" or "goodbye" when that is all the message says, else None."""
    phrases, fillers, priority, emojis = _table()
    found = {act for emoji, act in emojis.items() if emoji in text}
    words = normalise(_EMOJI.sub(" ", text)).split()
    if len(words) > MAX_WORDS or (not words and not found):
        return None
    position = 0
    while position < len(words):
        for phrase, act in phrases:
            if tuple(words[position:position + len(phrase)]) == phrase:
                found.add(act)
                position += len(phrase)
                break
        else:
            if words[position] not in fillers:
                return None
            position += 1
    return next((act for act in priority if act in found), None)


CORRECTION_MAX_WORDS = 15


@lru_cache
def _phrases(key: str) -> tuple[str, ...]:
    return tuple(f" {normalise(str(p))} " for p in load_rules("dialog_acts.yaml")[key])


def _says(text: str, key: str) -> bool:
    words = normalise(text).split()
    padded = f" {' '.join(words)} "
    return len(words) <= CORRECTION_MAX_WORDS and any(p in padded for p in _phrases(key))


def is_correction(text: str) -> bool:
    """"perdón, es la 4412346": a short message that corrects what the client said before."""
    return _says(text, "corrections")


def is_change_of_mind(text: str) -> bool:
    """"pensándolo bien, mejor el traslado": the request just made is replaced by another."""
    return _says(text, "changes_of_mind")
