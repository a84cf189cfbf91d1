"""A) Servicios suplementarios (procedure section A).

The client asks to enable or disable a supplementary service (Caller ID, PIN / categoría A0,
categoría 013, transferencia de llamadas, llamada en espera, Centrex, conferencia tripartita) on
one or more of its fixed lines. Each service and action has a fee per line (tariffs.yaml
`supplementary`), charged on the monthly invoice ("a la recurrente", A.5.1). The signed letter
(requirements.yaml) is checked first (A.3): while it is missing the case waits with the
ejecutivo(a); once complete the Gestor(a) Comercial digitises the service in Smartflex (A.5).
Example: enable Caller ID on line 4412345 -> Bs 15,00 on the monthly invoice, letter missing.

The module also holds the small helpers the A, B, C and J dialogs share (a length-preserving
fold, the requirement decision, products named by their type); their word matcher is
bot.understanding.words.
"""
from __future__ import annotations

import unicodedata
from datetime import UTC, timedelta

from bot import cases as case_log
from bot import requirements, texts
from bot.acts import is_correction
from bot.dialog import Turn
from bot.enums import CaseStatus
from bot.rules import load_rules
from bot.understanding.amounts import amount
from bot.understanding.options import option_numbers
from bot.understanding.slots import Slot
from bot.understanding.words import (
    find_labels,
    free_product_types,
    phrase_positions,
    vocabulary,
    words_of,
)
from dialogs.tramite import ANSWER_TO_HUMAN_OFFER, TramiteDialog, on_input


# --- helpers shared by the A, B, C and J dialogs ------------------------------------------------
def fold_same_length(text: str) -> str:
    """Lower case without accents, one character for one: indices still point into `text`."""
    out = []
    for char in text:
        decomposed = unicodedata.normalize("NFKD", char)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        out.append((base or char).lower()[:1] or char)
    return "".join(out)


def products_named_by_type(dialog: TramiteDialog, turn: Turn) -> list[str]:
    """Contracts the message names by product type ("el plan de internet"): for each type
    mentioned, the client's only candidate product of that type."""
    types = free_product_types(words_of(turn.text))
    candidates = dialog.candidates(turn)
    chosen = []
    for product_type in types:
        of_type = [p.contract for p in candidates if p.product_type == product_type]
        if len(of_type) == 1:
            chosen.extend(of_type)
    return chosen


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
    slots = (
        Slot("products", "products", "choose_lines", "ask_product"),
        Slot("services", "services", "ask_service", "A_ask_service"),
        Slot("action", "choice", "ask_action", "A_ask_action"),
    )
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
    def absorb(self, event) -> None:
        super().absorb(event)
        turn: Turn = event.model
        if turn.scratch.pop("service_corrected", False) and turn.state != "ask_service":
            # The service corrected while the line was asked is an answer, not a bad one.
            retries = turn.data.get("retries", {})
            if retries.get(turn.state):
                retries[turn.state] -= 1
            turn.scratch.pop("hint", None)

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
        # "no quiero transferencia, quiero llamada en espera": only the second one is asked for.
        negated = _negated(words, found, vocab["supplementary_request_words"])
        found = [(position, code) for position, code in found if code not in negated]
        if negated and turn.state == "start":
            filled |= self._correct_last_case(turn, negated)
        if wanted and found and (negated or is_correction(turn.text)):
            # A correction of the service named before replaces it, never adds to it.
            for code in [c for c in wanted if c not in {c for _, c in found}]:
                del wanted[code]
            turn.scratch["service_corrected"] = True
        for code in negated:
            wanted.pop(code, None)
        for position, code in found:
            wanted[code] = (_nearest_action(position, actions) or wanted.get(code)
                            or turn.data.get("default_action"))
            filled.add("services")
        if turn.data.get("default_action") and any(a is None for a in wanted.values()):
            for code, action in wanted.items():
                wanted[code] = action or turn.data["default_action"]
            filled.add("action")
        return filled

    def _correct_last_case(self, turn: Turn, negated: set[str]) -> set[str]:
        """"no quiero transferencia, quiero llamada en espera" right after a case asked for the
        transferencia: that case is withdrawn and the request taken again on the same lines,
        without the service refused (never two cases charging both)."""
        services = turn.services
        case = case_log.latest_case(services.session, conversation_id=services.conversation.id)
        if case is None or case.tramite != self.code or case.status not in CORRECTABLE_STATUSES:
            return set()
        opened = case.opened_at if case.opened_at.tzinfo else case.opened_at.replace(tzinfo=UTC)
        asked = {s["code"]: s["action"] for s in case.data.get("services") or []}
        if services.now - opened > CORRECTION_WINDOW or not negated & set(asked):
            return set()
        case_log.withdraw(services.session, case=case, now=services.now, words=turn.text,
                          notify=False)
        services.say("case_corrected", case=case)
        filled = set()
        wanted = turn.data.setdefault("services", {})
        for code, action in asked.items():
            if code not in negated:
                wanted.setdefault(code, action)
        if not turn.data.get("products"):
            records = services.records
            products = [records.product_by_contract_or_number(services.client.id, line)
                        for line in case.data.get("lines") or []]
            usable = {p.contract for p in self.candidates(turn)}
            contracts = [p.contract for p in products if p is not None and p.contract in usable]
            if contracts:
                turn.data["products"] = contracts
                turn.data.pop("listed", None)
                filled.add("products")
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


CORRECTABLE_STATUSES = (CaseStatus.ABIERTO, CaseStatus.PENDIENTE_REQUISITOS)  # as dialogs/main.py
CORRECTION_WINDOW = timedelta(hours=2)  # as dialogs/main.py
NEGATION = "no"  # "no quiero X" / "no X, sino Y"; "ya no" is an action word (disable)
NOT_NEGATION_BEFORE = "ya"
ARTICLES = ("el", "la", "los", "las", "un", "una", "servicio", "de")  # "no quiero el servicio de X"


def _negated(words: list[str], found: list[tuple[int, str]], request_words: list[str]) -> set[str]:
    """Services the client refuses: "no" right before the service or before a request word
    ("no quiero la transferencia"), after the previous service named. "ya no la transferencia"
    is a request to disable it, not a refusal."""
    request_at = {at for phrase in request_words for at in phrase_positions(words, phrase)}
    negated, start = set(), 0
    for position, code in found:
        for at in range(start, position):
            if words[at] != NEGATION or (at > 0 and words[at - 1] == NOT_NEGATION_BEFORE):
                continue
            between = range(at + 1, position)
            if all(i in request_at or words[i] in ARTICLES for i in between):
                negated.add(code)
        start = position + 1
    return negated


def _nearest_action(position: int, actions: list[tuple[int, str]]) -> str | None:
    """The action word that governs a service: the closest one before it, else the first after
    ("habilitar el caller id y quitar la llamada en espera")."""
    before = [action for at, action in actions if at < position]
    if before:
        return before[-1]
    after = [action for at, action in actions if at > position]
    return after[0] if after else None
