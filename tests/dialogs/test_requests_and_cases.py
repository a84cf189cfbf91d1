"""Issue 13, items 3-5, through the console channel on both databases: several requests in one
message handled in turn, questions about a case already open (status, withdrawal), and details
given before identification kept.

Today is 2026-11-28. Demo portfolio: bot/demo/cartera/.
"""
from __future__ import annotations

from sqlalchemy import select

from bot.models import Staff, StaffTask

IMPORTADORA = "+59170000001"  # lines 4412345-4412347 (300101-300103), internet 300104; ejecutivo mrojas
CONSTRUCTORA_NIT = "1029384017"  # line 300302/4257788, no pending invoices
STRANGER = "+59179999999"  # a phone the portfolio does not know


def test_two_requests_in_one_message_become_two_cases_one_after_the_other(chat):
    client = chat(IMPORTADORA)
    first = client.say("Buenos días. Queremos el detalle de llamadas de octubre de la línea 4412345 "
                       "y también cambiar el plan del internet")
    # Told what was understood, the first request handled with its own words only.
    assert "Entendí 2 solicitudes" in first
    assert "detalle de llamadas salientes y cambio de plan" in first
    assert "Línea 4412345: octubre de 2026" in first
    assert "«Internet»" not in first  # the internet belongs to the other request
    assert "También nos pidió cambio de plan" in first
    detail = client.last_case()
    assert detail.tramite == "G" and detail.data["lines"] == ["4412345"]
    plans = client.say("sí")
    assert "contrato 300104" in plans and "¿A qué plan desea cambiar?" in plans
    client.say("1")
    assert [c.tramite for c in client.cases()] == ["G", "B"]
    assert client.last_case().data["contract"] == "300104"


def test_an_offered_request_can_be_declined(chat):
    client = chat(IMPORTADORA)
    client.say("necesito el detalle de llamadas de octubre de la línea 4412345. Además la migración a fibra")
    reply = client.say("no, gracias")
    assert "no registramos migración a fibra óptica" in reply
    assert [c.tramite for c in client.cases()] == ["G"]


def test_status_of_open_cases_in_client_words(chat):
    client = chat(IMPORTADORA)
    client.say("necesito el detalle de llamadas de octubre de la línea 4412345")
    case = client.last_case()
    reply = client.say("buenas, ¿cómo va mi solicitud?")
    assert case.number in reply and "Detalle de llamadas salientes" in reply
    assert "esperando documentos" in reply and "Falta: Carta de solicitud" in reply
    assert len(client.cases()) == 1  # a question, not a new request


def test_status_by_case_number_and_an_unknown_number(chat):
    client = chat(IMPORTADORA)
    client.say("necesito el detalle de llamadas de octubre de la línea 4412345")
    case = client.last_case()
    assert case.number in client.say(f"estado de la {case.number}")
    unknown = client.say("estado del caso PV-2026-000999")
    assert "No encontramos la solicitud PV-2026-000999" in unknown


def test_withdrawal_is_confirmed_then_closes_the_case_and_tells_the_ejecutivo(chat):
    client = chat(IMPORTADORA)
    client.say("necesito el detalle de llamadas de octubre de la línea 4412345")
    case = client.last_case()
    question = client.say("quiero anular mi solicitud, ya no la necesitamos")
    assert f"¿Confirma que desea anular la solicitud {case.number}" in question
    assert client.last_case().status == "pendiente_requisitos"  # nothing before the "sí"
    done = client.say("sí, confirmo")
    assert "anulamos la solicitud" in done and case.number in done
    withdrawn = client.last_case()
    assert withdrawn.status == "anulado" and withdrawn.closed_at is not None
    events = [e for e in client.events(withdrawn) if e.kind == "withdrawn"]
    assert len(events) == 1 and "anular" in events[0].detail["words"]
    with client.runtime.sessions() as session:
        task = session.scalars(select(StaffTask).where(StaffTask.kind == "case_withdrawn")).one()
        owner = session.scalars(select(Staff.username).where(Staff.id == task.assignee_id)).one()
    assert task.case_id == case.id and owner == "mrojas"
    assert [c.tramite for c in client.cases()] == ["G"]  # never a retiro (H)


