"""E) Registro de daño a producto (procedure section E).

Which product and what fails. Then the last damage orders of that product decide (E.2):
- an open order (asignada / registrada): no new one; the Gestor(a) Técnico coordinates the
  technician's visit for today (E.7-8);
- the last order closed without solution: a new order with the same cause, prioritised with the
  Centro de Operaciones by the Gestor(a) Técnico (E.9-11);
- otherwise a new order with the confirmed address and a reference phone (E.3). Internet goes to
  the Analista Técnico after a quick diagnosis (E.3.3, E.4.1); line and TV to the Gestor(a)
  Técnico (E.1.2). No cost.
Statuses and words live in rules/vocabulary_def.yaml (matched by bot.understanding.phrases).
"""
from __future__ import annotations

import re

from bot import cases as case_log
from bot import nlu, texts
from bot.acts import is_correction
from bot.addresses import normalise_phone
from bot.dialog import Turn
from bot.enums import OPEN_STATUSES
from bot.models import WorkOrder
from bot.nlu.rules import rules as nlu_rules
from bot.understanding.options import option_numbers
from bot.understanding.phones import phone_e164, shown_phone
from bot.understanding.phrases import confirm, find, first, vocabulary
from bot.understanding.slots import Slot
from dialogs.tramite import ALL_PRODUCT_TYPES, LooseConfirmMixin, TramiteDialog, message, on_input

COLLECTING = ["start", "choose_product", "ask_component", "ask_problem", "ask_diagnosis",
              "confirm_address", "ask_address", "ask_phone"]
CONTACT_STATES = ("confirm_address", "ask_address", "ask_phone")
DIAGNOSIS_KEYS = ("service", "lights", "devices", "wifi")
MAX_KEPT_TEXTS = 8
MIN_DESCRIPTION_WORDS = 3
MAX_DEVICES = 10000
PHONE_ONLY = re.compile(r"[\d\s+().-]{7,20}")


def _components(product) -> list[str]:
    return list(vocabulary()["components"].get(product.product_type, []))


def _device_count(text: str, *, asked: bool) -> int | None:
    """'12 equipos', 'unos diez dispositivos'; when asked, also a lone number ('unos 5')."""
    numbers = {str(k): int(v) for k, v in nlu_rules()["number_words"].items()
               if float(v).is_integer()}
    words = nlu.normalise(text).split()
    device_words = {"device": vocabulary()["diagnosis"]["device_words"]}
    for i, word in enumerate(words):
        value = int(word) if word.isdigit() else numbers.get(word)
        if value and value < MAX_DEVICES and find(" ".join(words[i + 1:i + 3]), device_words):
            return value
    if not asked:
        return None
    digits = [int(w) for w in words if w.isdigit()]
    if len(digits) == 1:
        return digits[0] if 0 < digits[0] < MAX_DEVICES else None
    spelled = [numbers[w] for w in words if w in numbers]
    if not digits and len(words) <= 3 and len(spelled) == 1:
        return spelled[0]
    return None


def _phone(raw: str) -> str | None:
    """A valid reference phone in E.164; a 7-digit local number gets the default area code."""
    return phone_e164(raw, area_code=vocabulary()["damage"]["default_area_code"])


