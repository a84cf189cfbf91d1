"""NLU cost: warm ms per message and cold start, side by side with the phrase rules alone.

    .venv/bin/python bench/nlu_speed.py [--rounds 3]

Warm: every message of the dev split (442, WhatsApp lines to long letters) read by
`bot.nlu.analyze` (rules + model + clause reading + entities) and, interleaved in the same
rounds, by the phrase rules alone (`rules_only`, the baseline: what the bot did before the
model). Cold start: a fresh interpreter that imports the NLU and reads one message, against
a fresh interpreter that does nothing (median of --rounds).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu.evaluate import read_labelled  # noqa: E402

COLD = {
    "nlu": "from bot.nlu import analyze; analyze('quiero el detalle de llamadas de agosto').requests",
    "python alone": "pass",
}


def cold(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    return time.perf_counter() - start


def warm(texts: list[str], rounds: int) -> dict[str, list[float]]:
    from bot.nlu import analyze
    from bot.nlu.analyze import rules_only

    # Warm means after the first use: the model loaded, dateparser's Spanish data read.
    def whole(text: str):
        # `analyze` reads entities at once and the requests (the model) lazily: ask for them, as a
        # dialog at the menu does, or only the entities are timed.
        result = analyze(text)
        return result.requests

    for text in ("hola", "desde el 5 de enero hasta el 28 de febrero", "el mes pasado"):
        whole(text)
        rules_only(text)
    readers = {"nlu": whole, "baseline": rules_only}
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(rounds):
        for text in texts:
            for name, read in readers.items():  # interleaved: the same load weighs on both
                start = time.perf_counter()
                read(text)
                times[name].append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = [text for _, text in read_labelled(ROOT / "bot" / "nlu" / "corpus" / "dev.tsv")]
    times = warm(texts, args.rounds)
    print(f"warm, {len(texts)} messages x {args.rounds} rounds (ms per message)")
    print("reader     mean    p50    p99")
    for name, values in times.items():
        values.sort()
        p99 = values[int(len(values) * 0.99) - 1]
        print(f"{name:9} {statistics.mean(values):6.2f} {statistics.median(values):6.2f} {p99:6.2f}")
    ratio = statistics.mean(times["nlu"]) / statistics.mean(times["baseline"])
    print(f"mean ratio nlu / baseline: {ratio:.2f}")
    colds = {name: sorted(cold(code) for _ in range(args.rounds)) for name, code in COLD.items()}
    print("cold start (s, median of rounds): " + ", ".join(
        f"{name} {statistics.median(v):.2f}" for name, v in colds.items()))
    print(f"cold start added by the NLU: "
          f"{statistics.median(colds['nlu']) - statistics.median(colds['python alone']):.2f} s")


if __name__ == "__main__":
    main()
