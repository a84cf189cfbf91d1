"""Campañas: clients in mora with their carta de información de mora, what campaigns sent and
what clients answered, and (for the responsable) the scheduled jobs pending or failed."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backoffice import policy
from backoffice.web import DB, Me, NotFound, render, runtime_of
from bot.campaigns import letters, overview
from bot.models import Client, Staff
from bot.portfolio.records import DatabaseRecords

router = APIRouter()


def _mine(me) -> int | None:
    """An ejecutivo(a) follows her own cartera; the responsable sees everybody's."""
    return None if me.staff.role == policy.RESPONSABLE else me.staff.id


@router.get("/campanas", name="campaigns")
def campaigns_page(request: Request, session: DB, me: Me):
    policy.require_page(me.staff, "campaigns")
    jobs = overview.open_jobs(session) if policy.may_page(me.staff, "jobs") else None
    return render(request, "backoffice/campaigns.html",
                  clients=overview.clients_in_mora(session, ejecutivo_id=_mine(me)),
                  sends=overview.recent_sends(session), jobs=jobs)


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
