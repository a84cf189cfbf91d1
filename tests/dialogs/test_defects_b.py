"""B) Cambio de plan: defects of issue 13, through the console channel.

"duo pack" and "multipack" name a product, not a change of plan: a damage report or a retiro
about one must never show the plan list. (Regression tests: checked after the NLU was replaced
by the hybrid model, the messages below were already routed right.)
"""
from __future__ import annotations

import pytest

FARMACIAS = "+59176543006"  # only a duo_pack 300601 (4223344), activo
TIQUIPAYA = "+59171722002"  # multipack 300201 (4316100), activo
AGROINDUSTRIAS = "+59171555010"  # multipack 301001 (4578899), suspendido
SUPERMERCADOS = "+59160011013"  # duo_pack 301301 (4251010), activo

PLAN_QUESTION = "¿A qué plan desea cambiar?"


@pytest.mark.parametrize(("sender", "text"), [
    (FARMACIAS, "el duo pack no tiene internet desde ayer"),
    (TIQUIPAYA, "el multipack está sin internet desde la mañana"),
    (SUPERMERCADOS, "el duo pack no tiene tono"),
])
def test_b_damage_report_about_a_pack_is_not_a_change_of_plan(chat, sender, text):
    client = chat(sender)
    reply = client.say(text)
    assert PLAN_QUESTION not in reply and "por mes" not in reply
    assert all(case.tramite != "B" for case in client.cases())


@pytest.mark.parametrize(("sender", "text"), [
    (AGROINDUSTRIAS, "quiero dar de baja el multipack 301001"),
    (FARMACIAS, "queremos retirar el duo pack"),
])
def test_b_retiro_of_a_pack_is_not_a_change_of_plan(chat, sender, text):
    client = chat(sender)
    reply = client.say(text)
    assert PLAN_QUESTION not in reply and "por mes" not in reply
    assert "motivo del retiro" in reply or "retiro" in reply
    assert all(case.tramite != "B" for case in client.cases())
