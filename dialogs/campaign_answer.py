"""What the campaign answer dialogs (mora, loyalty, preventive) share: a new request is served by
its trámite's dialog on the same message, an answer the bot cannot read is asked again once, then
the client goes back to the menu."""
from __future__ import annotations

from bot.dialog import Dialog, Turn

MAX_UNCLEAR = 2


class CampaignAnswerDialog(Dialog):
    hint = ""  # the template that asks the question again

    def asks_for_something_else(self, event) -> bool:
        return event.model.nlu.tramite is not None

    def still_unclear(self, event) -> bool:
        return event.model.data.get("unclear", 0) + 1 >= MAX_UNCLEAR

    def hand_to(self, turn: Turn, code: str) -> None:
        """The trámite's dialog starts on this same message (the engine fires its `start`)."""
        turn.start_tramite(code)

    def leave_for_new_request(self, event) -> None:
        self.hand_to(event.model, event.model.nlu.tramite)

    def leave(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("menu")
        turn.go_to("main", "menu")

    def ask_again(self, event) -> None:
        turn: Turn = event.model
        turn.data["unclear"] = turn.data.get("unclear", 0) + 1
        turn.services.say(self.hint_for(turn), **self.hint_context(turn))

    def hint_for(self, turn: Turn) -> str:
        return self.hint

    def hint_context(self, turn: Turn) -> dict:
        return {}
