"""Campañas: clients in mora with their carta de información de mora, what campaigns sent and
what clients answered, (for the responsable) the scheduled jobs pending or failed, and the
campaigns staff create, preview and launch (fidelización here; preventivo lists are uploaded in
routes_preventive.py and land on the same campaign page).

Who may do what with a campaign (page "campaigns": ejecutivo and responsable):
- the responsable creates any campaign (whole portfolio, one ejecutivo's cartera, a list of NITs)
  and sees, previews and launches every campaign;
- an ejecutivo(a) creates campaigns over her own cartera only (a list keeps only her clients' NITs)
  and sees, previews and launches those and any campaign over her cartera;
- whoever created a campaign (e.g. the analista who uploaded a preventivo list) sees and launches it.
"""
from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from backoffice import policy
from backoffice.kpis import to_csv
from backoffice.web import DB, Me, NotFound, flash_url, redirect, render, runtime_of, url
from bot import texts
from bot.campaigns import launcher, letters, overview, reports
from bot.models import Campaign, Client, Job, Staff
from bot.portfolio.records import DatabaseRecords

router = APIRouter()


def _mine(me) -> int | None:
    """An ejecutivo(a) follows her own cartera; the responsable sees everybody's."""
    return None if me.staff.role == policy.RESPONSABLE else me.staff.id


@router.get("/campanas", name="campaigns")
def campaigns_page(request: Request, session: DB, me: Me):
    policy.require_page(me.staff, "campaigns")
    jobs = overview.open_jobs(session) if policy.may_page(me.staff, "jobs") else None
    failures = overview.inbound_failures(session) if jobs is not None else None
    listed = [c for c in session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(200))
              if _may_manage(me, c)]
    return render(request, "backoffice/campaigns.html",
                  clients=overview.clients_in_mora(session, ejecutivo_id=_mine(me)),
                  sends=overview.recent_sends(session), jobs=jobs, campaigns=listed,
                  failures=failures, imap_review_folder=runtime_of(request).settings.imap_review_folder)


@router.get("/campanas/carta-mora/{client_id}", name="carta_mora")
def carta_mora(request: Request, session: DB, me: Me, client_id: int):
    policy.require_page(me.staff, "campaigns")
    row = session.get(Client, client_id)
    if row is None:
        raise NotFound()
    if _mine(me) is not None and row.ejecutivo_id != me.staff.id:
        raise policy.Forbidden("carta_mora")
    records = DatabaseRecords(session)
    ejecutivo = session.get(Staff, row.ejecutivo_id) if row.ejecutivo_id else None
    runtime = runtime_of(request)
    pdf = letters.carta_mora_pdf(records, records.client_by_id(client_id), today=runtime.clock.today(),
                                 ejecutivo=ejecutivo.full_name if ejecutivo else "")
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="carta-mora-{row.nit}.pdf"'})


# --- campaigns staff create and launch ------------------------------------------------------------
def _may_manage(me, campaign: Campaign) -> bool:
    staff = me.staff
    return (staff.role == policy.RESPONSABLE or campaign.created_by_id == staff.id
            or (staff.role == "ejecutivo" and campaign.options.get("ejecutivo_id") == staff.id))


