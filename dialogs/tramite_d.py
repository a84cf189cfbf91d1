"""D) Suspensión temporal de productos y reconexión (procedure section D).

Suspensión: the accounts must be up to date (D.1.1: with pending invoices the bot lists them
with the payment channels and the request does not proceed); one suspension per product and
calendar year (D.3); at most 4 months (D.4.2: a longer request is refused and the maximum is
offered). The signed letter is required; the Gestor(a) Comercial enters it (D.4).
Reconexión of a suspended product: the bot says how each service comes back (D.8.1), lists
pending invoices (D.8.2) and the Gestor(a) Comercial enters the new reconnection date (D.5).
Limits and words live in rules/suspension.yaml and rules/vocabulary_def.yaml, matched by
bot.understanding.phrases (shared with tramite_e and tramite_f); lone dates are read by
bot.understanding.dates.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from bot import requirements, texts
from bot.dialog import Turn
from bot.rules import load_rules
from bot.understanding.amounts import amount
from bot.understanding.dates import add_months, ahead, bare_date, years_written
from bot.understanding.options import option_numbers
from bot.understanding.phrases import confirm, find, vocabulary
from bot.understanding.slots import Slot
from dialogs.tramite import ALL_PRODUCT_TYPES, LooseConfirmMixin, TramiteDialog, message, on_input


# --- D-only helpers ----------------------------------------------------------------------------
@lru_cache
def suspension_rules() -> dict:
    return load_rules("suspension.yaml")


def invoice_rows(invoices) -> list[dict]:
    return [{"contract": i.contract, "period": i.period, "amount": str(i.amount),
             "due_on": i.due_on.isoformat()} for i in invoices]


def payment_view(turn: Turn) -> dict:
    """Pending invoices of the client with the payment channels of its type (procedure I.5.1)."""
    client = turn.services.client
    invoices = turn.services.records.pending_invoices(client.id)
    return {
        "invoices": invoices,
        "invoices_total": sum((i.amount for i in invoices), start=Decimal(0)),
        "channels": load_rules("payment_channels.yaml")[client.tipo],
        "today": turn.today,
    }


# --- the dialog ------------------------------------------------------------------------------
COLLECTING = ["start", "ask_action", "choose_product", "ask_start", "ask_end"]


class SuspensionDialog(LooseConfirmMixin, TramiteDialog):
    name = "tramite_D"
    code = "D"
    product_types = ALL_PRODUCT_TYPES
    initial = "start"
    states = [*COLLECTING, "confirm_max", "offer_human", "done"]
    slots = (
        Slot("action", "choice", "ask_action", "D_ask_action"),
        Slot("products", "products", "choose_product", "ask_product"),
        Slot("starts_on", "date", "ask_start", "D_ask_start"),
        Slot("ends_on", "date", "ask_end", "D_ask_end"),
        # The answer to the maximum offered is read by the table (said_yes / said_no), not kept.
        Slot("max_answer", "yes_no", "confirm_max", "D_offer_max"),
    )
    transitions = [
        *on_input(COLLECTING, "offer_human", conditions="gave_up", after="offer_human"),
        *on_input(COLLECTING, "ask_action", conditions="needs_action", after="ask_action"),
        *on_input(COLLECTING, "done", conditions=["is_suspension", "has_pending_invoices"],
                  after="refuse_pending_invoices"),
        *on_input(COLLECTING, "done", conditions="has_no_candidates", after="explain_no_products"),
        *on_input(COLLECTING, "choose_product", conditions="needs_product", after="ask_product"),
        *on_input(COLLECTING, "done", conditions="is_reconnection", after="reconnect"),
        *on_input(COLLECTING, "ask_start", conditions="needs_start", after="ask_start"),
        *on_input(COLLECTING, "done", conditions="suspended_this_year",
                  after="refuse_second_suspension"),
        *on_input(COLLECTING, "ask_end", conditions="needs_end", after="ask_end"),
        *on_input(COLLECTING, "confirm_max", conditions="too_long", after="offer_max"),
        *on_input(COLLECTING, "done", after="suspend"),
        message("confirm_max", "offer_human", "offer_human", "gave_up"),
        message("confirm_max", "done", "suspend", "period_now_fits"),  # "mejor por 3 meses"
        message("confirm_max", "done", "accept_max", "said_yes"),
        message("confirm_max", "done", "decline_max", "said_no"),
        message("confirm_max", "confirm_max", "offer_max"),
        message("offer_human", "done", "hand_off", "said_yes"),
        message("offer_human", "done", "back_to_menu_with_text"),
    ]

    # --- reading the message -----------------------------------------------------------------
    def candidates(self, turn: Turn):
        statuses = {"suspension": ("activo",), "reconexion": ("suspendido",)}.get(
            turn.data.get("action"), ("activo", "suspendido"))
        client_id = turn.services.client.id
        products = turn.services.records.products(client_id, types=self.product_types)
        return [p for p in products if p.status in statuses]

    def absorb_products(self, turn: Turn) -> set[str]:
        # Which products fit depends on the request: active ones are suspended, suspended ones
        # reconnected. The product is chosen once that is known.
        filled = self.read_action(turn)
        if not turn.data.get("action"):
            return filled
        return filled | super().absorb_products(turn)

    def read_action(self, turn: Turn) -> set[str]:
        if turn.data.get("action"):
            return set()
        action = None
        if turn.state == "ask_action":
            numbers = option_numbers(turn.text)
            if len(numbers) == 1:
                action = vocabulary()["action_options"].get(numbers[0])
        if action is None:
            found = find(turn.text, vocabulary()["actions"])
            action = found[0] if len(found) == 1 else None
        if action is None:
            return set()
        turn.data["action"] = action
        return {"action"}

    def extract(self, turn: Turn) -> set[str]:
        data, today = turn.data, turn.today
        filled: set[str] = set()
        if turn.state == "confirm_max" and confirm(turn.text) is not None:
            filled.add("max_answer")
        entities = turn.nlu.entities
        span = entities.get("date_range") or {}
        start = date.fromisoformat(span["start"]) if span.get("start") else None
        end = date.fromisoformat(span["end"]) if span.get("end") else None
        start_written, end_written = [*years_written(turn.text), False, False][:2]
        # A reconnection date needs no "desde": "adelantar la reconexión para el 15 de diciembre".
        wants_date = turn.state == "ask_start" or data.get("action") == "reconexion"
        if start is None and end is None and wants_date:
            start, start_written = bare_date(turn.text, today)
        if start is not None and not start_written and ahead(start, today) != start:
            start = ahead(start, today)
            if end is not None and not end_written:
                end = add_months(end, 12)  # "del 5 de enero al 28 de febrero", said in November
        asked_end = turn.state in ("ask_end", "confirm_max") and data.get("starts_on")
        if start is None and end is None and asked_end:
            end, year_written = bare_date(turn.text, today)
            if end and end <= date.fromisoformat(data["starts_on"]) and not year_written:
                end = add_months(end, 12)  # "hasta el 28 de febrero", said in November
        if entities.get("duration_months"):
            data["months"] = entities["duration_months"]
            if start is None and data.get("starts_on"):
                data.pop("ends_on", None)  # "por 3 meses" replaces the end given before
        if start is not None:
            if start < today:
                turn.scratch["past_start"] = start.isoformat()
                return filled
            data["starts_on"] = start.isoformat()
            data.pop("ends_on", None)
            filled.add("starts_on")
        if end is not None and data.get("starts_on"):
            if end <= date.fromisoformat(data["starts_on"]):
                turn.scratch["bad_end"] = end.isoformat()
            else:
                data["ends_on"] = end.isoformat()
                filled.add("ends_on")
        if data.get("starts_on") and not data.get("ends_on") and data.get("months"):
            begin = date.fromisoformat(data["starts_on"])
            ends_on = add_months(begin, int(data["months"])) - timedelta(days=1)
            data["ends_on"] = ends_on.isoformat()
            filled.add("ends_on")
        if "ends_on" in filled:
            turn.scratch["period_changed"] = True
        return filled

    # --- conditions (needs_action: generated from the slot) -----------------------------------
    def is_suspension(self, event) -> bool:
        return event.model.data.get("action") == "suspension"

    def is_reconnection(self, event) -> bool:
        return event.model.data.get("action") == "reconexion"

    def has_pending_invoices(self, event) -> bool:
        turn: Turn = event.model
        if not suspension_rules()["require_accounts_up_to_date"]:
            return False
        return bool(turn.services.records.pending_invoices(turn.services.client.id))

    def needs_start(self, event) -> bool:
        return not event.model.data.get("starts_on")

    def needs_end(self, event) -> bool:
        return not event.model.data.get("ends_on")

    def suspended_this_year(self, event) -> bool:
        return bool(self._same_year_suspensions(event.model))

    def too_long(self, event) -> bool:
        turn: Turn = event.model
        return date.fromisoformat(turn.data["ends_on"]) > self._max_end(turn)

    def period_now_fits(self, event) -> bool:
        return bool(event.model.scratch.get("period_changed")) and not self.too_long(event)

    def _same_year_suspensions(self, turn: Turn) -> list:
        if not suspension_rules()["once_per_calendar_year"]:
            return []
        year = date.fromisoformat(turn.data["starts_on"]).year
        history = turn.services.records.suspensions(turn.data["products"][0])
        return [s for s in history if s.starts_on.year == year]

    def _max_end(self, turn: Turn) -> date:
        start = date.fromisoformat(turn.data["starts_on"])
        return add_months(start, int(suspension_rules()["max_months"])) - timedelta(days=1)

    # --- questions (ask_action: generated from the slot) --------------------------------------
    def ask_start(self, event) -> None:
        turn: Turn = event.model
        past = turn.scratch.get("past_start")
        turn.services.say(
            "D_ask_start", hint=turn.scratch.get("hint", False), past_start=past, today=turn.today,
            past_start_next_year=add_months(date.fromisoformat(past), 12) if past else None,
            max_months=suspension_rules()["max_months"])

    def ask_end(self, event) -> None:
        turn: Turn = event.model
        turn.services.say(
            "D_ask_end", hint=turn.scratch.get("hint", False), starts_on=turn.data["starts_on"],
            bad_end=turn.scratch.get("bad_end"), max_months=suspension_rules()["max_months"])

    def offer_max(self, event) -> None:
        turn: Turn = event.model
        turn.services.say(
            "D_offer_max", hint=turn.scratch.get("hint", False), starts_on=turn.data["starts_on"],
            ends_on=turn.data["ends_on"], max_end=self._max_end(turn).isoformat(),
            max_months=suspension_rules()["max_months"])

    def explain_no_products(self, event) -> None:
        turn: Turn = event.model
        self.decide(turn, "no_products", action=turn.data.get("action"))
        turn.services.say("D_no_products", action=turn.data.get("action"))
        self.back_to_menu(event)

    # --- outcomes ------------------------------------------------------------------------------
    def _request(self, turn: Turn, **extra) -> dict:
        products = self.products(turn) if turn.data.get("products") else []
        return {"action": turn.data.get("action"), "product": products[0] if products else None,
                "starts_on": turn.data.get("starts_on"), "ends_on": turn.data.get("ends_on"),
                **extra}

    def _case_data(self, turn: Turn, **extra) -> dict:
        data = turn.data
        return {"action": data.get("action"), "contract": (data.get("products") or [None])[0],
                "starts_on": data.get("starts_on"), "ends_on": data.get("ends_on"), **extra}

    def _refuse(self, turn: Turn, template: str, request: dict, **context) -> None:
        """A rule refused the request: the case is recorded as no_procede with the ejecutivo."""
        case, _ = self.open_case(turn, role="ejecutivo", status="no_procede",
                                 summary=texts.render("details_D", request=request),
                                 data=self._case_data(turn, outcome=template))
        turn.services.say(template, case=case, request=request, **context)
        turn.go_to("main", "menu")

    def refuse_pending_invoices(self, event) -> None:
        turn: Turn = event.model
        view = payment_view(turn)
        self.decide(turn, "accounts_not_up_to_date", invoices=invoice_rows(view["invoices"]),
                    invoices_total=str(view["invoices_total"]),
                    client_type=turn.services.client.tipo)
        self._refuse(turn, "D_refused_invoices", self._request(turn), **view)

    def refuse_second_suspension(self, event) -> None:
        turn: Turn = event.model
        previous = self._same_year_suspensions(turn)
        year = date.fromisoformat(turn.data["starts_on"]).year
        self.decide(turn, "once_per_year", contract=turn.data["products"][0], year=year,
                    previous=[{"starts_on": s.starts_on.isoformat(),
                               "ends_on": s.ends_on.isoformat()} for s in previous])
        self._refuse(turn, "D_refused_second", self._request(turn), previous=previous[0],
                     year=year, next_start=date(year + 1, 1, 1))

    def _decide_max(self, turn: Turn, accepted: bool) -> None:
        self.decide(turn, "max_months", max_months=suspension_rules()["max_months"],
                    requested_end=turn.data["ends_on"], max_end=self._max_end(turn).isoformat(),
                    accepted=accepted)

    def decline_max(self, event) -> None:
        turn: Turn = event.model
        self._decide_max(turn, accepted=False)
        self._refuse(turn, "D_max_declined", self._request(turn),
                     max_months=suspension_rules()["max_months"])

    def accept_max(self, event) -> None:
        turn: Turn = event.model
        self._decide_max(turn, accepted=True)
        turn.data["ends_on"] = self._max_end(turn).isoformat()
        self.suspend(event)

    def suspend(self, event) -> None:
        turn: Turn = event.model
        product = self.products(turn)[0]
        tariff = load_rules("tariffs.yaml")["suspension"]["temporary_suspension"]
        fee = amount(tariff)
        costs = ([{"code": "temporary_suspension", "amount": fee, "charge": "recurrente",
                   "contract": product.contract}] if fee > 0 else [])
        self.decide(turn, "accounts_up_to_date")
        self.decide(turn, "first_suspension_of_year", contract=product.contract,
                    year=int(turn.data["starts_on"][:4]))
        self.decide(turn, "within_max_months", max_months=suspension_rules()["max_months"],
                    starts_on=turn.data["starts_on"], ends_on=turn.data["ends_on"])
        request = self._request(turn)
        case, pending = self.open_case(
            turn, role="ejecutivo", role_when_complete="gestor_comercial",
            summary=texts.render("details_D", request=request), costs=costs,
            requirement_codes=requirements.for_tramite(self.code), data=self._case_data(turn),
        )
        self.summarise(turn, case, pending=pending, costs=costs, request=request)
        turn.go_to("main", "menu")

    def reconnect(self, event) -> None:
        turn: Turn = event.model
        product = self.products(turn)[0]
        settings = suspension_rules()["reconnection"]
        hours = settings["hours"].get(product.technology, {})
        services = [{"component": c, "label": vocabulary()["component_labels"][c],
                     "hours": int(hours.get(c, settings["default_hours"]))}
                    for c in vocabulary()["components"][product.product_type]]
        today = turn.today.isoformat()
        requested = turn.data.get("starts_on")
        reconnect_on = requested if requested and requested >= today else today
        running = [s for s in turn.services.records.suspensions(product.contract)
                   if s.ends_on >= turn.today]
        view = payment_view(turn)
        self.decide(turn, "reconnection", contract=product.contract,
                    technology=product.technology, reconnect_on=reconnect_on,
                    services={s["component"]: s["hours"] for s in services})
        if view["invoices"]:
            self.decide(turn, "pending_invoices_to_collect",
                        invoices=invoice_rows(view["invoices"]),
                        invoices_total=str(view["invoices_total"]))
        request = self._request(
            turn, services=services, reconnect_on=reconnect_on,
            suspended_until=running[0].ends_on.isoformat() if running else None, **view)
        case, pending = self.open_case(
            turn, role="ejecutivo", role_when_complete="gestor_comercial",
            summary=texts.render("details_D", request=request),
            requirement_codes=list(settings.get("requirements") or []),
            data=self._case_data(turn, reconnect_on=reconnect_on,
                                 pending_invoices=invoice_rows(view["invoices"])),
        )
        self.summarise(turn, case, pending=pending, costs=[], request=request)
        turn.go_to("main", "menu")
