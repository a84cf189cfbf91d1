"""The client's answer to the fidelización campaign (procedure J, bot/campaigns/loyalty.py).

asked:   "sí" / "todo bien" -> the contact data is shown (contact); "no" or a fault described
         ("no funciona el internet desde ayer") -> the averías dialog E reads the same words, as
         if the client had asked; another trámite -> that trámite's dialog.
contact: "confirmo" -> thanked; new data written, or "hay que cambiar el correo" -> the J dialog
         (actualización de datos) reads the words and opens the case for the ejecutivo(a).
Unclear twice -> the menu. Every answer lands on the campaign target (loyalty.record).
"""
from __future__ import annotations

from bot.campaigns import loyalty
from bot.dialog import Turn
from bot.models import Client
from dialogs.campaign_answer import CampaignAnswerDialog
from dialogs.tramite_j import read_updates


class LoyaltyDialog(CampaignAnswerDialog):
    name = "loyalty"
    initial = "asked"
    states = ["asked", "contact", "done"]
    transitions = [
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "reports_problem",
         "after": "start_damage"},
        {"trigger": "message", "source": "asked", "dest": "contact", "conditions": "services_ok",
         "after": "show_contact"},
        {"trigger": "message", "source": "contact", "dest": "done", "conditions": "gives_data",
         "after": "start_data_update"},
        {"trigger": "message", "source": "contact", "dest": "done", "conditions": "confirms",
         "after": "thank"},
        {"trigger": "message", "source": ["asked", "contact"], "dest": "done",
         "conditions": "asks_for_something_else", "after": "leave_for_new_request"},
        {"trigger": "message", "source": ["asked", "contact"], "dest": "done", "conditions": "still_unclear",
         "after": "leave"},
        {"trigger": "message", "source": "asked", "dest": "asked", "after": "ask_again"},
        {"trigger": "message", "source": "contact", "dest": "contact", "after": "ask_again"},
    ]

    # --- conditions ----------------------------------------------------------------------------
    def reports_problem(self, event) -> bool:
        turn: Turn = event.model
        tramite = turn.nlu.tramite
        # A named trámite other than E ("quiero dar de baja") is served by its own dialog.
        return loyalty.services_answer(turn.text, tramite=tramite) == "problem" and tramite in (None, "E")

    def services_ok(self, event) -> bool:
        return loyalty.services_answer(event.model.text) == "ok"

    def gives_data(self, event) -> bool:
        turn: Turn = event.model
        found = read_updates(turn.text, turn.nlu.entities.get("emails") or [], [])["found"]
        return bool(found) or turn.nlu.tramite == "J" or loyalty.contact_answer(turn.text) == "update"

    def confirms(self, event) -> bool:
        return loyalty.contact_answer(event.model.text) == "confirm"

    # --- after ---------------------------------------------------------------------------------
    def _record(self, turn: Turn, answer: str, outcome: str) -> None:
        services = turn.services
        loyalty.record(services.session, send_id=turn.data["send_id"], answer=answer, outcome=outcome,
                       words=turn.text, now=services.now)

    def start_damage(self, event) -> None:
        turn: Turn = event.model
        self._record(turn, "problem", "problema")
        self.hand_to(turn, "E")

    def show_contact(self, event) -> None:
        turn: Turn = event.model
        self._record(turn, "ok", "ok")
        turn.data["unclear"] = 0
        services = turn.services
        client = services.session.get(Client, services.client.id)
        services.say("loyalty_contact", **loyalty.contact_data(services.session, client))

    def start_data_update(self, event) -> None:
        turn: Turn = event.model
        self._record(turn, "update", "datos_actualizados")
        self.hand_to(turn, "J")

    def thank(self, event) -> None:
        turn: Turn = event.model
        self._record(turn, "confirm", "ok")
        turn.services.say("loyalty_thanks")
        turn.go_to("main", "menu")

    def leave_for_new_request(self, event) -> None:
        if event.transition.source == "asked":
            self._record(event.model, "other", "otro_tramite")
        super().leave_for_new_request(event)

    def leave(self, event) -> None:
        if event.transition.source == "asked":
            self._record(event.model, "unclear", "sin_respuesta_clara")
        super().leave(event)

    def hint_for(self, turn: Turn) -> str:
        return "loyalty_contact_hint" if turn.state == "contact" else "loyalty_hint"
