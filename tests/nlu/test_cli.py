"""The nlu command, run as `python -m bot.nlu` in a real subprocess."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.nlu.cli import run

ROOT = Path(__file__).resolve().parents[2]


def nlu(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "bot.nlu", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=60,
    )


def test_one_text():
    done = nlu("--today", "2026-11-28", "kiero el detaye de yamadas del mes pasado")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["tramite"] == "G"
    assert 0 < result["confidence"] <= 1
    assert result["entities"] == {"months": ["2026-10"]}


def test_batch_gives_one_line_per_input_line():
    texts = [
        "kiero dar d baja el internet xfa",
        "q pasa con mi linea no tiene tono 😡",
        "hola buenos días",
        "",
        "Solicito la migración a fibra óptica del contrato 300287",
    ]
    done = nlu("--batch", "--today", "2026-11-28", stdin="\n".join(texts) + "\n")
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["tramite"] for r in results] == ["H", "E", None, None, "K"]
    assert results[4]["entities"] == {"contracts": ["300287"]}
    assert "😡" not in done.stdout and "ó" not in done.stdout  # nothing echoed back
    assert "\\u" not in done.stdout  # ensure_ascii=False


def test_non_ascii_output_is_not_escaped():
    out = io.StringIO()
    assert run(["--today", "2026-11-28", "mi correo es josé@empresa.bo"], io.StringIO(), out) == 0
    # Folded to ASCII by the NLU, but the JSON writer must not escape what it gets.
    assert json.loads(out.getvalue())["entities"]["emails"] == ["jose@empresa.bo"]


def test_usage_errors():
    assert run([], io.StringIO(), io.StringIO()) == 2
    assert run(["--batch", "texto"], io.StringIO(), io.StringIO()) == 2
    assert run(["--today", "28/11/2026", "texto"], io.StringIO(), io.StringIO()) == 2
