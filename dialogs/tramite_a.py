"""A) Servicios suplementarios (procedure section A).

The client asks to enable or disable a supplementary service (Caller ID, PIN / categoría A0,
categoría 013, transferencia de llamadas, llamada en espera, Centrex, conferencia tripartita) on
one or more of its fixed lines. Each service and action has a fee per line (tariffs.yaml
`supplementary`), charged on the monthly invoice ("a la recurrente", A.5.1). The signed letter
(requirements.yaml) is checked first (A.3): while it is missing the case waits with the
ejecutivo(a); once complete the Gestor(a) Comercial digitises the service in Smartflex (A.5).
Example: enable Caller ID on line 4412345 -> Bs 15,00 on the monthly invoice, letter missing.

The module also holds the small vocabulary helpers the A, B, C and J dialogs share
(vocabulary_abcj.yaml phrases, a length-preserving fold, the requirement decision).
"""
from __future__ import annotations

import unicodedata
from decimal import Decimal

from bot import requirements, texts
from bot.dialog import Turn
from bot.rules import load_rules
from dialogs.tramite import ANSWER_TO_HUMAN_OFFER, TramiteDialog, on_input, option_numbers
from dialogs.vocabulary import (  # noqa: F401 - re-exported for the B, C and J dialogs
    find_labels,
    phrase_positions,
    products_named_by_type,
    vocabulary,
    word_matches,
    words_of,
)


# --- helpers shared by the A, B, C and J dialogs ------------------------------------------------
def fold_same_length(text: str) -> str:
    """Lower case without accents, one character for one: indices still point into `text`."""
    out = []
    for char in text:
        decomposed = unicodedata.normalize("NFKD", char)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        out.append((base or char).lower()[:1] or char)
    return "".join(out)


