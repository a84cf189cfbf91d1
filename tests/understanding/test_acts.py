"""Dialog acts are recognised only when they are the whole message."""
from __future__ import annotations

import pytest

from bot.acts import dialog_act


@pytest.mark.parametrize("text, act", [
    ("gracias", "thanks"), ("Muchas gracias!!", "thanks"), ("graciaaas 🙏", "thanks"),
    ("ok", "ok"), ("Ok, listo", "ok"), ("👍", "ok"), ("perfecto, entendido", "ok"),
    ("Buenas tardes", "greeting"), ("hola buenos días", "greeting"), ("Hola!", "greeting"),
    ("chau, gracias", "thanks"), ("Hasta luego, que tenga buen día", "goodbye"),
    ("ok gracias jefa", "thanks"), ("muy amable señorita, bendiciones", "thanks"),
])
def test_social_messages_are_acts(text, act):
    assert dialog_act(text) == act


@pytest.mark.parametrize("text", [
    "gracias, y quiero dar de baja la linea 4412345",
    "hola quiero el detalle de llamadas de octubre",
    "buenas tardes, no tengo internet desde ayer",
    "ok, la 2",
    "si",
    "",
    "4412345",
])
def test_a_message_with_a_request_or_an_answer_is_not_an_act(text):
    assert dialog_act(text) is None
