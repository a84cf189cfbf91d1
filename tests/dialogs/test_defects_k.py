"""K) Migración a fibra: defects of issue 13, each test through the console channel (2026-11-28)."""
from __future__ import annotations

FARMACIAS = "+59176543006"  # duo_pack 300601 cobre, its only product


def test_summary_states_the_possible_excess_cable_charge_not_no_cost(chat):
    client = chat(FARMACIAS)
    question = client.say("quiero migrar a fibra")
    assert "Bs 3,50" in question
    summary = client.say("sí")
    assert "no tiene costo" not in summary.lower().replace("no tiene otro costo", "")
    costs = summary[summary.index("Costo"):summary.index("Número de caso")]
    assert "Bs 3,50" in costs and "150" in costs and "solo si" in costs
    case = client.last_case()
    assert case.tramite == "K" and case.quoted_costs == []  # nothing is charged yet
