"""How should the model's thresholds and "nothing asked" factor be chosen? Nested cross-validation
over the corpus' train + dev splits (the test split is read only to keep its texts out of training).

Per outer fold (4), on the rest of train + dev:
- old: train on three quarters of it (with the older set and extra.tsv), tune on the last quarter
  (as when one dev split chose them);
- new: `train.cross_fitted` (train on all of it, tune on 4-fold out-of-fold readings).
Both score the whole outer fold with the full reading (`bot.nlu.analyze`).

    python bench/nlu_tuning.py old
    python bench/nlu_tuning.py new          # ~3 min each
"""
from __future__ import annotations

import importlib
import random
import sys
import tempfile
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
FOLDS = 4


def fitted_for(procedure: str, rest, extra) -> T.Fitted:
    if procedure == "new":
        return T.cross_fitted(rest, extra)
    dev = rest[::4]
    train = [row for i, row in enumerate(rest) if i % 4]
    dev_norms = {normalise(t) for _, t in dev}
    rows = train + [row for row in extra if normalise(row[1]) not in dev_norms]
    fitted = T.Fitted(rows, T.CONFIG, np.arange(len(rows)) < len(train))
    fitted.tune(dev)
    return fitted


def main(procedure: str) -> None:
    corpus = read_labelled(T.CORPUS / "train.tsv") + read_labelled(T.CORPUS / "dev.tsv")
    test_norms = {normalise(t) for _, t in read_labelled(T.CORPUS / "test.tsv")}
    more = read_labelled(T.LEGACY) + read_labelled(T.EXTRA)
    order = list(range(len(corpus)))
    random.Random(7).shuffle(order)
    totals: dict[str, list[float]] = {m: [] for m in METRICS}
    with threadpool_limits(1), tempfile.TemporaryDirectory() as tmp:
        for k in range(FOLDS):
            held_index = set(order[k::FOLDS])
            held = [corpus[i] for i in sorted(held_index)]
            held_norms = {normalise(t) for _, t in held}
            rest = [corpus[i] for i in range(len(corpus)) if i not in held_index]
            extra = [row for row in more if normalise(row[1]) not in held_norms | test_norms]
            fitted = fitted_for(procedure, rest, extra)
            path = Path(tmp) / "model.npz"
            T.write_model(path, T.export(fitted))
            with np.load(path) as arrays:
                model = hybrid.Model({name: arrays[name] for name in arrays.files})
            analyze_module.model = lambda model=model: model

            def reader(text: str) -> Reading:
                result = analyze_module.analyze(text)
                return Reading(result.tramite, tuple(c for c, _ in result.requests), result.case_query)

            summary = score(held, reader).summary()
            for metric in METRICS:
                totals[metric].append(summary[metric])
            print(procedure, k, f"factor={fitted.none_factor}",
                  " ".join(f"{m}={100 * summary[m]:.1f}" for m in METRICS), flush=True)
    print(procedure, "mean", " ".join(f"{m}={100 * np.mean(v):.1f}" for m, v in totals.items()))


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("old", "new"):
        sys.exit(__doc__)
    main(sys.argv[1])
