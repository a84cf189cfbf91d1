"""E) Registro de daño a producto, every branch, through the console channel (today 2026-11-28)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.models import Product, WorkOrder

CLINICA = "+59170111004"  # internet 300401 with OT-2026-0401 asignada; line 300402
HOTEL = "+59171234005"  # tv_cable 300501: last order OT-2026-0502 cerrada_sin_solucion; line 300502
IMPORTADORA = "+59170000001"  # lines 300101-300103, internet 300104 (no orders on 300104)
FARMACIAS = "+59176543006"  # duo_pack 300601/4223344, no orders


def rules_of(client, case) -> dict:
    return {e.detail["rule"]: e.detail for e in client.events(case) if e.kind == "rule"}


def orders_of(demo, contract: str) -> list[WorkOrder]:
    with demo.sessions() as session:
        return session.scalars(
            select(WorkOrder).join(Product, Product.id == WorkOrder.product_id)
            .where(Product.contract == contract).order_by(WorkOrder.id)).all()


def test_open_order_is_followed_up_not_duplicated(chat, demo):
    client = chat(CLINICA)
    reply = client.say("no tenemos internet en la clínica desde esta mañana")
    assert "OT-2026-0401" in reply and "asignada" in reply
    assert "hoy mismo" in reply and "Gestor(a) Técnico Empresas" in reply
    case = client.last_case()
    assert case.number in reply
    assert case.tramite == "E" and case.status == "en_proceso"
    assert case.current_role == "gestor_tecnico" and case.quoted_costs == []
    assert case.data["work_order"] == "OT-2026-0401"
    assert case.data["action"] == "coordinar_visita_hoy"
    detail = rules_of(client, case)["open_order_exists"]
    assert detail["work_order"] == "OT-2026-0401" and detail["status"] == "asignada"
    assert [o.number for o in orders_of(demo, "300401")] == ["OT-2026-0401"]  # no new order


def test_last_order_closed_without_solution_is_registered_again_with_priority(chat, demo):
    client = chat(HOTEL)
    reply = client.say("otra vez no hay señal en la tele de las habitaciones")
    case = client.last_case()
    new_number = case.number  # the order is registered under the case reference
    assert "OT-2026-0502" in reply and new_number in reply
    assert "Sin señal de TV en 12 habitaciones del segundo piso" in reply
    assert "Centro de Operaciones" in reply and "Gestor(a) Técnico Empresas" in reply
    assert case.current_role == "gestor_tecnico" and case.status == "en_proceso"
    assert case.data["priority"] is True and case.data["prioritise_with"] == "centro_operaciones"
    assert case.data["work_order"] == new_number and case.data["previous_order"] == "OT-2026-0502"
    assert rules_of(client, case)["closed_without_solution"]["previous_order"] == "OT-2026-0502"
    orders = orders_of(demo, "300501")
    new = orders[-1]
    assert (new.number, new.status, new.kind) == (new_number, "registrada", "dano")
    assert new.cause == "Sin señal de TV en 12 habitaciones del segundo piso"
    assert new.opened_on == date(2026, 11, 28)
    assert any(e.kind == "work_order_registered" for e in client.events(case))


def test_internet_damage_in_one_message_asks_only_the_address_and_goes_to_the_analista(chat, demo):
    client = chat(IMPORTADORA)
    confirm = client.say("No tenemos internet desde ayer, el router tiene la luz roja, "
                         "somos 12 equipos y el wifi no llega al segundo piso")
    assert "Av. Ballivián 456, Zona Central, Cochabamba" in confirm
    assert "teléfono de referencia" in confirm
    reply = client.say("sí, 71234567")
    case = client.last_case()
    assert "300104" in reply and "sin servicio" in reply
    assert "luz roja" in reply and "12" in reply and "no llega a todos los ambientes" in reply
    assert "+591 71234567" in reply
    assert "OT-PV" not in reply and "Analista Técnico Empresas" in reply
    assert case.current_role == "analista_tecnico" and case.status == "en_proceso"
    assert case.data["diagnosis"] == {"service": "sin_servicio", "lights": "rojas", "devices": 12,
                                      "wifi": "debil"}
    assert case.data["phone"] == "+59171234567" and case.data["address_confirmed"] is True
    assert "internet_to_analista" in rules_of(client, case)
    [order] = orders_of(demo, "300104")
    assert order.number == case.number and order.status == "registrada"
    assert order.cause.startswith("sin servicio: No tenemos internet")


def test_internet_diagnosis_turn_by_turn_on_the_internet_part_of_a_duo_pack(chat):
    client = chat(FARMACIAS)
    which = client.say("tenemos un problema con el servicio")
    assert "1. Internet" in which and "2. Línea telefónica" in which
    questions = client.say("1")
    assert "sin servicio, con cortes o lento" in questions and "luces del módem" in questions
    assert "dispositivos" in questions and "wifi" in questions
    rest = client.say("está muy lento y las luces parpadean")
    assert "luces" not in rest and "dispositivos" in rest and "wifi" in rest
    assert "wifi" in client.say("unos 5")
    address = client.say("el wifi llega bien")
    assert "Calle España 345" in address
    phone = client.say("sí, es correcta")
    assert "teléfono de referencia" in phone
    reply = client.say("4412345")  # a Cochabamba fixed line written without its area code
    assert "navegación lenta" in reply and "+591 4 4412345" in reply
    case = client.last_case()
    assert case.current_role == "analista_tecnico"
    assert case.data["component"] == "internet"
    assert case.data["diagnosis"] == {"service": "lento", "lights": "parpadean", "devices": 5,
                                      "wifi": "buena"}
    assert case.data["phone"] == "+59144412345"


def test_line_damage_turn_by_turn_with_another_address_goes_to_the_gestor_tecnico(chat, demo):
    client = chat(IMPORTADORA)
    client.say("Hola")
    products = client.say("5")
    assert "4412345" in products and "300104" in products
    problem = client.say("2")
    assert "¿Qué problema presenta la línea?" in problem
    address = client.say("la línea no tiene tono")
    assert "Av. Ballivián 456" in address
    ask_address = client.say("no")
    assert "dirección" in ask_address
    ask_phone = client.say("Av. Heroínas 123, Zona Central")
    assert "teléfono de referencia" in ask_phone
    reply = client.say("este mismo número")
    case = client.last_case()
    assert "línea sin tono" in reply and "Av. Heroínas 123, Zona Central" in reply
    assert "+591 70000001" in reply and "Gestor(a) Técnico Empresas" in reply
    assert case.current_role == "gestor_tecnico" and case.data["contract"] == "300102"
    assert case.data["address"] == "Av. Heroínas 123, Zona Central"
    assert case.data["address_confirmed"] is False
    assert {"line_tv_to_gestor_tecnico", "address_differs"} <= set(rules_of(client, case))
    # The earlier order of 300102 was closed with a solution: a normal new order.
    assert [o.status for o in orders_of(demo, "300102")] == ["cerrada_solucionada", "registrada"]


def test_line_damage_with_the_phone_given_first(chat):
    client = chat(FARMACIAS)
    address = client.say("la línea 4223344 tiene mucho ruido, llamar al celular 76543210")
    assert "Calle España 345" in address and "teléfono de referencia" not in address
    reply = client.say("sí")
    assert "ruido o interferencia en la línea" in reply and "+591 76543210" in reply
    case = client.last_case()
    assert case.data["component"] == "linea" and case.current_role == "gestor_tecnico"


def test_invalid_phone_gets_a_hint(chat):
    client = chat(FARMACIAS)
    client.say("la línea 4223344 no tiene tono")
    client.say("sí")
    hint = client.say("123")
    assert "Disculpe" in hint and "teléfono" in hint
    assert client.cases() == []


def test_bad_answers_twice_then_a_person_is_offered(chat):
    client = chat(FARMACIAS)
    client.say("tenemos un problema con el servicio")
    assert "Disculpe" in client.say("no sé")
    assert "Disculpe" in client.say("el de siempre")
    offer = client.say("???")
    assert "ejecutivo" in offer and "sí" in offer
    assert "menú" in client.say("no")
    assert client.cases() == []


def test_product_of_another_client_is_refused(chat):
    client = chat(FARMACIAS)
    reply = client.say("la línea 4412345 no tiene tono")  # Importadora's line
    assert "No encontramos 4412345" in reply
    assert client.cases() == []
