"""Every dialog, built once per process (building a Machine costs ~0.5 ms; triggering ~20 µs)."""
from __future__ import annotations

from functools import lru_cache

from bot.dialog import Dialog
from dialogs.intake import IntakeDialog
from dialogs.loyalty import LoyaltyDialog
from dialogs.main import MainDialog
from dialogs.mora import MoraDialog
from dialogs.preventive import PreventiveDamageDialog, PreventiveDialog, PreventiveFiberDialog
from dialogs.quality import QualityDialog


def discover() -> list[type[Dialog]]:
    """Every `dialogs/tramite_*.py` module contributes its TramiteDialog subclasses."""
    import importlib
    import inspect
    import pkgutil

    import dialogs
    from dialogs.tramite import TramiteDialog

    found = []
    for module_info in sorted(pkgutil.iter_modules(dialogs.__path__), key=lambda m: m.name):
        if not module_info.name.startswith("tramite_"):
            continue
        module = importlib.import_module(f"dialogs.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, TramiteDialog) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


DIALOG_CLASSES: list[type[Dialog]] = [MainDialog, IntakeDialog, QualityDialog, MoraDialog, LoyaltyDialog,
                                     PreventiveDialog, PreventiveFiberDialog, PreventiveDamageDialog,
                                     *discover()]


@lru_cache
def dialogs() -> dict[str, Dialog]:
    return {cls.name: cls() for cls in DIALOG_CLASSES}


def specific_dialog_names() -> set[str]:
    return {cls.name for cls in DIALOG_CLASSES if cls.name.startswith("tramite_")}
