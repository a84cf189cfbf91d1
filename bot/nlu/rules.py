"""The NLU vocabulary, read once per process from dialogs/rules/nlu.yaml.

Synonyms, abbreviations and month names are business data that staff may extend, so
they live in the YAML file (house style, principle 10); this module only finds and
parses it.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES_PATH = Path(__file__).resolve().parents[2] / "dialogs" / "rules" / "nlu.yaml"


@cache
def rules() -> dict[str, Any]:
    with RULES_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)
