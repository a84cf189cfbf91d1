"""One correlation id follows a message from the signed webhook, through the engine, to the
outbox delivery by the worker; JSON log lines carry it and never a raw phone or NIT."""
from __future__ import annotations

import io
import json
import logging

from tests.whatsapp.conftest import load

PHONE = "+59170000001"  # the sender in the fixture (Importadora El Valle's contact)
NIT = "1020304021"  # Importadora El Valle's NIT


def _json_log(wa, fields, request_id=None):
    from bot.observability import logs

    stream = io.StringIO()
    handler = logs.configure(level="INFO", log_format="json", stream=stream)
    try:
        headers = {"X-Request-ID": request_id} if request_id else {}
        response = wa.app.post("/webhooks/whatsapp", fields, headers=headers)
        assert response.status_code == 200
        wa.run_worker()
    finally:
        logging.getLogger().removeHandler(handler)
    return response, [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_request_id_is_stored_on_the_message_and_its_reply_and_logged_at_delivery(wa, demo):
    response, lines = _json_log(wa, load("text", Body=f"Hola, mi NIT es {NIT}"), request_id="req-7f3a9c")

    assert response.headers["x-request-id"] == "req-7f3a9c"
    [inbound] = wa.messages(direction="in")
    [reply] = wa.messages(direction="out")
    assert inbound.correlation_id == "req-7f3a9c" and reply.correlation_id == "req-7f3a9c"
    by_logger = {}
    for line in lines:
        by_logger.setdefault(line["logger"], []).append(line)
    [received] = [r for r in by_logger["bot.engine"] if r["message"].startswith("inbound whatsapp")]
    [delivered] = [r for r in by_logger["bot.outbox"] if r["message"].startswith("delivered message")]
    assert received["correlation_id"] == delivered["correlation_id"] == "req-7f3a9c"
    assert delivered["message"] == f"delivered message {reply.id} by whatsapp to +591700****1"
    assert {"time", "level", "logger", "message", "correlation_id"} <= set(delivered)
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    assert PHONE not in text and "70000001" not in text and NIT not in text


def test_without_a_request_id_one_is_made_and_still_follows_the_message(wa, demo):
    response, lines = _json_log(wa, load("text", Body="Hola"))

    made = response.headers["x-request-id"]
    assert len(made) == 32 and int(made, 16) >= 0  # a uuid4 in hex
    [inbound] = wa.messages(direction="in")
    [reply] = wa.messages(direction="out")
    assert inbound.correlation_id == reply.correlation_id == made
    assert {line["correlation_id"] for line in lines if line["logger"] in ("bot.engine", "bot.outbox")} == {made}


def test_an_unusable_request_id_is_replaced(wa, demo):
    response, _ = _json_log(wa, load("text", Body="Hola"), request_id="bad id\twith spaces")
    assert response.headers["x-request-id"] != "bad id\twith spaces"
    assert len(response.headers["x-request-id"]) == 32


def test_messages_a_background_job_sends_carry_the_jobs_id(db):
    from datetime import UTC, datetime

    from sqlalchemy import select

    from bot import outbox
    from bot.clock import ManualClock
    from bot.models import Conversation, Message
    from bot.scheduler import Scheduler, schedule

    now = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)
    with db.sessions.begin() as session:
        conversation = Conversation(channel="whatsapp", address="+59170000001", dialog="main", state="menu",
                                    data={}, mode="bot", created_at=now, updated_at=now)
        session.add(conversation)
        session.flush()
        conversation_id = conversation.id
        job_id = schedule(session, kind="test_send", due_at=now, now=now)

    def send(ctx):  # a campaign-like handler: writes a reply into the outbox
        outbox.enqueue(ctx.session, conversation=ctx.session.get(Conversation, conversation_id), body="Hola",
                       now=ctx.now)

    Scheduler(db.sessions, clock=ManualClock(now), handlers={"test_send": send}).run_due()
    with db.sessions() as session:
        assert session.scalars(select(Message.correlation_id)).one() == f"job-{job_id}"
