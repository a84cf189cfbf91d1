"""Every campaign module, discovered: its job handlers and its recurring first run.

A module of bot.campaigns contributes `HANDLERS` (job kind -> handler) and, if it runs on a
calendar, `schedule_first(session, *, settings, now)` with `enabled(settings)`. The composition
root (bot/app/wiring.py) asks this module instead of naming each campaign.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import bot.campaigns as package


def modules() -> list[ModuleType]:
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name != "registry":
            found.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    return found


def handlers() -> dict:
    merged: dict = {}
    for module in modules():
        for kind, handler in getattr(module, "HANDLERS", {}).items():
            if kind in merged:
                raise RuntimeError(f"two campaign modules handle the job kind {kind!r}")
            merged[kind] = handler
    return merged


def recurring(settings) -> list[ModuleType]:
    """Modules whose first calendar run the worker schedules at start (when their setting is on)."""
    return [m for m in modules() if hasattr(m, "schedule_first") and m.enabled(settings)]
