"""G) Detalle de llamadas salientes (procedure section G).

Boliviatel lines: no cost, no letter; the ejecutivo(a) generates the detail (POYOLOG).
Comteco fixed lines: the current month is free; each previous month costs the tariff per line and
needs a signed carta de solicitud; the Gestor(a) Comercial generates it and the charge goes on that
line's invoice. Example: two previous months on one line -> Bs 24,00 and the letter is missing.
"""
from __future__ import annotations

from bot import texts
from bot.dialog import Turn
from bot.rules import load_rules
from bot.understanding.amounts import amount
from bot.understanding.slots import Slot
from dialogs.tramite import ANSWER_TO_HUMAN_OFFER, TramiteDialog, on_input

COLLECTING = ["start", "choose_lines", "ask_months"]


class CallDetailDialog(TramiteDialog):
    name = "tramite_G"
    code = "G"
    product_types = ("telefonia_fija", "boliviatel")
    multi_product = True
    initial = "start"
    states = ["start", "choose_lines", "ask_months", "offer_human", "done"]
    # The months are read by the shared parser (any message, only months up to the current one);
    # needs_months and ask_months are generated from the slot.
    slots = (
        Slot("products", "products", "choose_lines", "ask_product"),
        Slot("months", "months", "ask_months", "G_ask_months", parser="past_months"),
    )
    transitions = [
        *on_input(COLLECTING, "done", conditions="has_no_candidates", after="explain_no_products"),
        *on_input(COLLECTING, "offer_human", conditions="gave_up", after="offer_human"),
        *on_input(COLLECTING, "choose_lines", conditions="needs_product", after="ask_product"),
        *on_input(COLLECTING, "ask_months", conditions="needs_months", after="ask_months"),
        *on_input(COLLECTING, "done", after="finish"),
        *ANSWER_TO_HUMAN_OFFER,
    ]

    def finish(self, event) -> None:
        turn: Turn = event.model
        tariff = load_rules("tariffs.yaml")["call_detail"]
        per_month = amount(tariff["previous_month_per_line"])
        current = turn.today.strftime("%Y-%m")
        months = turn.data["months"]
        costs, lines = [], []
        needs_letter = False
        comteco = False
        for product in self.products(turn):
            boliviatel = product.product_type == "boliviatel"
            previous = [m for m in months if m < current]
            lines.append({"number": product.number, "boliviatel": boliviatel})
            if boliviatel:
                self.decide(turn, "boliviatel_free", line=product.number)
                continue
            comteco = True
            for month in previous:
                costs.append({"code": "call_detail_month", "amount": per_month, "charge": "factura_linea",
                              "period": month, "line": product.number})
            if previous:
                needs_letter = True
                self.decide(turn, "previous_months_cost", line=product.number, months=previous,
                            per_month=str(per_month))
            if current in months:
                self.decide(turn, "current_month_free", line=product.number)
        role = "gestor_comercial" if comteco else "ejecutivo"
        case, pending = self.open_case(
            turn, role="ejecutivo", role_when_complete=role,
            summary=texts.render("details_G", lines=lines, months=months),
            costs=costs, requirement_codes=["carta_solicitud"] if needs_letter else [],
            data={"lines": [l["number"] for l in lines], "months": months},
        )
        self.summarise(turn, case, pending=pending, costs=costs, lines=lines, months=months)
        turn.go_to("main", "menu")
