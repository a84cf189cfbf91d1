"""I) Gestión de mora, the client's side (procedure section I.5).

"¿Cuánto debo?", "¿cómo pago?": the pending invoices (contract or line, period, amount, due date),
the total and the payment channels for the client's kind (public institutions pay through SIGEP
and then have Facturación stamp it). Information only: no case. Asking for the factura proforma
("envíeme la proforma") opens a case for the client's ejecutivo(a), who sends it (I.2).
Naming a contract or line narrows the answer to those products.
"""
from __future__ import annotations

from bot import nlu, texts
from bot.dialog import Turn
from bot.rules import load_rules
from bot.understanding.mentions import mentions
from dialogs.tramite import TramiteDialog, on_input
from dialogs.tramite_h import vocabulary


class DebtDialog(TramiteDialog):
    name = "tramite_I"
    code = "I"
    initial = "start"
    states = ["start", "done"]
    slots = ()  # information only: the one message is the whole request, nothing is asked
    transitions = [
        *on_input("start", "done", conditions="asks_proforma", after="send_proforma"),
        *on_input("start", "done", after="show_debts"),
    ]

    def extract(self, turn: Turn) -> set[str]:
        records = turn.services.records
        client = turn.services.client
        entities = turn.nlu.entities
        for value in [*entities.get("contracts", []), *entities.get("lines", [])]:
            product = records.product_by_contract_or_number(client.id, value)
            if product is None:
                turn.scratch.setdefault("not_found", []).append(value)
            elif product.contract not in turn.data.setdefault("contracts", []):
                turn.data["contracts"].append(product.contract)
        return set()

    def asks_proforma(self, event) -> bool:
        normalised = nlu.normalise(event.model.text)
        return any(mentions(normalised, phrase) for phrase in vocabulary()["I"]["proforma"])

    def named_products(self, turn: Turn) -> list:
        records = turn.services.records
        return [records.product_by_contract_or_number(turn.services.client.id, c)
                for c in turn.data.get("contracts", [])]

    def show_debts(self, event) -> None:
        turn: Turn = event.model
        services = turn.services
        records = services.records
        contracts = turn.data.get("contracts")
        invoices = [i for i in records.pending_invoices(services.client.id)
                    if not contracts or i.contract in contracts]
        products = {c: records.product_by_contract_or_number(services.client.id, c)
                    for c in {i.contract for i in invoices}}
        rows = [{"invoice": i, "product": products[i.contract], "overdue": i.due_on < turn.today}
                for i in invoices]
        channels = load_rules("payment_channels.yaml")[services.client.tipo]
        services.say("I_debts", rows=rows, total=sum(i.amount for i in invoices),
                     channels=channels, public=services.client.tipo == "publica",
                     products=self.named_products(turn), not_found=turn.scratch.get("not_found", []))
        turn.go_to("main", "menu")

    def send_proforma(self, event) -> None:
        turn: Turn = event.model
        products = self.named_products(turn)
        self.decide(turn, "proforma_requested", contracts=turn.data.get("contracts", []))
        case, pending = self.open_case(
            turn, role="ejecutivo", summary=texts.render("details_I", products=products),
            data={"request": "proforma", "contracts": turn.data.get("contracts", [])},
        )
        self.summarise(turn, case, pending=pending, costs=[], products=products)
        turn.go_to("main", "menu")