def amount(value) -> Decimal:
    """A tariff figure from YAML as money: Decimal with two decimals."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def decide_requirements(dialog, turn: Turn, codes: list[str], next_role: str) -> None:
    """Log whether the documents the trámite needs came with the request (they are attached to
    the case by `open_case`, one document per missing requirement)."""
    checklist = requirements.checklist(codes)
    documents = [r for r in checklist if r["kind"] == "document"]
    received = len(turn.data.get("document_ids") or [])
    if not codes:
        return
    if received >= len(documents) and len(documents) == len(checklist):
        dialog.decide(turn, "requirements_complete", codes=codes, next_role=next_role)
    else:
        dialog.decide(turn, "requirements_missing", codes=codes, received=received,
                      role_when_complete=next_role)


class RememberedDecisions:
    """Decisions taken in earlier messages of the dialog (the product picked on the first one)
    belong in the case's log too: keep them in the persisted dialog data until the case opens.
    (TramiteDialog.decide keeps them in the per-message scratch only.)"""

    def decide(self, turn: Turn, rule: str, **detail) -> None:
        turn.data.setdefault("decisions", []).append({"rule": rule, **detail})

    def open_case(self, turn: Turn, **kwargs):
        turn.scratch["decisions"] = [*turn.data.pop("decisions", []),
                                     *turn.scratch.get("decisions", [])]
        return super().open_case(turn, **kwargs)


class NoGuessAfterWrongProduct:
    """When the client names a product this trámite does not apply to, its only other product
    is not taken in its place: the client is told and asked (the base picks it silently)."""

    def absorb_products(self, turn: Turn) -> set[str]:
        if turn.data.get("products"):
            return set()
        filled = super().absorb_products(turn)
        decisions = turn.data.get("decisions") or []
        if turn.scratch.get("wrong_type") and decisions and decisions[-1]["rule"] == "product_auto":
            decisions.pop()
            turn.data.pop("products", None)
            return set()
        return filled


# --- the dialog -------------------------------------------------------------------------------
COLLECTING = ["start", "choose_lines", "ask_service", "ask_action"]


def services_table() -> dict[str, list]:
    return vocabulary()["supplementary_services"]


class SupplementaryServicesDialog(NoGuessAfterWrongProduct, RememberedDecisions, TramiteDialog):
    name = "tramite_A"
    code = "A"
    # Fixed lines, and the packs that include one (they have a line number).
    product_types = ("telefonia_fija", "duo_pack", "multipack")
    multi_product = True
    initial = "start"
    states = ["start", "choose_lines", "ask_service", "ask_action", "offer_human", "done"]
    slot_states = {"choose_lines": "products", "ask_service": "services", "ask_action": "action"}
    transitions = [
        *on_input(COLLECTING, "done", conditions="has_no_candidates", after="explain_no_products"),
        *on_input(COLLECTING, "offer_human", conditions="gave_up", after="offer_human"),
        *on_input(COLLECTING, "choose_lines", conditions="needs_product", after="ask_product"),
        *on_input(COLLECTING, "ask_service", conditions="needs_service", after="ask_service"),
        *on_input(COLLECTING, "ask_action", conditions="needs_action", after="ask_action"),
        *on_input(COLLECTING, "done", after="finish"),
        *ANSWER_TO_HUMAN_OFFER,
    ]

    # --- reading the message -------------------------------------------------------------------
    def extract(self, turn: Turn) -> set[str]:
        words = words_of(turn.text)
        vocab = vocabulary()
        found = find_labels(words, services_table())
        if not found and turn.state == "ask_service":
            codes = list(services_table())
            found = [(0, codes[n - 1]) for n in option_numbers(turn.text) if 1 <= n <= len(codes)]
        actions = find_labels(words, vocab["supplementary_actions"])
        kinds = {action for _, action in actions}
        requested = any(phrase_positions(words, w) for w in vocab["supplementary_request_words"])
        if len(kinds) == 1:
            turn.data["default_action"] = kinds.pop()
        elif not actions and requested:
            turn.data.setdefault("default_action", "enable")
        wanted: dict = turn.data.setdefault("services", {})
        filled = set()
        for position, code in found:
            wanted[code] = (_nearest_action(position, actions) or wanted.get(code)
                            or turn.data.get("default_action"))
            filled.add("services")
        if turn.data.get("default_action") and any(a is None for a in wanted.values()):
            for code, action in wanted.items():
                wanted[code] = action or turn.data["default_action"]
            filled.add("action")
        return filled

    # --- conditions ----------------------------------------------------------------------------
    def needs_service(self, event) -> bool:
        return not event.model.data.get("services")

    def needs_action(self, event) -> bool:
        return any(action is None for action in event.model.data["services"].values())

    # --- replies -------------------------------------------------------------------------------
    def ask_service(self, event) -> None:
        turn: Turn = event.model
        tariff = load_rules("tariffs.yaml")["supplementary"]
        turn.services.say("A_ask_service", hint=turn.scratch.get("hint", False),
                          options=[tariff[code]["name"] for code in services_table()])

    def ask_action(self, event) -> None:
        turn: Turn = event.model
        tariff = load_rules("tariffs.yaml")["supplementary"]
        names = [tariff[c]["name"] for c, action in turn.data["services"].items() if action is None]
        turn.services.say("A_ask_action", hint=turn.scratch.get("hint", False), names=names)

    def finish(self, event) -> None:
        turn: Turn = event.model
        tariff = load_rules("tariffs.yaml")["supplementary"]
        lines = [p.number for p in self.products(turn)]
        services = [{"code": code, "action": action, "name": tariff[code]["name"]}
                    for code, action in turn.data["services"].items()]
        costs = []
        for service in services:
            fee = amount(tariff[service["code"]][service["action"]])
            self.decide(turn, "supplementary_tariff", service=service["code"],
                        service_name=service["name"], action=service["action"], lines=lines,
                        amount=str(fee))
            if fee > 0:
                costs.extend({"code": "supplementary", "amount": fee, "charge": "recurrente",
                              "service": service["code"], "service_name": service["name"],
                              "action": service["action"], "line": line} for line in lines)
        codes = requirements.for_tramite(self.code)
        decide_requirements(self, turn, codes, "gestor_comercial")
        case, pending = self.open_case(
            turn, role="ejecutivo", role_when_complete="gestor_comercial",
            summary=texts.render("details_A", services=services, lines=lines),
            costs=costs, requirement_codes=codes,
            data={"lines": lines,
                  "services": [{"code": s["code"], "action": s["action"]} for s in services]},
        )
        self.summarise(turn, case, pending=pending, costs=costs, services=services, lines=lines)
        turn.go_to("main", "menu")


def _nearest_action(position: int, actions: list[tuple[int, str]]) -> str | None:
    """The action word that governs a service: the closest one before it, else the first after
    ("habilitar el caller id y quitar la llamada en espera")."""
    before = [action for at, action in actions if at < position]
    if before:
        return before[-1]
    after = [action for at, action in actions if at > position]
    return after[0] if after else None
