"""A) Servicios suplementarios: defects of issue 13 (part 7), through the console channel.

Tariff per line (tariffs.yaml `supplementary`): enabling Caller ID Bs 15, transferencia Bs 15,
llamada en espera Bs 10; disabling is free.
"""
from __future__ import annotations

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
