"""Indicators of section III on fixed data; every expected figure computed by hand below."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from backoffice import kpis
from bot import cases as case_log
from bot.models import Staff
from tests.backoffice.support import EL_VALLE_NIT, TUNARI_NIT, _client_id

OCT = datetime(2026, 10, 10, 13, 0, tzinfo=UTC)


def add(session, *, nit, tramite, opened, resolved_after=None, status=None, reopened=False):
    case = case_log.open_case(session, tramite=tramite, client_id=_client_id(session, nit), conversation_id=None,
                              role="ejecutivo", assignee_id=None, now=opened, sla_hours=24)
    case.status = status or ("resuelto" if resolved_after is not None else "en_proceso")
    if resolved_after is not None:
        at = opened + resolved_after
        case_log.add_event(session, case=case, now=at, actor="mrojas", kind="resolved")
        case.resolved_at = at
    if reopened:
        case_log.add_event(session, case=case, now=opened + resolved_after + timedelta(hours=1), actor="mrojas",
                           kind="reopened")
        later = opened + timedelta(days=3)
        case_log.add_event(session, case=case, now=later, actor="mrojas", kind="resolved")
        case.resolved_at = later
    return case


def fixed_month(db):
    """October 2026 (La Paz time).
    G, El Valle (mrojas):  resolved in 5 h          -> effective, timely
                           resolved in 30 h         -> effective, not timely
                           resolved in 2 h, reopened, resolved again -> not effective, timely (first: 2 h)
                           still open               -> neither
    A, Tunari (lvargas):   resolved in 10 h, concluded                 -> effective, timely
                           sin factibilidad at 1 h                     -> effective, timely
                           opened 31 Oct 23:30 La Paz (= 1 Nov 03:30 UTC), resolved in 23 h 59 -> both
    Outside October: 30 Sep 22:00 La Paz (= 1 Oct 02:00 UTC), and 1 Nov 10:00 La Paz.
    G: eficacia 2/4 = 50.0 %, oportunidad 2/4 = 50.0 %   A: 3/3 = 100.0 %, 3/3 = 100.0 %
    Month: eficacia 5/7 = 71.428.. -> 71.4 %, oportunidad 5/7 -> 71.4 %
    """
    with db.sessions.begin() as session:
        add(session, nit=EL_VALLE_NIT, tramite="G", opened=OCT, resolved_after=timedelta(hours=5))
        add(session, nit=EL_VALLE_NIT, tramite="G", opened=OCT, resolved_after=timedelta(hours=30))
        add(session, nit=EL_VALLE_NIT, tramite="G", opened=OCT, resolved_after=timedelta(hours=2), reopened=True)
        add(session, nit=EL_VALLE_NIT, tramite="G", opened=OCT)
        add(session, nit=TUNARI_NIT, tramite="A", opened=OCT, resolved_after=timedelta(hours=10), status="concluido")
        case = add(session, nit=TUNARI_NIT, tramite="A", opened=OCT)
        case.status = "sin_factibilidad"
        case_log.add_event(session, case=case, now=OCT + timedelta(hours=1), actor="gcomercial", kind="no_feasibility")
        add(session, nit=TUNARI_NIT, tramite="A", opened=datetime(2026, 11, 1, 3, 30, tzinfo=UTC),
            resolved_after=timedelta(hours=23, minutes=59))
        add(session, nit=TUNARI_NIT, tramite="A", opened=datetime(2026, 10, 1, 2, 0, tzinfo=UTC),
            resolved_after=timedelta(hours=1))
        add(session, nit=EL_VALLE_NIT, tramite="G", opened=datetime(2026, 11, 1, 14, 0, tzinfo=UTC),
            resolved_after=timedelta(hours=1))


def test_monthly_indicators_by_tramite_and_ejecutivo(staff):
    fixed_month(staff)
    with staff.sessions() as session:
        report = kpis.monthly(session, "2026-10")
    assert (report.overall.total, report.overall.effective, report.overall.timely) == (7, 5, 5)
    assert report.overall.eficacia == Decimal("71.4") and report.overall.oportunidad == Decimal("71.4")
    assert report.overall.eficacia_ok is False and report.overall.oportunidad_ok is False
    by_tramite = {i.key: (i.total, i.effective, i.timely, i.eficacia, i.oportunidad) for i in report.by_tramite}
    assert by_tramite == {"A": (3, 3, 3, Decimal("100.0"), Decimal("100.0")),
                          "G": (4, 2, 2, Decimal("50.0"), Decimal("50.0"))}
    by_ejecutivo = {i.key: (i.total, i.eficacia, i.eficacia_ok, i.oportunidad_ok) for i in report.by_ejecutivo}
    assert by_ejecutivo == {"lvargas": (3, Decimal("100.0"), True, True), "mrojas": (4, Decimal("50.0"), False, False)}
    with staff.sessions() as session:
        september = kpis.monthly(session, "2026-09")
    assert (september.overall.total, september.overall.eficacia) == (1, Decimal("100.0"))


def test_a_failed_quality_check_is_not_effective(staff):
    with staff.sessions.begin() as session:
        case = add(session, nit=EL_VALLE_NIT, tramite="B", opened=OCT, resolved_after=timedelta(hours=4))
        case_log.add_event(session, case=case, now=OCT + timedelta(hours=30), actor="bot", kind="quality_failed")
        add(session, nit=EL_VALLE_NIT, tramite="B", opened=OCT, resolved_after=timedelta(hours=4))
    with staff.sessions() as session:
        report = kpis.monthly(session, "2026-10")
    assert (report.overall.total, report.overall.effective, report.overall.timely) == (2, 1, 2)


def test_thresholds_98_and_95():
    assert kpis.Indicator("x", total=50, effective=49).eficacia == Decimal("98.0")
    assert kpis.Indicator("x", total=50, effective=49).eficacia_ok is True
    assert kpis.Indicator("x", total=50, effective=48).eficacia_ok is False  # 96.0
    assert kpis.Indicator("x", total=20, timely=19).oportunidad_ok is True  # 95.0
    assert kpis.Indicator("x", total=20, timely=18).oportunidad_ok is False  # 90.0
    assert kpis.Indicator("x", total=3, effective=2).eficacia == Decimal("66.7")  # 66.666.. rounds up
    assert kpis.Indicator("x").eficacia is None and kpis.Indicator("x").eficacia_ok is None


def test_kpi_page_shows_numbers_verdicts_and_charts(staff, login):
    fixed_month(staff)
    page = login("responsable").get("/backoffice/indicadores?mes=2026-10").text
    assert '<strong class="eficacia">71.4 %</strong>' in page
    assert '<tr data-key="G"><td>G. Detalle de llamadas salientes</td><td class="num">4</td>' in page
    assert page.count("Observado") >= 4 and "Aceptado" in page
    assert page.count('<svg class="chart"') == 4
    assert 'class="bar bad"' in page and 'class="bar ok"' in page


def test_csv_export_escapes_formulas(staff, login):
    fixed_month(staff)
    with staff.sessions.begin() as session:
        session.scalars(select(Staff).where(Staff.username == "lvargas")).one().full_name = '=HYPERLINK("http://x.example","clic")'
        session.scalars(select(Staff).where(Staff.username == "mrojas")).one().full_name = "@SUM(A1:A9)"
    response = login("responsable").get("/backoffice/indicadores.csv?mes=2026-10")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:4] == ["Mes", "Agrupación", "Grupo", "Casos"]
    assert rows[1] == ["2026-10", "Total", "Total del mes", "7", "5", "71.4", "Observado", "5", "71.4", "Observado"]
    by_group = {r[2]: r for r in rows[1:]}
    assert by_group["G. Detalle de llamadas salientes"][3:7] == ["4", "2", "50.0", "Observado"]
    assert "'=HYPERLINK(\"http://x.example\",\"clic\")" in by_group
    assert "'@SUM(A1:A9)" in by_group
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_csv_cell_escaping():
    assert [kpis.csv_cell(v) for v in ("=1+1", "+5", "-2", "@x", "\tx", "ok", 12, None)] == [
        "'=1+1", "'+5", "'-2", "'@x", "'\tx", "ok", "12", ""]


def test_month_bounds_are_la_paz_months():
    start, end = kpis.month_bounds("2026-12")
    assert start == datetime(2026, 12, 1, 4, 0, tzinfo=UTC) and end == datetime(2027, 1, 1, 4, 0, tzinfo=UTC)


