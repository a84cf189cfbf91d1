"""Generic intake for a trámite that has no dedicated dialog yet: take a short description and
open a case for the role the procedure names first."""
from __future__ import annotations

from bot.dialog import Dialog, Turn
from bot.rules import sla_hours, tramites

MIN_DETAIL_WORDS = 6


class IntakeDialog(Dialog):
    name = "intake"
    initial = "start"
    states = ["start", "ask_detail", "done"]
    transitions = [
        {"trigger": "start", "source": "start", "dest": "done",
         "conditions": "message_has_detail", "after": "open_case"},
        {"trigger": "start", "source": "start", "dest": "ask_detail", "after": "ask_detail"},
        {"trigger": "message", "source": "ask_detail", "dest": "done", "after": "open_case"},
        {"trigger": "message", "source": ["start", "done"], "dest": "done", "after": "back_to_menu"},
    ]

    def message_has_detail(self, event) -> bool:
        # A request written in full ("necesito el detalle de llamadas de agosto de la línea ...")
        # needs no further question; "3" or "reclamo" does.
        turn: Turn = event.model
        return (
            turn.nlu.tramite == turn.data.get("tramite")
            and turn.nlu.entities.get("menu_choice") is None
            and len(turn.text.split()) >= MIN_DETAIL_WORDS
        )

    def ask_detail(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("intake_ask_detail", tramite=tramites()[turn.data["tramite"]])

    def open_case(self, event) -> None:
        turn: Turn = event.model
        tramite = tramites()[turn.data.pop("tramite")]
        case = turn.services.open_case(tramite=tramite.code, role=tramite.role, summary=turn.text.strip())
        turn.services.say(
            "intake_case_opened",
            tramite=tramite,
            case=case,
            role_name=turn.services.role_name(tramite.role),
            sla_hours=sla_hours(tramite.code),
        )
        turn.go_to("main", "menu")

    def back_to_menu(self, event) -> None:
        event.model.go_to("main", "menu")
