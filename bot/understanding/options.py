"""The answer to a numbered list: "2", "la 1 y la 3", "opciones 2 y 3"."""
from __future__ import annotations

import re
from collections.abc import Iterable

from bot import nlu
from bot.understanding.words import vocabulary


def option_numbers(text: str, also: Iterable[str] = ()) -> list[int]:
    """'2', '1 y 3', 'la 1 y la 3', 'opciones 2 y 3' -> the option numbers. A message with any
    other word (or one of `also`) is not an answer to a list: "por 3 meses" -> []."""
    words = nlu.normalise(text).split()
    allowed = set(vocabulary()["list_answers"]["option_words"]) | set(also)
    numbers = [int(word) for word in words if re.fullmatch(r"\d{1,2}", word)]
    if not numbers or any(not word.isdigit() and word not in allowed for word in words):
        return []
    return numbers
