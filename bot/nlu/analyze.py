"""The NLU entry point: one call per inbound message."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from . import classify, entities
from .features import TRAMITES
from .hybrid import model
from .normalise import normalise
from .rules import rules

# Matching cost grows faster than linearly with one long unbroken token (a 200,000-character
# "word" took minutes); a request to the desk fits well within this, the rest is not read.
MAX_ANALYSED_CHARS = 4000


@dataclass(frozen=True)
class NluResult:
    tramite: str | None  # "A".."L": the main request, or None when no trámite is clear enough
    confidence: float  # 0..1: how likely the client asks for `tramite`
    entities: dict[str, Any] = field(default_factory=dict)
    # Every trámite asked for, with its confidence, in the order the message asks for them
    # (`tramite` is the most likely one).
    requests: tuple[tuple[str, float], ...] = ()
    case_query: str | None = None  # "estado" (how is my case going) / "anular" (withdraw it)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tramite": self.tramite,
            "confidence": round(self.confidence, 2),
            "requests": [[code, round(conf, 2)] for code, conf in self.requests],
            "case_query": self.case_query,
            "entities": copy.deepcopy(self.entities),
        }


def analyze(text: str, today: date | None = None) -> NluResult:
    """Requests and entities of a client's message. `today` anchors relative dates
    ("el mes pasado"); it defaults to the current date."""
    if not text or not text.strip():
        return NluResult(None, 0.0, {})
    text = text[:MAX_ANALYSED_CHARS]
    found = entities.extract(text, today or date.today())
    tramite, confidence, requests, case_query = read_requests(text)
    return NluResult(tramite, confidence, found, requests, case_query)


def read_requests(text: str):
    """(tramite, confidence, requests, case_query) by the hybrid model: the phrase rules'
    scores are among its inputs, the statistical part generalises past their wording."""
    hits = classify.scored_hits(text)
    prediction = model().predict(text, hits)
    found = list(prediction.tramites)
    positions = dict(prediction.positions)
    confidence = {label: prediction.probabilities[label] for label in found}
    segment_found: set[str] = set()
    if found or prediction.case_query:
        # Read part by part too: a second request in its own clause is often drowned by
        # the first in the whole-message reading.
        for start, part in segments(text):
            reading = model().predict(part, classify.scored_hits(part))
            label = max(reading.main, key=reading.main.get)
            if label in found or label not in TRAMITES or \
                    reading.main[label] < _segment_confidence():
                continue
            found.append(label)
            segment_found.add(label)
            positions[label] = start
            confidence[label] = reading.main[label]
    if not found:
        return None, 0.0, (), prediction.case_query
    # The softmax's pick keeps its confidence; the others', level 2's (or their part's
    # softmax).
    confidence[found[0]] = max(prediction.main[found[0]], 0.0)
    ordered = sorted(found, key=lambda label: (positions[label], -confidence[label]))
    # The main request is the first one the client asks for, so the dialog takes them in
    # the client's order, but only a sure one: a weak earlier reading ("dar de baja" in
    # "dar de baja el identificador", "la linea" in "la linea no tiene tono") stays second.
    sure = _earlier_confidence()
    main = next(label for label in ordered
                if label == found[0] or label in segment_found or confidence[label] >= sure)
    return (
        main,
        confidence[main],
        tuple((label, confidence[label]) for label in ordered),
        prediction.case_query,
    )


_SENTENCE_END = re.compile(r"[.;!?\n]+")


@cache
def _joiners() -> re.Pattern:
    words = sorted(rules()["classifier"]["segment_joiners"], key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")


def _segment_confidence() -> float:
    return float(rules()["classifier"]["segment_confidence"])


def _earlier_confidence() -> float:
    return float(rules()["classifier"]["earlier_request_confidence"])


def segments(text: str) -> list[tuple[int, str]]:
    """(index of its first word, normalised words) of each clause of a message of more than
    one: cut at sentence ends and at joining words. Clauses of one word are left out."""
    parts: list[tuple[int, str]] = []
    offset = 0
    for sentence in _SENTENCE_END.split(text):
        norm = normalise(sentence)
        for piece in _joiners().split(norm):
            words = piece.split()
            if len(words) >= 2:
                parts.append((offset, " ".join(words)))
            offset += len(words)
    return parts if len(parts) > 1 else []


def rules_only(text: str) -> tuple[str | None, float]:
    """The phrase rules' own reading (the classifier before the model): the baseline."""
    result = classify.classify(text[:MAX_ANALYSED_CHARS])
    return result.tramite, result.confidence
