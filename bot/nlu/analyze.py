"""The NLU entry point: one call per inbound message."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from bot.acts import dialog_act

from . import classify, entities
from .features import CASE_QUERIES, TRAMITES
from .hybrid import model
from .normalise import normalise
from .rules import rules

# Matching cost grows faster than linearly with one long unbroken token (a 200,000-character
# "word" took minutes); a request to the desk fits well within this, the rest is not read.
MAX_ANALYSED_CHARS = 4000


READING_FIELDS = ("tramite", "confidence", "requests", "case_query", "texts", "case_first")


class NluResult:
    """What a message says. Entities are read at once; the requests (the model) only when
    first asked for: most messages inside a trámite ("sí", "la 1", "octubre") are read for
    their entities and yes/no alone, and the model is most of the NLU's cost.

    - tramite: "A".."L", the main request (the first one asked for), or None;
    - confidence: 0..1, how likely the client asks for `tramite`;
    - requests: every trámite asked for, with its confidence, in the order asked;
    - case_query: "estado" (how is my case going) / "anular" (withdraw it) / None;
    - texts: with several requests, trámite -> the words of the message that ask for it;
    - case_first: the message is mainly about a case ("ya reclamé la factura y nadie
      responde"), not a new request, though it names a trámite.
    """

    def __init__(self, text: str, entities: dict[str, Any], **reading):
        self._text = text
        self.entities = entities
        self._reading = {**reading}

    def _read(self, name: str):
        if name not in self._reading:
            if self._text:
                values = read_requests(self._text)
            else:
                values = (None, 0.0, (), None, {}, False)
            self._reading = {**dict(zip(READING_FIELDS, values)), **self._reading}
        return self._reading[name]

    tramite = property(lambda self: self._read("tramite"))
    confidence = property(lambda self: self._read("confidence"))
    requests = property(lambda self: self._read("requests"))
    case_query = property(lambda self: self._read("case_query"))
    texts = property(lambda self: self._read("texts"))
    case_first = property(lambda self: self._read("case_first"))

    def but(self, **reading) -> "NluResult":
        """The same reading with some of its values replaced (a request taken on its own)."""
        unknown = set(reading) - set(READING_FIELDS)
        if unknown:
            raise TypeError(f"not a reading field: {sorted(unknown)}")
        return NluResult(self._text, self.entities, **{**self._reading, **reading})

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
        return NluResult("", {})
    text = text[:MAX_ANALYSED_CHARS]
    return NluResult(text, entities.extract(text, today or date.today()))


def read_requests(text: str):
    """(tramite, confidence, requests, case_query, texts, case_first) by the hybrid model: the phrase rules'
    scores are among its inputs, the statistical part generalises past their wording."""
    if dialog_act(text) is not None:
        # "hola? hay alguien?", "gracias 👍": social, answered briefly, never a trámite.
        return None, 0.0, (), None, {}, False
    hits = classify.scored_hits(text)
    prediction = model().predict(text, hits)
    found = list(prediction.tramites)
    positions = dict(prediction.positions)
    confidence = {label: prediction.probabilities[label] for label in found}
    case_query = prediction.case_query
    segment_found: set[str] = set()
    clauses: list[Clause] = []
    clause_labels: dict[int, str] = {}  # clause -> what it asks for, read on its own
    if found or prediction.case_query:
        # Read part by part too: a second request in its own clause is often drowned by
        # the first in the whole-message reading.
        clauses = segments(text)
        for index, clause in enumerate(clauses):
            start, part = clause.start, clause.norm
            reading = model().predict(part, classify.scored_hits(part))
            label = max(reading.main, key=reading.main.get)
            clause_labels[index] = label
            if label in CASE_QUERIES and case_query is None \
                    and reading.main[label] >= _segment_case_confidence():
                case_query = label
                continue
            if label in found or label not in TRAMITES or \
                    reading.main[label] < _segment_confidence():
                continue
            found.append(label)
            segment_found.add(label)
            positions[label] = start
            confidence[label] = reading.main[label]
    if not found:
        return None, 0.0, (), case_query, {}, case_query is not None
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
    # Another request is kept when the client asked for it in a clause of its own, or the
    # whole-message reading is fairly sure: each one kept is a question to the client.
    floor = _other_confidence()
    ordered = [label for label in ordered
               if label == main or label in segment_found or label in clause_labels.values()
               or confidence[label] >= floor]
    texts = request_texts(clauses, clause_labels, ordered) if len(ordered) > 1 else {}
    if case_query is not None and case_query in clause_labels.values():
        # The words of the case question too ("¿en qué quedó el traslado?"), so the case it
        # asks about is looked for in them, not in the other requests' words.
        asked = {*ordered, case_query}
        texts = {**texts, case_query: ". ".join(
            c.raw for i, c in enumerate(clauses)
            if clause_labels.get(i) == case_query or clause_labels.get(i) not in asked)}
    return (
        main,
        confidence[main],
        tuple((label, confidence[label]) for label in ordered),
        case_query,
        texts,
        max(prediction.main, key=prediction.main.get) in CASE_QUERIES,
    )


@cache
def _sentence_end() -> re.Pattern:
    return re.compile("[" + re.escape(rules()["classifier"]["segment_marks"]) + "\n]+")


def _segment_case_confidence() -> float:
    return float(rules()["classifier"]["segment_case_confidence"])


_ACCENTED = {"a": "[aá]", "e": "[eé]", "i": "[ií]", "o": "[oó]", "u": "[uúü]"}


@cache
def _joiners() -> re.Pattern:
    """The joining words as typed: any case, with or without accents ("También", "ademas")."""
    words = sorted(rules()["classifier"]["segment_joiners"], key=len, reverse=True)
    spelled = ["".join(_ACCENTED.get(ch, re.escape(ch)) for ch in w) for w in words]
    return re.compile(r"(?<!\w)(" + "|".join(spelled) + r")(?!\w)", re.IGNORECASE)


def _segment_confidence() -> float:
    return float(rules()["classifier"]["segment_confidence"])


def _other_confidence() -> float:
    return float(rules()["classifier"]["other_request_confidence"])


def _earlier_confidence() -> float:
    return float(rules()["classifier"]["earlier_request_confidence"])


@dataclass(frozen=True)
class Clause:
    start: int  # index of its first word in the normalised message
    norm: str  # its normalised words, as the model reads them
    raw: str  # as the client wrote it, for the dialog that handles it


def segments(text: str) -> list[Clause]:
    """The clauses of a message of more than one: cut at sentence ends and at joining words.
    Clauses of one word are left out."""
    parts: list[Clause] = []
    offset = 0
    for sentence in _sentence_end().split(text):
        for i, piece in enumerate(_joiners().split(sentence)):
            words = normalise(piece).split()
            if i % 2 == 0 and len(words) >= 2:  # odd pieces are the joining words
                parts.append(Clause(offset, " ".join(words), piece.strip(" ,")))
            offset += len(words)
    return parts if len(parts) > 1 else []


def request_texts(clauses: list[Clause], clause_labels: dict[int, str], requests) -> dict[str, str]:
    """The words of each request: the clauses that, read on their own, ask for it, plus those
    that ask for none of them (greetings, who is writing), kept by every request as context.
    Empty unless every request has a clause of its own ("la línea y el internet" is one
    request in two clauses: it keeps the whole message)."""
    if not clauses or any(label not in clause_labels.values() for label in requests):
        return {}
    return {label: ". ".join(c.raw for i, c in enumerate(clauses)
                             if clause_labels.get(i) == label or clause_labels.get(i) not in requests)
            for label in requests}


def rules_only(text: str) -> tuple[str | None, float]:
    """The phrase rules' own reading (the classifier before the model): the baseline."""
    result = classify.classify(text[:MAX_ANALYSED_CHARS])
    return result.tramite, result.confidence