class DamageDialog(LooseConfirmMixin, TramiteDialog):
    name = "tramite_E"
    code = "E"
    product_types = ALL_PRODUCT_TYPES
    initial = "start"
    states = [*COLLECTING, "offer_human", "done"]
    slots = (
        Slot("products", "products", "choose_product", "ask_product"),
        Slot("component", "choice", "ask_component", "E_ask_component"),
        Slot("problem", "text", "ask_problem", "E_ask_problem"),
        Slot("diagnosis", "choice", "ask_diagnosis", "E_ask_diagnosis"),
        # The address on record is confirmed, or another one asked for: two questions, one key.
        Slot("address", "address", "confirm_address", "E_confirm_address"),
        Slot("address", "address", "ask_address", "E_ask_address"),
        Slot("phone", "phone", "ask_phone", "E_ask_phone"),
    )
    transitions = [
        *on_input(COLLECTING, "offer_human", conditions="gave_up", after="offer_human"),
        *on_input(COLLECTING, "done", conditions="has_no_candidates", after="explain_no_products"),
        *on_input(COLLECTING, "choose_product", conditions="needs_product", after="ask_product"),
        *on_input(COLLECTING, "done", conditions="has_open_case", after="tell_open_case"),
        *on_input(COLLECTING, "done", conditions="has_open_order", after="follow_open_order"),
        *on_input(COLLECTING, "done", conditions="last_without_solution", after="register_again"),
        *on_input(COLLECTING, "ask_component", conditions="needs_component", after="ask_component"),
        *on_input(COLLECTING, "ask_problem", conditions="needs_problem", after="ask_problem"),
        *on_input(COLLECTING, "ask_diagnosis", conditions="needs_diagnosis", after="ask_diagnosis"),
        *on_input(COLLECTING, "ask_address", conditions="needs_address_text", after="ask_address"),
        *on_input(COLLECTING, "confirm_address", conditions="needs_address",
                  after="confirm_address"),
        *on_input(COLLECTING, "ask_phone", conditions="needs_phone", after="ask_phone"),
        *on_input(COLLECTING, "done", after="register_damage"),
        message("offer_human", "done", "hand_off", "said_yes"),
        message("offer_human", "done", "back_to_menu_with_text"),
    ]

    # --- reading the message -----------------------------------------------------------------
    def _texts(self, turn: Turn) -> str:
        return " . ".join([*turn.data.get("texts", []), turn.text])

    def candidates(self, turn: Turn):
        # "No tengo internet": only products with internet are offered, unless one is named.
        products = super().candidates(turn)
        found = find(self._texts(turn), vocabulary()["component_words"])
        entities = turn.nlu.entities
        if len(found) == 1 and not entities.get("contracts") and not entities.get("lines"):
            return [p for p in products if found[0] in _components(p)] or products
        return products

    def absorb_products(self, turn: Turn) -> set[str]:
        filled = self.read_phone(turn)
        return filled | super().absorb_products(turn)

    def read_phone(self, turn: Turn) -> set[str]:
        """The reference phone: when asked, any valid number or "este mismo"; before, only a
        number next to a phone word that is none of the client's products."""
        if turn.data.get("phone"):
            return set()
        asked = turn.state in ("confirm_address", "ask_phone")
        if not asked and not find(turn.text, {"phone": vocabulary()["phone_words"]}):
            return set()
        records, client = turn.services.records, turn.services.client
        entities = turn.nlu.entities
        phone = None
        # "perdón, es la 4412346" corrects the product, even when a phone was asked.
        asked_not_corrected = asked and not is_correction(turn.text)
        for value in entities.get("lines", []):
            if asked_not_corrected or records.product_by_contract_or_number(client.id, value) is None:
                phone = _phone(value)
                if phone:
                    # The phone is no product the client failed to name (this message's
                    # analysis only).
                    entities["lines"] = [v for v in entities["lines"] if v != value]
                    break
        if phone is None and asked:
            if find(turn.text, {"same": vocabulary()["same_number"]}):
                phone = normalise_phone(turn.services.conversation.address)
            elif turn.state == "ask_phone" and PHONE_ONLY.fullmatch(turn.text.strip()):
                phone = _phone(turn.text)
        if phone is None:
            return set()
        turn.data["phone"] = phone
        turn.scratch["phone_read"] = True
        return {"phone"}

    def extract(self, turn: Turn) -> set[str]:
        data = turn.data
        filled: set[str] = set()
        product = self.products(turn)[0] if data.get("products") else None
        if product is not None:
            filled |= self._read_component(turn, product)
        component = data.get("component")
        if component == "internet":
            filled |= self._read_diagnosis(turn)
        elif component and not data.get("problem"):
            problem = first(self._texts(turn), vocabulary()["problems"][component])
            described = len(nlu.normalise(turn.text).split()) >= MIN_DESCRIPTION_WORDS
            if problem is None and turn.state == "ask_problem" and described:
                problem = "otro"  # in the client's own words
            if problem:
                data["problem"] = problem
                filled.add("problem")
        if turn.state in ("confirm_address", "ask_address"):
            filled |= self._read_address(turn, product)
            if turn.state == "confirm_address" and turn.scratch.get("phone_read"):
                filled.add("address")  # the phone alone is progress: ask again without "Disculpe"
        said = nlu.normalise(turn.text) and not option_numbers(turn.text)
        if said and turn.state not in CONTACT_STATES:
            data["texts"] = [*data.get("texts", []), turn.text.strip()][-MAX_KEPT_TEXTS:]
            if turn.state != "ask_diagnosis":  # the problem in the client's words, for the order
                words = [*data.get("problem_words", []), turn.text.strip()]
                data["problem_words"] = words[-MAX_KEPT_TEXTS:]
        return filled

    def _read_component(self, turn: Turn, product) -> set[str]:
        data = turn.data
        if data.get("component"):
            return set()
        options = _components(product)
        chosen = options[:1] if len(options) == 1 else []
        if not chosen and turn.state == "ask_component":
            numbers = option_numbers(turn.text)  # "1 y 2": several services of a pack
            chosen = [vocabulary()["component_options"].get(n) for n in numbers]
            if not chosen or any(c not in options for c in chosen):
                chosen = []
        if not chosen:
            said = self._texts(turn)
            chosen = [c for c in find(said, vocabulary()["component_words"]) if c in options]
            if not chosen:  # "sin tono" says it is the line even without naming it
                chosen = [c for c in options if first(said, vocabulary()["problems"][c])]
        chosen = [c for c in options if c in chosen]  # the pack's order, once each
        if not chosen:
            return set()
        # Internet first: its quick diagnosis (E.3.3) is asked; the others share the order.
        data["component"] = "internet" if "internet" in chosen else chosen[0]
        if len(chosen) > 1:
            data["components"] = chosen
        return {"component"}

    def _read_diagnosis(self, turn: Turn) -> set[str]:
        data = turn.data
        diagnosis = data.setdefault("diagnosis", {})
        vocab = vocabulary()
        groups = {("service", k): v for k, v in vocab["problems"]["internet"].items()}
        groups |= {("lights", k): v for k, v in vocab["diagnosis"]["lights"].items()}
        groups |= {("wifi", k): v for k, v in vocab["diagnosis"]["wifi"].items()}
        before = dict(diagnosis)
        for key, value in find(self._texts(turn), groups):
            diagnosis.setdefault(key, value)
        if "devices" not in diagnosis:
            count = _device_count(turn.text, asked=turn.state == "ask_diagnosis")
            if count is not None:
                diagnosis["devices"] = count
        if diagnosis.get("service"):
            data["problem"] = diagnosis["service"]
        return {"diagnosis"} if diagnosis != before else set()

    def _read_address(self, turn: Turn, product) -> set[str]:
        data = turn.data
        if turn.state == "confirm_address":
            answer = confirm(turn.text)
            if answer is None:
                return set()
            data["address_confirmed"] = answer
            if answer:
                data["address"] = product.address
            return {"address"}
        text = turn.text.strip()
        if len(nlu.normalise(text).split()) < MIN_DESCRIPTION_WORDS:
            return set()
        data["address"] = text
        return {"address"}

    # --- conditions (needs_component, needs_phone: generated from the slots) ------------------
    def _orders(self, turn: Turn):
        return turn.services.records.work_orders(turn.data["products"][0])

    def _open_order(self, turn: Turn):
        statuses = vocabulary()["damage"]["open_statuses"]
        return next((o for o in self._orders(turn) if o.status in statuses), None)

    def _open_case(self, turn: Turn):
        """An open damage case of this product: a repeated report adds to it (no duplicate)."""
        contract = turn.data["products"][0]
        cases = case_log.client_cases(turn.services.session, client_id=turn.services.client.id,
                                      now=turn.services.now, tramite=self.code)
        return next((c for c in cases if c.status in OPEN_STATUSES
                     and (c.data or {}).get("contract") == contract), None)

    def has_open_case(self, event) -> bool:
        return self._open_case(event.model) is not None

    def has_open_order(self, event) -> bool:
        return self._open_order(event.model) is not None

    def last_without_solution(self, event) -> bool:
        orders = self._orders(event.model)
        closed = vocabulary()["damage"]["without_solution_statuses"]
        return bool(orders) and orders[0].status in closed

    def needs_problem(self, event) -> bool:
        data = event.model.data
        return data.get("component") != "internet" and not data.get("problem")

    def needs_diagnosis(self, event) -> bool:
        data = event.model.data
        answered = set(data.get("diagnosis", {}))
        return data.get("component") == "internet" and not set(DIAGNOSIS_KEYS) <= answered

    def needs_address_text(self, event) -> bool:
        data = event.model.data
        return data.get("address_confirmed") is False and not data.get("address")

    def needs_address(self, event) -> bool:
        return not event.model.data.get("address")

    # --- questions (ask_phone: generated from the slot) ----------------------------------------
    def ask_component(self, event) -> None:
        turn: Turn = event.model
        product = self.products(turn)[0]
        labels = vocabulary()["component_labels"]
        options = [(n, labels[c]) for n, c in vocabulary()["component_options"].items()
                   if c in _components(product)]
        turn.services.say("E_ask_component", hint=turn.scratch.get("hint", False), product=product,
                          options=options)

    def ask_problem(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("E_ask_problem", hint=turn.scratch.get("hint", False),
                          component=turn.data["component"])

    def ask_diagnosis(self, event) -> None:
        turn: Turn = event.model
        diagnosis = turn.data.get("diagnosis", {})
        turn.services.say("E_ask_diagnosis", hint=turn.scratch.get("hint", False),
                          missing=[k for k in DIAGNOSIS_KEYS if k not in diagnosis],
                          first=not diagnosis or event.event.name == "start")

    def confirm_address(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("E_confirm_address", hint=turn.scratch.get("hint", False),
                          product=self.products(turn)[0], ask_phone=not turn.data.get("phone"))

    def ask_address(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("E_ask_address", hint=turn.scratch.get("hint", False))

    # --- outcomes ------------------------------------------------------------------------------
    def _report(self, turn: Turn, kind: str, *, order=None, previous=None) -> dict:
        data, vocab = turn.data, vocabulary()
        diagnosis = data.get("diagnosis") or {}
        shown = {key: vocab["diagnosis_labels"][key][diagnosis[key]]
                 for key in ("lights", "wifi") if key in diagnosis}
        if "devices" in diagnosis:
            shown["devices"] = diagnosis["devices"]
        statuses = vocab["work_order_status_labels"]
        return {
            "kind": kind, "product": self.products(turn)[0],
            "component": vocab["component_labels"].get(data.get("component") or "", ""),
            "components": [vocab["component_labels"][c] for c in data.get("components", [])],
            "problem": vocab["problem_labels"].get(data.get("problem") or "", ""),
            "diagnosis": shown, "address": data.get("address"),
            "phone": shown_phone(data.get("phone")), "order": order, "previous": previous,
            "order_status": statuses.get(order.status, order.status) if order else None,
        }

    def _case_data(self, turn: Turn, **extra) -> dict:
        data = turn.data
        return {"contract": data["products"][0], "component": data.get("component"),
                "components": data.get("components") or [data.get("component")],
                "problem": data.get("problem"), "diagnosis": data.get("diagnosis") or {},
                "address": data.get("address"), "address_confirmed": data.get("address_confirmed"),
                "phone": data.get("phone"), "client_words": data.get("texts", []), **extra}

    def _open(self, turn: Turn, role: str, report: dict, **data):
        summary = texts.render("details_E", report=report)
        return self.open_case(turn, role=role, summary=summary, data=self._case_data(turn, **data))

    def _new_order(self, turn: Turn, case, *, cause: str) -> WorkOrder:
        """A new damage order (Smartflex), numbered after the case."""
        damage = vocabulary()["damage"]
        # Registered under the case reference: the client is given no number of the bot's own.
        order = WorkOrder(number=case.number, product_id=self.products(turn)[0].id,
                          kind=damage["kind"], status=damage["new_status"], opened_on=turn.today,
                          cause=cause[:300])
        turn.services.session.add(order)
        turn.services.session.flush()
        case.data = {**case.data, "work_order": order.number}
        case_log.add_event(turn.services.session, case=case, now=turn.services.now, actor="bot",
                           kind="work_order_registered",
                           detail={"number": order.number, "status": order.status, "cause": cause})
        return order

    def _finish(self, turn: Turn, case, pending, report: dict) -> None:
        case.summary = texts.render("details_E", report=report)  # now with the new order
        self.summarise(turn, case, pending=pending, costs=[], report=report)
        turn.go_to("main", "menu")

    def tell_open_case(self, event) -> None:
        turn: Turn = event.model
        case = self._open_case(turn)
        case_log.add_event(turn.services.session, case=case, now=turn.services.now, actor="client",
                           kind="damage_reported_again", detail={"words": turn.text[:300]})
        view = {"case": case, "tramite": self.tramite, "is_open": True, "pending": [],
                "role_name": turn.services.role_name(case.current_role)}
        turn.services.say("E_case_exists", view=view, product=self.products(turn)[0])
        turn.go_to("main", "menu")

    def follow_open_order(self, event) -> None:
        turn: Turn = event.model
        order = self._open_order(turn)
        self.decide(turn, "open_order_exists", work_order=order.number, status=order.status)
        report = self._report(turn, "open_order", order=order)
        case, pending = self._open(turn, "gestor_tecnico", report, work_order=order.number,
                                   action="coordinar_visita_hoy")
        self._finish(turn, case, pending, report)

    def register_again(self, event) -> None:
        turn: Turn = event.model
        previous = self._orders(turn)[0]
        self.decide(turn, "closed_without_solution", previous_order=previous.number,
                    cause=previous.cause)
        case, pending = self._open(turn, "gestor_tecnico",
                                   self._report(turn, "reopened", previous=previous),
                                   previous_order=previous.number, priority=True,
                                   prioritise_with="centro_operaciones")
        order = self._new_order(turn, case, cause=previous.cause)
        self._finish(turn, case, pending,
                     self._report(turn, "reopened", order=order, previous=previous))

    def register_damage(self, event) -> None:
        turn: Turn = event.model
        if len(turn.data.get("components", [])) > 1:
            # A line or TV fault needs the technician the Gestor(a) Técnico coordinates (E.1.2);
            # the internet diagnosis goes with the same order.
            role = "gestor_tecnico"
            line_or_tv = next(c for c in turn.data["components"] if c != "internet")
            self.decide(turn, "line_tv_to_gestor_tecnico", component=line_or_tv)
        elif turn.data["component"] == "internet":
            role = "analista_tecnico"
            self.decide(turn, "internet_to_analista", diagnosis=turn.data.get("diagnosis"))
        else:
            role = "gestor_tecnico"
            self.decide(turn, "line_tv_to_gestor_tecnico", component=turn.data["component"])
        if turn.data.get("address_confirmed") is False:
            self.decide(turn, "address_differs", address=turn.data.get("address"))
        case, pending = self._open(turn, role, self._report(turn, "new"))
        label = vocabulary()["problem_labels"].get(turn.data.get("problem") or "otro", "")
        words = " / ".join(turn.data.get("problem_words", []))
        order = self._new_order(turn, case, cause=f"{label}: {words}" if words else label)
        self._finish(turn, case, pending, self._report(turn, "new", order=order))
