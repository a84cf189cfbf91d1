"""Read the portfolio files and check every row of every file, collecting every problem.

Nothing here writes. A file whose header is wrong is not checked row by row (its columns are
unknown), but its key column still counts for references, so one broken file does not bury
the operator under follow-on "unknown NIT" errors from the files that point at it.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from bot.portfolio.csv_schema import (
    BLANK,
    CLIENTES,
    SPEC_BY_NAME,
    SPECS,
    SUSPENSIONES,
    FileSpec,
    key_part,
)
from bot.portfolio.issues import FieldError, ImportIssue, PortfolioImportError, message


@dataclass
class RawFile:
    spec: FileSpec
    header: list[str] = field(default_factory=list)
    records: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, cells)
    header_ok: bool = False
    readable: bool = True

    def key_values(self, column: str) -> set[str] | None:
        """Values written in a key column, valid or not; None when the file cannot tell."""
        if not self.readable or column not in self.header:
            return None
        index = self.header.index(column)
        return {cells[index].strip() for _, cells in self.records if index < len(cells)}


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, object]  # CSV column name -> parsed value, for the columns in the header


def read_directory(directory: Path) -> tuple[dict[str, RawFile], list[ImportIssue]]:
    """The files present, in dependency order. A missing folder or no files at all is fatal."""
    expected = ", ".join(spec.name for spec in SPECS)
    if not directory.is_dir():
        raise PortfolioImportError([ImportIssue(
            str(directory), None, None, message("missing_directory", directory=directory))])
    issues = [
        ImportIssue(path.name, None, None, message("unknown_file", expected=expected))
        for path in sorted(directory.iterdir())
        if path.suffix.lower() == ".csv" and path.name not in SPEC_BY_NAME
    ]
    files: dict[str, RawFile] = {}
    for spec in SPECS:
        path = directory / spec.name
        if path.is_file():
            files[spec.name] = _read_file(path, spec, issues)
    if not files:
        raise PortfolioImportError([*issues, ImportIssue(
            str(directory), None, None, message("no_files", expected=expected))])
    return files, issues


def _read_file(path: Path, spec: FileSpec, issues: list[ImportIssue]) -> RawFile:
    raw = RawFile(spec)
    data = path.read_bytes()
    try:
        content = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as exc:
        raw.readable = False
        line = data[: exc.start].count(b"\n") + 1
        issues.append(ImportIssue(spec.name, line, None, message("not_utf8")))
        return raw
    if "\x00" in content:  # a binary file renamed .csv; PostgreSQL cannot even compare with NUL
        raw.readable = False
        issues.append(ImportIssue(spec.name, content[: content.index("\x00")].count("\n") + 1, None,
                                  message("nul_byte")))
        return raw
    # Excel with a Spanish locale saves ';'-separated files; take them rather than argue.
    first = content.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        issues.append(ImportIssue(spec.name, 1, None, message("empty_file")))
        raw.readable = False
        return raw
    raw.header = [cell.strip().lower() for cell in header]
    raw.header_ok = _check_header(spec, raw.header, issues)
    while True:
        start = reader.line_num + 1  # physical line where the next record begins
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            issues.append(ImportIssue(spec.name, start, None, message("bad_csv", detail=exc)))
            break
        if any(cell.strip() for cell in cells):  # spreadsheets append rows of empty cells
            raw.records.append((start, cells))
    return raw


def _check_header(spec: FileSpec, header: list[str], issues: list[ImportIssue]) -> bool:
    before = len(issues)
    expected = ", ".join(spec.column_names)
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            issues.append(ImportIssue(spec.name, 1, None,
                                      message("unnamed_column", position=position)))
        elif name not in spec.column_names:
            issues.append(ImportIssue(spec.name, 1, name,
                                      message("unknown_column", column=name, expected=expected)))
        elif name in seen:
            issues.append(ImportIssue(spec.name, 1, name, message("duplicate_column", column=name)))
        seen.add(name)
    for column in spec.columns:
        if not column.optional and column.name not in seen:
            issues.append(ImportIssue(spec.name, 1, column.name,
                                      message("missing_column", column=column.name)))
    return len(issues) == before


def validate(files: dict[str, RawFile], *, known: dict[str, Collection[str]]
             ) -> tuple[dict[str, list[Row]], list[ImportIssue]]:
    """Parse every row. `known` holds the keys already in the database, per referenced file."""
    referable = {}
    for name, raw in files.items():
        referable[name] = raw.key_values(raw.spec.key[0])
    rows: dict[str, list[Row]] = {}
    issues: list[ImportIssue] = []
    for name, raw in files.items():
        if raw.header_ok:
            rows[name] = _validate_file(raw, referable, known, issues)
    return rows, issues


def _validate_file(raw: RawFile, referable: dict[str, set[str] | None],
                   known: dict[str, Collection[str]], issues: list[ImportIssue]) -> list[Row]:
    spec = raw.spec
    columns = [spec.column(name) for name in raw.header]
    first_line_of: dict[tuple, int] = {}
    rows: list[Row] = []

    def problem(line: int, column: str | None, text: str) -> None:
        issues.append(ImportIssue(spec.name, line, column, text))

    for line, cells in raw.records:
        if len(cells) != len(columns):
            problem(line, None, message("field_count", found=len(cells), expected=len(columns)))
            continue
        values: dict[str, object] = {}
        ok = True
        for column, cell in zip(columns, cells, strict=True):
            cell = cell.strip()
            if not cell:
                if column.optional:
                    values[column.name] = BLANK[column.attr]
                else:
                    problem(line, column.name, message("required"))
                    ok = False
                continue
            try:
                value = column.parse(cell)
            except FieldError as exc:
                problem(line, column.name, exc.text())
                ok = False
                continue
            if column.refers_to and not _resolvable(value, column.refers_to, referable, known):
                which = "unknown_nit" if column.refers_to == CLIENTES else "unknown_contract"
                problem(line, column.name, message(which, value=value))
                ok = False
            values[column.name] = value
        if not ok:
            continue
        if spec.name == SUSPENSIONES and values["hasta"] < values["desde"]:
            problem(line, "hasta", message("ends_before_start", value=values["hasta"],
                                           start=values["desde"]))
            continue
        key = tuple(key_part(c, values[c]) for c in spec.key)
        if key in first_line_of:
            shown = ", ".join(f"{c}={values[c]}" for c in spec.key)
            problem(line, None, message("duplicate_key", key=shown, first_line=first_line_of[key]))
            continue
        first_line_of[key] = line
        rows.append(Row(line, values))
    return rows


def _resolvable(value: object, target: str, referable: dict[str, set[str] | None],
                known: dict[str, Collection[str]]) -> bool:
    if value in known.get(target, ()):
        return True
    if target not in referable:
        return False  # the file is absent: only the database can answer
    declared = referable[target]
    # A present file we could not read cannot be held against the rows that point at it.
    return declared is None or value in declared
