"""H) Retiro de productos (procedure section H).

Order of the procedure: the product(s) (H.1); the history of damages and claims and the minimum
permanence (H.2). Inside the permanence of any chosen product H.2.2 goes straight to step 5: the
client must accept the penalty (no -> the interaction is recorded and the request ends); no reason
is asked (one given is kept). Otherwise the reason is asked and the retention offers come first
(H.3: accepted -> a case for the ejecutivo(a) to apply the offer; "no" -> go on). Then the
requirements (H.4: carta de retiro; equipment returned in person) and the estimate of the last
invoice (H.7), and the case goes from the ejecutivo(a) to the Gestor(a) Comercial.

The equipment return is listed on the case with status "en_oficinas": it is done at the office
when the gestor receives the equipment (H.8, H.11), so it never blocks the case moving on when
the letter arrives, and the client is not asked to "attach" it.

Example: Panificadora La Cochabambina, internet 300801 (Bs 290, installed 2026-03-16, 24 months)
on 2026-11-28: 15 whole months remain -> penalty Bs 4.350,00; last invoice 28/30 x 290 = Bs 270,67.
"""
from __future__ import annotations

import calendar
import re
from datetime import date
from decimal import Decimal
from functools import lru_cache

from bot import nlu, requirements, texts
from bot.dialog import Turn
from bot.portfolio.records import ProductInfo
from bot.rules import load_rules
from bot.understanding.amounts import money
from bot.understanding.dates import add_months
from bot.understanding.mentions import first_match
from bot.understanding.options import option_numbers
from bot.understanding.slots import Slot
from dialogs.tramite import ANSWER_TO_HUMAN_OFFER, TramiteDialog, on_input

COLLECTING = ["start", "choose_products", "ask_reason", "confirm_penalty", "offer_retention"]
IN_PERSON_STATUS = "en_oficinas"  # listed, done at the office, never blocks the case


# --- the words of the H, I and L dialogs (matched by bot.understanding.mentions) ---------------
@lru_cache
def vocabulary() -> dict:
    return load_rules("vocabulary_hikl.yaml")


# --- months of the permanence -------------------------------------------------------------------
def whole_months(start: date, end: date) -> int:
    """Complete months from start to end: 2026-11-28 -> 2028-03-16 is 15."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def _product_params(product: ProductInfo) -> dict:
    return {"contract": product.contract, "product_type": product.product_type, "number": product.number}


def penalty(product: ProductInfo, today: date) -> dict | None:
    """The penalty cost of retiring a product inside its minimum permanence, or None."""
    ends_on = add_months(product.installed_on, product.min_permanence_months)
    if product.min_permanence_months <= 0 or ends_on <= today:
        return None
    rule = load_rules("penalty.yaml")
    months = whole_months(today, ends_on)
    rate = Decimal(str(rule["rate"]))
    amount = max(money(product.monthly_fee * months * rate), money(Decimal(str(rule["minimum"]))))
    if amount <= 0:
        return None  # less than a whole month left: nothing to charge
    return {"code": "penalty", "amount": amount, "charge": "recurrente", **_product_params(product),
            "months": months, "ends_on": ends_on.isoformat(), "monthly_fee": str(product.monthly_fee),
            "rate": str(rate)}


def final_bill(product: ProductInfo, today: date) -> dict:
    """The last invoice (H.7): flat month, prorated to today, or a multipack's mix."""
    rules = load_rules("tariffs.yaml")["removal"]
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    fee = product.monthly_fee
    share = Decimal(today.day) / Decimal(days_in_month)
    basic = Decimal(0)
    if product.product_type not in rules["prorated"]:
        method, amount = "full_month", fee  # unknown types too: the flat month is never too low
    elif product.product_type == "multipack":
        method = "multipack"
        basic = min(fee, Decimal(str(rules["multipack_basic_telephony"])))
        amount = basic + (fee - basic) * share
    else:
        method, amount = "prorated", fee * share
    return {"code": "final_bill", "amount": money(amount), "charge": "recurrente", **_product_params(product),
            "method": method, "period": today.strftime("%Y-%m"), "days": today.day,
            "days_in_month": days_in_month, "monthly_fee": str(fee), "basic": str(basic)}


