"""The NLU entry point: one call per inbound message."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from . import entities
from .classify import classify

# Matching cost grows faster than linearly with one long unbroken token (a 200,000-character
# "word" took minutes); a request to the desk fits well within this, the rest is not read.
MAX_ANALYSED_CHARS = 4000


@dataclass(frozen=True)
class NluResult:
    tramite: str | None  # "A".."L", or None when no trámite is clear enough
    confidence: float  # 0..1; grows with the lead over the runner-up trámite
    entities: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tramite": self.tramite,
            "confidence": round(self.confidence, 2),
            "entities": copy.deepcopy(self.entities),
        }


def analyze(text: str, today: date | None = None) -> NluResult:
    """Trámite and entities of a client's message. `today` anchors relative dates
    ("el mes pasado"); it defaults to the current date."""
    if not text or not text.strip():
        return NluResult(None, 0.0, {})
    text = text[:MAX_ANALYSED_CHARS]
    found = entities.extract(text, today or date.today())
    result = classify(text)
    return NluResult(result.tramite, result.confidence, found)
