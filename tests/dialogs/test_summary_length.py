"""Summaries on WhatsApp/chat stay short (about 600 characters); the case keeps every detail.

Through the console channel (a chat channel, like WhatsApp), today 2026-11-28.
"""
from __future__ import annotations

import pytest

IMPORTADORA = "+59170000001"  # lines 4412345/4412346 (300101/300102), internet 300104
PANIFICADORA = "+59170998008"  # line 4432211 (300802) and internet 300801, inside the permanence
FARMACIAS = "+59176543006"  # duo_pack 300601/4223344
MAX_CHARS = 600


@pytest.mark.parametrize("messages", [
    # C: two products moved, costs and requirements
    ["quiero trasladar la línea 4412345 y la 4412346",
     "Av. Heroínas 789, Zona Central, Cochabamba, frente a la plaza"],
    # H: two products retired, penalties and last bills (4 costs)
    ["quiero dar de baja la línea 4432211 y el internet porque cerramos la sucursal", "sí"],
    # E: a pack with two services down
    ["no tenemos internet ni línea en la farmacia", "las luces están en rojo", "unos 5",
     "el wifi llega bien", "sí, 71234567"],
], ids=["C", "H", "E"])
def test_a_multi_product_summary_stays_short_on_chat(chat, messages):
    sender = FARMACIAS if "farmacia" in messages[0] else (
        PANIFICADORA if "4432211" in messages[0] else IMPORTADORA)
    client = chat(sender)
    for text in messages:
        summary = client.say(text)
    assert "Resumen de su solicitud" in summary
    case = client.last_case()
    assert case.number in summary
    assert len(summary) <= MAX_CHARS, summary


def test_the_short_summary_keeps_the_total_and_the_case_keeps_each_cost(chat):
    client = chat(PANIFICADORA)
    client.say("quiero dar de baja la línea 4432211 y el internet porque cerramos la sucursal")
    summary = client.say("sí")
    assert "Total: Bs 5.660,67" in summary and "Bs 4.350,00" in summary
    case = client.last_case()
    assert len(case.quoted_costs) == 4
    assert "Av. Aniceto Arce 980" in case.summary  # staff read the full product labels
