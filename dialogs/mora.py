"""The client's answer to the mora reminder: "ya pagué" or a promised date ("pagaremos el
viernes") is recorded and checked again a week later (bot/campaigns/mora.py)."""
from __future__ import annotations

from bot.campaigns import mora
from bot.models import CampaignSend
from dialogs.base import Dialog, Turn

MAX_UNCLEAR = 2


class MoraDialog(Dialog):
    name = "mora"
    initial = "asked"
    states = ["asked", "done"]
    transitions = [
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "says_paid", "after": "paid"},
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "promises", "after": "promise"},
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "asks_for_something_else",
         "after": "leave_for_new_request"},
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "still_unclear",
         "after": "leave"},
        {"trigger": "message", "source": "asked", "dest": "asked", "after": "ask_again"},
    ]

    def says_paid(self, event) -> bool:
        return mora.answer(event.model.text) == "paid"

    def promises(self, event) -> bool:
        return mora.answer(event.model.text) == "promise"

    def asks_for_something_else(self, event) -> bool:
        return event.model.nlu.tramite is not None

    def still_unclear(self, event) -> bool:
        return event.model.data.get("unclear", 0) + 1 >= MAX_UNCLEAR

    def _record(self, turn: Turn, kind: str) -> None:
        services = turn.services
        row = services.session.get(CampaignSend, turn.data["send_id"])
        mora.record_answer(services.session, row, kind=kind, words=turn.text, now=services.now,
                           settings=services.settings)

    def paid(self, event) -> None:
        turn: Turn = event.model
        self._record(turn, "paid")
        turn.services.say("mora_thanks_paid_claim")
        turn.go_to("main", "menu")

    def promise(self, event) -> None:
        turn: Turn = event.model
        self._record(turn, "promise")
        turn.services.say("mora_thanks_promise")
        turn.go_to("main", "menu")

    def leave_for_new_request(self, event) -> None:
        turn: Turn = event.model
        turn.data["tramite"] = turn.nlu.tramite
        from dialogs.main import dialog_for

        turn.start_dialog(dialog_for(turn.nlu.tramite))

    def leave(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("menu")
        turn.go_to("main", "menu")

    def ask_again(self, event) -> None:
        turn: Turn = event.model
        turn.data["unclear"] = turn.data.get("unclear", 0) + 1
        turn.services.say("mora_hint")
