"""The reason staff read for a rule decision, rendered the way the case page renders it."""
from __future__ import annotations

from bot.texts import environment
from bot.rules import role_names


def decisions_module():
    """templates/backoffice/_decisions.html with the page's role names (StrictUndefined env)."""
    return environment().get_template("backoffice/_decisions.html").make_module({"role_names": role_names()})


def reason(detail: dict) -> str:
    return str(getattr(decisions_module(), detail["rule"])(detail))
