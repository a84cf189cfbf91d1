"""Train the hybrid model (`python -m bot nlu --train`) and write bot/nlu/model/hybrid.npz.

Deterministic: the same corpus, rules and code give the same file, byte for byte.

Data: the train and dev splits of the corpus (bot/nlu/corpus/train.tsv, dev.tsv), the older
labelled set the phrase rules were tuned on (tests/data/nlu_labelled.tsv) and, when present,
the business additions (bot/nlu/corpus/extra.tsv). The per-label thresholds and the "nothing
asked" factor are chosen on out-of-fold readings of train + dev (`cross_fitted`). The test
split (test.tsv) is read only to keep its texts out of training.

Needs scikit-learn (training only: scoring at run time is numpy, bot/nlu/hybrid.py).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from . import classify, features  # noqa: E402
from .features import LABELS, TRAMITES  # noqa: E402
from .hybrid import MODEL_PATH, NOTHING, OUTPUTS, decide  # noqa: E402
from .rules import rules  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = HERE / "corpus"
LEGACY = ROOT / "tests" / "data" / "nlu_labelled.tsv"
EXTRA = CORPUS / "extra.tsv"
# The code whose change makes a trained model stale.
CODE = [HERE / name for name in
        ("features.py", "train.py", "hybrid.py", "normalise.py", "classify.py")]


@dataclass(frozen=True)
class Config:
    min_df: int = 2  # n-grams seen in fewer training messages are dropped
    sublinear_tf: bool = True
    char_weight: float = 1.5  # scale of the character block (each block is l2-normalised)
    word_weight: float = 1.0
    negation: bool = True  # "~word" features for words after a negator
    C: float = 10.0  # level 1: one logistic regression per label, plus "nothing asked"
    C2: float = 0.3  # level 2: per label, over all level-1 logits and the rule features
    folds: int = 5  # out-of-fold level-1 logits train level 2
    soft_C: float = 10.0  # main request: one softmax over the labels and "nothing asked"
    soft_rule_weight: float = 0.1  # scale of the rule features beside its n-grams
    legacy: bool = True  # the older labelled set joins train ...
    legacy_in_stack: bool = False  # ... but not level 2 (the rules were tuned on it)
    chat_cost: float = 2.0  # tuning: chit-chat opening a trámite costs this many top-1 errors
    tune_folds: int = 4  # thresholds chosen on out-of-fold readings of train + dev


CONFIG = Config()

Rows = list[tuple[tuple[str, ...], str]]


def read(path: Path) -> Rows:
    from .evaluate import read_labelled

    return read_labelled(path)


def training_rows(config: Config = CONFIG) -> tuple[Rows, Rows]:
    """(corpus, more): the train and dev splits, and the older set with the business
    additions less any message whose text is also in the test split (chit-chat like
    "gracias" recurs)."""
    from .normalise import normalise

    held_out = {normalise(t) for _, t in read(CORPUS / "test.tsv")}
    corpus = read(CORPUS / "train.tsv") + read(CORPUS / "dev.tsv")
    more = (read(LEGACY) if config.legacy else []) + (read(EXTRA) if EXTRA.exists() else [])
    return corpus, [row for row in more if normalise(row[1]) not in held_out]


def label_matrix(rows: Rows) -> np.ndarray:
    return np.array([[label in labels for label in LABELS] for labels, _ in rows], dtype=bool)


class Featurizer:
    """The sklearn side of bot/nlu/features.py: fitted vocabularies and idf."""

    def __init__(self, config: Config):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.config = config
        common = dict(min_df=config.min_df, sublinear_tf=config.sublinear_tf, dtype=np.float64)
        words = features.negated_word_grams if config.negation else features.word_grams
        self.char = TfidfVectorizer(analyzer=features.char_grams, **common)
        self.word = TfidfVectorizer(analyzer=words, **common)

    def fit(self, norms: list[str]) -> "Featurizer":
        self.char.fit(norms)
        self.word.fit(norms)
        return self

    def transform(self, norms: list[str]):
        from scipy import sparse

        c = self.config
        return sparse.hstack([self.char.transform(norms) * c.char_weight,
                              self.word.transform(norms) * c.word_weight], format="csr")


def inputs(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """What the model reads of each message: the n-gram text and the rule features."""
    norms = [features.feature_text(t) for t in texts]
    rule = np.array([features.rule_features(classify.scores(t)) for t in texts])
    return norms, rule


def _logistic(x, y: np.ndarray, C: float) -> tuple[np.ndarray, np.ndarray]:
    """One binary logistic regression per column of y: weights [features x columns], bias."""
    from sklearn.linear_model import LogisticRegression

    weights = np.zeros((x.shape[1], y.shape[1]))
    bias = np.zeros(y.shape[1])
    for j in range(y.shape[1]):
        model = LogisticRegression(C=C, solver="liblinear", max_iter=1000, random_state=0)
        model.fit(x, y[:, j])
        weights[:, j] = model.coef_[0]
        bias[j] = model.intercept_[0]
    return weights, bias


def _softmax_fit(x, rows: Rows, C: float) -> tuple[np.ndarray, np.ndarray]:
    """One multinomial regression over OUTPUTS (the labels and "nothing asked"); a message
    with k requests counts once per request, with weight 1/k."""
    from sklearn.linear_model import LogisticRegression

    index, target, weight = [], [], []
    for i, (labels, _) in enumerate(rows):
        classes = labels or (NOTHING,)
        for label in classes:
            index.append(i)
            target.append(OUTPUTS.index(label))
            weight.append(1.0 / len(classes))
    model = LogisticRegression(C=C, max_iter=5000)
    model.fit(x[np.array(index)], np.array(target), sample_weight=np.array(weight))
    if list(model.classes_) != list(range(len(OUTPUTS))):
        raise ValueError("every label needs training messages")
    return model.coef_.T.copy(), model.intercept_.copy()


class Fitted:
    """A trained model in training form (sklearn vectorizers, numpy weights)."""

    def __init__(self, rows: Rows, config: Config = CONFIG, in_stack: np.ndarray | None = None):
        """`in_stack`: which rows train level 2 (default all)."""
        from scipy import sparse

        self.config = config
        y = label_matrix(rows)
        y1 = np.hstack([y, ~y.any(axis=1, keepdims=True)])  # + "nothing asked"
        norms, rule = inputs([t for _, t in rows])
        self.featurizer = Featurizer(config).fit(norms)
        x = self.featurizer.transform(norms)
        self.w1, self.b1 = _logistic(x, y1, config.C)
        oof = np.zeros(y1.shape, dtype=np.float64)
        for fold in range(config.folds):
            held = np.arange(len(rows)) % config.folds == fold
            w, b = _logistic(x[~held], y1[~held], config.C)
            oof[held] = x[held] @ w + b
        keep = np.ones(len(rows), dtype=bool) if in_stack is None else in_stack
        self.w2, self.b2 = _logistic(np.hstack([oof, rule])[keep], y[keep], config.C2)
        xs = sparse.hstack([x, sparse.csr_matrix(rule * config.soft_rule_weight)], format="csr")
        self.ws, self.bs = _softmax_fit(xs, rows, config.soft_C)
        self.thresholds = np.full(len(LABELS), 0.5)
        self.none_factor = 1.0

    def outputs(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(P(label) per label from level 2, softmax over OUTPUTS) per message."""
        norms, rule = inputs(texts)
        x = self.featurizer.transform(norms)
        level1 = x @ self.w1 + self.b1
        p = _sigmoid(np.hstack([level1, rule]) @ self.w2 + self.b2)
        n_text = x.shape[1]
        z = x @ self.ws[:n_text] + (rule * self.config.soft_rule_weight) @ self.ws[n_text:] + self.bs
        return p, _softmax(z)

    def tune(self, rows: Rows) -> None:
        """Per-label thresholds and the "nothing asked" factor from this model's readings of
        `rows` (messages it was not trained on)."""
        self.tune_on(rows, *self.outputs([t for _, t in rows]))

    def tune_on(self, rows: Rows, p: np.ndarray, q: np.ndarray) -> None:
        """Per-label thresholds (best F1 of level 2) and how much "nothing asked" is favoured
        (fewest top-1 errors + chat_cost x chit-chat opening a trámite), from readings `p`, `q`
        of `rows` by models that did not train on them."""
        self.thresholds = tune_thresholds(p, label_matrix(rows))
        best = None
        self.tuning = {}
        asking = sum(any(g in TRAMITES for g in gold) for gold, _ in rows)
        chat = sum(not gold for gold, _ in rows)
        for factor in NONE_FACTORS:
            wrong = opened = 0
            for (gold, _), pi, qi in zip(rows, p, q):
                tramites, _ = decide(pi, qi, self.thresholds, factor)
                gold_tramites = [g for g in gold if g in TRAMITES]
                if gold_tramites:
                    wrong += (tramites[0] if tramites else None) not in gold_tramites
                elif not gold:
                    opened += bool(tramites)
            cost = wrong + self.config.chat_cost * opened
            # What each factor gives on these readings (top-1, chit-chat opening a trámite).
            self.tuning[factor] = (1 - wrong / max(asking, 1), opened / max(chat, 1))
            if best is None or cost < best[0]:
                best = (cost, factor)
        self.none_factor = best[1]


