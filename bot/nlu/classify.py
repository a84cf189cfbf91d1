"""Which trámite (A-L) a message is about, from the phrase lists in nlu.yaml.

Every phrase is matched against the message in two ways:
- exactly, as a run of whole words (cheap dictionary look-ups of the message's n-grams);
- fuzzily, for phrases long enough that a typo does not turn them into another word:
  rapidfuzz's partial_ratio finds candidates in one C call, then each candidate is
  re-scored against the whole words it aligned with, so "de baja" does not match
  inside "debajo" and a long phrase does not match a short message that is only part
  of it. Each word of the phrase must also be present in the aligned words: close
  enough for long words, exactly for short ones ("sin servicio" is not "un servicio"),
  except function words, which clients drop ("detalle llamadas").
Phrases with a starred word ("traslad*") match any word with that start, to cover
Spanish inflection (trasladar, trasladamos, traslado) with one entry; they are matched
as regular expressions on the normalised text, without spelling folding.
A trámite scores its best weighted phrase plus a small bonus per extra phrase found;
confidence grows with the gap to the runner-up. The index is built once at import.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .normalise import normalise, phonetic
from .rules import rules

# Emails name companies and departments ("facturacion@...") that are not the request.
_EMAIL = re.compile(r"\S+@\S+")


@dataclass(frozen=True)
class _Phrase:
    code: str
    key: str  # phonetic form of the normalised phrase
    weight: float
    cutoff: float  # minimum similarity; 100 means exact words only


@dataclass(frozen=True)
class Classification:
    tramite: str | None
    confidence: float
    scores: dict[str, float]


def _stem_pattern(raw: str) -> re.Pattern[str]:
    parts = []
    for word in raw.split():
        stem = normalise(word.rstrip("*"))
        parts.append(re.escape(stem) + (r"\w*" if word.endswith("*") else ""))
    return re.compile(r"\b" + r"\s+".join(parts) + r"\b")


def _build_index():
    config = rules()["classifier"]
    exact: dict[str, list[_Phrase]] = {}
    fuzzy: list[_Phrase] = []
    # Keyed by the first three letters of the phrase's first word: a message only runs
    # the patterns whose opening letters it contains.
    stems: dict[str, list[tuple[re.Pattern[str], _Phrase]]] = {}
    for code, spec in rules()["tramites"].items():
        unknown = set(spec) - set(config["weights"]) - {"name"}
        if unknown:  # a misspelt group would silently drop its phrases
            raise ValueError(f"nlu.yaml, trámite {code}: unknown groups {sorted(unknown)}")
        for group, weight in config["weights"].items():
            for raw in spec.get(group) or ():
                raw = str(raw)
                if "*" in raw:
                    prefix = normalise(raw.split()[0].rstrip("*"))[:3]
                    stems.setdefault(prefix, []).append(
                        (_stem_pattern(raw), _Phrase(code, raw, float(weight), 100.0))
                    )
                    continue
                key = phonetic(normalise(raw))
                if len(key) < config["exact_below"]:
                    cutoff = 100.0
                elif len(key) < 10:
                    cutoff = float(config["cutoff_short"])
                else:
                    cutoff = float(config["cutoff_long"])
                phrase = _Phrase(code, key, float(weight), cutoff)
                exact.setdefault(key, []).append(phrase)
                if cutoff < 100:
                    fuzzy.append(phrase)
    max_words = max(len(key.split()) for key in exact)
    return config, exact, fuzzy, [p.key for p in fuzzy], stems, max_words


_CONFIG, _EXACT, _FUZZY, _FUZZY_KEYS, _STEMS, _MAX_WORDS = _build_index()
_MIN_CUTOFF = min((p.cutoff for p in _FUZZY), default=100.0)
_NEGATORS = frozenset(_CONFIG["negators"])
_NEGATION_WINDOW = int(_CONFIG["negation_window"])
_OPTIONAL = frozenset(phonetic(str(w)) for w in _CONFIG["optional_words"])
_WORD_CUTOFF = float(_CONFIG["word_cutoff"])


def _word_spans(key: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\S+", key)]


def _aligned_score(phrase: str, key: str, spans: list[tuple[int, int]]) -> tuple[float, int]:
    """Similarity of `phrase` to the whole words of `key` it aligns with, and the first
    word's index. Dropping one edge word is tried too: the alignment often grazes a
    neighbouring word."""
    found = fuzz.partial_ratio_alignment(phrase, key)
    first = next((i for i, (_, end) in enumerate(spans) if end > found.dest_start), 0)
    last = max(
        (i for i, (start, _) in enumerate(spans) if start < found.dest_end), default=first
    )
    best, best_first = 0.0, first
    for a, b in ((first, last), (first + 1, last), (first, last - 1)):
        if a > b:
            continue
        window = key[spans[a][0] : spans[b][1]]
        score = fuzz.ratio(phrase, window)
        if score > best and _words_agree(phrase.split(), window.split()):
            best, best_first = score, a
    return best, best_first


def _words_agree(phrase_words: list[str], window_words: list[str]) -> bool:
    for word in phrase_words:
        if word in _OPTIONAL or word in window_words:
            continue
        if len(word) <= 3:
            return False
        best = process.extractOne(word, window_words, scorer=fuzz.ratio)
        if best is None or best[1] < _WORD_CUTOFF:
            return False
    return True


def _phrase_hits(norm: str, key: str) -> dict[_Phrase, tuple[float, int]]:
    """Every phrase found in the message: similarity and index of its first word.
    `key` is the phonetic form of `norm`; both have the same words in the same order."""
    words = key.split()
    hits: dict[_Phrase, tuple[float, int]] = {}
    for prefix in {word[:3] for word in norm.split()}:
        for pattern, phrase in _STEMS.get(prefix, ()):
            found = pattern.search(norm)
            if found:
                hits.setdefault(phrase, (100.0, norm.count(" ", 0, found.start())))
    for size in range(1, min(_MAX_WORDS, len(words)) + 1):
        for i in range(len(words) - size + 1):
            for phrase in _EXACT.get(" ".join(words[i : i + size]), ()):
                hits.setdefault(phrase, (100.0, i))
    if not words or not _FUZZY_KEYS:
        return hits
    spans = _word_spans(key)
    candidates = process.extract(
        key, _FUZZY_KEYS, scorer=fuzz.partial_ratio, score_cutoff=_MIN_CUTOFF, limit=None
    )
    for _, rough, index in candidates:
        phrase = _FUZZY[index]
        if phrase in hits or rough < phrase.cutoff:
            continue
        score, first = _aligned_score(phrase.key, key, spans)
        if score >= phrase.cutoff:
            hits[phrase] = (score, first)
    return hits


def scored_hits(text: str) -> dict[str, tuple[float, int]]:
    """Weighted score per trámite code (only codes with at least one phrase found) and the
    index of the first normalised word of that code's earliest phrase: where in the
    message that request is made."""
    norm = normalise(_EMAIL.sub(" ", text))
    key = phonetic(norm)
    words = key.split()
    per_code: dict[str, list[float]] = {}
    first_word: dict[str, int] = {}
    for phrase, (similarity, first) in _phrase_hits(norm, key).items():
        value = similarity * phrase.weight
        if _NEGATORS.intersection(words[max(0, first - _NEGATION_WINDOW) : first]):
            value *= _CONFIG["negated_weight"]
        per_code.setdefault(phrase.code, []).append(value)
        first_word[phrase.code] = min(first, first_word.get(phrase.code, first))
    bonus = _CONFIG["extra_hit_bonus"]
    return {
        code: (max(values) + bonus * min(3, len(values) - 1), first_word[code])
        for code, values in per_code.items()
    }


def scores(text: str) -> dict[str, float]:
    """Weighted score per trámite code (only codes with at least one phrase found)."""
    return {code: score for code, (score, _) in scored_hits(text).items()}


def classify(text: str) -> Classification:
    return decide(scores(text))


def decide(found: dict[str, float]) -> Classification:
    """The rules' own reading of a message's scores: the best trámite above the threshold,
    confidence growing with its lead over the runner-up."""
    # Equal scores go to the earlier code: the found dict's order follows set iteration,
    # which changes with the process' hash seed (and training would not be reproducible).
    ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))
    if not ranked or ranked[0][1] < _CONFIG["threshold"]:
        return Classification(None, 0.0, dict(ranked))
    top = ranked[0][1]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    margin = min(1.0, (top - runner_up) / _CONFIG["full_margin"])
    confidence = min(top, 100.0) / 100.0 * (0.5 + 0.5 * margin)
    return Classification(ranked[0][0], confidence, dict(ranked))
