"""The statistical half of the NLU: every request in a message, with a probability.

Trained by `python -m bot nlu --train` (bot/nlu/train.py), shipped as
bot/nlu/model/hybrid.npz, read with numpy only, once per process on first use. Over the
features of bot/nlu/features.py (character and word n-gram TF-IDF, the phrase rules'
scores) it holds two readers:
- the main request: one softmax over the fourteen labels and "nothing asked", so
  chit-chat competes with the trámites ("nothing asked" is favoured by a factor chosen
  on the dev split);
- every request: per label a logistic regression over the n-grams (level 1), then one
  over all level-1 outputs and the rule scores (level 2, trained on out-of-fold outputs:
  it learns how far to trust each, and that "anular el cambio de plan" withdraws a case
  rather than asks for a plan), with a threshold per label chosen on the dev split.
"""
from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# One thread per process: the machines are small and many processes share them; a BLAS
# pool of one thread per core is only contention here. Set before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from . import features  # noqa: E402

MODEL_PATH = Path(__file__).resolve().parent / "model" / "hybrid.npz"
NOTHING = "-"
OUTPUTS = features.LABELS + (NOTHING,)


@dataclass(frozen=True)
class Prediction:
    probabilities: dict[str, float]  # label -> P(requested), every label of the model
    main: dict[str, float]  # the softmax: label or "-" -> P(main request)
    tramites: tuple[str, ...]  # trámites found, the main one first
    case_query: str | None
    positions: dict[str, int]  # trámite found -> word index where it is asked for


def decide(p: np.ndarray, q: np.ndarray, thresholds: np.ndarray, none_factor: float):
    """(trámites, case queries) found, from level 2's P(label) `p` and the softmax `q`.

    The softmax names the main request; the per-label thresholds add the others. When
    the main reading is "nothing asked", no trámite is opened."""
    labels = features.LABELS
    q = q.copy()
    q[-1] *= none_factor
    top = OUTPUTS[int(np.argmax(q))]
    over = [labels[i] for i in np.argsort(-p, kind="stable") if p[i] >= thresholds[i]]
    tramites = [label for label in over if label in features.TRAMITES]
    cases = [label for label in over if label in features.CASE_QUERIES]
    if top in features.TRAMITES:
        tramites = [top] + [label for label in tramites if label != top]
    elif top == NOTHING:
        tramites = []
    else:
        cases = [top] + [label for label in cases if label != top]
    return tramites, cases


class Model:
    def __init__(self, arrays: dict[str, np.ndarray]):
        self.meta = json.loads(bytes(arrays["meta"]).decode("utf-8"))
        if tuple(self.meta["outputs"]) != OUTPUTS:
            raise ValueError(f"model labels {self.meta['outputs']} are not {OUTPUTS}")
        config = self.meta["config"]
        self.char_vocab = _vocab(arrays["char_vocab"])
        self.word_vocab = _vocab(arrays["word_vocab"])
        self.char_idf = arrays["char_idf"].astype(np.float64)
        self.word_idf = arrays["word_idf"].astype(np.float64)
        self.text_weights = arrays["text_weights"].astype(np.float64)
        self.text_bias = arrays["text_bias"].astype(np.float64)
        self.soft_rule_weights = arrays["soft_rule_weights"].astype(np.float64)
        self.stack_weights = arrays["stack_weights"].astype(np.float64)
        self.stack_bias = arrays["stack_bias"].astype(np.float64)
        self.thresholds = arrays["thresholds"].astype(np.float64)
        self.none_factor = float(self.meta["none_factor"])
        self.sublinear = bool(config["sublinear_tf"])
        self.char_weight = float(config["char_weight"])
        self.word_weight = float(config["word_weight"])
        self.soft_rule_weight = float(config["soft_rule_weight"])
        self.word_grams = (features.negated_word_grams if config["negation"]
                           else features.word_grams)
        self.n_char = len(self.char_idf)

    def _block(self, grams, vocab, idf, offset, scale, index, value) -> None:
        counts = Counter(vocab[g] for g in grams if g in vocab)
        if not counts:
            return
        cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.sublinear:
            tf = 1.0 + np.log(tf)
        vals = tf * idf[cols]
        vals *= scale / math.sqrt(float(vals @ vals))
        index.append(cols + offset)
        value.append(vals)

    def outputs(self, norm: str, rule_scores: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(P(label) per label, softmax over OUTPUTS) of one message's feature text."""
        index: list[np.ndarray] = []
        value: list[np.ndarray] = []
        self._block(features.char_grams(norm), self.char_vocab, self.char_idf, 0,
                    self.char_weight, index, value)
        self._block(self.word_grams(norm), self.word_vocab, self.word_idf, self.n_char,
                    self.word_weight, index, value)
        text = self.text_bias
        if index:
            text = text + np.concatenate(value) @ self.text_weights[np.concatenate(index)]
        rule = np.asarray(features.rule_features(rule_scores))
        n = len(OUTPUTS)
        level1, soft = text[:n], text[n:] + (rule * self.soft_rule_weight) @ self.soft_rule_weights
        p = 1.0 / (1.0 + np.exp(-(np.concatenate([level1, rule]) @ self.stack_weights
                                  + self.stack_bias)))
        soft = np.exp(soft - soft.max())
        return p, soft / soft.sum()

    def predict(self, text: str, rule_hits: dict[str, tuple[float, int]]) -> Prediction:
        norm = features.feature_text(text)
        rule_scores = {code: score for code, (score, _) in rule_hits.items()}
        p, q = self.outputs(norm, rule_scores)
        tramites, cases = decide(p, q, self.thresholds, self.none_factor)
        positions = {
            label: rule_hits[label][1] if label in rule_hits else self._position(norm, label)
            for label in tramites
        }
        return Prediction(
            dict(zip(features.LABELS, map(float, p))), dict(zip(OUTPUTS, map(float, q))),
            tuple(tramites), cases[0] if cases else None, positions,
        )

    def _position(self, norm: str, label: str) -> int:
        """The word that speaks most for a label: where the message asks for it."""
        column = OUTPUTS.index(label)
        best, where = -math.inf, 0
        for i, word in enumerate(norm.split()):
            row = self.word_vocab.get(word)
            if row is not None:
                weight = self.text_weights[self.n_char + row, column] * self.word_idf[row]
                if weight > best:
                    best, where = weight, i
        return where


def _vocab(blob: np.ndarray) -> dict[str, int]:
    text = bytes(blob).decode("utf-8")
    return {gram: i for i, gram in enumerate(text.split("\n"))} if text else {}


@cache
def model(path: Path = MODEL_PATH) -> Model:
    with np.load(path, allow_pickle=False) as arrays:
        return Model({name: arrays[name] for name in arrays.files})
