"""Outbound through the outbox and `client.messages.create` to the fake Twilio server: splitting,
retries, permanent errors, documents as signed links, and the 24-hour window with templates."""
from __future__ import annotations

import json
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from bot import documents, outbox
from bot.models import Client, Conversation, Message, Outbox, StaffTask
from bot.settings import Settings
from bot.messaging import OutboundMessage, TransientSendError
from bot import window
from channels.whatsapp.sender import MAX_BODY, WhatsAppChannel, split_text

from tests.whatsapp.conftest import IMPORTADORA, PUBLIC, TEMPLATES, make_settings

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SENTENCE = "La línea 4412345 tiene un saldo pendiente de Bs 78,40 del periodo de septiembre."  # 80 chars


# --- splitting -----------------------------------------------------------------------------------

def test_short_text_is_one_part():
    assert split_text("Hola. ¿En qué le ayudamos?") == ["Hola. ¿En qué le ayudamos?"]


def test_exactly_the_limit_is_one_part_one_more_is_two():
    assert split_text("a" * MAX_BODY) == ["a" * MAX_BODY]
    assert [len(p) for p in split_text("a" * (MAX_BODY + 1))] == [MAX_BODY, 1]


def test_long_text_is_cut_after_the_last_whole_sentence():
    text = " ".join([SENTENCE] * 45)  # 45 * 81 - 1 = 3,644 characters
    parts = split_text(text)
    # 19 sentences take 19 * 81 - 1 = 1,538 characters; a 20th would make 1,619 > 1,600.
    assert [len(p) for p in parts] == [1538, 1538, 7 * 81 - 1]
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == text


def test_line_breaks_are_boundaries_and_a_huge_sentence_is_cut_between_words():
    text = "Detalle:\n" + ("palabra " * 300).strip()  # no full stop in 2,400 characters
    parts = split_text(text)
    assert parts[0] == "Detalle:"
    assert all(len(p) <= MAX_BODY for p in parts)
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)
    assert " ".join(parts[1:]) == ("palabra " * 300).strip()


# --- helpers -------------------------------------------------------------------------------------

def _open_conversation(wa) -> int:
    """The client writes first (that opens the 24-hour window); its answer is delivered."""
    wa.app.webhook("text", Body="Hola")
    wa.run_worker()
    with wa.runtime.sessions() as session:
        return session.scalars(select(Conversation)).one().id


def _enqueue(wa, body: str, *, payload: dict | None = None, case_id: int | None = None) -> int:
    with wa.runtime.sessions.begin() as session:
        conversation = session.scalars(select(Conversation)).one()
        message = outbox.enqueue(session, conversation=conversation, body=body, now=wa.clock.now(),
                                 payload=payload, case_id=case_id)
        return message.id


def _message(wa, message_id: int) -> Message:
    with wa.runtime.sessions() as session:
        return session.get(Message, message_id)


def _outbox_row(wa, message_id: int) -> Outbox:
    with wa.runtime.sessions() as session:
        return session.scalars(select(Outbox).where(Outbox.message_id == message_id)).one()


def _tasks(wa) -> list[StaffTask]:
    with wa.runtime.sessions() as session:
        return list(session.scalars(select(StaffTask).where(StaffTask.kind == "whatsapp_window")))


# --- sending -------------------------------------------------------------------------------------

def test_long_reply_goes_out_as_several_messages_in_order(wa):
    _open_conversation(wa)
    text = " ".join([SENTENCE] * 45)
    message_id = _enqueue(wa, text)
    before = len(wa.twilio.sent())
    wa.run_worker()
    sent = wa.twilio.sent()[before:]
    assert [len(r.value("Body")) for r in sent] == [1538, 1538, 566]
    assert " ".join(r.value("Body") for r in sent) == text
    message = _message(wa, message_id)
    assert message.status == "queued" and message.external_id == "SM%032x" % (before + 1)


def test_rate_limit_is_retried_with_backoff(wa):
    _open_conversation(wa)
    message_id = _enqueue(wa, "Su caso fue derivado.")
    wa.twilio.answer_next((429, 20429))
    wa.run_worker()
    row = _outbox_row(wa, message_id)
    assert row.status == "pending" and row.attempts == 1 and "429" in row.last_error
    assert _message(wa, message_id).status == "pending"
    wa.run_worker()  # backoff of 5 s not over
    assert row.attempts == _outbox_row(wa, message_id).attempts
    wa.clock.advance(seconds=5)
    wa.run_worker()
    assert _outbox_row(wa, message_id).status == "sent"
    assert _message(wa, message_id).status == "queued"
    assert [r.headers["x-fake-answer"] for r in wa.twilio.posts()[-2:]] == ["429", "201"]


