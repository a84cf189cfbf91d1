"""J) Actualización de datos, every branch, through the console channel.

The change is recorded on a case for the client's ejecutivo(a) to confirm; no cost, no documents,
and the portfolio itself stays as it was.
"""
from __future__ import annotations

from sqlalchemy import select

from bot.models import Client, Staff

IMPORTADORA = "+59170000001"  # email gerencia@empresa.bo, WhatsApp +59170000001, ejecutivo mrojas


def rules(client, case) -> list[str]:
    return [e.detail["rule"] for e in client.events(case) if e.kind == "rule"]


def test_several_fields_in_one_message(chat):
    client = chat(IMPORTADORA)
    reply = client.say("el nuevo correo es x@y.bo y el contacto es Juan Pérez, cel 71234567")
    assert "Correo electrónico: x@y.bo (antes: gerencia@empresa.bo)" in reply
    assert "Persona de contacto: Juan Pérez" in reply
    assert "Teléfono de contacto: +59171234567" in reply
    assert "no tiene costo" in reply and "Requisitos pendientes" not in reply
    assert "Ejecutivo(a) Equipo Empresas" in reply and "confirmará el cambio" in reply
    case = client.last_case()
    assert case.number in reply
    assert case.tramite == "J" and case.status == "en_proceso" and case.current_role == "ejecutivo"
    with client.runtime.sessions() as session:
        mrojas = session.scalar(select(Staff.id).where(Staff.username == "mrojas"))
        stored = session.scalar(select(Client).where(Client.nit == "1020304021"))
        assert stored.email == "gerencia@empresa.bo"  # the bot does not change the portfolio
    assert case.assignee_id == mrojas
    assert case.data["updates"] == [
        {"field": "contact", "old": None, "new": "Juan Pérez"},
        {"field": "phone", "old": None, "new": "+59171234567"},
        {"field": "email", "old": "gerencia@empresa.bo", "new": "x@y.bo"},
    ]
    assert case.quoted_costs == [] and case.requirements == []
    assert "data_update" in rules(client, case)


def test_turn_by_turn_asks_for_the_fields_named_without_value(chat):
    client = chat(IMPORTADORA)
    client.say("Hola")
    question = client.say("10")
    assert "¿Qué datos desea actualizar?" in question
    both = client.say("quiero cambiar el correo y el whatsapp")
    assert "el nuevo correo electrónico y el nuevo número de WhatsApp" in both
    whatsapp = client.say("ventas@empresa.bo")
    assert "el nuevo número de WhatsApp" in whatsapp and "correo" not in whatsapp
    reply = client.say("71234567")
    assert "Correo electrónico: ventas@empresa.bo" in reply
    assert "WhatsApp: +59171234567 (antes: +59170000001)" in reply


def test_invalid_email_and_phone_are_asked_again(chat):
    client = chat(IMPORTADORA)
    reply = client.say("actualizar datos: correo juan@empresa y cel 123")
    assert "El correo juan@empresa no parece válido" in reply
    assert "El número 123 no parece válido" in reply
    assert client.cases() == []
    phone = client.say("juan@empresa.bo")
    assert "el nuevo teléfono de contacto" in phone
    done = client.say("es el 4412345")  # a Cochabamba landline without its area code
    assert "Teléfono de contacto: +59144412345" in done
    assert "Correo electrónico: juan@empresa.bo" in done


def test_the_client_may_drop_a_field_still_asked(chat):
    client = chat(IMPORTADORA)
    client.say("quiero actualizar el correo y el teléfono de contacto")
    client.say("compras@empresa.bo")
    reply = client.say("no, solo eso")
    assert "Correo electrónico: compras@empresa.bo" in reply and "Teléfono" not in reply
    assert [u["field"] for u in client.last_case().data["updates"]] == ["email"]


def test_the_same_value_is_not_a_change(chat):
    client = chat(IMPORTADORA)
    reply = client.say("actualizar datos, el correo es gerencia@empresa.bo")
    assert "El correo electrónico que indicó ya es el registrado" in reply
    assert client.cases() == []


def test_lower_case_name_after_a_linking_word_and_fixed_phone(chat):
    client = chat(IMPORTADORA)
    reply = client.say("actualicen los datos: el encargado ahora es ana rojas, telefono 4 4412345")
    assert "Persona de contacto: Ana Rojas" in reply
    assert "Teléfono de contacto: +59144412345" in reply


def test_bad_answers_get_a_hint_twice_then_a_person_is_offered(chat):
    client = chat(IMPORTADORA)
    client.say("quiero actualizar nuestros datos")
    first = client.say("los de siempre")
    assert "Disculpe, no identifiqué los datos" in first
    second = client.say("???")
    assert "Disculpe" in second
    offer = client.say("no sé")
    assert "ejecutivo" in offer and "sí" in offer
    handoff = client.say("sí")
    assert "ejecutivo" in handoff
    assert client.cases() == []
