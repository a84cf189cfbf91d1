"""Técnico preventivo (procedure K): the analista uploads a list of opportunities found in the
cartera (bot/campaigns/preventive_list.py); each client gets the offer or the check by WhatsApp
and email (bot/campaigns/launcher.py sends it) and answers in dialogs/preventive.py:

- fibra: migrate this cobre product to fibre (K.12) -> "sí" runs the fibre migration dialog (K)
  for that product, which asks about the excess cable and opens the case;
- otro_producto: the product in `detail` (K.11) -> "sí" opens a case for the ejecutivo(a), who
  sends the commercial proposal;
- problema: "is your service working well?" (K.5) -> "no" runs the damage dialog (E).

The answer and the case the dialogs open are written back to the target (outcome, case_id).
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy.orm import Session

from bot import nlu, texts
from bot.campaigns.preventive_list import FIBRA, OTHER_PRODUCT, PROBLEM, ListError, parse_list  # noqa: F401
from bot.models import Campaign, CampaignSend, CampaignTarget, Client, Product
from bot.rules import load_rules

LAUNCHED = True  # created and launched by staff (bot/campaigns/launcher.py)
CAMPAIGN = "preventivo"
DIALOG = "preventive"
# The approved template for a closed WhatsApp window; its second variable is the one-line question
# (templates/messages/preventive_template_question.j2), so the client can answer it directly.
PURPOSE = "preventive_offer"
OFFERS = (FIBRA, OTHER_PRODUCT)


@lru_cache
def _phrases(kind: str) -> tuple[tuple[str, int], ...]:
    phrases = (nlu.normalise(p) for p in load_rules("campaigns.yaml")["preventive"][kind])
    return tuple((p, len(p.split())) for p in phrases)


def _longest(text: str, kinds: tuple[str, ...]) -> str | None:
    """The kind whose phrase found in the text is longest: "no me interesa" beats "me interesa",
    "no hay problemas" beats "hay problemas"."""
    padded = f" {nlu.normalise(text)} "
    best, size = None, 0
    for kind in kinds:
        for phrase, words in _phrases(kind):
            if words > size and f" {phrase} " in padded:
                best, size = kind, words
    return best


def answer(text: str, opportunity: str) -> str | None:
    """accept / decline for an offer, problem / fine for a check, None when unclear."""
    if opportunity in OFFERS:
        found = _longest(text, ("decline", "accept"))
        if found is None:
            said = nlu.yes_no(text)
            found = None if said is None else ("accept" if said else "decline")
        return found
    found = _longest(text, ("problem", "fine"))
    if found is None:
        said = nlu.yes_no(text)  # "¿funciona bien?" "sí" / "no"
        found = None if said is None else ("fine" if said else "problem")
    return found


# --- the message ---------------------------------------------------------------------------------
def fiber_plans(product: Product | None) -> list[dict]:
    """The catalogue's fibre plans for the product's type (plans.yaml), cheapest first."""
    if product is None:
        return []
    plans = load_rules("plans.yaml").get(product.product_type, [])
    return sorted((p for p in plans if p.get("technology") == "fibra"), key=lambda p: p["monthly_fee"])


def context(session: Session, *, target: CampaignTarget, client) -> dict:
    product = session.get(Product, target.product_id) if target.product_id else None
    return {"client": client, "product": product, "opportunity": target.opportunity or PROBLEM,
            "detail": target.detail, "plans": fiber_plans(product)}


def message(session: Session, *, settings, campaign: Campaign, target: CampaignTarget, client: Client,
            channel: str) -> tuple[str, dict]:
    values = context(session, target=target, client=client)
    body = texts.render("preventive_message", channel=channel, **values)
    if channel == "email":
        return body, {"subject": texts.render("preventive_email_subject", **values)}
    question = " ".join(texts.render("preventive_template_question", **values).split())
    return body, {"purpose": PURPOSE, "variables": {"1": client.razon_social, "2": question}}


# --- the answer ----------------------------------------------------------------------------------
def record_answer(session: Session, *, send: CampaignSend, target: CampaignTarget, outcome: str, words: str,
                  now: datetime) -> None:
    send.answer, send.words, send.answered_at = outcome, words[:2000], now
    target.status, target.outcome = "respondido", outcome


def link_case(session: Session, *, target_id: int, case) -> None:
    """The case a dialog opened for the target's answer. A migration the client declines because
    of the excess cable (K.12.1, case no_procede) is recorded as such."""
    target = session.get(CampaignTarget, target_id)
    if target is None:
        return
    target.case_id = case.id
    target.status = "respondido"
    if case.status == "no_procede":
        target.outcome = "cable_rechazado"
