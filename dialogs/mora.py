"""The client's answer to the mora reminder: "ya pagué" or a promised date ("pagaremos el
viernes") is recorded and checked again a week later (bot/campaigns/mora.py)."""
from __future__ import annotations

from bot.campaigns import mora
from bot.dialog import Turn
from bot.models import CampaignSend
from dialogs.campaign_answer import CampaignAnswerDialog


class MoraDialog(CampaignAnswerDialog):
    name = "mora"
    initial = "asked"
    hint = "mora_hint"
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
