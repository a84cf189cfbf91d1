"""G) Detalle de llamadas salientes, every branch, through the console channel."""
from __future__ import annotations

from decimal import Decimal

IMPORTADORA = "+59170000001"  # Importadora El Valle: lines 4412345, 4412346, 4412347
TIQUIPAYA = "+59171722002"  # GAM Tiquipaya: boliviatel 4316102, line 4316101


def test_everything_at_once_needs_no_question(chat):
    client = chat(IMPORTADORA)
    reply = client.say("quiero el detalle de llamadas de agosto y septiembre de la línea 4412345")
    assert "Bs 24,00" in reply
    assert "Carta de solicitud" in reply
    case = client.last_case()
    assert case.number in reply
    assert case.tramite == "G"
    assert case.status == "pendiente_requisitos"
    assert case.current_role == "ejecutivo" and case.assignee_id is not None
    assert "Ejecutivo(a) Equipo Empresas" in reply
    assert [Decimal(c["amount"]) for c in case.quoted_costs] == [Decimal("12.00")] * 2
    assert [r["status"] for r in case.requirements] == ["missing"]
    rules = [e.detail["rule"] for e in client.events(case) if e.kind == "rule"]
    assert "previous_months_cost" in rules


def test_letter_arriving_later_moves_the_case_to_gestor_comercial(chat, pdf):
    client = chat(IMPORTADORA)
    client.say("necesito el detalle de llamadas del mes pasado de la linea 4412345")
    case = client.last_case()
    reply = client.say(f"/adjuntar {pdf}")
    assert case.number in reply
    assert "Gestor(a) Comercial" in reply
    case = client.last_case()
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"
    assert case.requirements[0]["status"] == "received"
    kinds = [e.kind for e in client.events(case)]
    assert "requirement_received" in kinds and "derived" in kinds


def test_current_month_is_free_and_needs_no_letter(chat):
    client = chat(IMPORTADORA)
    reply = client.say("detalle de llamadas de este mes de la línea 4412346")
    assert "no tiene costo" in reply
    assert "Requisitos pendientes" not in reply
    case = client.last_case()
    assert case.quoted_costs == [] and case.requirements == []
    assert case.current_role == "gestor_comercial" and case.status == "en_proceso"


def test_boliviatel_line_is_free_without_letter_and_stays_with_the_ejecutivo(chat):
    client = chat(TIQUIPAYA)
    reply = client.say("Solicitamos el detalle de llamadas de la línea 4316102 de agosto y septiembre")
    assert "no tiene costo" in reply
    assert "Carta" not in reply
    case = client.last_case()
    assert case.current_role == "ejecutivo" and case.requirements == []
    assert any(e.detail.get("rule") == "boliviatel_free" for e in client.events(case))


def test_turn_by_turn_with_line_chosen_from_the_list(chat):
    client = chat(IMPORTADORA)
    client.say("Hola")
    lines = client.say("7")
    assert "4412345" in lines and "4412346" in lines and "4412347" in lines
    months = client.say("2")
    assert "mes" in months
    reply = client.say("agosto")
    assert "4412346" in reply and "Bs 12,00" in reply


def test_several_lines_are_priced_per_line(chat):
    client = chat(IMPORTADORA)
    client.say("detalle de llamadas de octubre")
    reply = client.say("1 y 2")
    assert "Bs 24,00" in reply  # one previous month on each of two lines
    assert sorted(client.last_case().data["lines"]) == ["4412345", "4412346"]


def test_bad_answers_get_a_hint_twice_then_a_person_is_offered(chat):
    client = chat(IMPORTADORA)
    client.say("detalle de llamadas de la línea 4412345")
    first = client.say("no sé")
    assert "Disculpe" in first and "mes" in first
    second = client.say("el que sea")
    assert "Disculpe" in second
    offer = client.say("???")
    assert "ejecutivo" in offer and "sí" in offer
    handoff = client.say("sí")
    assert "ejecutivo" in handoff
    assert client.cases() == []


def test_future_month_is_refused_with_the_reason(chat):
    client = chat(IMPORTADORA)
    reply = client.say("detalle de llamadas de diciembre de 2026 de la línea 4412345")
    assert "diciembre de 2026" in reply and "aún no" in reply
    assert client.cases() == []


def test_line_of_another_client_is_refused(chat):
    client = chat(IMPORTADORA)
    reply = client.say("detalle de llamadas de octubre de la línea 4316101")  # Tiquipaya's line
    assert "No encontramos 4316101" in reply
    assert client.cases() == []
