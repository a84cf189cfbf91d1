"""Issue 13 defects of D) suspensión temporal y reconexión, through the console channel.

Today is 2026-11-28 (conftest). A date written without its year means the occurrence the
client has ahead: a suspension or a reconnection is always planned, never backdated."""
from __future__ import annotations

CONSTRUCTORA = "+59172233003"  # line 300302/4257788, never suspended; no pending invoices
AGRO = "+59171555010"  # multipack 301001 (cobre) suspendido 2026-11-01 -> 2027-02-28


def test_reconnection_brought_forward_to_a_named_day_records_that_day(chat):
    client = chat(AGRO)
    reply = client.say("adelantar la reconexión para el 15 de diciembre")
    assert "Fecha de reconexión: 15 de diciembre de 2026" in reply
    assert "28 de febrero de 2027" in reply  # the suspension being cut short
    case = client.last_case()
    assert case.data["action"] == "reconexion" and case.data["reconnect_on"] == "2026-12-15"
    rules = {e.detail["rule"]: e.detail for e in client.events(case) if e.kind == "rule"}
    assert rules["reconnection"]["reconnect_on"] == "2026-12-15"


def test_reconnection_in_january_said_in_november_is_next_january(chat):
    client = chat(AGRO)
    reply = client.say("queremos reconectar el multipack desde el 10 de enero")
    assert "Fecha de reconexión: 10 de enero de 2027" in reply
    assert client.last_case().data["reconnect_on"] == "2027-01-10"


def test_suspension_from_january_said_in_november_starts_next_year(chat):
    client = chat(CONSTRUCTORA)
    reply = client.say("suspender la línea 4257788 desde el 5 de enero por 2 meses")
    assert "ya pasó" not in reply
    assert "5 de enero de 2027" in reply and "4 de marzo de 2027" in reply
    case = client.last_case()
    assert (case.data["starts_on"], case.data["ends_on"]) == ("2027-01-05", "2027-03-04")


def test_suspension_range_in_the_first_months_said_in_november_is_next_year(chat):
    client = chat(CONSTRUCTORA)
    reply = client.say("suspender la línea 4257788 del 5 de enero al 28 de febrero")
    assert "5 de enero de 2027" in reply and "28 de febrero de 2027" in reply
    case = client.last_case()
    assert (case.data["starts_on"], case.data["ends_on"]) == ("2027-01-05", "2027-02-28")


def test_start_in_january_given_alone_is_next_year_and_the_end_follows_it(chat):
    client = chat(CONSTRUCTORA)
    client.say("suspender la línea 4257788")
    ask_end = client.say("desde el 5 de enero")
    assert "5 de enero de 2027" in ask_end and "¿Hasta qué fecha" in ask_end
    reply = client.say("hasta el 28 de febrero")
    assert "28 de febrero de 2027" in reply
    case = client.last_case()
    assert (case.data["starts_on"], case.data["ends_on"]) == ("2027-01-05", "2027-02-28")


def test_a_start_written_with_a_past_year_is_still_refused_as_past(chat):
    client = chat(CONSTRUCTORA)
    reply = client.say("suspender la línea 4257788 desde el 5 de enero de 2026 por 2 meses")
    assert "5 de enero de 2026" in reply and "ya pasó" in reply
    assert client.cases() == []
