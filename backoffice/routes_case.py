"""The case page, its live fragments and the actions on it. Each route: load, check, call one
service, redirect (the edge commits)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from backoffice import cases as actions
from backoffice.views import case_context, load_case
from backoffice.web import DB, Me, NotFound, flash_url, redirect, render, render_fragment, url

router = APIRouter()


@router.get("/casos/{case_id}", name="case")
def case_page(request: Request, session: DB, me: Me, case_id: int):
    case = load_case(session, me, case_id)
    return render(request, "backoffice/case.html", **case_context(session, me, case, composer=True))


@router.get("/casos/{case_id}/vivo", name="case_live")
def case_live(request: Request, session: DB, me: Me, case_id: int):
    case = load_case(session, me, case_id)
    context = case_context(session, me, case)
    return JSONResponse({"regions": {
        "case-header": render_fragment(request, "backoffice/_case_header.html", **context),
        "timeline": render_fragment(request, "backoffice/_timeline.html", **context),
        "events": render_fragment(request, "backoffice/_events.html", **context),
        "holder": render_fragment(request, "backoffice/_holder.html", **context),
    }})


ACTIONS = {
    "take_case": lambda s, staff, case, f, now: actions.take_case(s, staff, case, now=now),
    "assign": lambda s, staff, case, f, now: actions.assign(s, staff, case, username=f["assignee"], now=now),
    "derive": lambda s, staff, case, f, now: actions.derive(s, staff, case, to_role=f["to_role"], note=f["note"],
                                                            now=now, keep_conversation=f["keep"] == "1"),
    "smartflex": lambda s, staff, case, f, now: actions.record_smartflex(s, staff, case, order=f["order"], now=now),
    "no_feasibility": lambda s, staff, case, f, now: actions.no_feasibility(s, staff, case, reason=f["reason"],
                                                                            now=now),
    "resolve": lambda s, staff, case, f, now: actions.resolve(s, staff, case, summary=f["note"], now=now),
    "close": lambda s, staff, case, f, now: actions.close(s, staff, case, note=f["note"], now=now),
    "reopen": lambda s, staff, case, f, now: actions.reopen(s, staff, case, reason=f["reason"], now=now),
    "note": lambda s, staff, case, f, now: actions.add_note(s, staff, case, text=f["note"], now=now),
}


@router.post("/casos/{case_id}/acciones/{action}", name="case_action")
def case_action(request: Request, session: DB, me: Me, case_id: int, action: str,
                assignee: Annotated[str, Form()] = "", to_role: Annotated[str, Form()] = "",
                note: Annotated[str, Form()] = "", order: Annotated[str, Form()] = "",
                reason: Annotated[str, Form()] = "", seguir: Annotated[str, Form()] = ""):
    if action not in ACTIONS:
        raise NotFound()
    case = load_case(session, me, case_id)
    fields = {"assignee": assignee, "to_role": to_role, "note": note, "order": order, "reason": reason,
              "keep": seguir}
    target = url(request, "case", case_id=case.id)
    try:
        ACTIONS[action](session, me.staff, case, fields, me.now)
    except actions.ActionRefused as exc:
        session.rollback()
        return redirect(flash_url(target, error=exc.reason))
    return redirect(flash_url(target, ok=action))


@router.post("/casos/{case_id}/requisitos/{index}", name="case_requirement")
def case_requirement(request: Request, session: DB, me: Me, case_id: int, index: int,
                     status: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = ""):
    case = load_case(session, me, case_id)
    target = url(request, "case", case_id=case.id)
    try:
        actions.mark_requirement(session, me.staff, case, index=index, status=status, reason=reason, now=me.now)
    except actions.ActionRefused as exc:
        session.rollback()
        return redirect(flash_url(target, error=exc.reason))
    return redirect(flash_url(target, ok=f"requirement_{status}"))
