"""Indicators page (numbers + server-rendered SVG bars) and its CSV export."""
from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backoffice import kpis, policy, repository
from backoffice.web import DB, Me, render
from bot.clock import LOCAL_TZ
from bot.texts import environment
from bot.rules import tramites

router = APIRouter()
MONTH = re.compile(r"20\d\d-(0[1-9]|1[0-2])")
BAR_WIDTH = 300  # px for 100 %


def _month(me, mes: str) -> str:
    return mes if MONTH.fullmatch(mes or "") else me.now.astimezone(LOCAL_TZ).strftime("%Y-%m")


def _names(session) -> dict[str, str]:
    return {s.username: s.full_name or s.username for s in repository.all_staff(session)}


def chart(indicators: list[kpis.Indicator], metric: str, label) -> dict:
    """Geometry of one horizontal bar chart: a bar per group and the threshold line."""
    threshold = kpis.EFICACIA_THRESHOLD if metric == "eficacia" else kpis.OPORTUNIDAD_THRESHOLD
    rows = []
    for i, indicator in enumerate(indicators):
        value = getattr(indicator, metric)
        ok = getattr(indicator, f"{metric}_ok")
        rows.append({"label": label(indicator.key), "value": value, "ok": ok, "y": 10 + i * 28,
                     "width": 0 if value is None else int(value * BAR_WIDTH / 100)})
    return {"metric": metric, "rows": rows, "threshold": threshold, "bar_width": BAR_WIDTH,
            "threshold_x": int(threshold * BAR_WIDTH / 100), "height": 20 + 28 * max(1, len(rows))}


@router.get("/indicadores", name="kpis")
def kpis_page(request: Request, session: DB, me: Me, mes: str = ""):
    policy.require_page(me.staff, "kpis")
    report = kpis.monthly(session, _month(me, mes))
    names = _names(session)
    tramite_label = lambda code: f"{code}. {tramites()[code].name}" if code in tramites() else code
    ejecutivo_label = lambda username: names.get(username, username)
    charts = {
        "tramite": [chart(report.by_tramite, m, tramite_label) for m in ("eficacia", "oportunidad")],
        "ejecutivo": [chart(report.by_ejecutivo, m, ejecutivo_label) for m in ("eficacia", "oportunidad")],
    }
    return render(request, "backoffice/kpis.html", report=report, charts=charts, names=names,
                  tramite_label=tramite_label, ejecutivo_label=ejecutivo_label,
                  thresholds={"eficacia": kpis.EFICACIA_THRESHOLD, "oportunidad": kpis.OPORTUNIDAD_THRESHOLD})


@router.get("/indicadores.csv", name="kpis_csv")
def kpis_csv(request: Request, session: DB, me: Me, mes: str = ""):
    policy.require_page(me.staff, "kpis")
    report = kpis.monthly(session, _month(me, mes))
    labels = environment().get_template("backoffice/_labels.html").module
    names = _names(session)

    def verdict(ok):
        return "" if ok is None else labels.verdicts[ok]

    rows = [list(labels.kpi_csv_header)]
    groups = [("total", report.overall, labels.kpi_total)]
    groups += [("tramite", i, f"{i.key}. {tramites()[i.key].name}" if i.key in tramites() else i.key)
               for i in report.by_tramite]
    groups += [("ejecutivo", i, names.get(i.key, i.key)) for i in report.by_ejecutivo]
    for kind, indicator, name in groups:
        rows.append([report.month, labels.kpi_group_kinds[kind], name, indicator.total, indicator.effective,
                     indicator.eficacia if indicator.eficacia is not None else "", verdict(indicator.eficacia_ok),
                     indicator.timely, indicator.oportunidad if indicator.oportunidad is not None else "",
                     verdict(indicator.oportunidad_ok)])
    return Response(kpis.to_csv(rows), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="indicadores-{report.month}.csv"'})
