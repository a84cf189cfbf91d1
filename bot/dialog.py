"""The shared-machine pattern: one `Machine(model=None)` per dialog, built once per process.

Per message the engine puts the persisted state on a fresh `Turn` and fires an event with
`machine.events[name].trigger(turn)`. Nothing stays registered in the machine, nothing lives only
in memory. Conditions and callbacks are written as method names in the table and resolved to the
dialog's bound methods here, so the table stays plain data.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from transitions import Machine

TRAMITE_DIALOG_PREFIX = "tramite_"  # trámite X is handled by the dialog named tramite_X
INTAKE_DIALOG = "intake"
CALLBACK_KEYS = ("conditions", "unless", "prepare", "before", "after")
STATE_CALLBACK_KEYS = ("on_enter", "on_exit")
# Collected data belongs to one dialog run and is cleared when another dialog takes over, but
# for these keys: what the dialog being started is for ...
START_KEYS = ("tramite", "case_query")
# ... and the requests of the client still to handle, which outlive every dialog run.
QUEUED_REQUESTS = "queued_requests"


@dataclass
class Turn:
    """The plain model object a dialog machine runs on while one message is handled."""

    state: str
    data: dict
    text: str
    nlu: Any  # bot.nlu.NluResult
    today: date
    services: Any  # bot.turn.TurnServices: replies, cases, client data
    jump: tuple[str, str | None] | None = None  # (dialog, state or None = start it)
    scratch: dict = field(default_factory=dict)  # per-message values, never persisted
    # Every dialog of the process, by name (the engine's registry): for dialogs that hand over.
    dialogs: Mapping[str, Dialog] = field(default_factory=dict)

    def start_dialog(self, name: str) -> None:
        self.jump = (name, None)

    def start_tramite(self, code: str) -> None:
        """Start the trámite's own dialog on this same message; the generic intake takes a trámite
        that has none."""
        self.data["tramite"] = code
        name = f"{TRAMITE_DIALOG_PREFIX}{code}"
        self.start_dialog(name if name in self.dialogs else INTAKE_DIALOG)

    def go_to(self, name: str, state: str) -> None:
        self.jump = (name, state)


class Dialog:
    """Subclasses declare `name`, `initial`, `states` and `transitions` as data."""

    name: ClassVar[str]
    initial: ClassVar[str]
    states: ClassVar[list]
    transitions: ClassVar[list[dict]]
    # Runs once per event before any condition (a per-transition `prepare` would run once for
    # every candidate transition): the place to read the message into the collected data.
    prepare_event: ClassVar[str | None] = None

    def __init__(self) -> None:
        self.machine = Machine(
            model=None,
            states=[self._resolve_state(s) for s in self.states],
            transitions=[self._resolve(t) for t in self.transitions],
            initial=None,
            auto_transitions=False,
            send_event=True,
            prepare_event=self._callables(self.prepare_event) if self.prepare_event else None,
        )

    def _callables(self, names):
        names = [names] if isinstance(names, str) else list(names)
        return [getattr(self, n) for n in names]

    def _resolve(self, transition: dict) -> dict:
        resolved = dict(transition)
        for key in CALLBACK_KEYS:
            if key in resolved:
                resolved[key] = self._callables(resolved[key])
        return resolved

    def _resolve_state(self, state):
        if isinstance(state, str):
            return state
        resolved = dict(state)
        for key in STATE_CALLBACK_KEYS:
            if key in resolved:
                resolved[key] = self._callables(resolved[key])
        return resolved

    @property
    def state_names(self) -> list[str]:
        return list(self.machine.states)

    def arrive(self, turn: Turn) -> None:
        """Called when another dialog hands over to a state of this one (`Turn.go_to`): the
        place to say what comes next; it may change `turn.state`, not jump. By default nothing."""

    def fire(self, turn: Turn, event: str) -> bool:
        if turn.state not in self.machine.states:
            # A state renamed by a deploy: restart this dialog rather than crash the message.
            turn.state = self.initial
        return self.machine.events[event].trigger(turn)

    def mermaid(self) -> str:
        """The dialog as a Mermaid state diagram (offline only: GraphMachine leaks per model)."""
        from transitions.extensions import GraphMachine

        class _Model:
            pass

        model = _Model()
        GraphMachine(  # binds get_graph() to the model
            model=model,
            states=[s if isinstance(s, str) else {"name": s["name"]} for s in self.states],
            transitions=[
                {k: v for k, v in t.items() if k in ("trigger", "source", "dest", "conditions", "unless")}
                for t in self.transitions
            ],
            initial=self.initial,
            auto_transitions=False,
            graph_engine="mermaid",
            show_conditions=True,
            title=self.name,
        )
        return model.get_graph().draw(None)
