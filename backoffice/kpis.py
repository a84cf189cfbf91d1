"""Indicators of procedure GC-PRC-OPE-ASE-04, section III, for one month:

    Eficacia    = cases attended effectively / all cases x 100    (Aceptado from 98 %)
    Oportunidad = cases attended in under 24 h / all cases x 100  (Aceptado from 95 %)

"All cases" are the cases opened in the month (local time, America/La_Paz), whatever their state.
Attended effectively: resolved (resuelto, concluido, sin factibilidad, no procede, or cerrado by the
client's "sí" to the quality check), never reopened and not failed by the client's quality check
(a `quality_failed` event of bot/quality.py, even if later resolved again: the first attention
did not work). A check left unanswered keeps the case resuelto: effective until someone reopens it.
Attended in under 24 h: the first resolution came less than 24 hours after the case was opened.
Per ejecutivo means the client's ejecutivo(a): the cartera the case belongs to.
The procedure says "mayor a 98 %"; a month at exactly the threshold is counted as Aceptado.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import LOCAL_TZ
from bot.enums import CaseStatus
from bot.models import Case, CaseEvent, Client, Staff

EFICACIA_THRESHOLD = Decimal(98)
OPORTUNIDAD_THRESHOLD = Decimal(95)
TIMELY = timedelta(hours=24)
RESOLVED = ("resuelto", "concluido", "cerrado", "sin_factibilidad", "no_procede")
RESOLVING_EVENTS = ("resolved", "no_feasibility")
NOT_EFFECTIVE_EVENTS = ("reopened", "quality_failed")


@dataclass
class Indicator:
    key: str  # trámite code, ejecutivo username, or "total"
    total: int = 0
    effective: int = 0
    timely: int = 0

    @property
    def eficacia(self) -> Decimal | None:
        return percent(self.effective, self.total)

    @property
    def oportunidad(self) -> Decimal | None:
        return percent(self.timely, self.total)

    @property
    def eficacia_ok(self) -> bool | None:
        return None if self.eficacia is None else self.eficacia >= EFICACIA_THRESHOLD

    @property
    def oportunidad_ok(self) -> bool | None:
        return None if self.oportunidad is None else self.oportunidad >= OPORTUNIDAD_THRESHOLD


@dataclass
class Report:
    month: str
    overall: Indicator
    by_tramite: list[Indicator]
    by_ejecutivo: list[Indicator]


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    year, number = (int(p) for p in month.split("-"))
    start = date(year, number, 1)
    end = date(year + number // 12, number % 12 + 1, 1)
    to_utc = lambda d: datetime(d.year, d.month, d.day, tzinfo=LOCAL_TZ).astimezone(UTC)
    return to_utc(start), to_utc(end)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def monthly(session: Session, month: str) -> Report:
    start, end = month_bounds(month)
    rows = session.execute(
        select(Case.id, Case.tramite, Case.status, Case.opened_at, Case.resolved_at, Staff.username)
        .join(Client, Client.id == Case.client_id)
        .outerjoin(Staff, Staff.id == Client.ejecutivo_id)
        # A case the client withdrew was neither attended nor failed: it is not counted.
        .where(Case.opened_at >= start, Case.opened_at < end, Case.status != CaseStatus.ANULADO)
        .order_by(Case.id)
    ).all()
    ids = [r.id for r in rows]
    first_resolution: dict[int, datetime] = {}
    reopened: set[int] = set()
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for case_id, kind, at in session.execute(
                select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.at)
                .where(CaseEvent.case_id.in_(chunk), CaseEvent.kind.in_((*RESOLVING_EVENTS, *NOT_EFFECTIVE_EVENTS)))
                .order_by(CaseEvent.id)):
            if kind in NOT_EFFECTIVE_EVENTS:
                reopened.add(case_id)
            elif case_id not in first_resolution:
                first_resolution[case_id] = _utc(at)
    overall = Indicator("total")
    by_tramite: dict[str, Indicator] = {}
    by_ejecutivo: dict[str, Indicator] = {}
    for row in rows:
        effective = row.status in RESOLVED and row.id not in reopened
        resolved_at = first_resolution.get(row.id) or _utc(row.resolved_at)
        timely = resolved_at is not None and resolved_at - _utc(row.opened_at) < TIMELY
        for bucket in (overall, by_tramite.setdefault(row.tramite, Indicator(row.tramite)),
                       by_ejecutivo.setdefault(row.username or "", Indicator(row.username or ""))):
            bucket.total += 1
            bucket.effective += effective
            bucket.timely += timely
    return Report(month=month, overall=overall,
                  by_tramite=[by_tramite[k] for k in sorted(by_tramite)],
                  by_ejecutivo=[by_ejecutivo[k] for k in sorted(by_ejecutivo)])


DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A spreadsheet must not run a cell as a formula: prefix ' to text that starts like one."""
    text = "" if value is None else str(value)
    if text.startswith(DANGEROUS_FIRST):
        return "'" + text
    return text


def to_csv(rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()