def _campaign(session, me, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound()
    if not _may_manage(me, campaign):
        raise policy.Forbidden("campaign")
    return campaign


def _ejecutivos(session) -> list[Staff]:
    return list(session.scalars(select(Staff).where(Staff.role == "ejecutivo", Staff.active)
                                .order_by(Staff.full_name, Staff.username)))


NIT = re.compile(r"\d{5,13}")


@router.get("/campanas/nueva", name="campaign_new")
def campaign_new(request: Request, session: DB, me: Me):
    policy.require_page(me.staff, "campaigns")
    return render(request, "backoffice/campaign_new.html", kinds=["fidelizacion"],
                  ejecutivos=_ejecutivos(session) if _mine(me) is None else [])


@router.post("/campanas/nueva", name="campaign_create")
def campaign_create(request: Request, session: DB, me: Me, name: Annotated[str, Form()] = "",
                    kind: Annotated[str, Form()] = "fidelizacion", audience: Annotated[str, Form()] = "cartera",
                    ejecutivo_id: Annotated[str, Form()] = "", nits: Annotated[str, Form()] = ""):
    policy.require_page(me.staff, "campaigns")
    if kind != "fidelizacion" or audience not in ("cartera", "lista") or not name.strip():
        return redirect(flash_url(url(request, "campaign_new"), error="campaign_invalid"))
    mine = _mine(me)
    chosen = mine if mine is not None else (int(ejecutivo_id) if ejecutivo_id.isdigit() else None)
    found: list[int] = []
    if audience == "lista":
        wanted = list(dict.fromkeys(NIT.findall(nits)))
        query = select(Client.id).where(Client.nit.in_(wanted))
        if chosen is not None:
            query = query.where(Client.ejecutivo_id == chosen)
        found = list(session.scalars(query.order_by(Client.id)))
        if not found:
            return redirect(flash_url(url(request, "campaign_new"), error="campaign_no_clients"))
    campaign = launcher.create(session, kind=kind, name=name, audience=audience,
                               options={"ejecutivo_id": chosen} if chosen is not None else {},
                               staff_id=me.staff.id, now=me.now)
    launcher.add_targets(session, campaign, [{"client_id": client_id} for client_id in found])
    return redirect(url(request, "campaign", campaign_id=campaign.id))


@router.get("/campanas/{campaign_id}", name="campaign")
def campaign_page(request: Request, session: DB, me: Me, campaign_id: int, nit: str = ""):
    campaign = _campaign(session, me, campaign_id)
    client = session.scalars(select(Client).where(Client.nit == nit.strip())).first() if nit.strip() else None
    if client is not None and _mine(me) is not None and client.ejecutivo_id != me.staff.id:
        client = None  # an ejecutiva previews with her own clients only
    settings = runtime_of(request).settings
    shown = launcher.preview_client(session, campaign, client.id if client else None)
    preview = launcher.preview(session, settings=settings, campaign=campaign,
                               client_id=shown.id if shown else None)
    report = reports.loyalty_report(session, campaign_id=campaign.id) if campaign.kind == "fidelizacion" else None
    creator = session.get(Staff, campaign.created_by_id) if campaign.created_by_id else None
    ejecutivo = session.get(Staff, campaign.options["ejecutivo_id"]) if campaign.options.get("ejecutivo_id") else None
    jobs = list(session.scalars(select(Job).where(Job.dedupe_key.like(f"campaign:{campaign.id}:%"))
                                .order_by(Job.id)))
    return render(request, "backoffice/campaign.html", campaign=campaign, preview=preview, jobs=jobs,
                  preview_client=shown if preview else None, nit=nit, progress=launcher.progress(session, campaign),
                  targets=len(launcher.targets(session, campaign)), report=report, creator=creator,
                  ejecutivo=ejecutivo)


@router.post("/campanas/{campaign_id}/lanzar", name="campaign_launch")
def campaign_launch(request: Request, session: DB, me: Me, campaign_id: int):
    campaign = _campaign(session, me, campaign_id)
    launched = launcher.launch(session, campaign, now=me.now) is not None
    return redirect(flash_url(url(request, "campaign", campaign_id=campaign.id),
                              ok="campaign_launched" if launched else None,
                              error=None if launched else "campaign_not_draft"))


@router.get("/campanas/{campaign_id}/informe.csv", name="campaign_report_csv")
def campaign_report_csv(request: Request, session: DB, me: Me, campaign_id: int):
    campaign = _campaign(session, me, campaign_id)
    if campaign.kind != "fidelizacion":
        raise NotFound()
    rows, total = reports.loyalty_report(session, campaign_id=campaign.id)
    labels = texts.environment().get_template("backoffice/campaign_labels.html").module
    table = [list(labels.loyalty_csv_header)]
    for row in [*rows, total]:
        name = row.ejecutivo or (labels.total if row is total else labels.no_ejecutivo)
        table.append([name, *(getattr(row, count) for count in reports.COUNTS)])
    return Response(to_csv(table), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="fidelizacion-{campaign.id}.csv"'})
