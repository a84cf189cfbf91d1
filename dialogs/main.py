"""Greeting, client identification and the menu: where every conversation starts.

Identification (procedure: clients are empresas with a NIT): by the sender's phone or email when
it belongs to a registered contact; otherwise NIT plus a contract or line number of that client.
Three failed tries hand the conversation to a person.
"""
from __future__ import annotations

import re

from datetime import timedelta

from bot import cases
from bot.acts import dialog_act, is_change_of_mind, is_correction
from bot.clock import as_utc
from bot.enums import CaseStatus
from bot.dialog import QUEUED_REQUESTS, Dialog, Turn
from bot.nlu import analyze, normalise, yes_no
from bot.rules import Tramite, load_rules, tramite_for_choice, tramites
from bot.texts import labels

IDENTIFYING = ["start", "ask_nit", "ask_contract"]
AT_MENU = ["menu", "offer_next"]
CASE_QUERIES = ("estado", "anular")  # the NLU's questions about a case, besides the trámites


class MainDialog(Dialog):
    name = "main"
    initial = "start"
    states = ["start", "ask_nit", "ask_contract", "menu", "offer_next", "human"]
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
        # The menu: a question about a case already open, or a number or free text naming a
        # trámite. After a trámite, "offer_next" asks about the client's next request.
        {"trigger": "message", "source": AT_MENU, "dest": "menu", "conditions": "asks_about_case",
         "after": "start_case_query"},
        {"trigger": "message", "source": "offer_next", "dest": "menu", "conditions": "said_yes",
         "after": "start_offered"},
        {"trigger": "message", "source": "offer_next", "dest": "offer_next",
         "conditions": ["said_no", "has_more_queued"], "after": "decline_and_offer_next"},
        {"trigger": "message", "source": "offer_next", "dest": "menu", "conditions": "said_no",
         "after": "decline_offered"},
        {"trigger": "message", "source": AT_MENU, "dest": "menu",
         "conditions": "corrects_last_case", "after": "correct_last_case"},
        {"trigger": "message", "source": AT_MENU, "dest": "menu",
         "conditions": "changes_mind", "after": "replace_last_case"},
        {"trigger": "message", "source": AT_MENU, "dest": "menu",
         "conditions": "names_tramite", "after": "start_tramite"},
        # "gracias", "ok", "buenas tardes": a brief answer, never "no logré entender" + the menu.
        {"trigger": "message", "source": "menu", "dest": "menu", "conditions": "is_social",
         "after": "answer_social"},
        {"trigger": "message", "source": "offer_next", "dest": "offer_next", "after": "offer_again"},
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
        # What the client asks before being identified is kept, with the words it came in:
        # the details in them ("la línea 4412345 desde el 5 de enero") are read once identified.
        if "pending_text" not in turn.data and (turn.nlu.tramite or turn.nlu.case_query) \
                and not is_bare_identification(turn):
            turn.data["pending_text"] = turn.text
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

    def asks_about_case(self, event) -> bool:
        nlu = event.model.nlu
        if nlu.entities.get("case_numbers") and nlu.entities.get("menu_choice") is None:
            return True
        # "reclamo sobre la factura de agosto" may also sound like a status question: a new
        # request wins unless the case question is the main reading.
        return nlu.case_query is not None and (nlu.tramite is None or nlu.case_first)

    def said_yes(self, event) -> bool:
        return yes_no(event.model.text) is True

    def said_no(self, event) -> bool:
        return yes_no(event.model.text) is False

    def corrects_last_case(self, event) -> bool:
        """"perdón, es la 4412346" right after a case was opened, before staff touched it."""
        turn: Turn = event.model
        entities = turn.nlu.entities
        if not is_correction(turn.text) or not (entities.get("lines") or entities.get("contracts")):
            return False
        return self._correctable_case(turn) is not None

    def changes_mind(self, event) -> bool:
        turn: Turn = event.model
        return bool(is_change_of_mind(turn.text) and self._chosen_tramite(turn)
                    and self._correctable_case(turn) is not None)

    @staticmethod
    def _correctable_case(turn: Turn):
        case = cases.latest_case(turn.services.session, conversation_id=turn.services.conversation.id)
        if case is None or case.status not in CORRECTABLE or not case.data.get("request_words") \
                or turn.services.now - as_utc(case.opened_at) > CORRECTION_WINDOW:
            return None
        turn.scratch["corrected_case"] = case
        return case

    def has_more_queued(self, event) -> bool:
        return len(event.model.data.get(QUEUED_REQUESTS, [])) > 1

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
        pending = turn.data.pop("pending_text", None)
        turn.services.say("welcome_client")
        if pending is None:  # nothing asked yet
            turn.services.say("menu")
            return
        if pending != turn.text:
            # The request and the identification came apart: read them as one message.
            turn.text = f"{pending}\n{turn.text}"
            turn.nlu = analyze(turn.text, today=turn.today)
        if self.asks_about_case(event):
            self.start_case_query(event)
        elif turn.nlu.tramite:
            self._start(turn, turn.nlu.tramite)
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
        self._start(turn, self._chosen_tramite(turn))

    def _start(self, turn: Turn, code: str) -> None:
        """Start trámite `code` (or a question about a case) on the whole message (its details
        may be anywhere in it); the message's other requests wait their turn, each with the
        clauses that ask for it, and the client is told what was understood. A question about
        a case asked beside a trámite ("¿en qué quedó el traslado? y quiero el identificador")
        waits its turn the same way: never dropped."""
        queued = [item for item in turn.data.get(QUEUED_REQUESTS, []) if item["tramite"] != code]
        asked = [c for c, _ in turn.nlu.requests]
        if asked and turn.nlu.case_query:
            asked.append(turn.nlu.case_query)
        others = [c for c in dict.fromkeys(asked)
                  if c != code and all(item["tramite"] != c for item in queued)]
        if others and turn.nlu.entities.get("menu_choice") is None:
            texts = turn.nlu.texts
            queued += [{"tramite": c, "text": texts.get(c, turn.text)} for c in others]
            turn.services.say("requests_understood", first=request_label(code),
                              others=[request_label(c) for c in others])
        if queued:
            turn.data[QUEUED_REQUESTS] = queued
        else:
            turn.data.pop(QUEUED_REQUESTS, None)
        if code in CASE_QUERIES:
            turn.data["case_query"] = code
            turn.start_dialog("case_query")
        else:
            turn.start_tramite(code)

    def correct_last_case(self, event) -> None:
        """The earlier case is withdrawn and the same request read again with the product
        the client meant: never two cases that charge both."""
        turn: Turn = event.model
        case = turn.scratch["corrected_case"]
        cases.withdraw(turn.services.session, case=case, now=turn.services.now, words=turn.text,
                       notify=False)
        turn.services.say("case_corrected", case=case)
        turn.text = replace_products(case.data["request_words"], turn.nlu.entities, turn.today)
        turn.nlu = analyze(turn.text, today=turn.today).but(requests=())
        self._start(turn, case.tramite)

    def replace_last_case(self, event) -> None:
        """The request just made is withdrawn and the new one taken: never both charged."""
        turn: Turn = event.model
        case = turn.scratch["corrected_case"]
        cases.withdraw(turn.services.session, case=case, now=turn.services.now, words=turn.text,
                       notify=False)
        turn.services.say("case_replaced", case=case, tramite=tramites()[case.tramite])
        self._start(turn, self._chosen_tramite(turn))

    def start_case_query(self, event) -> None:
        turn: Turn = event.model
        self._start(turn, turn.nlu.case_query or "estado")

    def start_offered(self, event) -> None:
        turn: Turn = event.model
        queued = turn.data[QUEUED_REQUESTS]
        item = queued.pop(0)
        # The trámite reads the words the request came in, not the "sí".
        turn.text = item["text"]
        if item["tramite"] in CASE_QUERIES:
            # Its reading's trámite is the one the case is about ("¿en qué quedó el traslado?").
            turn.nlu = analyze(item["text"], today=turn.today).but(
                requests=(), case_query=item["tramite"])
        else:
            turn.nlu = analyze(item["text"], today=turn.today).but(
                tramite=item["tramite"], requests=())
        self._start(turn, item["tramite"])

    def decline_offered(self, event) -> None:
        turn: Turn = event.model
        item = turn.data[QUEUED_REQUESTS].pop(0)
        if not turn.data[QUEUED_REQUESTS]:
            turn.data.pop(QUEUED_REQUESTS)
        turn.services.say("offer_next_declined", tramite=request_label(item["tramite"]))

    def decline_and_offer_next(self, event) -> None:
        self.decline_offered(event)
        self.offer(event.model)

    def offer_again(self, event) -> None:
        self.offer(event.model, again=True)

    def offer(self, turn: Turn, again: bool = False) -> None:
        queued = turn.data[QUEUED_REQUESTS]
        turn.services.say("offer_next_request", tramite=request_label(queued[0]["tramite"]),
                          more=len(queued) - 1, again=again)

    def arrive(self, turn: Turn) -> None:
        # Back at the menu after a trámite: the client's next request, if any, is offered.
        if turn.state == "menu" and turn.data.get(QUEUED_REQUESTS) \
                and turn.services.conversation.mode != "human":
            turn.state = "offer_next"
            self.offer(turn)

    def answer_social(self, event) -> None:
        event.model.services.say(f"act_{dialog_act(event.model.text)}")

    def show_menu(self, event) -> None:
        event.model.services.say("menu")

    def show_menu_again(self, event) -> None:
        event.model.services.say("menu", not_understood=True)


