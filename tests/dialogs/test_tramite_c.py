"""C) Traslado de productos, every branch, through the console channel.

Tariff (dialogs/rules/tariffs.yaml `relocation`): Bs 120 per product moved, on the monthly invoice;
a move with a change of technology adds a new installation, Bs 250 per product (quoted as
information only). Requirements: the signed letter and a croquis of the new address.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.models import Staff

IMPORTADORA = "+59170000001"  # lines 300101-300103, internet 300104; Cochabamba (mrojas)
CONSTRUCTORA = "+59172233003"  # internet 300301 and line 300302 (lvargas)
TRANSPORTES = "+59168765007"  # line 300701 and hspa 300702/76012345


@pytest.fixture
def croquis(tmp_path):
    path = tmp_path / "croquis.pdf"
    path.write_bytes(b"%PDF-1.4\n% croquis\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    return path


def rules(client, case) -> list[str]:
    return [e.detail["rule"] for e in client.events(case) if e.kind == "rule"]


def test_everything_at_once_needs_no_question(chat):
    client = chat(IMPORTADORA)
    reply = client.say("queremos trasladar el internet a Av. Heroínas 789, Zona Central, "
                       "Cochabamba, frente a la plaza 14 de Septiembre")
    assert ("Nueva dirección: Av. Heroínas 789, Zona Central, Cochabamba, "
            "frente a la plaza 14 de Septiembre") in reply
    assert "Traslado de Internet (contrato 300104" in reply and "Bs 120,00" in reply
    assert "Se cargará en su factura del mes" in reply
    assert "cambio de tecnología" in reply and "devolver los equipos" in reply
    assert "Nueva instalación de Internet (contrato 300104" in reply and "Bs 250,00" in reply
    assert "Total: Bs 120,00" in reply  # the new installation is not charged
    assert "Carta de solicitud" in reply and "Croquis" in reply
    case = client.last_case()
    assert case.number in reply and "Ejecutivo(a) Equipo Empresas" in reply
    assert case.tramite == "C" and case.status == "pendiente_requisitos"
    assert case.current_role == "ejecutivo"
    with client.runtime.sessions() as session:
        mrojas = session.scalar(select(Staff.id).where(Staff.username == "mrojas"))
    assert case.assignee_id == mrojas
    assert case.data["role_when_complete"] == "gestor_comercial"
    assert case.data["next_roles"] == ["gestor_tecnico", "ejecutivo"]
    assert case.data["contracts"] == ["300104"]
    assert case.data["new_address"] == {
        "street": "Av. Heroínas 789", "number": "789", "zone": "Zona Central", "city": "Cochabamba",
        "reference": "frente a la plaza 14 de Septiembre"}
    assert [(c["code"], Decimal(c["amount"]), c["charge"]) for c in case.quoted_costs] == [
        ("relocation", Decimal("120.00"), "recurrente")]
    assert [(c["code"], Decimal(c["amount"])) for c in case.data["conditional_costs"]] == [
        ("new_installation", Decimal("250.00"))]
    assert [r["code"] for r in case.requirements] == ["carta_solicitud", "croquis"]
    assert {"products_named", "relocation_tariff", "technical_feasibility",
            "requirements_missing"} <= set(rules(client, case))


def test_only_the_missing_parts_are_asked_and_the_city_is_kept(chat):
    client = chat(IMPORTADORA)
    first = client.say("trasladar la línea 4412345 a la calle España")
    assert "número de puerta" in first and "zona o barrio" in first and "referencia" in first
    assert "ciudad" not in first
    second = client.say("345")
    assert "número de puerta" not in second and "zona o barrio" in second and "referencia" in second
    third = client.say("Zona Central")
    assert "zona o barrio" not in third and "referencia" in third
    reply = client.say("cerca del correo")
    assert "Nueva dirección: calle España 345, Zona Central, Cochabamba, cerca del correo" in reply
    case = client.last_case()
    assert case.data["new_address"]["city"] == "Cochabamba"
    assert "city_default" in rules(client, case)


def test_several_products_chosen_from_the_list_pay_each(chat):
    client = chat(IMPORTADORA)
    client.say("Hola")
    products = client.say("3")
    assert "4. Internet (contrato 300104" in products and "puede indicar varios" in products
    address = client.say("1 y 4")
    assert "¿A qué dirección" in address
    reply = client.say("Av. América 1234 zona norte cochabamba frente al parque")
    assert "Nueva dirección: Av. América 1234, zona norte, Cochabamba, frente al parque" in reply
    assert "Total: Bs 240,00" in reply  # 2 x Bs 120
    assert sorted(client.last_case().data["contracts"]) == ["300101", "300104"]


def test_all_products_and_the_current_street_is_not_the_new_one(chat):
    client = chat(CONSTRUCTORA)
    reply = client.say("nos mudamos de la Av. Blanco Galindo Km 4, queremos trasladar todos los "
                       "servicios a la Av. Blanco Galindo Km 10, Zona Oeste, Quillacollo, "
                       "al lado del surtidor")
    assert "Av. Blanco Galindo Km 10, Zona Oeste, Quillacollo, al lado del surtidor" in reply
    assert "Total: Bs 240,00" in reply
    case = client.last_case()
    assert sorted(case.data["contracts"]) == ["300301", "300302"]
    assert case.data["new_address"]["number"] == "10"


def test_documents_sent_while_collecting_complete_the_case(chat, pdf, croquis):
    client = chat(IMPORTADORA)
    client.say("trasladar el internet a la calle España 345")
    kept = client.say(f"/adjuntar {croquis}")
    assert "Recibimos su documento" in kept
    reply = client.say(f"/adjuntar {pdf} Zona Central, frente al correo")
    assert "Requisitos pendientes" not in reply and "Gestor(a) Comercial Empresas" in reply
    case = client.last_case()
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"
    assert [r["status"] for r in case.requirements] == ["received", "received"]
    assert "requirements_complete" in rules(client, case)


def test_documents_arriving_later_one_by_one(chat, pdf, croquis):
    client = chat(IMPORTADORA)
    client.say("trasladar el internet a Av. Heroínas 789, Zona Central, frente a la plaza")
    case = client.last_case()
    first = client.say(f"/adjuntar {pdf}")
    assert case.number in first and "Aún falta" in first and "Croquis" in first
    assert client.last_case().status == "pendiente_requisitos"
    second = client.say(f"/adjuntar {croquis}")
    assert "Gestor(a) Comercial" in second
    case = client.last_case()
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"


def test_an_address_without_street_gets_a_hint_then_a_person_is_offered(chat):
    client = chat(IMPORTADORA)
    client.say("queremos trasladar el internet")
    first = client.say("a otro lado")
    assert "Disculpe, no logré completar la dirección" in first and "calle o avenida" in first
    second = client.say("no sé todavía")
    assert "Disculpe" in second
    offer = client.say("???")
    assert "ejecutivo" in offer and "sí" in offer
    handoff = client.say("sí")
    assert "ejecutivo" in handoff
    assert client.cases() == []


def test_hspa_cannot_be_moved(chat):
    client = chat(TRANSPORTES)
    reply = client.say("queremos trasladar el hspa 76012345 a la calle Bolívar 120, Zona Central, "
                       "Sacaba, frente a la alcaldía")
    assert "76012345 no corresponde a este trámite" in reply
    assert client.cases() == []