def test_withdrawal_answered_no_keeps_the_case(chat):
    client = chat(IMPORTADORA)
    client.say("necesito el detalle de llamadas de octubre de la línea 4412345")
    client.say("anular mi solicitud")
    assert "sigue en curso" in client.say("no, mejor no")
    assert client.last_case().status == "pendiente_requisitos"


def test_withdrawal_with_several_open_cases_asks_which(chat):
    client = chat(IMPORTADORA)
    client.say("necesito el detalle de llamadas de octubre de la línea 4412345")
    client.say("menú")
    client.say("necesito el detalle de llamadas de septiembre de la línea 4412346")
    older, newer = client.cases()
    options = client.say("quiero anular una solicitud")
    assert f"1. {newer.number}" in options and f"2. {older.number}" in options
    client.say("la 2")
    client.say("sí")
    statuses = {c.number: c.status for c in client.cases()}
    assert statuses == {older.number: "anulado", newer.number: "pendiente_requisitos"}


def test_withdrawal_with_nothing_open_says_so(chat):
    client = chat(IMPORTADORA)
    client.say("hola")
    reply = client.say("anular mi solicitud")
    assert "no tiene solicitudes abiertas" in reply
    assert client.cases() == []


def test_details_given_before_identification_are_kept(chat):
    client = chat(STRANGER)
    ask = client.say("Queremos la suspensión temporal de la línea 4257788 del 1 de diciembre al 28 de febrero")
    assert "NIT" in ask
    client.say(f"NIT {CONSTRUCTORA_NIT}")
    reply = client.say("contrato 300302")
    assert "Constructora Tunari" in reply
    assert "1 de diciembre de 2026" in reply and "28 de febrero de 2027" in reply
    case = client.last_case()
    assert case.tramite == "D" and case.data["contract"] == "300302"
    assert (case.data["starts_on"], case.data["ends_on"]) == ("2026-12-01", "2027-02-28")


def test_status_question_before_identification_is_answered_once_identified(chat):
    client = chat(STRANGER)
    client.say("hola, ¿cómo va mi solicitud?")
    client.say(f"NIT {CONSTRUCTORA_NIT}")
    reply = client.say("contrato 300302")
    assert "Constructora Tunari" in reply
    assert "no tiene solicitudes abiertas" in reply  # answered, not the menu


def test_a_product_named_that_does_not_fit_the_tramite_is_said_why(chat):
    client = chat(IMPORTADORA)
    reply = client.say("necesito el detalle de llamadas de octubre del internet")
    assert "no se aplica a «Internet»" in reply  # call detail is for lines (G)
    assert "1. Línea fija 4412345" in reply
    assert client.cases() == []


def test_a_case_question_beside_a_new_request_is_answered_after_it(chat):
    # The status question of the same message waits its turn like a second trámite: never dropped.
    client = chat(IMPORTADORA)
    first = client.say("en qué quedó lo que pedí? y además quiero agregar identificador de llamadas "
                       "en la línea 4412345")
    assert "Entendí 2 solicitudes" in first
    assert "la consulta del estado de su solicitud" in first
    assert "Resumen de su solicitud de servicios suplementarios" in first
    assert "También nos pidió la consulta del estado de su solicitud" in first
    case = client.last_case()
    assert case.tramite == "A"
    status = client.say("sí")
    assert case.number in status and "Falta: Carta de solicitud" in status


def test_a_new_request_beside_a_case_question_is_offered_after_the_status(chat):
    client = chat(IMPORTADORA)
    client.say("necesito el detalle de llamadas de octubre de la línea 4412345")
    case = client.last_case()
    reply = client.say(f"cómo va la solicitud {case.number}? y también quiero cambiar el plan del internet")
    assert case.number in reply  # the status first: the case number was the main question
    assert "También nos pidió cambio de plan" in reply
    plans = client.say("sí")
    assert "¿A qué plan desea cambiar?" in plans
