"""The client's answer to a técnico preventivo message (bot/campaigns/preventive.py).

Offer (fibra, otro_producto): "sí, me interesa" -> fibra runs the fibre migration dialog (K) for
the listed product, which asks about the excess cable and opens the case; otro_producto opens a
case for the ejecutivo(a), who sends the commercial proposal (K.11). "No, gracias" -> thanks.
Check (problema): "sí, funciona bien" -> thanks; "no" or a problem in the client's words -> the
damage dialog (E) for that product, reading those words. Another request is served as usual; an
answer not understood twice leads to the menu.

K and E run unchanged as subclasses that take the product from the list (no question) and write
the case they open back to the target (CampaignTargetMixin).
"""
from __future__ import annotations

from bot import texts
from bot.campaigns import launcher, preventive
from bot.dialog import Turn
from bot.models import CampaignSend, CampaignTarget, Product
from dialogs.campaign_answer import MAX_UNCLEAR, CampaignAnswerDialog
from dialogs.tramite_e import DamageDialog
from dialogs.tramite_k import FiberMigrationDialog

# Per-message hand-over to the trámite dialog started on the same message: the engine starts a
# dialog with empty data, the scratch lives until the message is done.
SEED = "campaign_seed"
FIBER_DIALOG = "preventive_K"
DAMAGE_DIALOG = "preventive_E"


class CampaignTargetMixin:
    """A trámite dialog run for a campaign target: the product comes from the list and the case
    it opens carries the target and is linked back to it."""

    def absorb(self, event) -> None:
        turn: Turn = event.model
        seed = turn.scratch.pop(SEED, None)
        if seed is not None and event.event.name == "start":
            turn.data.update(seed)  # the case data names the target (campaign_target_id)
        super().absorb(event)

    def open_case(self, turn: Turn, **kwargs):
        target_id = turn.data.get("target_id")
        if target_id is not None:
            kwargs["data"] = {**(kwargs.get("data") or {}), "campaign_target_id": target_id}
        case, pending = super().open_case(turn, **kwargs)
        if target_id is not None:
            preventive.link_case(turn.services.session, target_id=target_id, case=case)
        return case, pending


class PreventiveFiberDialog(CampaignTargetMixin, FiberMigrationDialog):
    name = FIBER_DIALOG


class PreventiveDamageDialog(CampaignTargetMixin, DamageDialog):
    name = DAMAGE_DIALOG


class PreventiveDialog(CampaignAnswerDialog):
    name = "preventive"
    initial = "asked"
    states = ["asked", "done"]
    prepare_event = "read_answer"
    transitions = [
        # Answered on the other channel (WhatsApp and email both got the message): not twice.
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "answered_elsewhere",
         "after": "leave_answered"},
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "accepts", "after": "accept"},
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "declines", "after": "decline"},
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "is_fine", "after": "fine"},
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "reports_problem",
         "after": "report_problem"},
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "asks_for_something_else",
         "after": "leave_for_new_request"},
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "still_unclear", "after": "leave"},
        {"trigger": "message", "source": "asked", "dest": "asked", "after": "ask_again"},
    ]

    # --- prepare: which target, what the client said ------------------------------------------
    def read_answer(self, event) -> None:
        turn: Turn = event.model
        session = turn.services.session
        send = session.get(CampaignSend, turn.data["send_id"])
        targets = launcher.targets_of_send(session, send) if send is not None else []
        # The message was written for the client's first target (launcher._send_to_client).
        target = targets[0] if targets else None
        turn.scratch["send"], turn.scratch["target"] = send, target
        turn.scratch["answer"] = preventive.answer(turn.text, target.opportunity) if target else None
        if target is not None and target.opportunity == preventive.PROBLEM and turn.scratch["answer"] is None \
                and turn.nlu.tramite == "E":
            turn.scratch["answer"] = "problem"  # "el internet se corta a cada rato"

    # --- conditions ----------------------------------------------------------------------------
    def answered_elsewhere(self, event) -> bool:
        target = event.model.scratch["target"]
        return target is not None and target.status == "respondido"

    def accepts(self, event) -> bool:
        return event.model.scratch["answer"] == "accept"

    def declines(self, event) -> bool:
        return event.model.scratch["answer"] == "decline"

    def is_fine(self, event) -> bool:
        return event.model.scratch["answer"] == "fine"

    def reports_problem(self, event) -> bool:
        return event.model.scratch["answer"] == "problem"

    def still_unclear(self, event) -> bool:
        turn: Turn = event.model
        return turn.scratch["target"] is None or turn.data.get("unclear", 0) + 1 >= MAX_UNCLEAR

    # --- after ---------------------------------------------------------------------------------
    def _record(self, turn: Turn, outcome: str) -> CampaignTarget:
        target = turn.scratch["target"]
        preventive.record_answer(turn.services.session, send=turn.scratch["send"], target=target,
                                 outcome=outcome, words=turn.text, now=turn.services.now)
        return target

    def _start_for_product(self, turn: Turn, target: CampaignTarget, dialog: str, tramite: str) -> None:
        product = turn.services.session.get(Product, target.product_id)
        turn.scratch[SEED] = {"target_id": target.id, "products": [product.contract]}
        turn.data["tramite"] = tramite
        turn.start_dialog(dialog)

    def accept(self, event) -> None:
        turn: Turn = event.model
        target = self._record(turn, "aceptado")
        if target.opportunity == preventive.FIBRA:
            self._start_for_product(turn, target, FIBER_DIALOG, "K")
            return
        self._open_offer_case(turn, target)
        turn.go_to("main", "menu")

    def _open_offer_case(self, turn: Turn, target: CampaignTarget) -> None:
        """K.11: the ejecutivo(a) sends the commercial proposal for the product offered."""
        session = turn.services.session
        product = session.get(Product, target.product_id) if target.product_id else None
        fiber = turn.dialogs[FIBER_DIALOG]  # K's case opening (SLA, decisions log) and target link
        turn.data["target_id"] = target.id
        case, _ = fiber.open_case(
            turn, role="ejecutivo",
            summary=texts.render("details_preventive_offer", detail=target.detail, product=product),
            data={"offer": target.detail, "contract": product.contract if product else None})
        turn.services.say("preventive_interest", detail=target.detail, case=case,
                          role_name=turn.services.role_name(case.current_role))

    def decline(self, event) -> None:
        turn: Turn = event.model
        self._record(turn, "rechazado")
        turn.services.say("preventive_declined")
        turn.go_to("main", "menu")

    def fine(self, event) -> None:
        turn: Turn = event.model
        self._record(turn, "sin_problema")
        turn.services.say("preventive_fine")
        turn.go_to("main", "menu")

    def report_problem(self, event) -> None:
        turn: Turn = event.model
        target = self._record(turn, "problema")
        if target.product_id is None:
            turn.data["tramite"] = "E"
            turn.start_dialog("tramite_E")
            return
        self._start_for_product(turn, target, DAMAGE_DIALOG, "E")

    def leave_answered(self, event) -> None:
        if event.model.nlu.tramite is not None:
            self.leave_for_new_request(event)
        else:
            self.leave(event)

    hint = "preventive_hint"

    def hint_context(self, turn: Turn) -> dict:
        return preventive.context(turn.services.session, target=turn.scratch["target"],
                                  client=turn.services.client)
