"""F) Registro de reclamos de facturación (procedure section F).

The bot asks the month of the invoice and the product (F.1.1) and checks the account (F.2): a
month with no invoice of the product opens nothing; the client is told which invoices there are
and asked again (a product with no invoice at all goes back to the menu). Then it looks for a
claim of that product and month (F.3):
- an assigned claim: urgent follow-up with UTAR recorded; the client will be called (F.6);
- an attended claim: its resolution is given and the client asked whether they agree (F.4);
  no -> the disagreement goes to UTAR through the ejecutivo, with the client's words (F.5);
- none: the reason is asked, the claim registered and derived to UTAR (FIN-FAC-P03); the
  ejecutivo calls back with the resolution (F.7).
No cost, no documents. Words and the claim parameters live in rules/vocabulary_def.yaml.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import cases as case_log
from bot import nlu, texts
from bot.dialog import Turn
from bot.models import BillingClaim, Invoice, Product
from bot.portfolio.records import InvoiceInfo
from bot.understanding.options import option_numbers
from bot.understanding.phrases import confirm, first, vocabulary
from bot.understanding.slots import Slot
from dialogs.tramite import ALL_PRODUCT_TYPES, LooseConfirmMixin, TramiteDialog, message, on_input

COLLECTING = ["start", "choose_product", "ask_period", "ask_reason"]
MAX_KEPT_TEXTS = 8


def invoices_of(session: Session, contract: str, *, period: str | None = None,
                limit: int | None = None) -> list[InvoiceInfo]:
    """Invoices of a contract on record, paid or not, the latest period first (F.2).

    SystemOfRecord only answers pending invoices of a client; this is the account statement
    of one product, read from the same tables the portfolio import fills."""
    query = (
        select(Product.contract, Invoice.period, Invoice.amount, Invoice.status, Invoice.due_on)
        .join(Product, Product.id == Invoice.product_id)
        .where(Product.contract == contract)
        .order_by(Invoice.period.desc())
    )
    if period is not None:
        query = query.where(Invoice.period == period)
    if limit is not None:
        query = query.limit(limit)
    return [InvoiceInfo(*row) for row in session.execute(query)]


class BillingClaimDialog(LooseConfirmMixin, TramiteDialog):
    name = "tramite_F"
    code = "F"
    product_types = ALL_PRODUCT_TYPES
    product_statuses = ("activo", "suspendido")  # a suspended product still had invoices
    initial = "start"
    states = [*COLLECTING, "confirm_resolution", "ask_disagreement", "offer_human", "done"]
    slots = (
        Slot("products", "products", "choose_product", "ask_product"),
        Slot("period", "month", "ask_period", "F_ask_period"),
        Slot("reason", "choice", "ask_reason", "F_ask_reason"),
        # Read by the table (said_yes / said_no, explains_disagreement), not kept as data.
        Slot("agreement", "yes_no", "confirm_resolution", "F_resolution"),
        Slot("disagreement", "text", "ask_disagreement", "F_ask_disagreement"),
    )
    transitions = [
        *on_input(COLLECTING, "offer_human", conditions="gave_up", after="offer_human"),
        *on_input(COLLECTING, "done", conditions="has_no_candidates", after="explain_no_products"),
        *on_input(COLLECTING, "choose_product", conditions="needs_product", after="ask_product"),
        *on_input(COLLECTING, "ask_period", conditions="needs_period", after="ask_period"),
        *on_input(COLLECTING, "done", conditions="has_no_invoices", after="explain_no_invoices"),
        *on_input(COLLECTING, "ask_period", conditions="has_no_invoice_of_period",
                  after="explain_missing_invoice"),
        *on_input(COLLECTING, "done", conditions="has_assigned_claim", after="follow_up_claim"),
        *on_input(COLLECTING, "confirm_resolution", conditions="has_attended_claim",
                  after="give_resolution"),
        *on_input(COLLECTING, "ask_reason", conditions="needs_reason", after="ask_reason"),
        *on_input(COLLECTING, "done", after="register_claim"),
        message("confirm_resolution", "offer_human", "offer_human", "gave_up"),
        message("confirm_resolution", "done", "close_agreed", "said_yes"),
        message("confirm_resolution", "done", "escalate_disagreement",
                ["said_no", "explains_disagreement"]),
        message("confirm_resolution", "ask_disagreement", "ask_disagreement", "said_no"),
        message("confirm_resolution", "confirm_resolution", "give_resolution"),
        message("ask_disagreement", "offer_human", "offer_human", "gave_up"),
        message("ask_disagreement", "done", "escalate_disagreement", "explains_disagreement"),
        message("ask_disagreement", "ask_disagreement", "ask_disagreement"),
        message("offer_human", "done", "hand_off", "said_yes"),
        message("offer_human", "done", "back_to_menu_with_text"),
    ]

    # --- reading the message -----------------------------------------------------------------
    def extract(self, turn: Turn) -> set[str]:
        data = turn.data
        filled: set[str] = set()
        months = turn.nlu.entities.get("months") or []
        if months and not data.get("period"):
            current = turn.today.strftime("%Y-%m")
            if any(m > current for m in months):
                turn.scratch["future"] = [m for m in months if m > current]
            elif len(months) > 1:
                turn.scratch["several"] = months
            else:
                data["period"] = months[0]
                filled.add("period")
        if not data.get("reason"):
            said = " . ".join([*data.get("texts", []), turn.text])
            reason = first(said, vocabulary()["claim_reasons"])
            described = self._words(turn) >= vocabulary()["min_reason_words"]
            if reason is None and turn.state == "ask_reason" and described:
                reason = "otro"  # in the client's own words
            if reason:
                data["reason"] = reason
                filled.add("reason")
        if turn.state == "confirm_resolution" and confirm(turn.text) is not None:
            filled.add("agreement")
        if turn.state == "ask_disagreement" and self._words(turn) >= 1:
            filled.add("disagreement")
        said = self._words(turn) and not option_numbers(turn.text)
        if said and turn.state != "confirm_resolution":
            data["texts"] = [*data.get("texts", []), turn.text.strip()][-MAX_KEPT_TEXTS:]
        return filled

    @staticmethod
    def _words(turn: Turn) -> int:
        return len(nlu.normalise(turn.text).split())

    # --- conditions (needs_period, needs_reason: generated from the slots) ---------------------
    def _recent_invoices(self, turn: Turn) -> list[InvoiceInfo]:
        latest = invoices_of(turn.services.session, turn.data["products"][0],
                             limit=int(vocabulary()["claims"]["recent_invoices"]))
        return latest[::-1]

    def has_no_invoices(self, event) -> bool:
        turn: Turn = event.model
        return not invoices_of(turn.services.session, turn.data["products"][0], limit=1)

    def has_no_invoice_of_period(self, event) -> bool:
        turn: Turn = event.model
        return not invoices_of(turn.services.session, turn.data["products"][0],
                               period=turn.data["period"])

    def _claim(self, turn: Turn, status_key: str):
        status = vocabulary()["claims"][status_key]
        claims = turn.services.records.claims(turn.data["products"][0], turn.data["period"])
        return next((c for c in claims if c.status == status), None)

    def has_assigned_claim(self, event) -> bool:
        # An open claim is followed up first, even if an older one of the month was attended.
        return self._claim(event.model, "assigned_status") is not None

    def has_attended_claim(self, event) -> bool:
        return self._claim(event.model, "attended_status") is not None

    def explains_disagreement(self, event) -> bool:
        """More than a bare "no": the client's own words for UTAR."""
        turn: Turn = event.model
        if turn.state == "ask_disagreement":
            return self._words(turn) >= 1
        return self._words(turn) >= vocabulary()["min_reason_words"]

    # --- questions (ask_disagreement: generated from the slot) --------------------------------
    def ask_period(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("F_ask_period", hint=turn.scratch.get("hint", False),
                          future=turn.scratch.get("future", []),
                          several=turn.scratch.get("several", []), missing=None)

    def explain_missing_invoice(self, event) -> None:
        """F.2: no invoice of that month on record: no claim; the month is asked again."""
        turn: Turn = event.model
        missing = turn.data.pop("period")
        turn.services.say("F_ask_period", hint=False, future=[], several=[], missing=missing,
                          product=self.products(turn)[0], invoices=self._recent_invoices(turn))

    def explain_no_invoices(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("F_no_invoices", product=self.products(turn)[0],
                          period=turn.data["period"])
        self.back_to_menu(event)

    def ask_reason(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("F_ask_reason", hint=turn.scratch.get("hint", False),
                          period=turn.data["period"])

    def give_resolution(self, event) -> None:
        turn: Turn = event.model
        claim = self._claim(turn, "attended_status")
        turn.data["claim"] = claim.number
        turn.services.say("F_resolution", hint=turn.scratch.get("hint", False), claim=claim,
                          product=self.products(turn)[0])

    # --- outcomes ------------------------------------------------------------------------------
    def _claim_view(self, turn: Turn, kind: str, **extra) -> dict:
        data = turn.data
        return {"kind": kind, "product": self.products(turn)[0], "period": data["period"],
                "reason": vocabulary()["claim_reason_labels"].get(data.get("reason") or "", ""),
                "unit": vocabulary()["claims"]["unit"], "number": None, "resolution": None, **extra}

    def _case_data(self, turn: Turn, **extra) -> dict:
        data = turn.data
        return {"contract": data["products"][0], "period": data["period"],
                "reason": data.get("reason"), "client_words": data.get("texts", []), **extra}

    def _open(self, turn: Turn, view: dict, status: str | None = None, **data):
        """Every claim outcome is the ejecutivo's case (assigned to the client's ejecutivo)."""
        return self.open_case(turn, role="ejecutivo", status=status,
                              summary=texts.render("details_F", claim=view),
                              data=self._case_data(turn, **data))

    def _finish(self, turn: Turn, case, pending, claim: dict) -> None:
        case.summary = texts.render("details_F", claim=claim)
        self.summarise(turn, case, pending=pending, costs=[], claim=claim)
        turn.go_to("main", "menu")

    def follow_up_claim(self, event) -> None:
        turn: Turn = event.model
        claim = self._claim(turn, "assigned_status")
        unit = vocabulary()["claims"]["unit"]
        self.decide(turn, "urgent_follow_up", claim=claim.number, period=claim.period, unit=unit)
        view = self._claim_view(turn, "follow_up", number=claim.number)
        case, pending = self._open(turn, view, claim=claim.number, action="seguimiento_urgente")
        self._finish(turn, case, pending, view)

    def close_agreed(self, event) -> None:
        turn: Turn = event.model
        claim = self._claim(turn, "attended_status")
        self.decide(turn, "claim_resolution_accepted", claim=claim.number,
                    client_words=turn.text.strip())
        view = self._claim_view(turn, "accepted", number=claim.number, resolution=claim.resolution)
        case, _ = self._open(turn, view, status="concluido", claim=claim.number, agreed=True)
        turn.services.say("F_closed", case=case, claim=view)
        turn.go_to("main", "menu")

    def escalate_disagreement(self, event) -> None:
        turn: Turn = event.model
        claim = self._claim(turn, "attended_status")
        unit = vocabulary()["claims"]["unit"]
        words = turn.text.strip()
        self.decide(turn, "escalate_utar", claim=claim.number, client_words=words, unit=unit)
        view = self._claim_view(turn, "escalated", number=claim.number, words=words)
        case, pending = self._open(turn, view, claim=claim.number, agreed=False,
                                   disagreement=words)
        self._finish(turn, case, pending, view)

    def register_claim(self, event) -> None:
        turn: Turn = event.model
        settings = vocabulary()["claims"]
        self.decide(turn, "derive_utar", period=turn.data["period"],
                    claim_reason=turn.data.get("reason"), unit=settings["unit"],
                    procedure=settings["procedure"])
        view = self._claim_view(turn, "new")
        case, pending = self._open(turn, view, derived_to=settings["unit"],
                                   procedure=settings["procedure"])
        # The claim's own number is given by UTAR's system when it registers it; until then
        # the claim is known by the case reference (never a number the bot makes up).
        claim = BillingClaim(number=case.number, product_id=self.products(turn)[0].id,
                             period=turn.data["period"], status=settings["new_status"],
                             resolution="")
        turn.services.session.add(claim)
        turn.services.session.flush()
        case.data = {**case.data, "claim": claim.number}
        case_log.add_event(turn.services.session, case=case, now=turn.services.now, actor="bot",
                           kind="claim_registered",
                           detail={"number": claim.number, "period": claim.period,
                                   "status": claim.status})
        self._finish(turn, case, pending, view)