def test_server_errors_are_retried(wa):
    _open_conversation(wa)
    message_id = _enqueue(wa, "Su caso fue derivado.")
    wa.twilio.answer_next((500, None), (503, None))
    wa.run_worker()
    wa.clock.advance(seconds=5)
    wa.run_worker()
    assert _outbox_row(wa, message_id).attempts == 2
    wa.clock.advance(seconds=10)
    wa.run_worker()
    assert _outbox_row(wa, message_id).status == "sent"


def test_permanent_error_marks_the_message_failed_with_twilio_code_on_its_case(demo, wa):
    _open_conversation(wa)
    message_id = _enqueue(wa, "Su caso fue derivado.")
    wa.twilio.answer_next((400, 21211))
    before = len(wa.twilio.posts())
    wa.run_worker()
    wa.clock.advance(hours=1)
    wa.run_worker()
    assert len(wa.twilio.posts()) == before + 1  # never retried
    message = _message(wa, message_id)
    assert message.status == "failed" and message.error_code == "21211"
    assert _outbox_row(wa, message_id).status == "failed"


def test_a_retry_after_a_failed_part_does_not_send_earlier_parts_again(wa):
    _open_conversation(wa)
    text = " ".join([SENTENCE] * 45)
    message_id = _enqueue(wa, text)
    before = len(wa.twilio.sent())
    wa.twilio.answer_next((201, None), (429, 20429))
    wa.run_worker()
    assert len(wa.twilio.sent()) == before + 1
    assert len(_outbox_row(wa, message_id).payload["sent_parts"]) == 1
    wa.clock.advance(seconds=5)
    wa.run_worker()
    bodies = [r.value("Body") for r in wa.twilio.sent()[before:]]
    assert [len(b) for b in bodies] == [1538, 1538, 566]  # each part once
    assert _message(wa, message_id).external_id == "SM%032x" % (before + 1)


