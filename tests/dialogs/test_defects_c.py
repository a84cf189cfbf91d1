"""C) Traslado: defects of issue 13, each test through the console channel (2026-11-28)."""
from __future__ import annotations

IMPORTADORA = "+59170000001"  # lines 300101-300103 (4412345...), internet 300104; Cochabamba


def test_request_words_do_not_end_up_in_the_new_address(chat):
    client = chat(IMPORTADORA)
    reply = client.say("quiero trasladar la línea 4412345 a la nueva oficina en Av. América 123")
    assert "Nueva dirección: Av. América 123." in reply
    assert "oficina" not in reply.split("Nueva dirección:")[1].split("\n")[0]
    reply = client.say("Zona Queru Queru, frente al mercado")
    case = client.last_case()
    assert case.tramite == "C"
    assert case.data["new_address_line"] == ("Av. América 123, Zona Queru Queru, Cochabamba, "
                                             "frente al mercado")
    assert "oficina" not in reply.split("Nueva dirección")[-1].split("\n")[0]


def test_a_real_office_detail_is_kept(chat):
    client = chat(IMPORTADORA)
    reply = client.say("quiero trasladar la línea 4412345 a Av. América 123, oficina 4, "
                       "Zona Queru Queru, frente al mercado")
    assert "Av. América 123, oficina 4, Zona Queru Queru" in reply
