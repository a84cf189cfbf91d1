"""What went wrong in a portfolio import, said in Spanish for the operator who fixes the CSV."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

MESSAGES_FILE = Path(__file__).resolve().parent / "messages.yaml"


@lru_cache
def _messages() -> dict[str, str]:
    return yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))


def message(name: str, /, **params) -> str:
    return _messages()[name].format(**params)


@dataclass(frozen=True)
class ImportIssue:
    """One problem. `line` is the physical line in the file (header = 1), None for a whole file;
    `field` is the column, None for a whole row or file."""

    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return message("where_file", file=self.file, message=self.message)
        if self.field is None:
            return message("where_line", file=self.file, line=self.line, message=self.message)
        return message("where_field", file=self.file, line=self.line, field=self.field,
                       message=self.message)


class PortfolioImportError(Exception):
    """The portfolio was rejected as a whole; nothing was written."""

    def __init__(self, errors: list[ImportIssue]):
        self.errors = list(errors)
        shown = "\n".join(str(issue) for issue in self.errors[:20])
        more = len(self.errors) - 20
        super().__init__(shown + (f"\n(+{more})" if more > 0 else ""))


class FieldError(ValueError):
    """Raised by a value parser; the key names a message in messages.yaml."""

    def __init__(self, key: str, /, **params):
        super().__init__(key)
        self.key = key
        self.params = params

    def text(self) -> str:
        return message(self.key, **self.params)
