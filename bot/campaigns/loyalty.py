"""Fidelización (procedure J): the campaign asks whether the client's services work well.

"Sí" / "todo bien" -> thanked and shown the contact data the cooperative holds (step 3.1), to
confirm it or write the new data (which opens a J case for the ejecutivo, dialogs/tramite_j.py);
"no" or a description of a fault -> the averías dialog (E) takes the words as if the client had
asked (steps 4-5). The answer dialog is dialogs/loyalty.py; the per-ejecutivo report is
bot/campaigns/reports.py.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import nlu, texts
from bot.campaigns import common, launcher
from bot.models import Campaign, CampaignSend, CampaignTarget, Client, Contact
from bot.rules import load_rules

LAUNCHED = True  # created and launched by staff (bot/campaigns/launcher.py)
CAMPAIGN = "fidelizacion"
DIALOG = "loyalty"
PURPOSE = "loyalty_check"


@lru_cache
def _phrases(kind: str) -> tuple[str, ...]:
    return tuple(nlu.normalise(p) for p in load_rules("campaigns.yaml")["loyalty"][kind])


def _says(kind: str, text: str) -> bool:
    padded = f" {nlu.normalise(text)} "
    return any(f" {phrase} " in padded for phrase in _phrases(kind))


def services_answer(text: str, *, tramite: str | None = None) -> str | None:
    """'ok', 'problem' or None for the answer to "¿sus servicios funcionan bien?"."""
    if _says("ok", text):
        return "ok"
    yes_no = nlu.yes_no(text)
    if yes_no is not None:
        return "ok" if yes_no else "problem"
    if tramite == "E" or _says("problem", text):
        return "problem"
    return None


def contact_answer(text: str) -> str | None:
    """'confirm', 'update' (wants a change: the J dialog asks what) or None."""
    if _says("confirm", text) or nlu.yes_no(text) is True:
        return "confirm"
    if nlu.yes_no(text) is False or _says("update", text):
        return "update"
    return None


def contact_data(session: Session, client: Client) -> dict:
    """What the portfolio holds about how to reach the client, shown for confirmation."""
    contacts = list(session.scalars(select(Contact).where(Contact.client_id == client.id)
                                    .order_by(Contact.id).limit(3)))
    return {"client": client, "contacts": contacts, "email": common.email_of(session, client),
            "whatsapp": client.whatsapp}


def message(session: Session, *, settings, campaign: Campaign, target: CampaignTarget, client: Client,
            channel: str) -> tuple[str, dict]:
    context = {"client": client, "campaign": campaign}
    if channel == "email":
        return (texts.render("loyalty_email", **context),
                {"subject": texts.render("loyalty_email_subject", **context).strip()})
    return texts.render("loyalty_whatsapp", **context), {"purpose": PURPOSE,
                                                          "variables": {"1": client.razon_social}}


def record(session: Session, *, send_id: int, answer: str, outcome: str, words: str, now: datetime) -> None:
    """The client's answer on the send row and, as the campaign's result, on its target(s).
    A later answer (the contact step after "todo bien") overwrites the earlier outcome."""
    row = session.get(CampaignSend, send_id)
    row.answer, row.outcome, row.answered_at = answer, outcome, now
    row.words = "\n".join(filter(None, [row.words, words]))[:2000]
    for target in launcher.targets_of_send(session, row):
        target.status, target.outcome = "respondido", outcome
