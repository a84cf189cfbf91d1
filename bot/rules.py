"""Business data files under dialogs/rules/, loaded once."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

# The business data lives beside the dialogs that use it (dialogs/rules/); the core reads it as data.
RULES_DIR = Path(__file__).resolve().parents[1] / "dialogs" / "rules"


@lru_cache(maxsize=64)
def load_rules(name: str) -> dict:
    """Parsed once per process (treat the result as read-only); a deploy restarts the process."""
    with open(RULES_DIR / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@dataclass(frozen=True)
class Tramite:
    code: str
    name: str
    role: str


@lru_cache
def tramites() -> dict[str, Tramite]:
    return {code: Tramite(code, spec["name"], spec["role"]) for code, spec in load_rules("tramites.yaml").items()}


@lru_cache
def role_names() -> dict[str, str]:
    return load_rules("roles.yaml")


def sla_hours(tramite: str | None = None) -> int:
    """Hours to attend a case: sla.yaml is the one source (a trámite may override the default)."""
    sla = load_rules("sla.yaml")
    return int((sla.get("by_tramite") or {}).get(tramite, sla["default_hours"]))


def menu_items() -> list[tuple[int, Tramite]]:
    """The numbered menu: 1 = A ... 12 = L, so the number always means the same trámite."""
    return [(i, t) for i, t in enumerate(tramites().values(), start=1)]


def tramite_for_choice(choice: int) -> Tramite | None:
    items = dict(menu_items())
    return items.get(choice)
