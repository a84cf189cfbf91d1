"""A dialog's states and transitions laid out as a plain SVG, server-side, no JavaScript.

Layers by breadth-first distance from the initial state; one box per state; one arrow per
(source, destination) pair carrying the triggers and conditions of every transition between them.
The Mermaid source of `Dialog.mermaid()` is shown beside it for anyone who wants the full detail.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from bot.dialog import Dialog

LABELS = Path(__file__).resolve().parent / "rules" / "diagram_labels.yaml"

BOX_W, BOX_H = 170, 40
COL_W, ROW_H = 260, 80
MARGIN = 30


@cache
def labels() -> dict[str, dict[str, str]]:
    """Business Spanish for states, triggers and conditions (rules/diagram_labels.yaml)."""
    return yaml.safe_load(LABELS.read_text(encoding="utf-8"))


def state_label(state: str) -> str:
    return labels()["states"].get(state, state)


def condition_words(trigger: str, conditions: list[str], unless: list[str] = ()) -> str:
    """What makes a transition happen, as staff read it: its conditions, else its trigger."""
    names = labels()["conditions"]
    words = [names.get(c, c) for c in conditions] + [f"no: {names.get(c, c)}" for c in unless]
    return ", ".join(words) if words else labels()["triggers"].get(trigger, trigger)


@dataclass
class Node:
    name: str
    x: int
    y: int
    initial: bool = False

    @property
    def label(self) -> str:
        return state_label(self.name)


@dataclass
class Edge:
    source: str
    dest: str
    labels: list[str] = field(default_factory=list)  # code names, for the Mermaid-minded
    words: list[str] = field(default_factory=list)  # the same in business Spanish
    path: str = ""
    label_x: int = 0
    label_y: int = 0


@dataclass
class Diagram:
    name: str
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int
    rows: list[dict]  # the transition table, for reading


def _names(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def transitions(dialog: Dialog) -> list[dict]:
    states = dialog.state_names
    rows = []
    for t in dialog.transitions:
        sources = states if t["source"] == "*" else _names(t["source"])
        for source in sources:
            row = {"source": source, "dest": t.get("dest") or source, "internal": t.get("dest") is None,
                   "trigger": t["trigger"], "conditions": _names(t.get("conditions")),
                   "unless": _names(t.get("unless")), "after": _names(t.get("after"))}
            row["words"] = condition_words(row["trigger"], row["conditions"], row["unless"])
            rows.append(row)
    return rows


def layout(dialog: Dialog) -> Diagram:
    states = dialog.state_names
    rows = transitions(dialog)
    graph: dict[str, list[str]] = {s: [] for s in states}
    for row in rows:
        if row["dest"] not in graph[row["source"]]:
            graph[row["source"]].append(row["dest"])
    layer = {dialog.initial: 0}
    queue = deque([dialog.initial])
    while queue:
        state = queue.popleft()
        for nxt in graph.get(state, []):
            if nxt not in layer:
                layer[nxt] = layer[state] + 1
                queue.append(nxt)
    deepest = max(layer.values(), default=0)
    for state in states:
        layer.setdefault(state, deepest + 1)
    columns: dict[int, list[str]] = {}
    for state in states:
        columns.setdefault(layer[state], []).append(state)
    nodes = {}
    for col, members in columns.items():
        for row_index, state in enumerate(members):
            nodes[state] = Node(state, MARGIN + col * COL_W, MARGIN + 20 + row_index * ROW_H,
                                initial=state == dialog.initial)
    edges: dict[tuple[str, str], Edge] = {}
    for row in rows:
        edge = edges.setdefault((row["source"], row["dest"]), Edge(row["source"], row["dest"]))
        label = row["trigger"] + (f" [{', '.join(row['conditions'])}]" if row["conditions"] else "")
        if label not in edge.labels:
            edge.labels.append(label)
            words = condition_words(row["trigger"], row["conditions"], row["unless"])
            if words not in edge.words:
                edge.words.append(words)
    for edge in edges.values():
        _route(edge, nodes[edge.source], nodes[edge.dest])
    width = MARGIN * 2 + (max(columns) + 1) * COL_W
    height = MARGIN * 2 + 40 + max(len(m) for m in columns.values()) * ROW_H
    return Diagram(dialog.name, list(nodes.values()), list(edges.values()), width, height, rows)


def _route(edge: Edge, a: Node, b: Node) -> None:
    if a is b:  # self loop above the box
        x, y = a.x + BOX_W // 2, a.y
        edge.path = f"M {x - 20} {y} C {x - 40} {y - 35}, {x + 40} {y - 35}, {x + 20} {y}"
        edge.label_x, edge.label_y = x, y - 30
        return
    if b.x > a.x:  # forward: right side to left side
        x1, y1, x2, y2 = a.x + BOX_W, a.y + BOX_H // 2, b.x, b.y + BOX_H // 2
        mid = (x1 + x2) // 2
        edge.path = f"M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}"
    elif b.x < a.x:  # backward: bottom to bottom, curving below
        x1, y1, x2, y2 = a.x + BOX_W // 2, a.y + BOX_H, b.x + BOX_W // 2, b.y + BOX_H
        low = max(y1, y2) + 30
        edge.path = f"M {x1} {y1} C {x1} {low}, {x2} {low}, {x2} {y2}"
        mid, y1, y2 = (x1 + x2) // 2, low - 8, low - 8
    else:  # same column: along the right side
        x1, y1, x2, y2 = a.x + BOX_W, a.y + BOX_H // 2, b.x + BOX_W, b.y + BOX_H // 2
        edge.path = f"M {x1} {y1} C {x1 + 50} {y1}, {x2 + 50} {y2}, {x2} {y2}"
        mid = x1 + 45
    edge.label_x, edge.label_y = mid, (y1 + y2) // 2 - 4
