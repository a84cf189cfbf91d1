"""`nlu` command: analyse one text, or one text per stdin line with --batch.

Prints one JSON object per analysed text, e.g.
    {"tramite": "G", "confidence": 0.93, "requests": [["G", 0.93]], "case_query": null,
     "entities": {"months": ["2026-10"]}}

`--eval FILE` scores the NLU on a labelled file (`LABELS<TAB>TEXT`, bot/nlu/evaluate.py);
`--eval FILE --rules` scores the phrase rules alone. `--train` retrains the model
(bot/nlu/train.py) from the corpus.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from .analyze import analyze


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nlu", description="Analyse client messages.")
    parser.add_argument("text", nargs="*", help="message to analyse (words are joined)")
    parser.add_argument("--batch", action="store_true", help="read one message per stdin line")
    parser.add_argument(
        "--today", type=date.fromisoformat, help="reference date YYYY-MM-DD (default: today)"
    )
    parser.add_argument("--eval", type=Path, metavar="FILE",
                        help="score on a labelled file (LABELS<TAB>TEXT per line)")
    parser.add_argument("--rules", action="store_true",
                        help="with --eval: score the phrase rules alone (the baseline)")
    parser.add_argument("--errors", type=int, default=0, metavar="N",
                        help="with --eval: list the first N messages read wrong")
    parser.add_argument("--train", action="store_true",
                        help="retrain the model from bot/nlu/corpus and write it")
    return parser


def _evaluate(args, stdout: TextIO) -> int:
    from .analyze import analyze as read, rules_only
    from .evaluate import Reading, format_report, read_labelled, score

    try:
        rows = read_labelled(args.eval)
    except (OSError, ValueError) as error:
        print(f"nlu: {error}", file=sys.stderr)
        return 2
    if args.rules:
        def reader(text: str) -> Reading:
            tramite, _ = rules_only(text)
            return Reading(tramite, (tramite,) if tramite else (), None)
        title = f"phrase rules alone on {args.eval}"
    else:
        def reader(text: str) -> Reading:
            result = read(text, args.today)
            return Reading(result.tramite, tuple(c for c, _ in result.requests),
                           result.case_query)
        title = f"NLU (rules + model) on {args.eval}"
    report = score(rows, reader)
    stdout.write(format_report(report, title=title, show_errors=args.errors) + "\n")
    return 0


def _emit(text: str, today: date | None, stdout: TextIO) -> None:
    stdout.write(json.dumps(analyze(text, today).to_dict(), ensure_ascii=False) + "\n")


def run(argv: list[str], stdin: TextIO, stdout: TextIO) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse already printed the usage error
        return int(exit_.code or 0)
    if args.train:
        from .train import train

        train(log=lambda line: print(line, file=stdout))
        return 0
    if args.eval is not None:
        return _evaluate(args, stdout)
    if args.batch == bool(args.text):
        parser.print_usage(sys.stderr)
        print("nlu: give either a text or --batch (texts on stdin)", file=sys.stderr)
        return 2
    if args.batch:
        # One output line per input line, blank ones included, so callers can zip them.
        for line in stdin:
            _emit(line.rstrip("\r\n"), args.today, stdout)
    else:
        _emit(" ".join(args.text), args.today, stdout)
    stdout.flush()
    return 0