# --- the reason and the retention offers -------------------------------------------------------
def _accent_insensitive(phrase: str) -> str:
    variants = {"a": "[aá]", "e": "[eé]", "i": "[ií]", "o": "[oó]", "u": "[uúü]", "n": "[nñ]"}
    return r"\s+".join("".join(variants.get(ch, re.escape(ch)) for ch in word) for word in phrase.split())


def reason_category(normalised: str) -> str | None:
    reasons = load_rules("retention.yaml")["reasons"]
    return first_match(normalised, {code: spec["keywords"] for code, spec in reasons.items()})


def read_reason(text: str, *, answering: bool) -> tuple[str, str] | None:
    """(category, the client's words) when the message gives a reason for the retiro.

    Answering the question, the whole reply is the reason (category "otro" when no keyword
    matches); in a request written in full, the words after "porque", "debido a", ... are, or
    the whole message when it names a known reason ("nos vamos a otra empresa")."""
    normalised = nlu.normalise(text)
    category = reason_category(normalised)
    words = text.strip()
    if answering:
        meaningful = [w for w in normalised.split() if len(w) >= 4]
        if category is None and len(meaningful) < vocabulary()["H"]["min_reason_words"]:
            return None
        return category or "otro", words
    markers = sorted(vocabulary()["H"]["reason_markers"], key=len, reverse=True)
    for marker in markers:
        found = re.search(rf"\b{_accent_insensitive(marker)}\b[\s:,]*(?P<rest>.+)", text, re.I | re.S)
        rest = found["rest"].strip(" .,;!¡?¿\n") if found else ""
        if rest and re.search(r"[^\W\d_]{3,}", rest):
            return reason_category(nlu.normalise(rest)) or category or "otro", rest
    return (category, words) if category else None


def retention_offers(reason: str, damage_orders: int) -> tuple[list[dict], bool]:
    """Offers in the order they are made, and whether the damage history put quality first."""
    rules = load_rules("retention.yaml")
    offers = rules["offers"]
    if reason in offers and not offers[reason]:
        return [], False  # e.g. the company closes: nothing to retain
    groups = []
    history = rules["damage_history"]
    quality_first = damage_orders >= history["min_orders"]
    if quality_first:
        groups.append(history["offers_from"])
    groups.append(reason if reason in offers else rules["default_offers_from"])
    chosen: dict[str, dict] = {}
    for group in groups:
        for offer in offers.get(group, []):
            chosen.setdefault(offer["code"], offer)
    return list(chosen.values()), quality_first


