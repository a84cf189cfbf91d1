"""`nlu` command: analyse one text, or one text per stdin line with --batch.

Prints one JSON object per analysed text, e.g.
    {"tramite": "G", "confidence": 0.93, "entities": {"months": ["2026-10"]}}
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import TextIO

from .analyze import analyze


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nlu", description="Analyse client messages.")
    parser.add_argument("text", nargs="*", help="message to analyse (words are joined)")
    parser.add_argument("--batch", action="store_true", help="read one message per stdin line")
    parser.add_argument(
        "--today", type=date.fromisoformat, help="reference date YYYY-MM-DD (default: today)"
    )
    return parser


def _emit(text: str, today: date | None, stdout: TextIO) -> None:
    stdout.write(json.dumps(analyze(text, today).to_dict(), ensure_ascii=False) + "\n")


def run(argv: list[str], stdin: TextIO, stdout: TextIO) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse already printed the usage error
        return int(exit_.code or 0)
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
