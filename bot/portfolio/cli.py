"""`python -m bot import-cartera DIR`: import in one transaction, report in Spanish.

Exit code 0 when the portfolio was imported, 1 when it was rejected (nothing written).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from bot.db import make_engine, make_session_factory, session_scope
from bot.portfolio.csv_schema import SPECS
from bot.portfolio.importer import ImportReport, import_cartera
from bot.portfolio.issues import PortfolioImportError, message
from bot.settings import get_settings


def run_cli(directory: Path, database_url: str, stdout: TextIO, stderr: TextIO) -> int:
    engine = make_engine(database_url)
    try:
        try:
            with session_scope(make_session_factory(engine)) as session:
                report = import_cartera(session, Path(directory))
        except PortfolioImportError as exc:
            print(message("failed_header", count=len(exc.errors), directory=directory), file=stderr)
            for issue in exc.errors:
                print(issue, file=stderr)
            return 1
        print(summary(report, directory), file=stdout)
        return 0
    finally:
        engine.dispose()


def summary(report: ImportReport, directory: Path) -> str:
    lines = [message("summary_header", directory=directory)]
    for spec in SPECS:
        counts = report.files.get(spec.name)
        if counts is not None:
            lines.append(message("summary_file", file=spec.name, created=counts.created,
                                 updated=counts.updated, unchanged=counts.unchanged))
    if report.staff_created:
        lines.append(message("summary_staff", usernames=", ".join(report.staff_created)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.portfolio.cli")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL")
    args = parser.parse_args(argv)
    url = args.database_url or get_settings().database_url
    return run_cli(args.directory, url, sys.stdout, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