class RemovalDialog(TramiteDialog):
    name = "tramite_H"
    code = "H"
    product_types = ("telefonia_fija", "internet", "tv_cable", "hspa", "duo_pack", "multipack", "boliviatel")
    # A suspended product is still the client's and billed when it comes back: it can be retired.
    product_statuses = ("activo", "suspendido")
    multi_product = True
    initial = "start"
    states = [*COLLECTING, "offer_human", "done"]
    slots = (
        Slot("products", "products", "choose_products", "ask_product"),
        Slot("reason", "text", "ask_reason", "H_ask_reason"),
        Slot("penalty_answer", "yes_no", "confirm_penalty", "H_ask_penalty", parser="yes_no"),
        Slot("retention_answer", "choice", "offer_retention", "H_offer_retention"),
    )
    transitions = [
        *on_input(COLLECTING, "done", conditions="has_no_candidates", after="explain_no_products"),
        *on_input(COLLECTING, "offer_human", conditions="gave_up", after="offer_human"),
        *on_input(COLLECTING, "choose_products", conditions="needs_product", after="ask_product"),
        *on_input(COLLECTING, "ask_reason", conditions="needs_reason", after="ask_reason"),
        *on_input(COLLECTING, "done", conditions="penalty_refused", after="refuse_penalty"),
        *on_input(COLLECTING, "confirm_penalty", conditions="needs_penalty_answer", after="ask_penalty"),
        *on_input(COLLECTING, "done", conditions="retention_accepted", after="accept_offer"),
        *on_input(COLLECTING, "offer_retention", conditions="needs_retention_answer",
                  after="offer_retention"),
        *on_input(COLLECTING, "done", after="finish"),
        *ANSWER_TO_HUMAN_OFFER,
    ]

    # --- reading the message ---------------------------------------------------------------
    def extract(self, turn: Turn) -> set[str]:
        data, filled = turn.data, set()
        if not data.get("reason"):
            found = read_reason(turn.text, answering=turn.state == "ask_reason")
            if found:
                data["reason"], data["reason_text"] = found
                filled.add("reason")
        if turn.state == "offer_retention" and "retention_answer" not in data:
            answer = self._retention_answer(turn)
            if answer is not None:
                data["retention_answer"] = answer
                filled.add("retention_answer")
        return filled

    def _retention_answer(self, turn: Turn) -> str | None:
        offered = turn.data.get("offered", [])
        numbers = option_numbers(turn.text)
        if len(numbers) == 1 and 1 <= numbers[0] <= len(offered):
            return offered[numbers[0] - 1]
        answer = nlu.yes_no(turn.text)
        if answer is False:
            return "declined"
        if answer is True and len(offered) == 1:
            return offered[0]
        return None

    # --- what the rules say about the chosen products --------------------------------------
    def penalties(self, turn: Turn) -> list[dict]:
        return [p for p in (penalty(product, turn.today) for product in self.products(turn)) if p]

    def damage_orders(self, turn: Turn) -> dict[str, list[str]]:
        """Damage orders of the last months per contract (H.2.1)."""
        history = load_rules("retention.yaml")["damage_history"]
        since = add_months(turn.today, -int(history["months"]))
        records = turn.services.records
        return {p.contract: [o.number for o in records.work_orders(p.contract)
                             if o.kind == "dano" and o.opened_on >= since]
                for p in self.products(turn)}

    def offers(self, turn: Turn) -> tuple[list[dict], bool]:
        orders = self.damage_orders(turn)
        return retention_offers(turn.data["reason"], max((len(o) for o in orders.values()), default=0))

    # --- conditions --------------------------------------------------------------------------
    def needs_reason(self, event) -> bool:
        # The reason leads the retention talk (H.3), which inside the permanence never happens.
        return not event.model.data.get("reason") and not self.penalties(event.model)

    def penalty_refused(self, event) -> bool:
        return event.model.data.get("penalty_answer") is False and bool(self.penalties(event.model))

    def needs_penalty_answer(self, event) -> bool:
        return "penalty_answer" not in event.model.data and bool(self.penalties(event.model))

    def retention_accepted(self, event) -> bool:
        return event.model.data.get("retention_answer") not in (None, "declined")

    def needs_retention_answer(self, event) -> bool:
        turn: Turn = event.model
        return ("retention_answer" not in turn.data and not self.penalties(turn)
                and bool(self.offers(turn)[0]))

    # --- questions (ask_reason: generated from the slot) ------------------------------------
    def ask_penalty(self, event) -> None:
        turn: Turn = event.model
        penalties = self.penalties(turn)
        turn.services.say("H_ask_penalty", penalties=penalties, hint=turn.scratch.get("hint", False),
                          total=sum((p["amount"] for p in penalties), start=Decimal(0)))

    def offer_retention(self, event) -> None:
        turn: Turn = event.model
        offers, quality_first = self.offers(turn)
        turn.data["offered"] = [o["code"] for o in offers]
        turn.services.say("H_offer_retention", offers=offers, quality_first=quality_first,
                          hint=turn.scratch.get("hint", False))

    # --- outcomes ----------------------------------------------------------------------------
    def record_history(self, turn: Turn) -> None:
        """H.2: damages, claims and permanence of every product, for staff to see why."""
        records = turn.services.records
        orders = self.damage_orders(turn)
        for product in self.products(turn):
            claims = records.claims(product.contract)
            self.decide(turn, "history", contract=product.contract,
                        work_orders=orders[product.contract], claims=[c.number for c in claims])
            charge = penalty(product, turn.today)
            ends_on = add_months(product.installed_on, product.min_permanence_months).isoformat()
            if charge:
                self.decide(turn, "inside_permanence", contract=product.contract, ends_on=ends_on,
                            monthly_fee=str(product.monthly_fee), amount=str(charge["amount"]),
                            months=charge["months"])
            else:
                self.decide(turn, "permanence_fulfilled", contract=product.contract,
                            ends_on=ends_on)

    def _context(self, turn: Turn) -> dict:
        return {"products": self.products(turn), "reason_text": turn.data.get("reason_text"),
                "reason": turn.data.get("reason")}

    def _data(self, turn: Turn, **extra) -> dict:
        return {"products": turn.data["products"], "reason": turn.data.get("reason"),
                "reason_text": turn.data.get("reason_text"), **extra}

    def refuse_penalty(self, event) -> None:
        turn: Turn = event.model
        self.record_history(turn)
        penalties = self.penalties(turn)
        self.decide(turn, "penalty_refused", amount=str(sum(p["amount"] for p in penalties)))
        case, _ = self.open_case(turn, role="ejecutivo", status="no_procede", costs=penalties,
                                 summary=texts.render("details_H", **self._context(turn), in_person=[],
                                                      outcome="penalty_refused"),
                                 data=self._data(turn, penalty_accepted=False))
        turn.services.say("H_penalty_refused", case=case)
        turn.go_to("main", "menu")

    def accept_offer(self, event) -> None:
        turn: Turn = event.model
        self.record_history(turn)
        offers, quality_first = self.offers(turn)
        offer = next(o for o in offers if o["code"] == turn.data["retention_answer"])
        self.decide(turn, "retention_accepted", offer=offer["code"],
                    offered=turn.data.get("offered", []), quality_first=quality_first)
        case, _ = self.open_case(turn, role="ejecutivo", status="en_proceso",
                                 summary=texts.render("details_H", **self._context(turn), in_person=[],
                                                      outcome="retained", offer=offer),
                                 data=self._data(turn, offer=offer["code"]))
        turn.services.say("H_retention_accepted", case=case, offer=offer,
                          role_name=turn.services.role_name("ejecutivo"))
        turn.go_to("main", "menu")

    def finish(self, event) -> None:
        turn: Turn = event.model
        self.record_history(turn)
        products = self.products(turn)
        penalties = self.penalties(turn)
        if penalties:
            self.decide(turn, "penalty_accepted", amount=str(sum(p["amount"] for p in penalties)))
        elif turn.data.get("retention_answer") == "declined":
            self.decide(turn, "retention_declined", offered=turn.data.get("offered", []))
        else:
            self.decide(turn, "no_retention_offer", reason_code=turn.data["reason"])
        bills = [final_bill(product, turn.today) for product in products]
        for bill in bills:
            self.decide(turn, "final_bill", contract=bill["contract"], method=bill["method"],
                        amount=str(bill["amount"]))
        in_person = self.in_person(turn, products)
        costs = [*penalties, *bills]
        documents = [c for c in requirements.for_tramite(self.code)
                     if load_rules("requirements.yaml")[c]["kind"] != "in_person"]
        case, pending = self.open_case(
            turn, role="ejecutivo", role_when_complete="gestor_comercial", costs=costs,
            requirement_codes=documents,
            summary=texts.render("details_H", **self._context(turn), in_person=in_person, outcome="removal"),
            data=self._data(turn, **({"penalty_accepted": True} if penalties else {})),
        )
        if in_person:
            case.requirements = [*case.requirements, *in_person]
        self.summarise(turn, case, pending=pending, costs=costs, **self._context(turn),
                       in_person=in_person, outcome="removal")
        turn.go_to("main", "menu")

    def in_person(self, turn: Turn, products: list[ProductInfo]) -> list[dict]:
        """Requirements done at the office (equipment return), for the products they apply to."""
        catalogue = load_rules("requirements.yaml")
        codes = [c for c in requirements.for_tramite(self.code) if catalogue[c]["kind"] == "in_person"
                 and any(p.product_type in catalogue[c].get("applies_to", [p.product_type]) for p in products)]
        items = requirements.checklist(codes)
        for item in items:
            item["status"] = IN_PERSON_STATUS
            self.decide(turn, "in_person_requirement", code=item["code"])
        return items
