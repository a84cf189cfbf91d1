"""Does a block of training messages help the NLU on data it was not tuned on? K-fold
cross-validation over the corpus' train + dev splits (the test split is never read, except to
drop its texts from training): per fold, train without the fold, choose thresholds on half of it,
score the other half. Run once with the business additions up to MARKER in extra.tsv ("before")
and once with all of them ("after"), the same folds for both.

    python bench/nlu_cv.py [--folds 4] [--marker "# Several requests"]
"""
from __future__ import annotations

import argparse
import importlib
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bot.nlu import hybrid  # noqa: E402
from bot.nlu import train as T  # noqa: E402
from bot.nlu.evaluate import Reading, read_labelled, score  # noqa: E402
from bot.nlu.normalise import normalise  # noqa: E402

analyze_module = importlib.import_module("bot.nlu.analyze")
METRICS = ("top1", "chat_fp", "two_recall", "single_extra", "case_query")


def extra_rows(marker: str | None) -> list:
    lines = T.EXTRA.read_text(encoding="utf-8").splitlines()
    if marker is not None:
        cut = next((i for i, line in enumerate(lines) if line.startswith(marker)), len(lines))
        lines = lines[:cut]
    tmp = Path("/tmp") / f"nlu_cv_extra_{'before' if marker else 'after'}.tsv"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_labelled(tmp)


def run(variant: str, marker: str | None, folds: int) -> list[dict]:
    corpus = read_labelled(T.CORPUS / "train.tsv") + read_labelled(T.CORPUS / "dev.tsv")
    test_norms = {normalise(t) for _, t in read_labelled(T.CORPUS / "test.tsv")}
    extra = read_labelled(T.LEGACY) + extra_rows(marker)
    order = list(range(len(corpus)))
    random.Random(1).shuffle(order)
    results = []
    for k in range(folds):
        held_idx = set(order[k::folds])
        held = [corpus[i] for i in sorted(held_idx)]
        held_norms = {normalise(t) for _, t in held}
        train = [corpus[i] for i in range(len(corpus)) if i not in held_idx]
        rows = train + [r for r in extra if normalise(r[1]) not in held_norms | test_norms]
        fitted = T.Fitted(rows, T.CONFIG, np.arange(len(rows)) < len(train))
        fitted.tune(held[::2])
        path = Path("/tmp") / f"nlu_cv_{variant}.npz"
        T.write_model(path, T.export(fitted))
        with np.load(path) as arrays:
            model = hybrid.Model({n: arrays[n] for n in arrays.files})
        analyze_module.model = lambda: model

        def reader(text: str) -> Reading:
            result = analyze_module.analyze(text)
            return Reading(result.tramite, tuple(c for c, _ in result.requests), result.case_query)

        summary = score(held[1::2], reader).summary()
        results.append(summary)
        print(variant, k, " ".join(f"{m}={summary[m]:.3f}" for m in METRICS), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--marker", default="# Several requests")
    args = parser.parse_args()
    with threadpool_limits(1):
        before = run("before", args.marker, args.folds)
        after = run("after", None, args.folds)
    for name, results in (("before", before), ("after", after)):
        print(name, "mean", " ".join(f"{m}={np.mean([r[m] for r in results]):.3f}" for m in METRICS))


if __name__ == "__main__":
    main()
