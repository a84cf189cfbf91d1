"""Cronograma de visitas: the week calendar, scheduling, the engineering service, CSV and print."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from backoffice import kpis, policy, visits
from backoffice.cases import ActionRefused
from backoffice.web import DB, Me, NotFound, flash_url, redirect, render, url
from bot.clock import LOCAL_TZ
from bot.models import Visit
from bot.texts import environment

router = APIRouter()


def _monday(me, semana: str) -> date:
    try:
        day = date.fromisoformat(semana)
    except ValueError:
        day = me.now.astimezone(LOCAL_TZ).date()
    return visits.monday_of(day)


def _week_context(session, me, semana: str) -> dict:
    monday = _monday(me, semana)
    week = visits.week(session, monday)
    return {"monday": monday, "visits": week, "grid": visits.grid(week, monday), "slots": visits.slots(),
            "technicians": visits.technicians(), "may_schedule": policy.may_page(me.staff, "schedule_visit"),
            "delta": lambda days: timedelta(days=days)}


@router.get("/visitas", name="visits")
def visits_page(request: Request, session: DB, me: Me, semana: str = "", caso: str = ""):
    policy.require_page(me.staff, "visits")
    return render(request, "backoffice/visits.html", case_number=caso, **_week_context(session, me, semana))


@router.get("/visitas/imprimir", name="visits_print")
def visits_print(request: Request, session: DB, me: Me, semana: str = ""):
    policy.require_page(me.staff, "visits")
    return render(request, "backoffice/visits_print.html", **_week_context(session, me, semana))


@router.get("/visitas.csv", name="visits_csv")
def visits_csv(request: Request, session: DB, me: Me, semana: str = ""):
    policy.require_page(me.staff, "visits")
    context = _week_context(session, me, semana)
    labels = environment().get_template("backoffice/_labels.html").module
    rows = [list(labels.visit_csv_header)]
    for v in context["visits"]:
        rows.append([v.visit_date.isoformat(), v.slot, v.technician, v.client.razon_social, v.client.nit,
                     v.address, v.contact, labels.visit_statuses[v.status], v.notes, v.engineering_report])
    return Response(kpis.to_csv(rows), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="cronograma-{context["monday"].isoformat()}.csv"'})


@router.post("/visitas", name="visit_schedule")
def visit_schedule(request: Request, session: DB, me: Me, visit_date: Annotated[str, Form()] = "",
                   slot: Annotated[str, Form()] = "", technician: Annotated[str, Form()] = "",
                   case_number: Annotated[str, Form()] = "", nit: Annotated[str, Form()] = "",
                   address: Annotated[str, Form()] = "", contact: Annotated[str, Form()] = "",
                   notes: Annotated[str, Form()] = ""):
    policy.require_page(me.staff, "schedule_visit")
    try:
        day = date.fromisoformat(visit_date)
    except ValueError:
        return redirect(flash_url(url(request, "visits"), error="bad_date"))
    back = url(request, "visits", {"semana": day.isoformat()})
    try:
        visits.schedule(session, me.staff, visits.VisitRequest(
            visit_date=day, slot=slot, technician=technician, case_number=case_number, nit=nit, address=address,
            contact=contact, notes=notes), now=me.now)
    except ActionRefused as exc:
        session.rollback()
        return redirect(flash_url(back, error=exc.reason))
    return redirect(flash_url(back, ok="visit_scheduled"))


def _visit(session, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound()
    return visit


@router.post("/visitas/{visit_id}/servicio", name="visit_service")
def visit_service(request: Request, session: DB, me: Me, visit_id: int, report: Annotated[str, Form()] = ""):
    visit = _visit(session, visit_id)
    back = url(request, "visits", {"semana": visit.visit_date.isoformat()})
    try:
        visits.record_service(session, me.staff, visit, report=report, now=me.now)
    except ActionRefused as exc:
        session.rollback()
        return redirect(flash_url(back, error=exc.reason))
    return redirect(flash_url(back, ok="visit_done"))


@router.post("/visitas/{visit_id}/cancelar", name="visit_cancel")
def visit_cancel(request: Request, session: DB, me: Me, visit_id: int, reason: Annotated[str, Form()] = ""):
    visit = _visit(session, visit_id)
    back = url(request, "visits", {"semana": visit.visit_date.isoformat()})
    try:
        visits.cancel(session, me.staff, visit, reason=reason, now=me.now)
    except ActionRefused as exc:
        session.rollback()
        return redirect(flash_url(back, error=exc.reason))
    return redirect(flash_url(back, ok="visit_cancelled"))