NONE_FACTORS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def cross_fitted(corpus: Rows, extra: Rows, config: Config = CONFIG) -> Fitted:
    """A model trained on `corpus` + `extra`, tuned on out-of-fold readings of `corpus`.

    Per fold (config.tune_folds) a model trains without that part of the corpus and reads it;
    the thresholds and the "nothing asked" factor are chosen on all those readings together,
    so they rest on every corpus message rather than on one small split, and the final model
    still learns from all of them. Level 2 trains on the corpus rows only (the older set and
    the business additions were written around the rules)."""
    import random

    from .normalise import normalise

    order = list(range(len(corpus)))
    random.Random(1).shuffle(order)
    folds = config.tune_folds
    p_all, q_all, read_rows = [], [], []
    for k in range(folds):
        held_index = set(order[k::folds])
        held = [corpus[i] for i in sorted(held_index)]
        held_norms = {normalise(t) for _, t in held}
        rest = [corpus[i] for i in range(len(corpus)) if i not in held_index]
        rows = rest + [row for row in extra if normalise(row[1]) not in held_norms]
        part = Fitted(rows, config, np.arange(len(rows)) < len(rest))
        p, q = part.outputs([t for _, t in held])
        p_all.append(p)
        q_all.append(q)
        read_rows += held
    rows = corpus + extra
    fitted = Fitted(rows, config, np.arange(len(rows)) < len(corpus))
    fitted.tune_on(read_rows, np.vstack(p_all), np.vstack(q_all))
    return fitted


