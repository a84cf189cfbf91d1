"""Issue 13, item 2: corrections ("perdón, es la 4412346") through the console channel on both
databases. The earlier case is withdrawn and the request read again with the right product, never
a second case that charges both; during a trámite the product named in the correction replaces
the one taken. Today is 2026-11-28."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from bot.models import StaffTask

IMPORTADORA = "+59170000001"  # lines 4412345 (300101), 4412346 (300102), 4412347 (300103)


def test_a_correction_after_the_case_withdraws_it_and_registers_the_right_line(chat):
    client = chat(IMPORTADORA)
    client.say("necesito el detalle de llamadas de octubre de la línea 4412345")
    first = client.last_case()
    reply = client.say("perdón, es la 4412346")
    assert "corregimos su solicitud" in reply and first.number in reply
    assert "Línea 4412346: octubre de 2026" in reply and "4412345" not in reply
    old, new = client.cases()
    assert old.status == "anulado" and new.status == "pendiente_requisitos"
    assert new.tramite == "G" and new.data["lines"] == ["4412346"]
    # One charge in force: Bs 12 for October's detail of the right line (tariffs.yaml).
    assert [Decimal(c["amount"]) for c in new.quoted_costs] == [Decimal("12.00")]
    withdrawn = [e for e in client.events(old) if e.kind == "withdrawn"]
    assert len(withdrawn) == 1 and withdrawn[0].detail["corrected"] is True
    with client.runtime.sessions() as session:  # no task: the corrected case replaces it
        assert session.scalars(select(StaffTask).where(StaffTask.kind == "case_withdrawn")).all() == []


def test_a_correction_during_the_trámite_replaces_the_product(chat):
    client = chat(IMPORTADORA)
    client.say("la línea 4412345 no tiene tono")
    client.say("perdón, es la 4412346")  # at the address/phone question: not the phone
    reply = client.say("sí, 71234567")
    assert "Línea fija 4412346" in reply and "+591 71234567" in reply
    case = client.last_case()
    assert case.data["contract"] == "300102" and case.data["phone"] == "+59171234567"
    assert len(client.cases()) == 1


def test_a_new_request_naming_a_line_is_not_a_correction(chat):
    client = chat(IMPORTADORA)
    client.say("necesito el detalle de llamadas de octubre de la línea 4412345")
    client.say("menú")
    client.say("necesito también el detalle de llamadas de octubre de la línea 4412346")
    assert [c.status for c in client.cases()] == ["pendiente_requisitos", "pendiente_requisitos"]


def test_a_change_of_mind_withdraws_the_request_just_made(chat):
    client = chat(IMPORTADORA)
    client.say("necesito el detalle de llamadas de octubre de la línea 4412345")
    first = client.last_case()
    reply = client.say("pensándolo bien, mejor quiero la migración a fibra del contrato 300101")
    assert f"anulamos la solicitud {first.number}" in reply
    assert "Para migrar a fibra óptica" in reply and "contrato 300101" in reply
    client.say("sí")  # accepts a possible excess-cable charge: K's case opens
    old, new = client.cases()
    assert old.status == "anulado" and old.tramite == "G"
    assert new.tramite == "K" and new.status not in ("anulado",)
