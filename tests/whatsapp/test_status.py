"""Status callbacks (signed) -> delivery status and error code on the message, never backwards."""
from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import select

from bot.models import Message, StaffTask

from tests.whatsapp.conftest import load


def _sent_reply(wa) -> Message:
    """A reply the bot sent (to "Hola"), with the SID Twilio gave it."""
    wa.app.webhook("text", Body="Hola")
    wa.run_worker()
    [reply] = wa.messages(direction="out")
    assert reply.status == "queued" and reply.external_id
    return reply


def _callback(wa, name: str, message: Message, *, by_sid_only: bool = False):
    sid = message.external_id
    fields = load(name, MessageSid=sid, SmsSid=sid)
    path = "/webhooks/whatsapp/status" if by_sid_only else f"/webhooks/whatsapp/status?message={message.id}"
    response = wa.app.post(path, fields)
    assert response.status_code == 200, response.text
    return response


def _status(wa, message: Message) -> tuple[str, str]:
    with wa.runtime.sessions() as session:
        stored = session.get(Message, message.id)
        return stored.status, stored.error_code


def test_statuses_are_recorded_in_order(wa):
    reply = _sent_reply(wa)
    for name, expected in [("status_sent", "sent"), ("status_delivered", "delivered"), ("status_read", "read")]:
        _callback(wa, name, reply)
        assert _status(wa, reply) == (expected, "")


def test_a_late_sent_never_overwrites_delivered_or_read(wa):
    reply = _sent_reply(wa)
    _callback(wa, "status_delivered", reply)
    _callback(wa, "status_sent", reply)
    assert _status(wa, reply) == ("delivered", "")
    _callback(wa, "status_read", reply)
    _callback(wa, "status_delivered", reply)
    _callback(wa, "status_sent", reply)
    assert _status(wa, reply) == ("read", "")


def test_failure_records_the_error_code(wa):
    reply = _sent_reply(wa)
    _callback(wa, "status_sent", reply)
    _callback(wa, "status_undelivered_63024", reply)
    assert _status(wa, reply) == ("undelivered", "63024")
    with wa.runtime.sessions() as session:
        assert session.scalars(select(StaffTask)).all() == []


def test_63016_marks_the_message_failed_and_tells_staff_with_the_templates(demo, wa):
    reply = _sent_reply(wa)
    _callback(wa, "status_failed_63016", reply)
    assert _status(wa, reply) == ("failed", "63016")
    with wa.runtime.sessions() as session:
        [task] = session.scalars(select(StaffTask).where(StaffTask.kind == "whatsapp_window")).all()
    assert task.conversation_id == reply.conversation_id and task.assignee_id is not None
    assert "63016" in task.note and "Reabrir conversación" in task.note
    _callback(wa, "status_delivered", reply)  # a late success does not hide the failure
    assert _status(wa, reply) == ("failed", "63016")


def test_console_configured_callback_finds_the_message_by_sid(wa):
    reply = _sent_reply(wa)
    _callback(wa, "status_delivered", reply, by_sid_only=True)
    assert _status(wa, reply) == ("delivered", "")


def test_unknown_message_is_acknowledged_and_nothing_changes(wa):
    reply = _sent_reply(wa)
    fields = load("status_delivered", MessageSid="SM" + "f" * 32, SmsSid="SM" + "f" * 32)
    assert wa.app.post("/webhooks/whatsapp/status", fields).status_code == 200
    assert _status(wa, reply) == ("queued", "")


def test_callback_naming_an_inbound_message_changes_nothing(wa):
    _sent_reply(wa)
    [incoming] = wa.messages(direction="in")
    fields = load("status_failed_63016", MessageSid=incoming.external_id)
    wa.app.post(f"/webhooks/whatsapp/status?message={incoming.id}", fields)
    assert _status(wa, incoming) == ("received", "")


def test_tampered_status_is_refused(wa):
    reply = _sent_reply(wa)
    fields = load("status_read", MessageSid=reply.external_id)
    tampered = [(k, "failed" if k == "MessageStatus" else v) for k, v in fields]
    path = f"/webhooks/whatsapp/status?message={reply.id}"
    assert wa.app.post(path, fields, body=urlencode(tampered)).status_code == 403
    assert _status(wa, reply) == ("queued", "")
