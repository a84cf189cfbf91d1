"""Every dialog, built once per process (building a Machine costs ~0.5 ms; triggering ~20 µs).

Discovered, not listed: every module of this package contributes the Dialog subclasses it
defines with a `name` (a new trámite is one module `tramite_<letter>.py`, a campaign's answer
dialog one module too). The composition root (bot/app) hands the result to the engine.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import lru_cache

import dialogs as package
from bot.dialog import Dialog


def discover() -> list[type[Dialog]]:
    found: list[type[Dialog]] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name == "registry":
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            # Only concrete dialogs (they name themselves), each counted in its own module.
            if issubclass(cls, Dialog) and cls.__module__ == module.__name__ and "name" in vars(cls):
                found.append(cls)
    names = [cls.name for cls in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise RuntimeError(f"two dialogs share the names {sorted(duplicates)}")
    return found


@lru_cache
def dialogs() -> dict[str, Dialog]:
    return {cls.name: cls() for cls in discover()}
