"""Inbound webhook: Twilio's form -> InboundMessage -> engine; replies only through the outbox."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from bot.models import Conversation, InboundFailure, Job, PendingTurn
from channels.whatsapp import inbound

from tests.whatsapp.conftest import PUBLIC, SENDER, load


def _form(name: str, **overrides) -> dict[str, str]:
    return dict(load(name, **overrides))


# --- parsing (no server) ---------------------------------------------------------------------------

def test_text_message_is_parsed_to_an_e164_address():
    message = inbound.parse(_form("text"))
    assert message.channel == "whatsapp"
    assert message.address == "+59170000001"
    assert message.external_id == "SM1f0c2d3e4b5a69788796a5b4c3d2e1f0"
    assert message.body == "quiero el detalle de llamadas de agosto y septiembre de la línea 4412345"
    assert message.profile_name == "María Fernanda Céspedes"
    assert message.attachments == ()
    assert message.meta["WaId"] == "59170000001" and message.meta["MessageType"] == "text"


def test_media_becomes_an_attachment_with_url_and_no_data():
    message = inbound.parse(_form("document_pdf"))
    assert message.body == ""
    [attachment] = message.attachments
    assert attachment.url == ("https://api.twilio.com/2010-04-01/Accounts/ACf3c1b2a4d5e6f708192a3b4c5d6e7f80"
                              "/Messages/MM2a1b3c4d5e6f708192a3b4c5d6e7f801/Media/ME5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a")
    assert attachment.content_type == "application/pdf"
    assert attachment.filename == "whatsapp-1.pdf"
    assert attachment.data is None


def test_local_number_without_prefix_is_normalised():
    assert inbound.parse(_form("text", From="whatsapp:70000001")).address == "+59170000001"


@pytest.mark.parametrize("overrides", [{"From": "whatsapp:"}, {"From": "whatsapp:abc"},
                                       {"MessageSid": "", "SmsMessageSid": "", "SmsSid": ""}])
def test_no_sender_or_no_id_is_a_bad_payload(overrides):
    with pytest.raises(inbound.BadPayload):
        inbound.parse(_form("text", **overrides))


def test_location_keeps_its_coordinates():
    message = inbound.parse(_form("location"))
    assert inbound.unreadable_kind(message) == "location"
    assert message.meta["Latitude"] == "-17.3934908" and message.meta["Label"] == "Oficina central"


# --- through the app --------------------------------------------------------------------------------

def test_text_is_answered_with_empty_twiml_and_the_reply_goes_through_the_outbox(wa):
    response = wa.app.webhook("text", Body="Hola")
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    [incoming] = wa.messages(direction="in")
    assert incoming.body == "Hola" and incoming.external_id == "SM1f0c2d3e4b5a69788796a5b4c3d2e1f0"
    # Issue 16: the webhook only stores the message; the worker's turn answers it.
    assert wa.messages(direction="out") == [] and pending_turns(wa) == [incoming.id]
    assert wa.twilio.posts() == []  # nothing inline

    wa.run_worker()
    assert pending_turns(wa) == []
    [reply] = wa.messages(direction="out")

    [sent] = wa.twilio.sent()
    assert sent.path == "/2010-04-01/Accounts/ACf3c1b2a4d5e6f708192a3b4c5d6e7f80/Messages.json"
    assert sent.value("To") == "whatsapp:+59170000001"
    assert sent.value("From") == SENDER
    assert sent.value("Body") == reply.body
    assert sent.value("StatusCallback") == f"{PUBLIC}/webhooks/whatsapp/status?message={reply.id}"
    [reply] = wa.messages(direction="out")
    assert reply.status == "queued" and reply.external_id == "SM" + "0" * 31 + "1"


def test_retried_delivery_is_answered_200_and_changes_nothing(wa):
    wa.app.webhook("text", Body="Hola")
    before = [(m.id, m.body, m.status) for m in wa.messages()]
    second = wa.app.webhook("text", Body="Hola")
    assert second.status_code == 200
    assert [(m.id, m.body, m.status) for m in wa.messages()] == before
    assert len(pending_turns(wa)) == 1  # one turn for one message
    wa.run_worker()
    assert len(wa.twilio.sent()) == 1


def test_concurrent_retries_store_one_message(wa):
    results = []

    def post():
        results.append(wa.app.post("/webhooks/whatsapp", load("text", Body="Hola")).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 6
    assert len(wa.messages(direction="in")) == 1
    assert len(pending_turns(wa)) == 1
    wa.run_worker()
    assert len(wa.outbox()) == 1


def test_signed_post_without_a_usable_sender_is_kept_as_an_inbound_failure(wa):
    wa.app.webhook("text", From="whatsapp:")
    assert wa.messages() == []
    with wa.runtime.sessions() as session:
        [failure] = session.scalars(select(InboundFailure)).all()
    assert failure.channel == "whatsapp" and failure.external_id == "SM1f0c2d3e4b5a69788796a5b4c3d2e1f0"


def pending_turns(wa) -> list[int]:
    """Message ids waiting for the worker's turn (Engine.defer_turn)."""
    with wa.runtime.sessions() as session:
        return list(session.scalars(select(PendingTurn.message_id).order_by(PendingTurn.id)))


def _only_reply(wa) -> str:
    wa.run_worker()
    [sent] = wa.twilio.sent()
    return sent.value("Body")


def _conversation(wa) -> Conversation:
    with wa.runtime.sessions() as session:
        return session.scalars(select(Conversation)).one()


def test_location_gets_a_sensible_answer(wa):
    wa.app.webhook("location")
    reply = _only_reply(wa)
    assert "ubicación" in reply and "Oficina central" in reply
    assert _conversation(wa).state == "start"  # the dialog did not read an empty text
    assert [m.body for m in wa.messages(direction="in")] == [""]


def test_contact_card_gets_an_answer_and_is_not_downloaded(wa):
    wa.app.webhook("contacts")
    assert "tarjeta de contacto" in _only_reply(wa)
    assert wa.twilio.gets("/2010-04-01") == []
    with wa.runtime.sessions() as session:
        assert session.scalars(select(Job)).all() == []


def test_voice_note_gets_an_answer_and_is_not_downloaded(wa):
    wa.app.webhook("audio")
    assert "audios" in _only_reply(wa)
    assert wa.twilio.gets("/2010-04-01") == []


def test_unknown_message_type_without_text_gets_an_answer(wa):
    wa.app.webhook("unsupported")
    assert "no podemos leer este tipo de mensaje" in _only_reply(wa)


def test_voice_note_with_text_answers_the_text_and_says_audio_is_not_read(wa):
    wa.app.webhook("audio", Body="Hola")
    wa.run_worker()
    bodies = [r.value("Body") for r in wa.twilio.sent()]
    assert len(bodies) == 2
    assert "audios" in bodies[1]
    assert "audios" not in bodies[0]


def test_last_inbound_time_opens_the_window(wa):
    wa.app.webhook("location")
    assert _conversation(wa).last_inbound_at is not None


def test_conversation_held_by_staff_gets_no_bot_answer(wa):
    wa.app.webhook("text", Body="Hola")
    wa.run_worker()
    with wa.runtime.sessions.begin() as session:
        session.scalars(select(Conversation)).one().mode = "human"
    wa.app.webhook("location", MessageSid="SM" + "4" * 32)
    wa.run_worker()
    assert len(wa.twilio.sent()) == 1  # only the answer to "Hola", queued before the takeover
    assert len(wa.messages(direction="in")) == 2
