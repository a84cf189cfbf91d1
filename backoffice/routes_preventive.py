"""Técnico preventivo (procedure K.1-3): the analista técnico (or the responsable) uploads the list
of opportunities found in the cartera; a valid list becomes a draft campaign with one target per
row, previewed and launched on the campaign page (routes_campaigns.py). A list with any problem
is refused whole and every problem is shown on the form."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from sqlalchemy import select

from backoffice import policy
from backoffice.web import DB, Me, redirect, render, runtime_of, url
from bot.campaigns import launcher, preventive
from bot.models import Campaign

router = APIRouter()
PAGE = "preventive_upload"


def _form(request: Request, session, me, *, status_code: int = 200, errors=(), name: str = "",
          filename: str = ""):
    query = select(Campaign).where(Campaign.kind == preventive.CAMPAIGN).order_by(Campaign.id.desc()).limit(50)
    if me.staff.role != policy.RESPONSABLE:
        query = query.where(Campaign.created_by_id == me.staff.id)
    return render(request, "backoffice/preventive_upload.html", status_code=status_code, errors=list(errors),
                  name=name, filename=filename, campaigns=list(session.scalars(query)),
                  max_mb=runtime_of(request).settings.preventive_list_max_bytes / (1024 * 1024))


@router.get("/campanas/preventivo/lista", name=PAGE)
def upload_form(request: Request, session: DB, me: Me):
    policy.require_page(me.staff, PAGE)
    return _form(request, session, me)


@router.post("/campanas/preventivo/lista", name="preventive_upload_post")
def upload(request: Request, session: DB, me: Me, nombre: Annotated[str, Form()] = "",
           archivo: Annotated[UploadFile | None, File()] = None):
    policy.require_page(me.staff, PAGE)
    limit = runtime_of(request).settings.preventive_list_max_bytes
    filename = archivo.filename if archivo is not None and archivo.filename else ""
    problems = []
    if not nombre.strip():
        problems.append("name_missing")
    if not filename:
        problems.append("file_missing")
    data = archivo.file.read(limit + 1) if filename else b""
    if len(data) > limit:
        problems.append("file_too_big")
    if problems:
        return _form(request, session, me, status_code=400, errors=problems, name=nombre, filename=filename)
    rows, errors = preventive.parse_list(data, filename, session=session)
    if errors:
        return _form(request, session, me, status_code=400, errors=errors, name=nombre, filename=filename)
    campaign = launcher.create(session, kind=preventive.CAMPAIGN, name=nombre, audience="lista",
                               options={"file": filename[:200]}, staff_id=me.staff.id, now=me.now)
    launcher.add_targets(session, campaign, rows)
    return redirect(url(request, "campaign", campaign_id=campaign.id))
