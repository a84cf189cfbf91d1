"""Declared slots: every trámite says what it asks, and the base writes what a slot implies."""
from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.dialog import CALLBACK_KEYS, Turn
from bot.understanding.slots import Slot
from dialogs.tramite import TramiteDialog, on_input
from dialogs.tramite_a import SupplementaryServicesDialog
from dialogs.tramite_d import SuspensionDialog
from dialogs.tramite_g import CallDetailDialog
from dialogs.tramite_k import FiberMigrationDialog

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "templates" / "messages"
# The trámite modules, imported one by one: the registry would import every dialog module (and
# the campaigns behind them) while the tests are being collected.
LETTERS = sorted(p.stem[-1].upper() for p in (ROOT / "dialogs").glob("tramite_?.py"))


def tramite(letter: str) -> TramiteDialog:
    module = importlib.import_module(f"dialogs.tramite_{letter.lower()}")
    cls = next(c for c in vars(module).values() if isinstance(c, type)
               and issubclass(c, TramiteDialog) and vars(c).get("name") == f"tramite_{letter}")
    return cls()


def test_every_tramite_module_is_checked():
    assert LETTERS == list("ABCDEFGHIJKL")


@pytest.mark.parametrize("letter", LETTERS)
def test_every_tramite_declares_its_slots(letter):
    dialog = tramite(letter)
    cls = type(dialog)
    assert "slots" in vars(cls), f"{cls.__name__} declares no slots"
    for slot in cls.slots:
        assert slot.state in dialog.state_names, slot
        assert (MESSAGES / f"{slot.ask}.j2").is_file(), slot
    assert cls.slot_states == {slot.state: slot.name for slot in cls.slots}
    if dialog.product_types:
        assert "products" in {slot.name for slot in cls.slots}


@pytest.mark.parametrize("letter", LETTERS)
def test_every_name_in_a_table_is_a_method_of_its_dialog(letter):
    dialog = tramite(letter)
    for transition in type(dialog).transitions:
        for key in CALLBACK_KEYS:
            names = transition.get(key) or []
            for name in [names] if isinstance(names, str) else names:
                assert callable(getattr(dialog, name, None)), f"{dialog.name}: {key} {name}"


def test_conditions_and_questions_are_generated_for_a_shared_parser():
    assert CallDetailDialog.needs_months.slot_name == "months"
    assert CallDetailDialog.ask_months.slot_name == "months"
    assert FiberMigrationDialog.needs_accepts_excess.slot_name == "accepts_excess"
    # Nothing the table does not name: D's start date is asked with more than a hint.
    assert not hasattr(SuspensionDialog, "ask_starts_on")
    assert not hasattr(SuspensionDialog, "needs_starts_on")


def test_a_dialog_that_writes_its_own_condition_or_question_keeps_it():
    # A asks for the action of each service still without one: not "the data has no action".
    needs_action = SupplementaryServicesDialog.needs_action
    assert needs_action is vars(SupplementaryServicesDialog)["needs_action"]
    assert not hasattr(needs_action, "slot_name")
    event = SimpleNamespace(model=SimpleNamespace(data={"action": "enable",
                                                        "services": {"caller_id": None}}))
    assert SupplementaryServicesDialog().needs_action(event) is True
    # K's question shows the cable terms; its own method stays.
    assert FiberMigrationDialog.ask_excess is vars(FiberMigrationDialog)["ask_excess"]


def test_slot_states_cannot_be_declared_by_hand():
    with pytest.raises(TypeError, match="declare `slots`"):
        type("Old", (TramiteDialog,), {"slot_states": {"ask_x": "x"}})


# --- a trámite that is only a table and its slots ------------------------------------------------
COLLECTING = ["start", "ask_months", "ask_ok"]


class ToyDialog(TramiteDialog):
    """No extract, no needs_* and no ask_* methods: the slots give them."""

    name = "toy"  # defined in a test module: the registry never sees it
    code = "G"
    initial = "start"
    states = [*COLLECTING, "offer_human", "done"]
    slots = (
        Slot("months", "months", "ask_months", "G_ask_months", parser="past_months"),
        Slot("ok", "yes_no", "ask_ok", "toy_ask_ok", parser="yes_no"),
    )
    transitions = [
        *on_input(COLLECTING, "offer_human", conditions="gave_up", after="offer_human"),
        *on_input(COLLECTING, "ask_months", conditions="needs_months", after="ask_months"),
        *on_input(COLLECTING, "ask_ok", conditions="needs_ok", after="ask_ok"),
        *on_input(COLLECTING, "done"),
    ]


class Said:
    def __init__(self):
        self.replies = []

    def say(self, template, **context):
        self.replies.append((template, context))


def send(dialog, previous: Turn | None, text: str, months=()) -> Turn:
    turn = Turn(state=previous.state if previous else dialog.initial,
                data=previous.data if previous else {}, text=text,
                nlu=SimpleNamespace(entities={"months": list(months)}),
                today=date(2026, 11, 20), services=previous.services if previous else Said())
    dialog.fire(turn, "message" if previous else "start")
    return turn


def test_a_table_with_slots_only_asks_rereads_and_finishes():
    dialog = ToyDialog()
    turn = send(dialog, None, "sí")  # a yes before the question is no answer to it
    assert turn.state == "ask_months" and "ok" not in turn.data
    assert turn.services.replies[-1] == ("G_ask_months", {"hint": False, "future": []})

    turn = send(dialog, turn, "diciembre", months=["2026-12"])  # still to come: asked again
    assert turn.state == "ask_months" and turn.data["retries"] == {"ask_months": 1}
    assert turn.services.replies[-1] == ("G_ask_months", {"hint": True, "future": ["2026-12"]})

    turn = send(dialog, turn, "agosto y septiembre", months=["2026-09", "2026-08"])
    assert turn.data["months"] == ["2026-08", "2026-09"] and turn.data["retries"] == {}
    assert turn.state == "ask_ok"
    assert turn.services.replies[-1] == ("toy_ask_ok", {"hint": False})

    turn = send(dialog, turn, "dale")
    assert turn.state == "done" and turn.data["ok"] is True


def test_a_toy_slot_left_unanswered_offers_a_person():
    dialog = ToyDialog()
    turn = send(dialog, None, "hola")
    for _ in range(3):
        turn = send(dialog, turn, "no sé")
    assert turn.state == "offer_human"
    assert turn.services.replies[-1] == ("offer_human", {})
