"""H) Retiro de productos, every branch, through the console channel (today: 2026-11-28).

Expected amounts are worked out here from the demo portfolio and the rules:
- penalty = whole months left of the permanence x monthly fee x 1.0 (penalty.yaml);
- last invoice: fixed line and HSPA the whole month; internet, TV, Duo Pack prorated
  28/30 (November has 30 days); Multipack: Bs 70 of basic telephony whole + the rest prorated.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from bot.models import Staff
from tests.dialogs.reasons import reason

PANIFICADORA = "+59170998008"  # internet 300801 Bs 290 + line 300802/4432211 Bs 65, from 2026-03-16, 24 m
HOTEL = "+59171234005"  # tv_cable 300501 Bs 320: damage orders 2026-07-14 and 2026-11-18
IMPORTADORA = "+59170000001"  # line 300101/4412345 Bs 65 since 2015 (12 months: fulfilled)
FARMACIAS = "+59176543006"  # duo_pack 300601/4223344 Bs 390 since 2018
TIQUIPAYA = "+59171722002"  # multipack 300201/4316100 Bs 890 since 2019
TRANSPORTES = "+59168765007"  # hspa 300702 Bs 150 since 2019

# Panificadora: 2026-11-28 -> 2028-03-16 (end of permanence) is 15 whole months.
MONTHS_LEFT = 15


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def prorated(fee: str) -> Decimal:
    return cents(Decimal(fee) * 28 / 30)


def staff_id(client, username: str) -> int:
    with client.runtime.sessions() as session:
        return session.scalar(select(Staff.id).where(Staff.username == username))


def rules_of(client, case) -> list[str]:
    return [e.detail["rule"] for e in client.events(case) if e.kind == "rule"]


def test_inside_permanence_the_penalty_is_stated_and_accepted(chat):
    penalty = Decimal("290.00") * MONTHS_LEFT  # Bs 4.350,00
    last_bill = prorated("290.00")  # 270.666.. -> Bs 270,67
    client = chat(PANIFICADORA)
    question = client.say("quiero dar de baja el internet 300801 porque es muy caro")
    assert "16 de marzo de 2028" in question
    assert "Bs 4.350,00" in question and f"{MONTHS_LEFT} meses" in question
    assert "¿Acepta" in question
    assert client.cases() == []
    reply = client.say("sí")
    assert "Bs 4.350,00" in reply and "Bs 270,67" in reply
    assert "Total: Bs 4.620,67" in reply and penalty + last_bill == Decimal("4620.67")
    assert "Se cargará en su factura del mes" in reply
    assert "Carta de solicitud de retiro" in reply
    assert "Devolución de los equipos" in reply and "En oficinas de Comteco" in reply
    assert "Motivo: es muy caro" in reply
    case = client.last_case()
    assert case.number in reply and "Ejecutivo(a) Equipo Empresas" in reply
    assert case.tramite == "H" and case.status == "pendiente_requisitos"
    assert case.current_role == "ejecutivo" and case.assignee_id == staff_id(client, "lvargas")
    assert case.data["role_when_complete"] == "gestor_comercial"
    assert case.data["penalty_accepted"] is True and case.data["reason"] == "precio"
    costs = {c["code"]: Decimal(c["amount"]) for c in case.quoted_costs}
    assert costs == {"penalty": penalty, "final_bill": last_bill}
    assert [(r["code"], r["status"]) for r in case.requirements] == [
        ("carta_retiro", "missing"), ("devolucion_equipos", "en_oficinas")]
    rules = rules_of(client, case)
    assert {"history", "inside_permanence", "penalty_accepted", "final_bill"} <= set(rules)
    assert "retention_declined" not in rules  # inside the permanence no retention is offered


def test_penalty_refused_ends_the_request_with_the_interaction_recorded(chat):
    client = chat(PANIFICADORA)
    client.say("Solicito el retiro del internet contrato 300801 debido a que cerramos la sucursal")
    reply = client.say("no")
    case = client.last_case()
    assert case.number in reply and "concluye" in reply
    assert "Requisitos pendientes" not in reply
    assert case.status == "no_procede" and case.closed_at is not None
    assert case.current_role == "ejecutivo" and case.assignee_id == staff_id(client, "lvargas")
    assert case.requirements == []
    assert [Decimal(c["amount"]) for c in case.quoted_costs] == [Decimal("4350.00")]
    events = [e for e in client.events(case) if e.kind == "rule"]
    refused = next(e for e in events if e.detail["rule"] == "penalty_refused")
    assert refused.detail["amount"] == "4350.00"
    assert reason(refused.detail) == "El cliente no acepta pagar la penalidad de Bs 4.350,00: no procede."


def test_several_products_inside_permanence_add_their_penalties(chat):
    internet_penalty = Decimal("290.00") * MONTHS_LEFT
    line_penalty = Decimal("65.00") * MONTHS_LEFT  # Bs 975,00
    bills = prorated("290.00") + Decimal("65.00")  # the fixed line pays the whole month
    client = chat(PANIFICADORA)
    client.say("quiero dar de baja mis servicios")
    question = client.say("1 y 2")  # inside the permanence: the penalty, no reason asked (H.2.2)
    assert "Bs 975,00" in question and "Total de la penalidad: Bs 5.325,00" in question
    reply = client.say("si, acepto")
    total = internet_penalty + line_penalty + bills
    assert total == Decimal("5660.67") and "Total: Bs 5.660,67" in reply
    assert "Bs 65,00" in reply  # the fixed line's whole month; the breakdown by email and in the case
    case = client.last_case()
    assert sorted(case.data["products"]) == ["300801", "300802"]
    assert len([r for r in rules_of(client, case) if r == "inside_permanence"]) == 2


def test_unclear_answer_to_the_penalty_is_asked_again(chat):
    client = chat(PANIFICADORA)
    client.say("quiero dar de baja el internet 300801 porque es muy caro")
    again = client.say("depende")
    assert "Disculpe" in again and "«sí» o «no»" in again
    assert client.cases() == []
    client.say("sí")
    assert client.last_case().status == "pendiente_requisitos"


def test_damage_history_puts_quality_offers_first_and_an_accepted_offer_ends_the_request(chat):
    client = chat(HOTEL)
    offers = client.say("quiero dar de baja la televisión 300501 porque es muy caro")
    assert "reportes de daño" in offers
    order = [offers.index(text) for text in
             ("Visita técnica prioritaria", "Un mes de servicio", "20 % de descuento", "Cambio sin costo")]
    assert order == sorted(order)  # quality first (2 damage orders in 6 months), then the price offers
    reply = client.say("3")
    case = client.last_case()
    assert "20 % de descuento" in reply and case.number in reply
    assert "queda sin efecto" in reply
    assert case.status == "en_proceso" and case.closed_at is None  # the ejecutivo applies the benefit
    assert case.current_role == "ejecutivo" and case.assignee_id == staff_id(client, "lvargas")
    assert case.data["offer"] == "DESC-20-6M" and case.quoted_costs == [] and case.requirements == []
    accepted = next(e for e in client.events(case) if e.detail.get("rule") == "retention_accepted")
    assert accepted.detail["offer"] == "DESC-20-6M" and accepted.detail["quality_first"] is True
    history = next(e for e in client.events(case) if e.detail.get("rule") == "history")
    assert history.detail["work_orders"] == ["OT-2026-0502", "OT-2026-0501"]


def test_retention_declined_goes_on_to_requirements_fixed_line_billed_whole_month(chat):
    client = chat(IMPORTADORA)
    offers = client.say("nos vamos a otra empresa, den de baja la línea 4412345")
    assert "20 % de descuento" in offers and "Mejora de velocidad" in offers
    assert "reportes de daño" not in offers
    assert client.cases() == []
    reply = client.say("no, gracias")
    assert "Bs 65,00" in reply and "noviembre de 2026 completo (tarifa plana)" in reply
    assert "Devolución" not in reply  # a plain fixed line has no equipment to return
    case = client.last_case()
    assert case.data["reason"] == "competencia"
    assert [r["code"] for r in case.requirements] == ["carta_retiro"]
    assert [Decimal(c["amount"]) for c in case.quoted_costs] == [Decimal("65.00")]
    declined = next(e for e in client.events(case) if e.detail.get("rule") == "retention_declined")
    assert declined.detail["offered"] == ["DESC-20-6M", "UPGRADE-FIBRA"]
    assert "permanence_fulfilled" in rules_of(client, case)


def test_a_single_offer_is_accepted_with_yes(chat):
    client = chat(IMPORTADORA)
    offer = client.say("retiro de la línea 4412345 porque nos mudamos a otra zona")
    assert "Traslado del servicio a la nueva dirección sin costo" in offer and "«sí»" in offer
    reply = client.say("sí")
    case = client.last_case()
    assert case.status == "en_proceso" and case.data["offer"] == "TRASLADO-SIN-COSTO"
    assert case.number in reply


def test_duo_pack_prorated_and_the_letter_moves_the_case_with_equipment_still_due(chat, pdf):
    client = chat(FARMACIAS)  # one product: chosen without asking
    reply = client.say("quiero dar de baja el servicio por cierre de la sucursal")
    assert prorated("390.00") == Decimal("364.00") and "Bs 364,00" in reply
    assert "28 de 30 días de noviembre de 2026" in reply
    case = client.last_case()
    assert case.status == "pendiente_requisitos" and case.data["reason"] == "cierre"
    assert "no_retention_offer" in rules_of(client, case)  # closing down: nothing to offer
    moved = client.say(f"/adjuntar {pdf}")
    assert case.number in moved and "Gestor(a) Comercial" in moved
    case = client.last_case()
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"
    assert [r["status"] for r in case.requirements] == ["received", "en_oficinas"]


def test_multipack_basic_telephony_is_not_prorated_letter_sent_while_asking(chat, pdf):
    expected = Decimal("70.00") + cents((Decimal("890.00") - Decimal("70.00")) * 28 / 30)
    client = chat(TIQUIPAYA)
    client.say("Hola")
    products = client.say("8")
    assert "4316100" in products and "4316103" not in products  # the retired line is not offered
    client.say("1")
    kept = client.say(f"/adjuntar {pdf}")
    assert "adjuntaremos" in kept
    reply = client.say("cerramos la oficina")
    assert expected == Decimal("835.33") and "Bs 835,33" in reply
    assert "telefonía básica Bs 70,00" in reply
    assert "Requisitos pendientes" not in reply
    case = client.last_case()
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"
    assert [r["status"] for r in case.requirements] == ["received", "en_oficinas"]


def test_hspa_is_billed_the_whole_month_and_returns_equipment(chat):
    client = chat(TRANSPORTES)
    offers = client.say("quiero dar de baja el HSPA 300702 porque ya no lo usamos")
    assert "20 % de descuento" in offers  # a reason with no keyword gets the default offers
    reply = client.say("no")
    assert "Bs 150,00" in reply and "tarifa plana" in reply and "Devolución de los equipos" in reply
    case = client.last_case()
    assert case.data["reason"] == "otro" and case.data["reason_text"] == "ya no lo usamos"


def test_no_reason_gets_a_hint_twice_then_a_person_is_offered(chat):
    client = chat(IMPORTADORA)
    question = client.say("quiero dar de baja la línea 4412345")
    assert "motivo" in question
    first = client.say("no sé")
    assert "Disculpe" in first and "motivo" in first
    assert "Disculpe" in client.say("ok")
    offer = client.say("??")
    assert "ejecutivo" in offer and "sí" in offer
    assert "ejecutivo" in client.say("sí")
    assert client.cases() == []


def test_product_of_another_client_is_refused(chat):
    client = chat(IMPORTADORA)
    reply = client.say("quiero dar de baja la línea 4432211")  # Panificadora's line
    assert "No encontramos 4432211" in reply
    assert client.cases() == []
