"""B) Cambio de plan (procedure section B).

The client moves one product to another plan of the catalogue (plans.yaml, per product type),
of higher or lower monthly cost (B.1.1). The bot lists the plans of the product's type and
technology, accepts the option number, the plan code or a loose name ("fibra 200",
"200 megas"), and tells the monthly difference against what the product costs today. A plan
with the same fee, or the product's own plan, is refused with a hint; a plan of another
technology is a migración (K). The signed letter is checked first (B.2): while it is missing
the case waits with the ejecutivo(a); then the Gestor(a) Comercial digitises the change (B.5).
The change itself has no fee: the new monthly fee applies from the next invoice.
Example: internet at Bs 480,00 -> Empresarial Fibra 200 Mbps at Bs 590,00: Bs 110,00 más por mes.
"""
from __future__ import annotations

from rapidfuzz import fuzz

from bot import nlu, requirements, texts
from bot.dialog import Turn
from bot.portfolio.records import ProductInfo
from bot.rules import load_rules
from bot.understanding.amounts import amount
from bot.understanding.options import option_numbers
from bot.understanding.slots import Slot
from bot.understanding.words import phrase_positions, vocabulary, word_matches, words_of
from dialogs.tramite import ANSWER_TO_HUMAN_OFFER, TramiteDialog, on_input
from dialogs.tramite_a import (
    NoGuessAfterWrongProduct,
    RememberedDecisions,
    decide_requirements,
    products_named_by_type,
)

COLLECTING = ["start", "choose_product", "ask_plan"]
PLAN_WORD_CUTOFF = 80  # "basico" / "basica" name the same plan


def catalogue(product_type: str) -> list[dict]:
    return list(load_rules("plans.yaml").get(product_type) or [])


def same_technology(plan: dict, product: ProductInfo) -> bool:
    return plan.get("technology") in (None, product.technology)


def _distinctive(plan: dict, plans: list[dict]) -> tuple[set[str], set[str]]:
    """Numbers and words of a plan's name that the other plans of its type do not all share."""
    vocab = vocabulary()
    ignored = set(vocab["plan_filler_words"]) | set(vocab["plan_units"])

    def tokens(p):
        return set(words_of(p["name"])) - ignored

    common = set.intersection(*(tokens(p) for p in plans)) if len(plans) > 1 else set()
    own = tokens(plan) - common
    return {t for t in own if t.isdigit()}, {t for t in own if not t.isdigit()}


def match_plan(text: str, plans: list[dict]) -> tuple[dict | None, bool]:
    """The plan a text names, and whether several plans fit it equally well.

    Every number of the plan's name must be in the text ("200 megas"); its other distinctive
    words add to the score ("fibra 200" beats "cobre" plans); the code wins outright."""
    words = words_of(text)
    numbers = {w for w in words if w.isdigit()}
    scored = []
    for plan in plans:
        plan_numbers, plan_words = _distinctive(plan, plans)
        if not plan_numbers <= numbers:
            continue
        hits = sum(any(_plan_word(w, p) for w in words) for p in plan_words)
        if not plan_numbers and not hits:
            continue
        score = 2 * len(plan_numbers) + hits
        if phrase_positions(words, nlu.normalise(plan["code"])):
            score += 10
        scored.append((score, plan))
    if not scored:
        return None, False
    scored.sort(key=lambda item: -item[0])
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None, True
    return scored[0][1], False


def _plan_word(word: str, pattern: str) -> bool:
    if word_matches(word, pattern):
        return True
    return len(pattern) >= 5 and fuzz.ratio(word, pattern) >= PLAN_WORD_CUTOFF


def alternatives(product: ProductInfo) -> list[dict]:
    """Plans the product may move to: same type and technology, another fee, not its own."""
    current = current_plan(product)
    return [p for p in catalogue(product.product_type) if same_technology(p, product)
            and amount(p["monthly_fee"]) != amount(product.monthly_fee)
            and not (current and current["code"] == p["code"])]


def current_plan(product: ProductInfo) -> dict | None:
    """The catalogue plan the product is on: its plan is written with the plan's name or code,
    or names it loosely ("Fibra Empresa 50 Mbps") at the same fee. A legacy plan priced apart
    from the catalogue is no catalogue plan: moving to the catalogue's version is a change."""
    options = [p for p in catalogue(product.product_type) if same_technology(p, product)]
    written = nlu.normalise(product.plan)
    for plan in options:
        if written in (nlu.normalise(plan["name"]), nlu.normalise(plan["code"])):
            return plan
    plan, _ = match_plan(product.plan, options) if options else (None, False)
    if plan is not None and amount(plan["monthly_fee"]) == amount(product.monthly_fee):
        return plan
    return None


