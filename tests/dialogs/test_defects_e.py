"""E) Registro de daño: defects of issue 13, each test through the console channel (2026-11-28)."""
from __future__ import annotations


FARMACIAS = "+59176543006"  # duo_pack 300601/4223344, no orders
IMPORTADORA = "+59170000001"  # lines 300101-300103 (4412345...), internet 300104; no orders
HOTEL = "+59171234005"  # tv_cable 300501 (last order cerrada_sin_solucion), line 300502


def test_a_pack_with_internet_and_line_down_is_reported_in_one_case(chat):
    client = chat(FARMACIAS)
    reply = client.say("no tenemos internet ni línea en la farmacia")
    assert "¿Qué servicio" not in reply  # both were named: no question about which one
    for answer in ("las luces están en rojo", "unos 5", "el wifi llega bien", "sí, 71234567"):
        if "Resumen de su solicitud" in reply:
            break
        reply = client.say(answer)
    assert "Resumen de su solicitud" in reply
    assert "Internet" in reply and "Línea telefónica" in reply
    cases = client.cases()
    assert len(cases) == 1
    assert cases[0].tramite == "E" and sorted(cases[0].data["components"]) == ["internet", "linea"]


def test_the_component_question_takes_several_options(chat):
    client = chat(FARMACIAS)
    question = client.say("tenemos un problema con el servicio")
    assert "¿Qué servicio" in question
    reply = client.say("1 y 2")
    assert "Disculpe" not in reply
    for answer in ("no navega, las luces están en rojo", "unos 5", "el wifi llega bien",
                   "sí, 71234567"):
        if "Resumen de su solicitud" in reply:
            break
        reply = client.say(answer)
    case = client.last_case()
    assert sorted(case.data["components"]) == ["internet", "linea"]


def test_a_repeated_report_while_the_case_is_open_opens_no_duplicate(chat):
    client = chat(IMPORTADORA)
    client.say("la línea 4412345 no tiene tono")
    client.say("sí, y el teléfono de referencia es 70000001")
    first = client.last_case()
    assert first.tramite == "E" and first.status == "en_proceso"
    reply = client.say("la línea 4412345 sigue sin tono")
    assert len(client.cases()) == 1  # no second case
    assert first.number in reply and "en proceso" in reply


def test_no_order_number_invented_by_the_bot_is_shown(chat):
    client = chat(IMPORTADORA)
    client.say("la línea 4412345 no tiene tono")
    reply = client.say("sí, y el teléfono de referencia es 70000001")
    case = client.last_case()
    assert "OT-PV" not in reply and "OT-" + case.number not in reply
    assert case.number in reply


def test_a_tv_visit_request_goes_on_as_a_damage_report(chat):
    client = chat(HOTEL)
    reply = client.say("necesito una visita técnica para la tv cable")
    assert "No encontramos productos" not in reply
    assert "TV" in reply and client.cases() and client.last_case().tramite == "E"
