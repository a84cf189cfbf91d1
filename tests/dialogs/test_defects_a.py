"""A) Servicios suplementarios: defects of issue 13 (part 7), through the console channel.

Tariff per line (tariffs.yaml `supplementary`): enabling Caller ID Bs 15, transferencia Bs 15,
llamada en espera Bs 10; disabling is free.
"""
from __future__ import annotations

import pytest

IMPORTADORA = "+59170000001"  # lines 4412345 (300101), 4412346 (300102), 4412347 (300103)
TIQUIPAYA = "+59171722002"  # multipack 4316100, line 4316101; 4316103 (300204) retirado
CAFE_TUNARI = "+59179988014"  # internet 301401; its only line 4223399 (301402) retirado


def test_a_retired_line_named_among_other_lines_is_said_to_be_retired(chat):
    client = chat(TIQUIPAYA)
    reply = client.say("quiero habilitar el caller id en la línea 4316103")
    assert "4316103" in reply and "retirad" in reply
    assert "no corresponde a este trámite" not in reply
    assert "4316100" in reply and "4316101" in reply  # the lines that can take the service
    assert client.cases() == []


def test_the_only_line_being_retired_is_said_so(chat):
    client = chat(CAFE_TUNARI)
    reply = client.say("quiero habilitar el caller id en la línea 4223399")
    assert "4223399" in reply and "retirad" in reply
    assert client.cases() == []


def test_the_1_and_the_3_answer_the_list_of_lines(chat):
    client = chat(IMPORTADORA)
    listed = client.say("quiero habilitar el caller id")
    assert "1. Línea fija 4412345" in listed and "3. Línea fija 4412347" in listed
    reply = client.say("la 1 y la 3")
    assert "Total: Bs 30,00" in reply  # Bs 15 x 2 lines
    assert client.last_case().data["lines"] == ["4412345", "4412347"]


def test_all_answers_the_list_of_lines(chat):
    client = chat(IMPORTADORA)
    client.say("quiero habilitar el caller id")
    reply = client.say("todas")
    assert "Total: Bs 45,00" in reply  # Bs 15 x 3 lines
    assert client.last_case().data["lines"] == ["4412345", "4412346", "4412347"]


def test_both_is_not_guessed_among_three_lines(chat):
    client = chat(IMPORTADORA)
    client.say("quiero habilitar el caller id")
    again = client.say("las dos")
    assert "4412346" in again and client.cases() == []


# --- issue 13 defect 2: a refused service is not asked for ------------------------------------
def services(case) -> list[tuple[str, str]]:
    return [(s["code"], s["action"]) for s in case.data["services"]]


def test_a_refused_service_in_the_same_message_is_not_asked_for(chat):
    client = chat(IMPORTADORA)
    reply = client.say("no quiero transferencia, quiero llamada en espera en la línea 4412345")
    # Llamada en espera Bs 10 x 1 line = Bs 10; the transferencia (Bs 15) is not charged.
    assert "Bs 10,00" in reply and "Bs 25,00" not in reply and "Transferencia" not in reply
    case = client.last_case()
    assert len(client.cases()) == 1
    assert services(case) == [("call_waiting", "enable")]
    assert [(c["service"], c["amount"]) for c in case.quoted_costs] == [("call_waiting", "10.00")]


def test_a_refusal_after_the_summary_corrects_the_case_instead_of_adding_one(chat):
    client = chat(IMPORTADORA)
    first = client.say("quiero habilitar la transferencia de llamadas en la línea 4412345")
    assert "Bs 15,00" in first  # transferencia Bs 15 x 1 line
    wrong = client.last_case()
    reply = client.say("no quiero transferencia, quiero llamada en espera")
    # Corrected on the same line: llamada en espera Bs 10 x 1 line = Bs 10, transferencia gone.
    assert wrong.number in reply and "anulamos" in reply
    assert "Bs 10,00" in reply and "Bs 15,00" not in reply and "4412345" in reply
    statuses = {case.number: case.status for case in client.cases()}
    assert statuses[wrong.number] == "anulado"
    open_cases = [case for case in client.cases() if case.status != "anulado"]
    assert len(open_cases) == 1
    assert services(open_cases[0]) == [("call_waiting", "enable")]
    assert [(c["service"], c["amount"]) for c in open_cases[0].quoted_costs] == [
        ("call_waiting", "10.00")]
    assert open_cases[0].data["lines"] == ["4412345"]


def test_a_refusal_while_the_line_is_asked_replaces_the_service(chat):
    client = chat(IMPORTADORA)
    client.say("quiero habilitar la transferencia de llamadas")  # three lines: asked which
    again = client.say("no quiero transferencia, quiero llamada en espera")
    assert "4412347" in again and "Disculpe" not in again  # the line is still asked, no hint
    reply = client.say("la 1")
    # Llamada en espera Bs 10 x 1 line (4412345) = Bs 10; never Bs 25 with the transferencia.
    assert "Bs 10,00" in reply and "Bs 25,00" not in reply and "Transferencia" not in reply
    assert len(client.cases()) == 1
    assert services(client.last_case()) == [("call_waiting", "enable")]
    assert [(c["line"], c["amount"]) for c in client.last_case().quoted_costs] == [
        ("4412345", "10.00")]


def test_a_disabling_with_ya_no_is_not_a_refusal(chat):
    client = chat(IMPORTADORA)
    reply = client.say("ya no queremos la transferencia de llamadas en la línea 4412346")
    assert "Deshabilitar: Transferencia de llamadas" in reply  # disabling is free: no total
    assert services(client.last_case()) == [("call_forwarding", "disable")]


# --- issue 13 defect 3: a service for one line is charged to that line only -------------------
def test_a_service_for_one_line_of_three_is_charged_to_that_line_only(chat):
    client = chat(IMPORTADORA)
    reply = client.say("habilitar llamada en espera en la línea 4412345")
    # Llamada en espera Bs 10 x 1 line = Bs 10 (not Bs 30 for the client's three lines).
    assert "Bs 10,00" in reply and "Bs 30,00" not in reply and "4412346" not in reply and "4412347" not in reply
    case = client.last_case()
    assert case.data["lines"] == ["4412345"]
    assert [(c["line"], c["amount"]) for c in case.quoted_costs] == [("4412345", "10.00")]


# --- yes/no in natural forms at A's only question that takes one (a person is offered) --------
def _offer_a_person(client) -> None:
    client.say("quiero habilitar un servicio suplementario en la línea 4412345")
    client.say("no sé cuál")
    client.say("el de siempre")
    assert "ejecutivo" in client.say("???")


@pytest.mark.parametrize("answer", ["dale", "correcto", "así es"])
def test_a_natural_yes_to_the_offer_of_a_person_hands_off(chat, answer):
    client = chat(IMPORTADORA)
    _offer_a_person(client)
    assert "Hemos avisado" in client.say(answer)


def test_a_mejor_no_to_the_offer_of_a_person_goes_back_to_the_menu(chat):
    client = chat(IMPORTADORA)
    _offer_a_person(client)
    reply = client.say("mejor no")
    assert "Hemos avisado" not in reply and "menú" in reply
    assert client.cases() == []
