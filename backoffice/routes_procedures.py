"""Procedimientos: each dialog as a diagram, the Mermaid source and the transition table."""
from __future__ import annotations

from fastapi import APIRouter, Request

from backoffice import diagrams, policy
from backoffice.web import DB, Me, NotFound, render
from dialogs.registry import dialogs

router = APIRouter()


@router.get("/procedimientos", name="procedures")
def procedures(request: Request, session: DB, me: Me):
    policy.require_page(me.staff, "procedures")
    return render(request, "backoffice/procedures.html", dialogs=dialogs())


@router.get("/procedimientos/{name}", name="procedure")
def procedure(request: Request, session: DB, me: Me, name: str, estado: str = ""):
    policy.require_page(me.staff, "procedures")
    dialog = dialogs().get(name)
    if dialog is None:
        raise NotFound()
    return render(request, "backoffice/procedure.html", dialog=dialog, diagram=diagrams.layout(dialog),
                  mermaid=dialog.mermaid(), current_state=estado, dialogs=dialogs())
