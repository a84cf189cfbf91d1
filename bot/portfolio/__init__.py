"""The client portfolio ("cartera de clientes"): CSV import and the read interface dialogs use."""
from __future__ import annotations

from pathlib import Path

from bot.portfolio.importer import FileCounts, ImportReport, import_cartera
from bot.portfolio.issues import ImportIssue, PortfolioImportError

# The demo portfolio described in its README; `bot/demo/` has no __init__ (bot/demo.py is a module).
DEMO_CARTERA_DIR = Path(__file__).resolve().parent.parent / "demo" / "cartera"

__all__ = ["DEMO_CARTERA_DIR", "FileCounts", "ImportIssue", "ImportReport", "PortfolioImportError",
           "import_cartera"]
