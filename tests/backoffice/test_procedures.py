"""Procedimientos: every dialog drawn server-side, its Mermaid source beside it."""
from __future__ import annotations

import re

from backoffice import diagrams
from dialogs.registry import dialogs


def test_every_state_of_every_dialog_is_drawn_once():
    for name, dialog in dialogs().items():
        diagram = diagrams.layout(dialog)
        assert sorted(n.name for n in diagram.nodes) == sorted(dialog.state_names), name
        positions = {(n.x, n.y) for n in diagram.nodes}
        assert len(positions) == len(diagram.nodes), name  # no two boxes on top of each other


def test_tramite_g_edges_carry_their_conditions():
    diagram = diagrams.layout(dialogs()["tramite_G"])
    labels = {(e.source, e.dest): e.labels for e in diagram.edges}
    assert "message [needs_months]" in labels[("choose_lines", "ask_months")]
    assert any(r["source"] == "offer_human" and r["conditions"] == ["said_yes"] for r in diagram.rows)


def test_procedure_page_renders_svg_and_mermaid_and_highlights_a_state(staff, login):
    client = login("mrojas")
    index = client.get("/backoffice/procedimientos").text
    for name in dialogs():
        assert f'/backoffice/procedimientos/{name}"' in index
    page = client.get("/backoffice/procedimientos/tramite_G?estado=ask_months").text
    assert '<svg class="diagram"' in page
    assert re.search(r'<g class="node current[^"]*" data-state="ask_months">', page)
    assert page.count('class="node current') == 1
    assert "stateDiagram-v2" in page
    assert client.get("/backoffice/procedimientos/no_existe").status_code == 404


def test_every_state_and_condition_has_a_business_name():
    # Issue 15: diagrams read `ask_nit` / `has_no_candidates`; staff read procedure steps.
    names = diagrams.labels()
    missing = set()
    for dialog in dialogs().values():
        missing |= {s for s in dialog.state_names if s not in names["states"]}
        for row in diagrams.transitions(dialog):
            missing |= {c for c in row["conditions"] + row["unless"] if c not in names["conditions"]}
            missing |= {row["trigger"]} - set(names["triggers"])
    assert missing == set()


def test_the_diagram_boxes_and_arrows_read_in_business_spanish(staff, login):
    page = login("mrojas").get("/backoffice/procedimientos/tramite_G?estado=ask_months").text
    svg = page.split('<svg class="diagram"', 1)[1].split("</svg>", 1)[0]
    # What is drawn (box and arrow text, tooltips aside) is Spanish words, never a code name.
    drawn = " ".join(re.findall(r">([^<>]+)</(?:tspan|text)>", svg))
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", drawn), drawn
    assert "Pide los meses" in drawn and "falta el periodo" not in drawn and "faltan los meses" in drawn
    assert "Paso resaltado: <strong>Pide los meses</strong>" in page