class PlanChangeDialog(NoGuessAfterWrongProduct, RememberedDecisions, TramiteDialog):
    name = "tramite_B"
    code = "B"
    product_types = ("internet", "tv_cable", "duo_pack", "multipack", "hspa", "telefonia_fija")
    initial = "start"
    states = ["start", "choose_product", "ask_plan", "offer_human", "done"]
    slots = (
        Slot("products", "products", "choose_product", "ask_product"),
        Slot("plan", "choice", "ask_plan", "B_ask_plan"),
    )
    transitions = [
        *on_input(COLLECTING, "done", conditions="has_no_candidates", after="explain_no_products"),
        *on_input(COLLECTING, "offer_human", conditions="gave_up", after="offer_human"),
        *on_input(COLLECTING, "choose_product", conditions="needs_product", after="ask_product"),
        *on_input(COLLECTING, "done", conditions="has_no_other_plan", after="refuse_no_other_plan"),
        *on_input(COLLECTING, "ask_plan", conditions="needs_plan", after="ask_plan"),
        *on_input(COLLECTING, "done", after="finish"),
        *ANSWER_TO_HUMAN_OFFER,
    ]

    # --- reading the message -------------------------------------------------------------------
    def absorb_products(self, turn: Turn) -> set[str]:
        filled = super().absorb_products(turn)
        if filled or turn.data.get("products") or turn.scratch.get("not_found"):
            return filled
        named = products_named_by_type(self, turn)
        if len(named) == 1:
            turn.data["products"] = named
            turn.data.pop("listed", None)
            self.decide(turn, "product_by_type", contract=named[0])
            return {"products"}
        return set()

    def extract(self, turn: Turn) -> set[str]:
        if turn.data.get("plan"):
            return set()
        if not turn.data.get("products"):
            # The plan may come before we know the product: keep the words for later.
            turn.data["early_text"] = f"{turn.data.get('early_text', '')} {turn.text}".strip()
            return set()
        product = self.products(turn)[0]
        early = turn.data.pop("early_text", "")
        plan = None
        listed = turn.data.get("plan_listed") or []
        if turn.state == "ask_plan" and listed:
            chosen = [listed[n - 1] for n in option_numbers(turn.text) if 1 <= n <= len(listed)]
            if len(chosen) == 1:
                plan = next(p for p in catalogue(product.product_type) if p["code"] == chosen[0])
        for text in (turn.text, early):
            if plan is None and text:
                plan, ambiguous = match_plan(text, catalogue(product.product_type))
                if ambiguous:
                    turn.scratch["ambiguous"] = True
        if plan is None:
            return set()
        if not same_technology(plan, product):
            turn.scratch["other_technology"] = plan
            return set()
        current = current_plan(product)
        if (current and current["code"] == plan["code"]) or amount(plan["monthly_fee"]) == amount(
                product.monthly_fee):
            turn.scratch["same_plan"] = plan
            return set()
        turn.data["plan"] = plan["code"]
        return {"plan"}

    # --- conditions (needs_plan: generated from the slot) -------------------------------------
    def has_no_other_plan(self, event) -> bool:
        turn: Turn = event.model
        return not turn.data.get("plan") and not alternatives(self.products(turn)[0])

    # --- replies -------------------------------------------------------------------------------
    def refuse_no_other_plan(self, event) -> None:
        """Nothing in the catalogue to move to: recorded for staff, the client is told."""
        turn: Turn = event.model
        product = self.products(turn)[0]
        self.decide(turn, "no_other_plan", contract=product.contract,
                    product_type=product.product_type, technology=product.technology)
        case, _ = self.open_case(
            turn, role="ejecutivo", status="no_procede",
            summary=texts.render("B_no_other_plan", product=product),
            data={"contract": product.contract, "current_plan": product.plan},
        )
        turn.services.say("B_no_other_plan", product=product, case=case)
        turn.go_to("main", "menu")

    def ask_plan(self, event) -> None:
        turn: Turn = event.model
        product = self.products(turn)[0]
        options = [p for p in catalogue(product.product_type) if same_technology(p, product)]
        turn.data["plan_listed"] = [p["code"] for p in options]
        current = current_plan(product)
        turn.services.say(
            "B_ask_plan", product=product, options=options, current=current,
            current_fee=product.monthly_fee, hint=turn.scratch.get("hint", False),
            same_plan=turn.scratch.get("same_plan"), ambiguous=turn.scratch.get("ambiguous", False),
            other_technology=turn.scratch.get("other_technology"),
            technology=load_rules("labels.yaml")["technologies"].get(product.technology,
                                                                     product.technology),
        )

    def finish(self, event) -> None:
        turn: Turn = event.model
        product = self.products(turn)[0]
        plan = next(p for p in catalogue(product.product_type) if p["code"] == turn.data["plan"])
        current_fee, new_fee = amount(product.monthly_fee), amount(plan["monthly_fee"])
        difference = abs(new_fee - current_fee)
        higher = new_fee > current_fee
        self.decide(turn, "plan_higher" if higher else "plan_lower",
                    contract=product.contract, plan=plan["code"], current_fee=str(current_fee),
                    new_fee=str(new_fee), difference=str(difference))
        codes = requirements.for_tramite(self.code)
        decide_requirements(self, turn, codes, "gestor_comercial")
        details = {"product": product, "plan": plan, "current_fee": current_fee,
                   "new_fee": new_fee, "difference": difference, "higher": higher}
        case, pending = self.open_case(
            turn, role="ejecutivo", role_when_complete="gestor_comercial",
            summary=texts.render("details_B", **details), costs=[], requirement_codes=codes,
            data={"contract": product.contract, "current_plan": product.plan,
                  "current_fee": str(current_fee), "new_plan": plan["code"],
                  "new_plan_name": plan["name"], "new_fee": str(new_fee),
                  "difference": str(new_fee - current_fee),
                  "direction": "mayor" if higher else "menor"},
        )
        self.summarise(turn, case, pending=pending, costs=[], **details)
        turn.go_to("main", "menu")
