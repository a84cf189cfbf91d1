"""What a dialog asks for, declared as data: one `Slot` per collecting state.

A slot names the data key the answer fills, what kind of answer it is, the state that asks for
it and the template of the question. A slot with a `parser` is read by one of the shared parsers
below, so its dialog writes no code for it; a slot without one is read by the dialog's own
`extract`. Dialogs get `needs_<name>` and `ask_<name>` from `add_methods` when their table names
them and they do not write them: the table's conditions and callbacks name them like any other
method.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import nlu

if TYPE_CHECKING:
    from bot.dialog import Turn

# The kinds of answer a slot may hold: a short word for readers of the table (and the checks).
KINDS = frozenset({
    "products",  # contracts of the client, read by the trámite base class
    "services",  # supplementary services with their action
    "choice",    # one of a few options (an action, a plan, a component, an offer)
    "text",      # the client's own words (a reason, a description)
    "yes_no",
    "date",
    "dates",     # days and times offered for a visit
    "month",
    "months",
    "number",
    "phone",
    "address",
    "fields",    # contact data fields with their new values
})


@dataclass(frozen=True)
class Slot:
    """One question of a dialog. Two states may fill the same key (E confirms the address, then
    asks for another): each is a slot, and the dialog writes that key's `ask_<name>` itself."""

    name: str  # the data key the answer fills
    kind: str
    state: str  # the collecting state that asks for it
    ask: str  # the template of the question (templates/messages/<ask>.j2)
    parser: str | None = None  # a key of PARSERS; None: the dialog's `extract` reads it

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"slot {self.name}: unknown kind {self.kind!r}")
        if self.parser is not None:
            if self.parser not in PARSERS:
                raise ValueError(f"slot {self.name}: unknown parser {self.parser!r}")
            if PARSERS[self.parser].kind != self.kind:
                raise ValueError(f"slot {self.name}: parser {self.parser!r} reads "
                                 f"{PARSERS[self.parser].kind}, not {self.kind}")


def _no_context(turn: Turn) -> dict:
    return {}


@dataclass(frozen=True)
class Parser:
    kind: str
    read: Callable[[Turn], Any]  # the value of the answer, or None when it gives none
    # Read in any state, not only when asked: a request written in full may carry it.
    anywhere: bool = False
    # What the question shows about an answer that was refused (the re-ask explains why).
    context: Callable[[Turn], dict] = _no_context


# --- the shared parsers -------------------------------------------------------------------------
def yes_no(turn: Turn) -> bool | None:
    """"sí", "dale", "correcto", "así es" / "no", "mejor no"; None when neither."""
    return nlu.yes_no(turn.text)


def past_months(turn: Turn) -> list[str] | None:
    """The months named ("agosto y septiembre"), up to the current one. A month still to come
    takes nothing: it is noted in scratch["future_months"] for the question."""
    months = turn.nlu.entities.get("months") or []
    current = turn.today.strftime("%Y-%m")
    future = [m for m in months if m > current]
    if future:
        turn.scratch["future_months"] = future
        return None
    return sorted(set(months)) or None


def _future_months(turn: Turn) -> dict:
    return {"future": turn.scratch.get("future_months", [])}


PARSERS: dict[str, Parser] = {
    "yes_no": Parser("yes_no", yes_no),
    "past_months": Parser("months", past_months, anywhere=True, context=_future_months),
}


# --- what the dialog base does with them ---------------------------------------------------------
def fill(slots: Iterable[Slot], turn: Turn) -> set[str]:
    """Read the slots that have a shared parser and are still empty: in their own state, or in
    any state when the parser says so. Returns the keys filled."""
    filled: set[str] = set()
    for slot in slots:
        if slot.parser is None or slot.name in turn.data:
            continue
        parser = PARSERS[slot.parser]
        if not (parser.anywhere or turn.state == slot.state):
            continue
        value = parser.read(turn)
        if value is not None:
            turn.data[slot.name] = value
            filled.add(slot.name)
    return filled


def _needs(name: str):
    def needs(self, event) -> bool:
        return name not in event.model.data

    needs.__name__ = f"needs_{name}"
    needs.__doc__ = f"The collected data has no {name!r} yet (generated from the slot)."
    needs.slot_name = name
    return needs


def _ask(slot: Slot):
    context = PARSERS[slot.parser].context if slot.parser else _no_context

    def ask(self, event) -> None:
        turn = event.model
        turn.services.say(slot.ask, hint=turn.scratch.get("hint", False), **context(turn))

    ask.__name__ = f"ask_{slot.name}"
    ask.__doc__ = f"Ask with {slot.ask!r}, with a hint after an answer not understood (generated)."
    ask.slot_name = slot.name
    return ask


def _missing(cls: type, attribute: str) -> bool:
    """Not written by the class or a parent (one generated for a parent's slots is replaced)."""
    existing = getattr(cls, attribute, None)
    return existing is None or hasattr(existing, "slot_name")


def add_methods(cls: type, slots: tuple[Slot, ...], *, named: set[str]) -> None:
    """`needs_<name>` (the data lacks the key) and `ask_<name>` (the slot's template with
    `hint`) for every slot whose dialog does not write them and whose table `named` them: a
    question whose template needs more than `hint` is never generated unasked. A key asked in
    two states gets no generated `ask_`: which question to ask is the dialog's to say."""
    keys = [slot.name for slot in slots]
    for slot in slots:
        needs, ask = f"needs_{slot.name}", f"ask_{slot.name}"
        if needs in named and _missing(cls, needs):
            setattr(cls, needs, _needs(slot.name))
        if ask in named and keys.count(slot.name) == 1 and _missing(cls, ask):
            setattr(cls, ask, _ask(slot))
