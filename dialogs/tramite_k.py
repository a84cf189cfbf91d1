"""K) Migración a fibra óptica, at the client's request (procedure section K.4, K.12, K.15).

Products on cobre (internet, Duo Pack, Multipack, línea fija) can migrate; one already on fibra is
told so and no case is opened. The Analista Técnico checks the feasibility and the cable needed;
the cable beyond the meters included is charged on the monthly invoice (tariffs.yaml
fiber_migration), and the client must accept that before the case goes on to the Gestor(a)
Comercial (K.12.1): yes -> case to the analista with accepted_excess_cable and next_role
gestor_comercial; no -> the interaction is recorded (case no_procede) and the request ends.
"""
from __future__ import annotations

from bot import texts
from bot.dialog import Turn
from bot.portfolio.records import ProductInfo
from bot.rules import load_rules
from bot.understanding.amounts import amount
from bot.understanding.slots import Slot
from dialogs.tramite import ANSWER_TO_HUMAN_OFFER, TramiteDialog, on_input

COLLECTING = ["start", "choose_products", "confirm_excess"]
MIGRATES_FROM = "cobre"


def cable_terms() -> dict:
    tariff = load_rules("tariffs.yaml")["fiber_migration"]
    return {"per_meter": amount(tariff["excess_cable_per_meter"]),
            "included_meters": int(tariff["included_meters"])}


class FiberMigrationDialog(TramiteDialog):
    name = "tramite_K"
    code = "K"
    product_types = ("internet", "duo_pack", "multipack", "telefonia_fija")
    multi_product = True
    initial = "start"
    states = [*COLLECTING, "offer_human", "done"]
    # The answer on the excess cable is a yes/no read by the shared parser (needs_accepts_excess
    # is generated); its question shows the cable terms, so ask_excess stays here.
    slots = (
        Slot("products", "products", "choose_products", "ask_product"),
        Slot("accepts_excess", "yes_no", "confirm_excess", "K_ask_excess", parser="yes_no"),
    )
    transitions = [
        *on_input(COLLECTING, "done", conditions="names_only_fiber", after="explain_already_fiber"),
        *on_input(COLLECTING, "done", conditions="has_no_candidates", after="explain_no_products"),
        *on_input(COLLECTING, "offer_human", conditions="gave_up", after="offer_human"),
        *on_input(COLLECTING, "choose_products", conditions="needs_product", after="ask_product"),
        *on_input(COLLECTING, "done", conditions="refused_excess", after="refuse"),
        *on_input(COLLECTING, "confirm_excess", conditions="needs_accepts_excess",
                  after="ask_excess"),
        *on_input(COLLECTING, "done", after="finish"),
        *ANSWER_TO_HUMAN_OFFER,
    ]

    # --- products: only cobre ones migrate ---------------------------------------------------
    def active_of_type(self, turn: Turn) -> list[ProductInfo]:
        return super().candidates(turn)

    def candidates(self, turn: Turn) -> list[ProductInfo]:
        return [p for p in self.active_of_type(turn) if p.technology == MIGRATES_FROM]

    def absorb_products(self, turn: Turn) -> set[str]:
        if turn.data.get("products"):
            return set()
        records = turn.services.records
        client_id = turn.services.client.id
        entities = turn.nlu.entities
        named = [records.product_by_contract_or_number(client_id, v)
                 for v in [*entities.get("contracts", []), *entities.get("lines", [])]]
        on_fiber = [p for p in named if p is not None and p.product_type in self.product_types
                    and p.status in self.product_statuses and p.technology != MIGRATES_FROM]
        if on_fiber:
            turn.data["already_fiber"] = [p.contract for p in on_fiber]
            if len(on_fiber) == len(named):
                return set()  # only products that need no migration: nothing to choose for them
        filled = super().absorb_products(turn)
        fiber_values = {v for p in on_fiber for v in (p.contract, p.number) if v}
        if "wrong_type" in turn.scratch:  # the base calls them "not for this trámite"
            turn.scratch["wrong_type"] = [v for v in turn.scratch["wrong_type"] if v not in fiber_values]
        return filled

    def fiber_products(self, turn: Turn) -> list[ProductInfo]:
        records = turn.services.records
        return [records.product_by_contract_or_number(turn.services.client.id, c)
                for c in turn.data.get("already_fiber", [])]

    # --- conditions --------------------------------------------------------------------------
    def names_only_fiber(self, event) -> bool:
        data = event.model.data
        return bool(data.get("already_fiber")) and not data.get("products")

    def refused_excess(self, event) -> bool:
        return event.model.data.get("accepts_excess") is False

    # --- replies -----------------------------------------------------------------------------
    def explain_already_fiber(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("K_already_fiber", products=self.fiber_products(turn))
        turn.go_to("main", "menu")

    def explain_no_products(self, event) -> None:
        turn: Turn = event.model
        on_fiber = [p for p in self.active_of_type(turn) if p.technology != MIGRATES_FROM]
        if not on_fiber:
            super().explain_no_products(event)
            return
        turn.services.say("K_already_fiber", products=on_fiber, all_products=True)
        turn.go_to("main", "menu")

    def ask_excess(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("K_ask_excess", products=self.products(turn), hint=turn.scratch.get("hint", False),
                          already_fiber=self.fiber_products(turn), **cable_terms())

    def _case_data(self, turn: Turn, accepted: bool) -> dict:
        terms = cable_terms()
        return {"products": turn.data["products"], "accepted_excess_cable": accepted,
                "excess_cable_per_meter": str(terms["per_meter"]),
                "included_meters": terms["included_meters"]}

    def _summary(self, turn: Turn, accepted: bool) -> str:
        return texts.render("details_K", products=self.products(turn), accepted=accepted,
                            already_fiber=self.fiber_products(turn), **cable_terms())

    def refuse(self, event) -> None:
        turn: Turn = event.model
        self.decide(turn, "excess_cable_refused")
        case, _ = self.open_case(turn, role="ejecutivo", status="no_procede",
                                 summary=self._summary(turn, accepted=False),
                                 data=self._case_data(turn, accepted=False))
        turn.services.say("K_refused", case=case)
        turn.go_to("main", "menu")

    def finish(self, event) -> None:
        turn: Turn = event.model
        terms = cable_terms()
        for product in self.products(turn):
            self.decide(turn, "copper_product", contract=product.contract)
        self.decide(turn, "excess_cable_accepted", per_meter=str(terms["per_meter"]),
                    included_meters=terms["included_meters"], next_role="gestor_comercial")
        case, pending = self.open_case(
            turn, role="analista_tecnico", summary=self._summary(turn, accepted=True),
            data={**self._case_data(turn, accepted=True), "next_role": "gestor_comercial"},
        )
        self.summarise(turn, case, pending=pending, costs=[], products=self.products(turn),
                       accepted=True, already_fiber=self.fiber_products(turn),
                       conditional_cost="excess_cable", **terms)
        turn.go_to("main", "menu")
