"""The client's answer to the quality check ("¿funciona ahora su servicio?")."""
from __future__ import annotations

from bot import quality
from bot.dialog import Dialog, Turn
from bot.models import Case
from bot.rules import sla_hours

MAX_UNCLEAR = 2


class QualityDialog(Dialog):
    name = "quality"
    initial = "asked"
    states = ["asked", "done"]
    transitions = [
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "works", "after": "confirm"},
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "does_not_work",
         "after": "reopen"},
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "asks_for_something_else",
         "after": "leave_for_new_request"},
        {"trigger": "message", "source": "asked", "dest": "done", "conditions": "still_unclear",
         "after": "leave_to_ejecutivo"},
        {"trigger": "message", "source": "asked", "dest": "asked", "after": "ask_again"},
    ]

    def _case(self, turn: Turn) -> Case:
        return turn.services.session.get(Case, turn.data["case_id"])

    def works(self, event) -> bool:
        return quality.answer(event.model.text) is True

    def does_not_work(self, event) -> bool:
        return quality.answer(event.model.text) is False

    def still_unclear(self, event) -> bool:
        return event.model.data.get("unclear", 0) + 1 >= MAX_UNCLEAR

    def confirm(self, event) -> None:
        turn: Turn = event.model
        case = self._case(turn)
        quality.confirm(turn.services.session, case, now=turn.services.now, words=turn.text)
        turn.services.say("quality_thanks", case=case)
        turn.go_to("main", "menu")

    def reopen(self, event) -> None:
        turn: Turn = event.model
        case = self._case(turn)
        quality.reopen(turn.services.session, case, now=turn.services.now, words=turn.text,
                       sla_hours=sla_hours(case.tramite))
        turn.services.opened_cases.append(case)
        turn.services.say("quality_sorry", case=case)
        turn.go_to("main", "menu")

    def asks_for_something_else(self, event) -> bool:
        return event.model.nlu.tramite is not None

    def leave_for_new_request(self, event) -> None:
        """A new request instead of an answer: serve it; the ejecutivo confirms the old case by phone."""
        turn: Turn = event.model
        quality.ask_ejecutivo_to_call(turn.services.session, self._case(turn), now=turn.services.now,
                                      note=turn.text)
        turn.start_tramite(turn.nlu.tramite)

    def leave_to_ejecutivo(self, event) -> None:
        turn: Turn = event.model
        case = self._case(turn)
        quality.ask_ejecutivo_to_call(turn.services.session, case, now=turn.services.now, note=turn.text)
        turn.services.say("quality_unclear", case=case)
        turn.go_to("main", "menu")

    def ask_again(self, event) -> None:
        turn: Turn = event.model
        turn.data["unclear"] = turn.data.get("unclear", 0) + 1
        turn.services.say("quality_hint")