def request_label(code: str) -> Tramite:
    """What the client is told a request is: a trámite, or a question about a case already
    open (labels.yaml `case_queries`), which the case-query dialog answers."""
    if code in CASE_QUERIES:
        return Tramite(code, labels()["case_queries"][code], "ejecutivo")
    return tramites()[code]


def tramite_name(code: str) -> str:
    return tramites()[code].name


# An answer to "¿su NIT?" or "¿un contrato?" of a few words ("contrato 300101") is no request.
BARE_ID_WORDS = 5


def is_bare_identification(turn: Turn) -> bool:
    entities = turn.nlu.entities
    named = any(key in entities for key in ("nit", "contracts", "lines"))
    return turn.state != "start" and named and len(turn.text.split()) <= BARE_ID_WORDS


# A correction reaches back to the case just opened and not yet worked on by staff.
CORRECTABLE = (CaseStatus.ABIERTO, CaseStatus.PENDIENTE_REQUISITOS)
CORRECTION_WINDOW = timedelta(hours=2)


def replace_products(words: str, named: dict, today) -> str:
    """The request's words with the product numbers it named replaced by those of the
    correction ("... de la línea 4412345" + "es la 4412346" -> "... de la línea 4412346")."""
    earlier = analyze(words, today=today).entities
    for key in ("lines", "contracts"):
        old, new = earlier.get(key, []), named.get(key, [])
        if old and new:
            words = words.replace(old[0], new[0])
            return words
    # Named differently (a contract where the request said a line): both are read, the
    # correction last.
    return f"{words}\n{' '.join([*named.get('lines', []), *named.get('contracts', [])])}"


def says_no_nit(text: str) -> bool:
    """'No tengo NIT', 'soy persona particular': this channel serves empresas only."""
    normalised = f" {normalise(text)} "
    return any(f" {phrase} " in normalised for phrase in _no_nit_phrases())


_NO_NIT: list[str] = []


def _no_nit_phrases() -> list[str]:
    if not _NO_NIT:
        _NO_NIT.extend(normalise(p) for p in load_rules("identification.yaml")["no_nit"])
    return _NO_NIT
