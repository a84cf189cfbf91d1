"""Canned responses: staff-editable texts (rules/canned_responses.yaml) with the client, the case and
its missing documents filled in. The file is data edited by business users, so it is rendered in
Jinja's sandbox; the result is only ever put into the reply box for a person to read and send."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from bot import requirements
from bot.models import Case, Client, Staff

RULES = Path(__file__).resolve().parent / "rules" / "canned_responses.yaml"


@dataclass(frozen=True)
class Canned:
    title: str
    text: str


@cache
def _load() -> tuple[dict, list[tuple[str, object]]]:
    env = SandboxedEnvironment(undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8")) or {}
    return (rules.get("defaults") or {},
            [(entry["title"], env.from_string(entry["body"])) for entry in rules.get("responses") or []])


def responses(*, client: Client | None, case: Case | None, staff: Staff, tramite_name: str = "") -> list[Canned]:
    defaults, templates = _load()
    variables = {
        "cliente": client.razon_social if client else defaults.get("cliente", ""),
        "caso": case.number or "" if case else "",
        "tramite": tramite_name,
        "faltantes": [r["name"] for r in requirements.missing(case.requirements or [])] if case else [],
        "firma": staff.full_name or staff.username,
    }
    return [Canned(title, template.render(**variables).strip()) for title, template in templates]
