"""Campaign results per ejecutivo(a): what the fidelización campaign found in each cartera.

The E (averías) or J (datos) case a client's answer led to is opened by that trámite's dialog,
possibly several messages later; it is found here as the client's first case of that trámite
opened at or after the answer, so no dialog has to know about campaigns.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import Campaign, CampaignSend, CampaignTarget, Case, Client, Staff

CASE_OF_OUTCOME = {"problema": "E", "datos_actualizados": "J"}


@dataclass
class LoyaltyRow:
    ejecutivo_id: int | None
    ejecutivo: str
    clients: int = 0  # in the audience
    reached: int = 0  # a message went out
    answered: int = 0
    services_ok: int = 0  # "sí, todo bien" (including those who then updated their data)
    problems: int = 0  # "no" / a fault described: the averías dialog took over
    damage_cases: int = 0  # ... and an E case was opened
    data_updates: int = 0  # new contact data given: the J dialog took over
    data_cases: int = 0  # ... and a J case was opened
    no_answer: int = 0
    opted_out: int = 0
    no_channel: int = 0

    def add(self, other: LoyaltyRow) -> None:
        for field in fields(self)[2:]:
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


COUNTS = [field.name for field in fields(LoyaltyRow)[2:]]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def loyalty_report(session: Session, *, campaign_id: int | None = None, since: datetime | None = None,
                   until: datetime | None = None) -> tuple[list[LoyaltyRow], LoyaltyRow]:
    """Rows per ejecutivo (by name) and the total, over one fidelización campaign or every one
    launched in [since, until)."""
    campaigns = select(Campaign.id).where(Campaign.kind == "fidelizacion")
    if campaign_id is not None:
        campaigns = campaigns.where(Campaign.id == campaign_id)
    if since is not None:
        campaigns = campaigns.where(Campaign.launched_at >= since)
    if until is not None:
        campaigns = campaigns.where(Campaign.launched_at < until)
    targets = session.execute(
        select(CampaignTarget.campaign_id, CampaignTarget.client_id, CampaignTarget.status,
               CampaignTarget.outcome, Client.ejecutivo_id, Staff.full_name, Staff.username)
        .join(Client, Client.id == CampaignTarget.client_id)
        .outerjoin(Staff, Staff.id == Client.ejecutivo_id)
        .where(CampaignTarget.campaign_id.in_(campaigns))
    ).all()
    answered_at = {(c, k): _utc(at) for c, k, at in session.execute(
        select(CampaignSend.campaign_id, CampaignSend.client_id, func.min(CampaignSend.answered_at))
        .where(CampaignSend.campaign_id.in_(campaigns), CampaignSend.answered_at.is_not(None))
        .group_by(CampaignSend.campaign_id, CampaignSend.client_id)
    )}
    client_ids = {row.client_id for row in targets if row.outcome in CASE_OF_OUTCOME}
    opened: dict[tuple[int, str], list[datetime]] = {}
    if client_ids:
        for client_id, tramite, at in session.execute(
                select(Case.client_id, Case.tramite, Case.opened_at)
                .where(Case.client_id.in_(client_ids), Case.tramite.in_(list(CASE_OF_OUTCOME.values())))):
            opened.setdefault((client_id, tramite), []).append(_utc(at))

    def led_to_case(row) -> bool:
        answer = answered_at.get((row.campaign_id, row.client_id))
        tramite = CASE_OF_OUTCOME[row.outcome]
        return answer is not None and any(at >= answer for at in opened.get((row.client_id, tramite), []))

    rows: dict[int | None, LoyaltyRow] = {}
    for row in targets:
        line = rows.setdefault(row.ejecutivo_id, LoyaltyRow(row.ejecutivo_id, row.full_name or row.username or ""))
        line.clients += 1
        line.reached += row.status in ("enviado", "respondido")
        line.answered += row.status == "respondido"
        line.no_answer += row.status == "enviado"
        line.opted_out += row.status == "omitido" and row.outcome == "opted_out"
        line.no_channel += row.status == "omitido" and row.outcome == "sin_canal"
        line.services_ok += row.outcome in ("ok", "datos_actualizados")
        line.problems += row.outcome == "problema"
        line.data_updates += row.outcome == "datos_actualizados"
        if row.outcome == "problema":
            line.damage_cases += led_to_case(row)
        elif row.outcome == "datos_actualizados":
            line.data_cases += led_to_case(row)
    ordered = sorted(rows.values(), key=lambda r: (r.ejecutivo_id is None, r.ejecutivo))
    total = LoyaltyRow(None, "")
    for line in ordered:
        total.add(line)
    return ordered, total