def test_network_error_is_transient(db, clock, tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = make_settings(db.url, tmp_path, f"http://127.0.0.1:{port}")
    with db.sessions.begin() as session:
        conversation = Conversation(channel="whatsapp", address=IMPORTADORA, dialog="main", state="start", data={},
                                    mode="bot", last_inbound_at=clock.now(), created_at=clock.now(),
                                    updated_at=clock.now())
        session.add(conversation)
        session.flush()
        message = outbox.enqueue(session, conversation=conversation, body="Hola", now=clock.now())
    channel = WhatsAppChannel(settings, db.sessions, clock=clock, timeout=2)
    with pytest.raises(TransientSendError):
        channel.send(OutboundMessage(message.id, "whatsapp", IMPORTADORA, "Hola"))


def test_messaging_service_is_used_instead_of_a_sender_number(whatsapp_factory):
    wa = whatsapp_factory(twilio_messaging_service_sid="MG" + "e5" * 16)
    _open_conversation(wa)
    [sent] = wa.twilio.sent()
    assert sent.value("MessagingServiceSid") == "MG" + "e5" * 16
    assert sent.value("From") is None


# --- documents we send -----------------------------------------------------------------------------

def _document(wa) -> int:
    stored = documents.store(wa.runtime.settings.documents_dir, PDF)
    with wa.runtime.sessions.begin() as session:
        document = documents.record(session, stored, filename="detalle-4412345.pdf", now=wa.clock.now())
        session.flush()
        return document.id


def test_document_is_sent_as_media_from_a_signed_expiring_link(wa):
    _open_conversation(wa)
    document_id = _document(wa)
    _enqueue(wa, "Le enviamos el detalle de llamadas.", payload={"document_ids": [document_id]})
    before = len(wa.twilio.sent())
    wa.run_worker()
    text, media = wa.twilio.sent()[before:]
    assert text.value("Body") == "Le enviamos el detalle de llamadas." and text.values("MediaUrl") == []
    [url] = media.values("MediaUrl")
    assert media.value("Body") is None  # WhatsApp documents carry no caption
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC and parts.path == f"/whatsapp/documents/{document_id}"
    assert int(parse_qs(parts.query)["expires"][0]) == int(wa.clock.now().timestamp()) + 3600

    local = f"{parts.path}?{parts.query}"
    fetched = wa.app.http.get(local)
    assert fetched.status_code == 200 and fetched.content == PDF
    assert fetched.headers["content-type"] == "application/pdf"
    assert wa.app.http.get(local.replace("signature=", "signature=0")).status_code == 403
    assert wa.app.http.get(local.replace(f"/{document_id}?", f"/{document_id + 1}?")).status_code == 403
    wa.clock.advance(hours=1, seconds=1)
    assert wa.app.http.get(local).status_code == 403


# --- the 24-hour window ----------------------------------------------------------------------------

def test_inside_the_window_free_text_is_sent(wa):
    _open_conversation(wa)
    wa.clock.advance(hours=23, minutes=59)
    message_id = _enqueue(wa, "Su caso fue derivado.")
    wa.run_worker()
    assert wa.replies()[-1] == "Su caso fue derivado."
    assert _message(wa, message_id).status == "queued"


def test_free_text_outside_the_window_is_not_sent_and_the_ejecutivo_is_told(demo, wa):
    _open_conversation(wa)
    wa.clock.advance(hours=24)
    message_id = _enqueue(wa, "Su caso fue derivado.")
    before = len(wa.twilio.posts())
    wa.run_worker()
    assert len(wa.twilio.posts()) == before
    message = _message(wa, message_id)
    assert message.status == "failed" and message.error_code == "outside_window"
    [task] = _tasks(wa)
    with wa.runtime.sessions() as session:
        client = session.scalars(select(Client).where(Client.nit == "1020304021")).one()
    assert task.assignee_id == client.ejecutivo_id and task.client_id == client.id
    assert "Su caso fue derivado." in task.note
    assert "Reabrir conversación, Novedad del caso, Recordatorio de pago, Encuesta de calidad" in task.note


def test_outside_the_window_a_message_naming_its_purpose_goes_as_the_template(wa):
    _open_conversation(wa)
    wa.clock.advance(hours=30)
    variables = {"1": "PV-2026-000001", "2": "en proceso"}
    message_id = _enqueue(wa, "Su caso PV-2026-000001 está en proceso.",
                          payload={"purpose": "case_update", "variables": variables})
    wa.run_worker()
    sent = wa.twilio.sent()[-1]
    assert sent.value("ContentSid") == TEMPLATES["case_update"]
    assert json.loads(sent.value("ContentVariables")) == variables
    assert sent.value("Body") is None and sent.values("MediaUrl") == []
    assert _message(wa, message_id).status == "queued"
    assert _tasks(wa) == []


def test_inside_the_window_a_message_naming_its_purpose_goes_as_free_text(wa):
    _open_conversation(wa)
    _enqueue(wa, "Su caso PV-2026-000001 está en proceso.", payload={"purpose": "case_update", "variables": {}})
    wa.run_worker()
    sent = wa.twilio.sent()[-1]
    assert sent.value("Body") == "Su caso PV-2026-000001 está en proceso." and sent.value("ContentSid") is None


def test_staff_reopening_the_conversation_sends_the_template(wa):
    _open_conversation(wa)
    wa.clock.advance(hours=48)
    with wa.runtime.sessions.begin() as session:
        conversation = session.scalars(select(Conversation)).one()
        message = window.enqueue_template(session, conversation=conversation, purpose="reopen",
                                          variables={"1": "María Fernanda"}, now=wa.clock.now(), author="mrojas")
        message_id = message.id
    wa.run_worker()
    sent = wa.twilio.sent()[-1]
    assert sent.value("ContentSid") == TEMPLATES["reopen"]
    assert json.loads(sent.value("ContentVariables")) == {"1": "María Fernanda"}
    logged = _message(wa, message_id).body
    assert logged == "[Plantilla de WhatsApp: Reabrir conversación — {{1}} = María Fernanda]"


def test_purpose_without_a_configured_template_fails_visibly(whatsapp_factory):
    wa = whatsapp_factory(twilio_template_payment_reminder="")
    _open_conversation(wa)
    wa.clock.advance(hours=25)
    message_id = _enqueue(wa, "Tiene facturas pendientes.",
                          payload={"purpose": "payment_reminder", "variables": {}})
    wa.run_worker()
    assert _message(wa, message_id).error_code == "template_missing"
    [task] = _tasks(wa)
    assert "Recordatorio de pago" not in task.note


def test_window_refused_synchronously_by_twilio_is_handled_the_same_way(wa):
    _open_conversation(wa)
    message_id = _enqueue(wa, "Su caso fue derivado.")
    wa.twilio.answer_next((400, 63016))
    wa.run_worker()
    message = _message(wa, message_id)
    assert message.status == "failed" and message.error_code == "63016"
    assert len(_tasks(wa)) == 1


def test_one_open_task_per_conversation_for_a_closed_window(wa):
    _open_conversation(wa)
    wa.clock.advance(hours=25)
    _enqueue(wa, "Primero.")
    _enqueue(wa, "Segundo.")
    wa.run_worker()
    assert len(_tasks(wa)) == 1


def test_is_open_reads_naive_sqlite_times_as_utc(clock):
    naive = clock.now().replace(tzinfo=None)
    assert window.is_open(naive, clock.now())
    assert not window.is_open(naive, clock.now() + window.WINDOW)
    assert not window.is_open(None, clock.now())


def test_templates_lists_only_configured_purposes():
    settings = Settings(twilio_template_reopen="HX1", twilio_template_case_update="",
                        twilio_template_payment_reminder="", twilio_template_quality_check="HX4")
    assert window.templates(settings) == {"reopen": "HX1", "quality_check": "HX4"}
