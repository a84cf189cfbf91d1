"""Greeting, client identification and the menu: where every conversation starts.

Identification (procedure: clients are empresas with a NIT): by the sender's phone or email when
it belongs to a registered contact; otherwise NIT plus a contract or line number of that client.
Three failed tries hand the conversation to a person.
"""
from __future__ import annotations

import re

from bot.acts import dialog_act
from bot.dialog import Dialog, Turn
from bot.nlu import normalise
from bot.rules import load_rules, tramite_for_choice, tramites

IDENTIFYING = ["start", "ask_nit", "ask_contract"]


class MainDialog(Dialog):
    name = "main"
    initial = "start"
    states = ["start", "ask_nit", "ask_contract", "menu", "human"]
    prepare_event = "absorb_identity"
    transitions = [
        # Identification: the first transition whose conditions hold wins.
        {"trigger": "message", "source": IDENTIFYING, "dest": "menu",
         "conditions": "is_identified", "after": "on_identified"},
        {"trigger": "message", "source": IDENTIFYING, "dest": "human",
         "conditions": "too_many_failures", "after": "hand_off_unidentified"},
        {"trigger": "message", "source": IDENTIFYING, "dest": "start",
         "conditions": "has_no_nit", "after": "explain_empresas_only"},
        {"trigger": "message", "source": IDENTIFYING, "dest": "ask_contract",
         "conditions": "has_valid_nit", "after": "ask_for_contract"},
        {"trigger": "message", "source": IDENTIFYING, "dest": "ask_nit", "after": "ask_for_nit"},
        # The menu: a number or free text naming a trámite starts its dialog.
        {"trigger": "message", "source": "menu", "dest": "menu",
         "conditions": "names_tramite", "after": "start_tramite"},
        # "gracias", "ok", "buenas tardes": a brief answer, never "no logré entender" + the menu.
        {"trigger": "message", "source": "menu", "dest": "menu", "conditions": "is_social",
         "after": "answer_social"},
        {"trigger": "message", "source": "menu", "dest": "menu", "after": "show_menu_again"},
        # Entering the main dialog from elsewhere ("menú", end of a trámite).
        {"trigger": "start", "source": "*", "dest": "menu", "conditions": "is_identified",
         "after": "show_menu"},
        {"trigger": "start", "source": "*", "dest": "ask_nit", "after": "ask_for_nit"},
        {"trigger": "message", "source": "human", "dest": None},
    ]

    # --- prepare: read what the message says about who is writing ----------------------------
    def absorb_identity(self, event) -> None:
        turn: Turn = event.model
        if turn.state not in IDENTIFYING or event.event.name != "message":
            return
        services = turn.services
        if turn.nlu.tramite and "pending_tramite" not in turn.data:
            turn.data["pending_tramite"] = turn.nlu.tramite
        if services.client is not None:
            return
        if says_no_nit(turn.text):
            turn.scratch["no_nit"] = True
            return
        records = services.records
        entities = turn.nlu.entities
        nit = entities.get("nit")
        if nit is None and turn.state == "ask_nit":
            # We asked for the NIT: a bare number is the answer, whatever its length.
            digits = re.sub(r"[\s.\-]", "", turn.text.strip())
            if digits.isdigit() and 5 <= len(digits) <= 13:
                nit = digits
        valid_nit_now = False
        if nit:
            client = records.client_by_nit(nit)
            if client is None:
                turn.scratch["unknown_nit"] = nit
            else:
                turn.data["nit_client_id"] = client.id
                valid_nit_now = True
        client_id = turn.data.get("nit_client_id")
        products = [*entities.get("contracts", []), *entities.get("lines", [])]
        if client_id is not None:
            for value in products:
                if records.product_by_contract_or_number(client_id, value):
                    services.identify(records.client_by_id(client_id))
                    return
            if products:
                turn.scratch["unknown_product"] = True
        # A try counts as failed when the client answered what we asked and it did not match.
        if turn.state == "start":
            failed = "unknown_nit" in turn.scratch
        elif turn.state == "ask_nit":
            failed = not valid_nit_now
        else:  # ask_contract
            failed = not valid_nit_now or bool(products)
        if failed:
            turn.data["id_failures"] = turn.data.get("id_failures", 0) + 1

    # --- conditions ----------------------------------------------------------------------------
    def is_identified(self, event) -> bool:
        return event.model.services.client is not None

    def too_many_failures(self, event) -> bool:
        return event.model.data.get("id_failures", 0) >= event.model.services.settings.identification_max_attempts

    def has_no_nit(self, event) -> bool:
        return bool(event.model.scratch.get("no_nit"))

    def has_valid_nit(self, event) -> bool:
        return "nit_client_id" in event.model.data

    def is_social(self, event) -> bool:
        return dialog_act(event.model.text) is not None

    def names_tramite(self, event) -> bool:
        return self._chosen_tramite(event.model) is not None

    def _chosen_tramite(self, turn: Turn) -> str | None:
        choice = turn.nlu.entities.get("menu_choice")
        if choice is not None:
            tramite = tramite_for_choice(choice)
            return tramite.code if tramite else None
        return turn.nlu.tramite

    # --- after: what the bot says and does -----------------------------------------------------
    def on_identified(self, event) -> None:
        turn: Turn = event.model
        turn.data.pop("id_failures", None)
        turn.data.pop("nit_client_id", None)
        pending = turn.data.pop("pending_tramite", None)
        turn.services.say("welcome_client")
        if pending:
            turn.start_tramite(pending)
        else:
            turn.services.say("menu")

    def hand_off_unidentified(self, event) -> None:
        turn: Turn = event.model
        turn.services.handoff(reason="identificacion_fallida")
        turn.services.say("identification_failed")

    def explain_empresas_only(self, event) -> None:
        event.model.data.pop("id_failures", None)
        event.model.services.say("empresas_only")

    def ask_for_contract(self, event) -> None:
        turn: Turn = event.model
        retry = bool(turn.scratch.get("unknown_product"))
        turn.services.say("ask_contract", retry=retry)

    def ask_for_nit(self, event) -> None:
        turn: Turn = event.model
        turn.services.say(
            "ask_nit",
            first=event.event.name == "start" or turn.data.get("id_failures", 0) == 0,
            unknown_nit=turn.scratch.get("unknown_nit"),
        )

    def start_tramite(self, event) -> None:
        turn: Turn = event.model
        turn.start_tramite(self._chosen_tramite(turn))

    def answer_social(self, event) -> None:
        event.model.services.say(f"act_{dialog_act(event.model.text)}")

    def show_menu(self, event) -> None:
        event.model.services.say("menu")

    def show_menu_again(self, event) -> None:
        event.model.services.say("menu", not_understood=True)


def tramite_name(code: str) -> str:
    return tramites()[code].name


def says_no_nit(text: str) -> bool:
    """'No tengo NIT', 'soy persona particular': this channel serves empresas only."""
    normalised = f" {normalise(text)} "
    return any(f" {phrase} " in normalised for phrase in _no_nit_phrases())


_NO_NIT: list[str] = []


def _no_nit_phrases() -> list[str]:
    if not _NO_NIT:
        _NO_NIT.extend(normalise(p) for p in load_rules("identification.yaml")["no_nit"])
    return _NO_NIT
