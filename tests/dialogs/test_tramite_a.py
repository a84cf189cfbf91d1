"""A) Servicios suplementarios, every branch, through the console channel.

Tariff (dialogs/rules/tariffs.yaml `supplementary`), per line: enabling Caller ID Bs 15, PIN / A0
Bs 20, 013 Bs 20, transferencia Bs 15, llamada en espera Bs 10, Centrex Bs 50, tripartita Bs 15;
disabling is free. Charged on the monthly invoice. Requirement: the signed letter.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from bot.models import Staff

IMPORTADORA = "+59170000001"  # lines 4412345, 4412346, 4412347 (ejecutivo mrojas); internet 300104
FARMACIAS = "+59176543006"  # only a duo_pack 4223344
CAFE_TUNARI = "+59179988014"  # internet and a retired line: nothing for A


def staff_id(client, username: str) -> int:
    with client.runtime.sessions() as session:
        return session.scalar(select(Staff.id).where(Staff.username == username))


def rules(client, case) -> list[str]:
    return [e.detail["rule"] for e in client.events(case) if e.kind == "rule"]


def test_everything_at_once_needs_no_question(chat):
    client = chat(IMPORTADORA)
    reply = client.say("quiero habilitar el identificador de llamadas en la línea 4412345")
    assert "Identificador de llamadas" in reply and "4412345" in reply
    assert "Bs 15,00" in reply and "Se cargará en su factura del mes" in reply
    assert "Carta de solicitud" in reply and "adjuntándolos en este chat" in reply
    assert "Ejecutivo(a) Equipo Empresas" in reply and "24 horas" in reply
    case = client.last_case()
    assert case.number in reply
    assert case.tramite == "A" and case.status == "pendiente_requisitos"
    assert case.current_role == "ejecutivo" and case.assignee_id == staff_id(client, "mrojas")
    assert case.data["role_when_complete"] == "gestor_comercial"
    assert case.data["services"] == [{"code": "caller_id", "action": "enable"}]
    assert case.data["lines"] == ["4412345"]
    assert [(c["code"], Decimal(c["amount"]), c["charge"]) for c in case.quoted_costs] == [
        ("supplementary", Decimal("15.00"), "recurrente")]
    assert [(r["code"], r["status"]) for r in case.requirements] == [("carta_solicitud", "missing")]
    assert {"supplementary_tariff", "requirements_missing"} <= set(rules(client, case))


def test_letter_in_the_same_message_goes_straight_to_gestor_comercial(chat, pdf):
    client = chat(IMPORTADORA)
    reply = client.say(
        f"/adjuntar {pdf} solicitamos habilitar la conferencia tripartita en la línea 4412346")
    assert "Bs 15,00" in reply
    assert "Requisitos pendientes" not in reply
    assert "Gestor(a) Comercial Empresas" in reply
    case = client.last_case()
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"
    assert case.assignee_id is None
    assert [r["status"] for r in case.requirements] == ["received"]
    assert "requirements_complete" in rules(client, case)


def test_letter_arriving_later_moves_the_case_to_gestor_comercial(chat, pdf):
    client = chat(IMPORTADORA)
    client.say("quiero activar el centrex en la línea 4412347")
    case = client.last_case()
    assert Decimal(case.quoted_costs[0]["amount"]) == Decimal("50.00")
    reply = client.say(f"/adjuntar {pdf}")
    assert case.number in reply and "Gestor(a) Comercial" in reply
    case = client.last_case()
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"
    kinds = [e.kind for e in client.events(case)]
    assert "requirement_received" in kinds and "derived" in kinds


def test_turn_by_turn_from_the_menu_with_numbered_answers(chat):
    client = chat(IMPORTADORA)
    client.say("Hola")
    lines = client.say("1")
    assert "4412345" in lines and "4412346" in lines and "4412347" in lines
    services = client.say("2")
    assert "1. Identificador de llamadas" in services and "7. Conferencia tripartita" in services
    action = client.say("3")  # categoría 013
    assert "habilitar o deshabilitar" in action and "013" in action
    reply = client.say("deshabilitar")
    assert "Deshabilitar: Categoría de enrutamiento 013" in reply and "4412346" in reply
    assert "no tiene costo" in reply
    case = client.last_case()
    assert case.quoted_costs == []
    assert case.data["services"] == [{"code": "routing_013", "action": "disable"}]


def test_disabling_is_free_but_still_needs_the_letter(chat):
    client = chat(IMPORTADORA)
    reply = client.say("por favor quitar la llamada en espera de la línea 4412345")
    assert "Deshabilitar: Llamada en espera" in reply
    assert "no tiene costo" in reply and "Carta de solicitud" in reply
    case = client.last_case()
    assert case.quoted_costs == [] and case.status == "pendiente_requisitos"


def test_each_service_takes_its_own_action_and_each_line_pays(chat):
    client = chat(IMPORTADORA)
    reply = client.say(
        "habilitar el caller id y quitar la llamada en espera en las líneas 4412345 y 4412346")
    assert "Habilitar: Identificador de llamadas" in reply
    assert "Deshabilitar: Llamada en espera" in reply
    assert "Bs 30,00" in reply  # Bs 15 x 2 lines; disabling is free
    case = client.last_case()
    assert sorted(c["line"] for c in case.quoted_costs) == ["4412345", "4412346"]
    assert case.data["services"] == [{"code": "caller_id", "action": "enable"},
                                     {"code": "call_waiting", "action": "disable"}]


def test_a_request_without_action_word_means_enable(chat):
    client = chat(IMPORTADORA)
    reply = client.say("necesitamos el PIN categoría A0 para la línea 4412347")
    assert "Habilitar: PIN / categoría A0" in reply and "Bs 20,00" in reply


def test_typos_are_understood(chat):
    client = chat(IMPORTADORA)
    reply = client.say("kiero abilitar el identificador de yamadas en la linea 4412345")
    assert "Habilitar: Identificador de llamadas" in reply and "Bs 15,00" in reply


def test_action_is_asked_when_missing(chat):
    client = chat(IMPORTADORA)
    question = client.say("el caller id de la línea 4412345")
    assert "¿Desea habilitar o deshabilitar Identificador de llamadas" in question
    hint = client.say("mañana")
    assert "Disculpe" in hint and "habilitar" in hint
    reply = client.say("activar por favor")
    assert "Habilitar: Identificador de llamadas" in reply and client.cases()


def test_pack_line_is_the_only_candidate(chat):
    client = chat(FARMACIAS)
    reply = client.say("quiero habilitar la llamada en espera")
    assert "4223344" in reply and "Bs 10,00" in reply
    assert any(e.detail.get("rule") == "product_auto" for e in client.events(client.last_case()))


def test_bad_answers_get_a_hint_twice_then_a_person_is_offered(chat):
    client = chat(IMPORTADORA)
    client.say("quiero habilitar un servicio suplementario en la línea 4412345")
    first = client.say("no sé cuál")
    assert "Disculpe, no identifiqué el servicio" in first
    second = client.say("el de siempre")
    assert "Disculpe" in second
    offer = client.say("???")
    assert "ejecutivo" in offer and "sí" in offer
    handoff = client.say("sí")
    assert "ejecutivo" in handoff
    assert client.cases() == []


def test_line_of_another_client_and_product_of_another_type_are_refused(chat):
    client = chat(IMPORTADORA)
    reply = client.say("habilitar caller id en la línea 4316101")  # Tiquipaya's line
    assert "No encontramos 4316101" in reply
    reply = client.say("el contrato 300104")  # the client's internet: no supplementary services
    assert "300104 no corresponde a este trámite" in reply
    assert client.cases() == []


def test_client_without_lines_is_told_so(chat):
    client = chat(CAFE_TUNARI)
    reply = client.say("quiero habilitar el identificador de llamadas")
    assert "No encontramos productos activos" in reply
    assert client.cases() == []
