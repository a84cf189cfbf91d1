"""Thanks, ok, greetings and goodbyes at the menu get a brief answer through the console channel,
never "no logré entender" and the menu again."""
from __future__ import annotations

import pytest

IMPORTADORA = "+59170000001"  # identified by its registered phone (demo portfolio)


@pytest.mark.parametrize("text, expected", [
    ("gracias!", "Con gusto"),
    ("ok 👍", "Perfecto"),
    ("chau, hasta luego", "Hasta pronto"),
])
def test_social_message_at_the_menu_is_answered_briefly(chat, text, expected):
    client = chat(IMPORTADORA)
    client.say("hola")  # identified by phone: welcome + menu
    reply = client.say(text)
    assert expected in reply
    assert "no logré entender" not in reply.lower() and "1." not in reply
    assert client.cases() == []


def test_a_greeting_at_the_menu_greets_and_shows_the_menu_without_an_apology(chat):
    client = chat(IMPORTADORA)
    client.say("hola")
    reply = client.say("buenas tardes")
    assert reply.startswith("¡Hola!") and "¿En qué podemos ayudarle?" in reply
    assert "no logré entender" not in reply.lower()


def test_thanks_after_a_request_is_answered_and_opens_nothing(chat):
    client = chat(IMPORTADORA)
    client.say("quiero el detalle de llamadas de octubre de la linea 4412345")
    opened = len(client.cases())
    reply = client.say("muchas gracias")
    assert "Con gusto" in reply
    assert len(client.cases()) == opened


def test_a_request_with_thanks_is_still_a_request(chat):
    client = chat(IMPORTADORA)
    client.say("hola")
    reply = client.say("gracias, y quiero el detalle de llamadas de octubre de la linea 4412345")
    assert "Con gusto" not in reply
    assert client.cases()  # the G request was served
