"""What every trámite dialog shares: choosing the client's product, re-asking with a hint,
offering a person after repeated bad answers, and closing with one summary and one case.

A trámite dialog subclasses `TramiteDialog`, declares its table (states, transitions) and:
- `code`, `product_types` (and `product_statuses`, `multi_product`);
- `slots`: one `bot.understanding.slots.Slot` per collecting state (data key, kind, state,
  question template, shared parser); `slot_states` (state -> key, which drives re-asking) is
  derived from them, and `needs_<key>` / `ask_<key>` are generated where the table names them
  and the dialog writes none;
- `extract(turn)`: reads into `turn.data` what no shared parser reads, returns the keys it filled.
The table's conditions and callbacks name methods of the dialog; helpers here are plain methods
so the tables read as data.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import ClassVar

from bot import cases as case_log
from bot import nlu, requirements
from bot.acts import is_correction
from bot.dialog import CALLBACK_KEYS, Dialog, Turn
from bot.models import Document
from bot.portfolio.records import ProductInfo
from bot.rules import sla_hours, tramites
from bot.understanding import slots as slot_table
from bot.understanding.options import option_numbers
from bot.understanding.phrases import confirm
from bot.understanding.slots import Slot
from bot.understanding.words import (
    free_product_types,
    quantified_types,
    quantifier_answer,
    type_words,
    words_of,
)

MAX_RETRIES = 3  # the original question, two re-asks with a hint, then a person is offered
RETIRED = "retirado"  # portfolio status of a product that no longer exists (productos.csv `estado`)
# Scratch keys of products the client named that cannot be used: they are told why, and the
# only other product is not taken in their place.
UNUSABLE_KEYS = ("not_found", "wrong_type", "retired")
MAX_KEPT_MESSAGES = 8  # the client's messages of one request kept with its case ...
MAX_KEPT_CHARS = 2000  # ... up to this many characters
ALL_PRODUCT_TYPES = ("telefonia_fija", "internet", "tv_cable", "hspa", "duo_pack", "multipack",
                     "boliviatel")


# The client's answer to "¿Desea que le atienda un ejecutivo(a)?", the same in every trámite.
ANSWER_TO_HUMAN_OFFER = [
    {"trigger": "message", "source": "offer_human", "dest": "done", "conditions": "said_yes",
     "after": "hand_off"},
    {"trigger": "message", "source": "offer_human", "dest": "done", "after": "back_to_menu_with_text"},
]


def on_input(source, dest, **spec) -> list[dict]:
    """The same transition for the first message (event `start`, when the trámite is chosen) and
    for every later one (`message`): a request written in full needs no further question."""
    return [{"trigger": trigger, "source": source, "dest": dest, **spec} for trigger in ("start", "message")]


def message(source, dest: str, after: str, conditions=None) -> dict:
    """A transition for the answer to a question (event `message`)."""
    transition = {"trigger": "message", "source": source, "dest": dest, "after": after}
    if conditions:
        transition["conditions"] = conditions
    return transition


def _names_in_table(transitions: list[dict]) -> set[str]:
    """Every condition and callback a table names."""
    names: set[str] = set()
    for transition in transitions:
        for key in CALLBACK_KEYS:
            value = transition.get(key) or []
            names.update([value] if isinstance(value, str) else value)
    return names


class LooseConfirmMixin:
    """Confirmations read with `bot.understanding.phrases.confirm` ("sí, es correcta", "no estoy
    conforme"), looser than the base's yes/no; used by D, E and F."""

    def said_yes(self, event) -> bool:
        return confirm(event.model.text) is True

    def said_no(self, event) -> bool:
        return confirm(event.model.text) is False


class TramiteDialog(Dialog):
    code: ClassVar[str]
    product_types: ClassVar[tuple[str, ...]] = ()
    product_statuses: ClassVar[tuple[str, ...]] = ("activo",)
    multi_product: ClassVar[bool] = False
    slots: ClassVar[tuple[Slot, ...]] = ()
    slot_states: ClassVar[dict[str, str]] = {}  # derived from `slots`: state -> data key
    prepare_event = "absorb"

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "slot_states" in vars(cls):
            raise TypeError(f"{cls.__name__}: declare `slots`; `slot_states` is derived from them")
        cls.slot_states = {slot.state: slot.name for slot in cls.slots}
        named = _names_in_table(getattr(cls, "transitions", []))
        slot_table.add_methods(cls, cls.slots, named=named)

    # --- reading the message ---------------------------------------------------------------
    def absorb(self, event) -> None:
        turn: Turn = event.model
        if turn.scratch.get("document_ids"):
            # Files sent while the request is being collected belong to the case it will open.
            turn.data.setdefault("document_ids", []).extend(turn.scratch.pop("document_ids"))
            turn.scratch["documents_kept"] = True
        # The client's words of this request, kept with its case: a correction after the case
        # is open ("perdón, es la 4412346") re-reads them with the right product.
        words = turn.data.setdefault("words", [])
        if not words or words[-1] != turn.text:
            words.append(turn.text)
            del words[:-MAX_KEPT_MESSAGES]
        filled = set()
        if self.product_types:
            filled |= self.absorb_products(turn)
        filled |= slot_table.fill(self.slots, turn)
        filled |= self.extract(turn) or set()
        slot = self.slot_states.get(turn.state)
        if event.event.name == "message" and slot is not None:
            retries = turn.data.setdefault("retries", {})
            if slot in filled:
                retries.pop(turn.state, None)
            else:
                retries[turn.state] = retries.get(turn.state, 0) + 1
                turn.scratch["hint"] = True

    def extract(self, turn: Turn) -> set[str]:
        return set()

    # --- products ----------------------------------------------------------------------------
    def candidates(self, turn: Turn) -> list[ProductInfo]:
        products = turn.services.records.products(turn.services.client.id, types=self.product_types)
        return [p for p in products if p.status in self.product_statuses]

    def absorb_products(self, turn: Turn) -> set[str]:
        """The products the message names: by number, by option of the list shown, by type
        ("el internet"), or "todas"/"ambas"; a multi-product trámite takes all of them."""
        if turn.data.get("products"):
            if not (is_correction(turn.text) and self._names_a_product(turn)):
                return set()
            # "perdón, es la 4412346": the product named now replaces the one taken.
            earlier = turn.data.pop("products")
            filled = self.absorb_products(turn)
            if not filled:
                turn.data["products"] = earlier
            return filled
        candidates = self.candidates(turn)
        chosen = self._named_by_number(turn, {p.contract for p in candidates})
        listed = [c for c in turn.data.get("listed") or [] if c in {p.contract for p in candidates}]
        if listed:
            numbers = option_numbers(turn.text, also=type_words())
            chosen += [listed[n - 1] for n in numbers if 1 <= n <= len(listed)]
        if (len(candidates) > 1 and not turn.scratch.get("not_found")
                and (self.multi_product or not chosen)):
            by_type = self._named_by_type(turn, candidates, chosen, listed)
            if by_type is None:
                return set()  # a type the client has several of: asked, nothing half-taken
            if by_type:
                self.decide(turn, "product_by_type", contracts=by_type)
            chosen += by_type
        if not chosen and len(candidates) == 1 and not self.named_unusable(turn):
            chosen = [candidates[0].contract]
            self.decide(turn, "product_auto", contract=chosen[0])
        if chosen:
            chosen = list(dict.fromkeys(chosen))
            turn.data["products"] = chosen if self.multi_product else chosen[:1]
            turn.data.pop("listed", None)
            return {"products"}
        return set()

    def _named_by_number(self, turn: Turn, usable: set[str]) -> list[str]:
        """Contracts and line numbers of the message; the others are noted to tell the client why."""
        records = turn.services.records
        client = turn.services.client
        chosen = []
        entities = turn.nlu.entities
        for value in [*entities.get("contracts", []), *entities.get("lines", [])]:
            product = records.product_by_contract_or_number(client.id, value)
            if product is not None and product.contract in usable:
                chosen.append(product.contract)
            elif product is not None and product.status == RETIRED:
                # "no corresponde" would be wrong: the product exists, it is no longer active.
                turn.scratch.setdefault("retired", []).append(
                    {"value": value, "product_type": product.product_type})
            elif product is not None:
                turn.scratch.setdefault("wrong_type", []).append(value)
            else:
                turn.scratch.setdefault("not_found", []).append(value)
        return chosen

    def _named_by_type(self, turn: Turn, candidates: list[ProductInfo], chosen: list[str],
                       listed: list[str]) -> list[str] | None:
        """Products named by type ("el internet"), all of a type ("todas las líneas") or of the
        list shown ("todas", "ambas"). None -- ask again -- when a type names several products
        and none was picked otherwise ("el internet y la línea" with three lines), "las dos" is
        said of three, or a single-product trámite gets several."""
        words = words_of(turn.text)
        multi = self.multi_product
        quantified = quantified_types(words) if multi else {}
        answer = quantifier_answer(words) if multi and listed else None
        picked, ambiguous = [], []
        if answer == "all" or (answer == "both" and len(listed) == 2):
            picked += listed
        elif answer == "both":
            return None
        for product_type in free_product_types(words):
            of_type = [p.contract for p in candidates if p.product_type == product_type]
            if not of_type:
                # Not a product of this trámite: said when asking (unless another request of
                # the same message is for it: "el detalle de la línea y el plan del internet").
                if len(turn.nlu.requests) <= 1:
                    turn.scratch.setdefault("foreign_types", []).append(product_type)
                continue
            label = quantified.get(product_type)
            if len(of_type) == 1 or label == "all" or (label == "both" and len(of_type) == 2):
                picked += of_type
            elif label == "both" or not set(of_type) & set(chosen + picked):
                ambiguous.append(product_type)
        if ambiguous or (not multi and len(picked) > 1):
            turn.scratch["ambiguous_types"] = ambiguous
            return None
        return picked

    @staticmethod
    def _names_a_product(turn: Turn) -> bool:
        return bool(turn.nlu.entities.get("contracts") or turn.nlu.entities.get("lines"))

    @staticmethod
    def named_unusable(turn: Turn) -> bool:
        return any(turn.scratch.get(key) for key in UNUSABLE_KEYS)

    def products(self, turn: Turn) -> list[ProductInfo]:
        records = turn.services.records
        client_id = turn.services.client.id
        return [records.product_by_contract_or_number(client_id, c) for c in turn.data.get("products", [])]

    # --- conditions shared by the tables ------------------------------------------------------
    def has_no_candidates(self, event) -> bool:
        return bool(self.product_types) and not self.candidates(event.model)

    def needs_product(self, event) -> bool:
        return bool(self.product_types) and not event.model.data.get("products")

    def gave_up(self, event) -> bool:
        turn: Turn = event.model
        return turn.data.get("retries", {}).get(turn.state, 0) >= MAX_RETRIES

    def said_yes(self, event) -> bool:
        return nlu.yes_no(event.model.text) is True

    def said_no(self, event) -> bool:
        return nlu.yes_no(event.model.text) is False

    # --- replies shared by the tables ---------------------------------------------------------
    def ask_product(self, event) -> None:
        turn: Turn = event.model
        options = self.candidates(turn)
        turn.data["listed"] = [p.contract for p in options]
        turn.services.say(
            "ask_product", options=options, tramite=self.tramite, multi=self.multi_product,
            hint=turn.scratch.get("hint", False), not_found=turn.scratch.get("not_found", []),
            wrong_type=turn.scratch.get("wrong_type", []), retired=turn.scratch.get("retired", []),
            ambiguous_types=turn.scratch.get("ambiguous_types", []),
            foreign_types=turn.scratch.get("foreign_types", []),
        )

    def explain_no_products(self, event) -> None:
        turn: Turn = event.model
        self.decide(turn, "no_products")
        if turn.scratch.get("retired"):
            turn.services.say("ask_product_retired", tramite=self.tramite,
                              retired=turn.scratch["retired"], no_other_products=True)
        else:
            turn.services.say("no_products", tramite=self.tramite)
        self.back_to_menu(event)

    def offer_human(self, event) -> None:
        event.model.services.say("offer_human")

    def hand_off(self, event) -> None:
        turn: Turn = event.model
        turn.services.handoff(reason=f"tramite_{self.code}_sin_datos")
        turn.services.say("handoff")
        turn.go_to("main", "menu")

    def back_to_menu(self, event) -> None:
        event.model.go_to("main", "menu")

    def back_to_menu_with_text(self, event) -> None:
        event.model.services.say("menu_short")
        event.model.go_to("main", "menu")

    # --- decisions and the closing case ------------------------------------------------------
    @property
    def tramite(self):
        return tramites()[self.code]

    def decide(self, turn: Turn, rule: str, **detail) -> None:
        """Every decision the rules make goes to the case's event log: the rule code and the facts
        it used (numbers, dates, names). Staff read the reason rendered from the rule's macro in
        templates/backoffice/_decisions.html, so the wording can change without touching data.

        Kept in the dialog's persisted data, so a decision taken on an earlier message (the product
        picked on the first one) still reaches the case opened on a later one; a decision re-derived
        on a later message is logged once."""
        decision = {"rule": rule, **detail}
        decisions = turn.data.setdefault("decisions", [])
        if decision not in decisions:
            decisions.append(decision)

    def open_case(self, turn: Turn, *, role: str, summary: str, costs: list[dict] | None = None,
                  requirement_codes: list[str] | None = None, role_when_complete: str | None = None,
                  status: str | None = None, data: dict | None = None):
        """Open the case, attach documents received in this message, log the decisions."""
        services = turn.services
        checklist = requirements.checklist(requirement_codes or [])
        document_ids = turn.data.pop("document_ids", [])
        for document_id in document_ids:
            requirements.attach(checklist, document_id)
        pending = requirements.missing(checklist)
        if status is None:
            status = "pendiente_requisitos" if pending else "en_proceso"
        case_data = {**(data or {}), "role_when_complete": role_when_complete or role,
                     "request_words": "\n".join(turn.data.get("words", []))[-MAX_KEPT_CHARS:]}
        first_role = role if pending or role_when_complete is None else role_when_complete
        stored_costs = [{**c, "amount": str(c["amount"])} for c in costs or []]
        case = services.open_case(tramite=self.code, role=first_role, summary=summary, data=case_data,
                                  quoted_costs=stored_costs, requirements=checklist)
        case.status = status
        case.due_at = case.opened_at + timedelta(hours=sla_hours(self.code))
        for document_id in document_ids:
            services.session.get(Document, document_id).case_id = case.id
        decisions = [*turn.data.pop("decisions", []), *turn.scratch.pop("decisions", [])]
        for decision in [d for n, d in enumerate(decisions) if d not in decisions[:n]]:
            case_log.add_event(services.session, case=case, now=services.now, actor="bot",
                               kind="rule", detail=decision)
        if status in ("no_procede", "concluido"):
            case.closed_at = services.now
            case.resolved_at = services.now
        return case, pending

    def summarise(self, turn: Turn, case, *, pending: list[dict], costs: list[dict],
                  role: str | None = None, **details) -> None:
        turn.services.say(
            "tramite_summary", tramite=self.tramite, case=case, costs=costs, **details,
            total=sum((Decimal(str(c["amount"])) for c in costs), start=Decimal(0)), pending=pending,
            role_name=turn.services.role_name(role or case.current_role), sla_hours=sla_hours(self.code),
        )