def tune_thresholds(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per label, the threshold with the best F1 on these predictions; the middle of the
    best run of thresholds, so a small shift in probabilities does not cross it."""
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    out = np.full(len(LABELS), 0.5)
    for j in range(len(LABELS)):
        positives = y[:, j].sum()
        if not positives:
            continue
        f1 = []
        for t in grid:
            found = probs[:, j] >= t
            tp = float((found & y[:, j]).sum())
            f1.append(2 * tp / (found.sum() + positives))
        f1 = np.array(f1)
        best = np.flatnonzero(f1 >= f1.max() - 1e-9)
        # The longest run of consecutive best thresholds, then its middle.
        runs = np.split(best, np.flatnonzero(np.diff(best) > 1) + 1)
        run = max(runs, key=len)
        out[j] = grid[run[len(run) // 2]]
    return out


def input_hash(config: Config = CONFIG) -> str:
    """What the shipped model was trained from: corpus splits, older set, rules, code."""
    digest = hashlib.sha256()
    digest.update(json.dumps(asdict(config), sort_keys=True).encode())
    sources = [CORPUS / "train.tsv", CORPUS / "dev.tsv", CORPUS / "test.tsv", *CODE]
    if config.legacy:
        sources.append(LEGACY)
    if EXTRA.exists():
        sources.append(EXTRA)
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    vocabulary = {k: rules()[k] for k in ("abbreviations", "classifier", "tramites")}
    digest.update(json.dumps(vocabulary, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def _blob(grams) -> np.ndarray:
    text = "\n".join(grams)
    if any("\n" in g for g in grams):
        raise ValueError("an n-gram holds a line break")
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def write_model(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz numpy reads, written with fixed timestamps so the bytes are reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(arrays[name]),
                                      allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue())
    tmp.replace(path)


def export(fitted: Fitted) -> dict[str, np.ndarray]:
    def ordered(vectorizer):
        vocab = vectorizer.vocabulary_
        return sorted(vocab, key=vocab.get)

    config = fitted.config
    featurizer = fitted.featurizer
    n_text = len(featurizer.char.vocabulary_) + len(featurizer.word.vocabulary_)
    meta = {
        "labels": list(LABELS),
        "outputs": list(OUTPUTS),
        "input_hash": input_hash(config),
        "config": asdict(config),
        "none_factor": fitted.none_factor,
        # top-1 and chit-chat opening a trámite on the out-of-fold readings, per factor tried
        "out_of_fold": {str(f): [round(a, 4), round(b, 4)] for f, (a, b) in fitted.tuning.items()},
    }
    return {
        "meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8),
        "char_vocab": _blob(ordered(featurizer.char)),
        "word_vocab": _blob(ordered(featurizer.word)),
        "char_idf": featurizer.char.idf_.astype(np.float32),
        "word_idf": featurizer.word.idf_.astype(np.float32),
        # Level 1 and the softmax read the same n-grams: one gather of rows per message.
        "text_weights": np.hstack([fitted.w1, fitted.ws[:n_text]]).astype(np.float32),
        "text_bias": np.concatenate([fitted.b1, fitted.bs]).astype(np.float32),
        "soft_rule_weights": fitted.ws[n_text:].astype(np.float32),
        "stack_weights": fitted.w2.astype(np.float32),
        "stack_bias": fitted.b2.astype(np.float32),
        "thresholds": fitted.thresholds.astype(np.float32),
    }


def train(path: Path = MODEL_PATH, config: Config = CONFIG, log=print) -> Fitted:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        corpus, more = training_rows(config)
        log(f"training on {len(corpus) + len(more)} messages (corpus train and dev splits"
            f"{', ' + LEGACY.name if config.legacy else ''}"
            f"{', ' + EXTRA.name if EXTRA.exists() else ''}); tuning on {config.tune_folds}-fold "
            "out-of-fold readings of the corpus")
        fitted = cross_fitted(corpus, more, config)
        write_model(path, export(fitted))
    featurizer = fitted.featurizer
    log(f"wrote {path} ({path.stat().st_size // 1024} KiB): "
        f"{len(featurizer.char.vocabulary_)} character and "
        f"{len(featurizer.word.vocabulary_)} word n-grams; nothing-asked factor "
        f"{fitted.none_factor} (out of fold: "
        + ", ".join(f"{factor}: top-1 {100 * top1:.1f} % chit-chat {100 * chat:.1f} %"
                    for factor, (top1, chat) in fitted.tuning.items())
        + "); thresholds "
        + " ".join(f"{label}={t:.2f}" for label, t in zip(LABELS, fitted.thresholds)))
    _check_parity(path, fitted, read(CORPUS / "dev.tsv"))
    return fitted


def _check_parity(path: Path, fitted: Fitted, rows: Rows) -> None:
    """The numpy scorer of bot/nlu/hybrid.py must give what the training form gives."""
    from .hybrid import Model

    with np.load(path, allow_pickle=False) as arrays:
        model = Model({name: arrays[name] for name in arrays.files})
    texts = [t for _, t in rows[:200]]
    p_want, q_want = fitted.outputs(texts)
    for text, pw, qw in zip(texts, p_want, q_want):
        p, q = model.outputs(features.feature_text(text), classify.scores(text))
        if not (np.allclose(p, pw, atol=1e-4) and np.allclose(q, qw, atol=1e-4)):
            raise AssertionError(f"numpy scorer disagrees with training on {text!r}")


if __name__ == "__main__":  # pragma: no cover
    train()
