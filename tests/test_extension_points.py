"""The extension points README "Adding a channel, a trámite, a campaign" describes find their
modules themselves: nothing else lists them."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from bot.app.wiring import channel_wirings
from bot.campaigns import launcher
from bot.campaigns import registry as campaigns
from bot.settings import Settings
from dialogs.registry import dialogs

ROOT = Path(__file__).resolve().parents[1]


def _module_constants(path: Path) -> dict[str, object]:
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def test_every_channel_package_is_wired_without_being_named():
    packages = {p.parent.name for p in (ROOT / "channels").glob("*/wiring.py")}
    assert packages and set(channel_wirings()) == packages


def test_every_tramite_module_gives_a_dialog():
    modules = sorted(p.stem for p in (ROOT / "dialogs").glob("tramite_?.py"))
    assert len(modules) == 12
    assert {f"tramite_{m[-1].upper()}" for m in modules} <= set(dialogs())


def test_every_campaign_module_contributes_its_jobs_and_kind():
    expected_kinds, expected_jobs = {}, 0
    for path in (ROOT / "bot" / "campaigns").glob("*.py"):
        constants = _module_constants(path)
        if constants.get("LAUNCHED") is True:
            expected_kinds[constants["CAMPAIGN"]] = f"bot.campaigns.{path.stem}"
        expected_jobs += any(isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "HANDLERS" for t in n.targets)
                             for n in ast.parse(path.read_text(encoding="utf-8")).body)
    assert launcher.kinds() == expected_kinds and len(expected_kinds) >= 2
    owners = {handler.__module__ for handler in campaigns.handlers().values()}
    assert len(owners) == expected_jobs  # one module per HANDLERS table, none left out


def test_a_calendar_campaign_runs_only_when_its_setting_is_on():
    assert [m.__name__ for m in campaigns.recurring(Settings(mora_run_day=5))] == ["bot.campaigns.mora"]
    assert campaigns.recurring(Settings(mora_run_day=0)) == []


def test_a_campaign_kind_imported_first_is_still_found():
    # The loyalty module imports the launcher: discovering kinds while it was half imported
    # left "fidelizacion" out. A fresh process, so the import order is this one.
    code = ("import bot.campaigns.loyalty, bot.campaigns.launcher as l; "
            "print(sorted(l.kinds()))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "fidelizacion" in done.stdout
