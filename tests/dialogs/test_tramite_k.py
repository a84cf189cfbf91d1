"""K) Migración a fibra óptica at the client's request, every branch, through the console channel."""
from __future__ import annotations

TUNARI = "+59172233003"  # internet 300301 and line 300302/4257788, both cobre
FARMACIAS = "+59176543006"  # duo_pack 300601 cobre, its only product
PANIFICADORA = "+59170998008"  # everything on fibra
IMPORTADORA = "+59170000001"  # lines 4412345/4412346 cobre, 4412347 fibra; internet 300104 fibra


def rules_of(client, case) -> list[str]:
    return [e.detail["rule"] for e in client.events(case) if e.kind == "rule"]


def test_accepted_excess_cable_sends_the_case_to_the_analista(chat):
    client = chat(TUNARI)
    products = client.say("quiero migrar a fibra")
    assert "300301" in products and "4257788" in products
    question = client.say("1")
    assert "150 metros" in question and "Bs 3,50" in question and "factura del mes" in question
    assert "¿Acepta" in question
    assert client.cases() == []
    reply = client.say("sí")
    case = client.last_case()
    assert case.number in reply and "Analista Técnico Empresas" in reply
    assert case.tramite == "K" and case.status == "en_proceso"
    assert case.current_role == "analista_tecnico" and case.assignee_id is None
    assert case.data["accepted_excess_cable"] is True and case.data["next_role"] == "gestor_comercial"
    assert case.data["products"] == ["300301"]
    assert case.data["excess_cable_per_meter"] == "3.50" and case.data["included_meters"] == 150
    assert "excess_cable_accepted" in rules_of(client, case)


def test_refusing_the_excess_cable_records_the_interaction_and_ends(chat):
    client = chat(FARMACIAS)
    question = client.say("queremos pasar a fibra óptica")
    assert "Duo Pack 4223344" in question and "¿Acepta" in question
    reply = client.say("no")
    case = client.last_case()
    assert case.number in reply and "concluye" in reply
    assert case.status == "no_procede" and case.closed_at is not None
    assert case.current_role == "ejecutivo"
    assert case.data["accepted_excess_cable"] is False and "next_role" not in case.data
    assert "excess_cable_refused" in rules_of(client, case)


def test_products_already_on_fibra_are_told_so_without_a_case(chat):
    client = chat(PANIFICADORA)
    reply = client.say("quiero migrar a fibra")
    assert "ya están en fibra óptica" in reply and "300801" in reply and "4432211" in reply
    assert client.cases() == []


def test_naming_a_line_already_on_fibra(chat):
    client = chat(IMPORTADORA)
    reply = client.say("quiero pasar a fibra la línea 4412347")
    assert "ya está en fibra óptica" in reply and "4412347" in reply
    assert "¿Acepta" not in reply
    assert client.cases() == []


def test_copper_and_fibra_named_together_migrates_the_copper_one(chat):
    client = chat(IMPORTADORA)
    question = client.say("quiero pasar a fibra la línea 4412347 y la 4412345")
    assert "4412347 (contrato 300103) ya está en fibra óptica" in question
    client.say("si")
    case = client.last_case()
    assert case.data["products"] == ["300101"]


def test_unclear_answer_is_asked_again_then_a_person_is_offered(chat):
    client = chat(FARMACIAS)
    client.say("cambio a fibra")
    first = client.say("quizás")
    assert "Disculpe" in first and "«sí» o «no»" in first
    assert "Disculpe" in client.say("depende del precio")
    offer = client.say("mmm")
    assert "ejecutivo" in offer
    assert "Entendido" in client.say("no")
    assert client.cases() == []


def test_product_of_another_client_is_refused(chat):
    client = chat(IMPORTADORA)
    reply = client.say("quiero migrar a fibra la línea 4257788")  # Constructora Tunari's line
    assert "No encontramos 4257788" in reply
    assert client.cases() == []
