"""The layering holds: the core depends on nothing outside it, and no two modules import each other.

    bot/ (core)  <-  channels/, dialogs/  <-  backoffice/  <-  bot/app (composition root)

Read from the source with `ast` (no import side effects): every `import` and `from ... import`
statement, at any depth, resolved to the most specific project module it names.
"""
from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "channels", "dialogs", "backoffice")
COMPOSITION_ROOT = ("bot.app", "bot.__main__")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:  # Alembic loads these by path, not by import
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """`bot.nlu.analyze.NluResult` -> `bot.nlu.analyze`: the longest prefix that is a module."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _imports(module: str, path: Path) -> set[str]:
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] or [base]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                targets.add(target)
    return targets


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _is_core(module: str) -> bool:
    return module.split(".")[0] == "bot" and not module.startswith(COMPOSITION_ROOT)


def test_the_core_imports_no_adapter_dialog_or_backoffice_module():
    upward = sorted(f"{module} -> {target}" for module, targets in GRAPH.items() if _is_core(module)
                    for target in targets if not _is_core(target))
    assert upward == [], "core modules import outside the core:\n" + "\n".join(upward)


@pytest.mark.parametrize("lower, higher", [("channels", "dialogs"), ("dialogs", "channels"),
                                           ("channels", "backoffice"), ("dialogs", "backoffice")])
def test_adapters_and_dialogs_do_not_reach_sideways_or_up(lower, higher):
    wrong = sorted(f"{module} -> {target}" for module, targets in GRAPH.items()
                   if module.split(".")[0] == lower for target in targets if target.split(".")[0] == higher)
    assert wrong == [], "\n".join(wrong)


def test_no_import_cycles():
    try:
        graphlib.TopologicalSorter(GRAPH).prepare()
    except graphlib.CycleError as error:
        pytest.fail("import cycle: " + " -> ".join(error.args[1]))


def test_the_check_sees_a_cycle_and_an_upward_import():
    """The checks above would pass on an empty graph: make sure they read this tree."""
    assert "bot.engine" in GRAPH and "bot.messaging" in GRAPH["bot.engine"]
    assert "dialogs.registry" in GRAPH["bot.app.wiring"]
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter({"a": {"b"}, "b": {"a"}}).prepare()
