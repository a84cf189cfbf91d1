"""A mora question nobody answers does not hold the conversation: CAMPAIGN_ANSWER_DAYS (7) after
the send the chat is back at the menu, silently, and the send is marked "sin_respuesta"; an
answered send keeps its answer; a conversation that moved on is left alone."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.campaigns import timeout
from bot.models import CampaignSend, Conversation, Job
from tests.campaigns.test_mora import IMPORTADORA_WA, _client_id, _reach_the_run, _say, _whatsapp_to

SENT_AT = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)  # the mora run of tests/campaigns/test_mora.py
HINT = "¿ya realizó el pago?"  # templates/messages/mora_hint.j2: only the mora dialog says it
MENU = "¿En qué podemos ayudarle?"


def _conversation(app, number):
    with app.runtime.sessions() as session:
        return session.scalars(select(Conversation).where(Conversation.channel == "whatsapp",
                                                          Conversation.address == number)).one()


def _send(app, number):
    with app.runtime.sessions() as session:
        return session.scalars(select(CampaignSend).where(
            CampaignSend.client_id == _client_id(app, number), CampaignSend.channel == "whatsapp",
            CampaignSend.run == "2026-12")).one()


def _advance_to(app, moment):
    app.clock.advance(seconds=(moment - app.clock.now()).total_seconds())
    app.run_worker()


def test_an_unanswered_question_frees_the_conversation_after_seven_days(campaigns):
    app = campaigns()
    _reach_the_run(app)
    row = _send(app, IMPORTADORA_WA)
    assert (_conversation(app, IMPORTADORA_WA).dialog, _conversation(app, IMPORTADORA_WA).data) \
        == ("mora", {"send_id": row.id})
    sent = len(app.twilio.sent())

    _advance_to(app, SENT_AT + timedelta(days=6, hours=23, minutes=59))
    assert _conversation(app, IMPORTADORA_WA).dialog == "mora"  # still waiting for the answer
    assert _send(app, IMPORTADORA_WA).outcome == ""

    _advance_to(app, SENT_AT + timedelta(days=7))
    conversation = _conversation(app, IMPORTADORA_WA)
    assert (conversation.dialog, conversation.state, conversation.data) == ("main", "menu", {})
    assert _send(app, IMPORTADORA_WA).outcome == "sin_respuesta"
    assert len(app.twilio.sent()) == sent  # silently: nothing written to the client

    # Whatever the client writes now is read by the menu, not taken for a mora answer.
    reply = _say(app, IMPORTADORA_WA, "hola", 1)
    assert MENU in reply and HINT not in reply


def test_the_same_message_inside_the_week_is_still_read_as_a_mora_answer(campaigns):
    """The control for the test above: before the timeout "hola" gets the mora hint."""
    app = campaigns()
    _reach_the_run(app)
    _advance_to(app, SENT_AT + timedelta(days=6))
    assert HINT in _say(app, IMPORTADORA_WA, "hola", 1)


def test_an_answered_question_keeps_its_answer_and_outcome(campaigns):
    app = campaigns()
    _reach_the_run(app)
    _say(app, IMPORTADORA_WA, "Pagaremos el viernes sin falta", 1)
    _advance_to(app, SENT_AT + timedelta(days=7, minutes=1))
    row = _send(app, IMPORTADORA_WA)
    assert row.answer == "promise" and row.outcome != "sin_respuesta"


def test_a_conversation_that_moved_to_another_question_is_left_alone(campaigns):
    app = campaigns()
    _reach_the_run(app)
    row = _send(app, IMPORTADORA_WA)
    # A later campaign question took the conversation (another send id) before the timeout.
    with app.runtime.sessions.begin() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.address == IMPORTADORA_WA)).one()
        conversation.data = {"send_id": row.id + 10_000}
    _advance_to(app, SENT_AT + timedelta(days=7))
    conversation = _conversation(app, IMPORTADORA_WA)
    assert (conversation.dialog, conversation.data) == ("mora", {"send_id": row.id + 10_000})
    assert _send(app, IMPORTADORA_WA).outcome == "sin_respuesta"  # this send was still never answered


def test_the_timeout_is_scheduled_once_per_send(campaigns):
    app = campaigns()
    _reach_the_run(app)
    row = _send(app, IMPORTADORA_WA)
    with app.runtime.sessions.begin() as session:
        again = timeout.schedule(session, session.get(CampaignSend, row.id), app.clock.now(), dialog="mora")
    assert again is None
    with app.runtime.sessions() as session:
        keys = session.scalars(select(Job.dedupe_key).where(Job.kind == timeout.JOB)).all()
    assert keys.count(f"campaign-answer:{row.id}") == 1
    assert _whatsapp_to(app, IMPORTADORA_WA)
