"""H) Retiro: defects of issue 13 (part 7), each test through the console channel.

Today is 2026-11-28. Expected amounts are worked out by hand from the demo portfolio
(bot/demo/cartera/productos.csv) and the rules (penalty.yaml, tariffs.yaml `removal`).
"""
from __future__ import annotations

from decimal import Decimal

import pytest

TIQUIPAYA = "+59171722002"  # multipack 300201/4316100, line 300202/4316101, 300204/4316103 retirado


def test_a_retired_line_is_said_to_be_retired_not_foreign_to_the_tramite(chat):
    client = chat(TIQUIPAYA)
    reply = client.say("quiero dar de baja la línea 4316103 porque ya no la usamos")
    assert "4316103" in reply and "retirad" in reply
    assert "no corresponde a este trámite" not in reply
    assert "1. Multipack 4316100" in reply  # the products that can be retired are offered
    assert client.cases() == []


PANIFICADORA = "+59170998008"  # internet 300801 Bs 290 + line 300802/4432211 Bs 65, 2026-03-16, 24 m
IMPORTADORA = "+59170000001"  # lines 300101-300103 (4412345-4412347), internet 300104: all fulfilled

# Panificadora, both products: 2026-11-28 -> 2028-03-16 is 15 whole months left.
INTERNET_PENALTY = Decimal("290.00") * 15  # Bs 4.350,00
LINE_PENALTY = Decimal("65.00") * 15  # Bs 975,00
INTERNET_BILL = (Decimal("290.00") * 28 / 30).quantize(Decimal("0.01"))  # prorated: Bs 270,67
LINE_BILL = Decimal("65.00")  # a fixed line pays the whole month


def test_products_named_by_number_and_by_type_are_all_retired_with_their_penalties(chat):
    client = chat(PANIFICADORA)
    question = client.say("quiero dar de baja la línea 4432211 y el internet porque cerramos la sucursal")
    assert "Bs 975,00" in question and "Bs 4.350,00" in question
    assert INTERNET_PENALTY + LINE_PENALTY == Decimal("5325.00")
    assert "Total de la penalidad: Bs 5.325,00" in question
    client.say("sí")
    case = client.last_case()
    assert sorted(case.data["products"]) == ["300801", "300802"]
    costs = sorted((c["code"], c["contract"], Decimal(c["amount"])) for c in case.quoted_costs)
    assert costs == [("final_bill", "300801", INTERNET_BILL), ("final_bill", "300802", LINE_BILL),
                     ("penalty", "300801", INTERNET_PENALTY), ("penalty", "300802", LINE_PENALTY)]


@pytest.mark.parametrize("answer", ["ambas", "las dos", "todas", "el internet y la línea", "la 1 y la 2",
                                    "los dos por favor"])
def test_a_free_answer_to_the_product_list_takes_every_product_it_names(chat, answer):
    client = chat(PANIFICADORA)
    listed = client.say("quiero dar de baja mis servicios porque cerramos la sucursal")
    assert "1. Internet" in listed and "2. Línea fija 4432211" in listed
    question = client.say(answer)
    assert "Total de la penalidad: Bs 5.325,00" in question  # both penalties, as above


def test_a_type_with_several_products_is_asked_not_dropped(chat):
    client = chat(IMPORTADORA)
    listed = client.say("quiero dar de baja el internet y la línea porque es muy caro")
    # Three lines: which one is not guessed, and the internet alone is not retired.
    assert "4412345" in listed and "4412346" in listed and "4412347" in listed
    offers = client.say("la 1 y el internet")
    assert "20 % de descuento" in offers  # both fulfilled their permanence: retention first
    client.say("no, gracias")
    assert sorted(client.last_case().data["products"]) == ["300101", "300104"]


def test_inside_the_permanence_the_penalty_comes_first_without_retention_questions(chat):
    # H.2.2: permanence not fulfilled -> step 5 (the penalty), not the reason / retention (H.3).
    client = chat(PANIFICADORA)
    question = client.say("quiero dar de baja el internet 300801")
    assert "motivo" not in question.lower()
    assert "Bs 4.350,00" in question and "¿Acepta" in question  # 15 months x Bs 290
    reply = client.say("sí")
    assert "Total: Bs 4.620,67" in reply  # 4.350,00 + 270,67 (28/30 of Bs 290)
    assert "Motivo" not in reply  # none was given and none is asked
    case = client.last_case()
    assert case.status == "pendiente_requisitos" and case.data["penalty_accepted"] is True
    assert case.data["reason"] is None


AGRO = "+59171555010"  # multipack 301001/4578899 Bs 560, estado suspendido, since 2013 (12 m)


def test_a_suspended_product_can_be_retired(chat):
    # Permanence fulfilled long ago; "cerramos" is the closing-down reason: no retention offer.
    # Last invoice of a multipack: Bs 70 basic telephony whole + (560 - 70) x 28/30 = Bs 527,33.
    last_bill = Decimal("70.00") + ((Decimal("560.00") - Decimal("70.00")) * 28 / 30).quantize(
        Decimal("0.01"))
    assert last_bill == Decimal("527.33")
    client = chat(AGRO)
    reply = client.say("quiero dar de baja el multipack 301001 porque cerramos la empresa")
    assert "Bs 527,33" in reply and "Devolución de los equipos" in reply
    case = client.last_case()
    assert case.tramite == "H" and case.data["products"] == ["301001"]
    assert [Decimal(c["amount"]) for c in case.quoted_costs] == [last_bill]


def test_an_accepted_retention_offer_is_open_work_for_the_ejecutivo(chat):
    client = chat(IMPORTADORA)
    offer = client.say("retiro de la línea 4412345 porque nos mudamos a otra zona")
    assert "«sí»" in offer
    reply = client.say("sí")
    case = client.last_case()
    assert case.tramite == "H" and case.data["offer"] == "TRASLADO-SIN-COSTO"
    assert case.status == "en_proceso"  # the benefit is still to be applied
    assert case.current_role == "ejecutivo"
    assert case.number in reply and "se comunicará con usted" in reply
