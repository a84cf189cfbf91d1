"""Questions about a case already open: "¿cómo va mi solicitud?", "PV-2026-000123", "anular mi
solicitud".

Status is said in the client's words: what is pending, who has it now, the deadline. A withdrawal
is confirmed first; then the case is closed as withdrawn, the event logged with the client's words
and the person who had it gets a task. Never a retiro (trámite H): that ends a product, this ends a
request.
"""
from __future__ import annotations

from bot import cases, requirements
from bot.dialog import Dialog, Turn
from bot.enums import OPEN_STATUSES
from bot.models import Case
from bot.nlu import yes_no
from bot.rules import tramites
from bot.understanding.options import option_numbers

MAX_LISTED = 5  # a phone screen: the newest few, the rest on request by number


class CaseQueryDialog(Dialog):
    name = "case_query"
    initial = "start"
    states = ["start", "choose_case", "confirm_withdrawal", "done"]
    transitions = [
        {"trigger": "start", "source": "start", "dest": "done", "conditions": "finds_nothing",
         "after": "say_nothing_found"},
        {"trigger": "start", "source": "start", "dest": "done", "conditions": "asks_status",
         "after": "say_status"},
        {"trigger": "start", "source": "start", "dest": "done", "conditions": "nothing_to_withdraw",
         "after": "say_not_withdrawable"},
        {"trigger": "start", "source": "start", "dest": "confirm_withdrawal", "conditions": "one_to_withdraw",
         "after": "ask_confirmation"},
        {"trigger": "start", "source": "start", "dest": "choose_case", "after": "ask_which"},
        {"trigger": "message", "source": "choose_case", "dest": "confirm_withdrawal",
         "conditions": "chose_case", "after": "ask_confirmation"},
        {"trigger": "message", "source": "choose_case", "dest": "choose_case", "after": "ask_which_again"},
        {"trigger": "message", "source": "confirm_withdrawal", "dest": "done", "conditions": "said_yes",
         "after": "withdraw"},
        {"trigger": "message", "source": "confirm_withdrawal", "dest": "done", "conditions": "said_no",
         "after": "keep_case"},
        {"trigger": "message", "source": "confirm_withdrawal", "dest": "confirm_withdrawal",
         "after": "ask_confirmation_again"},
        {"trigger": "message", "source": "done", "dest": "done", "after": "back_to_menu"},
    ]

    # --- reading ---------------------------------------------------------------------------------
    def _cases(self, turn: Turn) -> list[Case]:
        """The cases the message is about (cached for this message)."""
        if "cases" not in turn.scratch:
            services = turn.services
            numbers = turn.nlu.entities.get("case_numbers") or turn.data.get("numbers")
            tramite = turn.data.get("about_tramite")
            found = cases.client_cases(services.session, client_id=services.client.id, now=services.now,
                                       numbers=numbers, tramite=tramite)
            if not found and tramite and not numbers:
                # "¿cómo va mi reclamo?" when the open case is another trámite: show what there is.
                found = cases.client_cases(services.session, client_id=services.client.id, now=services.now)
            turn.scratch["cases"] = found
        return turn.scratch["cases"]

    def _open(self, turn: Turn) -> list[Case]:
        return [case for case in self._cases(turn) if case.status in OPEN_STATUSES]

    # --- conditions ------------------------------------------------------------------------------
    def finds_nothing(self, event) -> bool:
        turn: Turn = event.model
        turn.data.setdefault("query", turn.data.pop("case_query", None) or "estado")
        turn.data.setdefault("about_tramite", turn.nlu.tramite)
        turn.data.setdefault("words", turn.text.strip())
        return not self._cases(turn)

    def asks_status(self, event) -> bool:
        return event.model.data["query"] == "estado"

    def nothing_to_withdraw(self, event) -> bool:
        return not self._open(event.model)

    def one_to_withdraw(self, event) -> bool:
        turn: Turn = event.model
        open_cases = self._open(turn)
        if len(open_cases) == 1:
            turn.data["case_id"] = open_cases[0].id
            return True
        turn.data["choices"] = [case.id for case in open_cases[:MAX_LISTED]]
        return False

    def chose_case(self, event) -> bool:
        turn: Turn = event.model
        choices = turn.data["choices"]
        named = set(turn.nlu.entities.get("case_numbers", []))
        picked = [case_id for case_id in choices
                  if (case := turn.services.session.get(Case, case_id)) is not None and case.number in named]
        picked += [choices[n - 1] for n in option_numbers(turn.text) if 1 <= n <= len(choices)]
        if len(set(picked)) != 1:
            return False
        turn.data["case_id"] = picked[0]
        return True

    def said_yes(self, event) -> bool:
        return yes_no(event.model.text) is True

    def said_no(self, event) -> bool:
        return yes_no(event.model.text) is False

    # --- after -----------------------------------------------------------------------------------
    def _case(self, turn: Turn) -> Case:
        return turn.services.session.get(Case, turn.data["case_id"])

    def _view(self, turn: Turn, case: Case) -> dict:
        return {"case": case, "tramite": tramites()[case.tramite],
                "role_name": turn.services.role_name(case.current_role),
                "pending": requirements.missing(case.requirements),
                "is_open": case.status in OPEN_STATUSES}

    def _end(self, turn: Turn) -> None:
        turn.go_to("main", "menu")

    def say_nothing_found(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("case_none", numbers=turn.nlu.entities.get("case_numbers", []),
                          withdraw=turn.data["query"] == "anular")
        self._end(turn)

    def say_status(self, event) -> None:
        turn: Turn = event.model
        found = self._cases(turn)
        turn.services.say("case_status", cases=[self._view(turn, c) for c in found[:MAX_LISTED]],
                          more=max(0, len(found) - MAX_LISTED))
        self._end(turn)

    def say_not_withdrawable(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("case_not_withdrawable", cases=[self._view(turn, c) for c in self._cases(turn)[:3]])
        self._end(turn)

    def ask_which(self, event) -> None:
        turn: Turn = event.model
        session = turn.services.session
        turn.services.say("case_choose", cases=[self._view(turn, session.get(Case, i))
                                                for i in turn.data["choices"]])

    def ask_which_again(self, event) -> None:
        self.ask_which(event)

    def ask_confirmation(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("case_confirm_withdrawal", **self._view(turn, self._case(turn)), again=False)

    def ask_confirmation_again(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("case_confirm_withdrawal", **self._view(turn, self._case(turn)), again=True)

    def withdraw(self, event) -> None:
        turn: Turn = event.model
        case = self._case(turn)
        if case.status not in OPEN_STATUSES:  # staff closed it meanwhile
            turn.services.say("case_not_withdrawable", cases=[self._view(turn, case)])
        else:
            cases.withdraw(turn.services.session, case=case, now=turn.services.now,
                           words=turn.data.get("words", ""))
            turn.services.say("case_withdrawn", case=case, tramite=tramites()[case.tramite])
        self._end(turn)

    def keep_case(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("case_kept", case=self._case(turn))
        self._end(turn)

    def back_to_menu(self, event) -> None:
        self._end(event.model)
