"""Hostile but correctly signed webhooks through the real app (uvicorn, both databases): whatever
the form holds, Twilio never gets a 500; a huge body is cut, the client is told, the event logged."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.models import Job, Message
from tests.whatsapp.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC, SHARED_KEY, load, sign

CHARS = st.characters(blacklist_categories=("Cs",))  # a form decodes to text without lone surrogates
KNOWN = ["MessageSid", "SmsMessageSid", "From", "To", "Body", "NumMedia", "ProfileName", "WaId", "Latitude",
         "Longitude", "Label", "Address", "MessageType", "ButtonPayload", "AccountSid"]
BOGUS_URLS = st.sampled_from(["", "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd",
                              "https://api.twilio.com/../../etc", "javascript:alert(1)", "https://evil.example/x",
                              f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1",
                              "not a url", "https://api.twilio.com:99999/x"])


@st.composite
def forms(draw):
    fields = {"MessageSid": "SM" + draw(st.text("0123456789abcdef", min_size=1, max_size=32)),
              "From": draw(st.sampled_from(["whatsapp:+59170000001", "whatsapp:+59171234567", "whatsapp:",
                                            "whatsapp:abc", "+1 (555) 010-9999", ""]) | st.text(CHARS, max_size=20))}
    for name in draw(st.lists(st.sampled_from(KNOWN) | st.text(CHARS, min_size=1, max_size=12), max_size=6)):
        fields[name] = draw(st.text(CHARS, max_size=60))
    if draw(st.booleans()):
        fields["Body"] = draw(st.text(CHARS, max_size=300) | st.sampled_from(["\x00", "a\x00b", "🙂" * 50]))
    count = draw(st.integers(0, 100) | st.sampled_from(["-1", "1e9", "", "abc", "99999999999999999999"]))
    fields["NumMedia"] = str(count)
    for index in range(min(count, 100) if isinstance(count, int) else 0):
        fields[f"MediaUrl{index}"] = draw(BOGUS_URLS)
        fields[f"MediaContentType{index}"] = draw(st.sampled_from(["image/jpeg", "application/pdf", "audio/ogg",
                                                                   "", "x/\x00", "text/vcard"]))
    for name in draw(st.sets(st.sampled_from(["From", "MessageSid", "Body"]), max_size=2)):
        fields.pop(name, None)  # missing fields
    return list(fields.items())


def test_signed_hostile_forms_never_get_a_500(wa):
    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(forms())
    def post(fields):
        response = wa.app.post("/webhooks/whatsapp", fields)
        assert response.status_code == 200, (response.status_code, response.text[:300])

    post()
    wa.run_worker()  # the media jobs of those forms: bogus URLs are refused, nothing crashes


def test_status_callback_with_hostile_fields_never_gets_a_500(wa):
    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.dictionaries(st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode", "To", "From"])
                           | st.text(CHARS, min_size=1, max_size=10), st.text(CHARS, max_size=40), max_size=6),
           st.sampled_from(["", "?message=1", "?message=-5", "?message=abc", "?message=99999999999999999999"]))
    def post(fields, query):
        response = wa.app.post("/webhooks/whatsapp/status" + query, list(fields.items()))
        assert response.status_code in (200, 422), (response.status_code, response.text[:300])

    post()


def test_huge_body_is_cut_the_client_is_told_and_the_event_logged(demo, wa, caplog):
    limit = wa.runtime.settings.max_message_chars
    body = "quiero el detalle de llamadas de agosto " + "x" * 200_000
    caplog.set_level(logging.WARNING, logger="bot.engine")
    wa.app.webhook("text", Body=body, MessageSid="SMhuge0001")
    [stored] = wa.messages(direction="in", external_id="SMhuge0001")
    assert stored.body == body[:limit]
    wa.run_worker()
    [reply] = wa.replies()
    assert f"primeros {limit} caracteres" in reply
    assert "200040 characters" in caplog.text and "SMhuge0001" in caplog.text
    assert "+59170000001" not in caplog.text  # masked
    assert "+591700****1" in caplog.text


def test_a_body_within_the_limit_is_not_touched(demo, wa):
    body = "quiero el detalle de llamadas de agosto " + "y" * (wa.runtime.settings.max_message_chars - 40)
    wa.app.webhook("text", Body=body, MessageSid="SMfits0001")
    [stored] = wa.messages(direction="in", external_id="SMfits0001")
    assert stored.body == body
    wa.run_worker()
    assert not any("caracteres" in r for r in wa.replies())


def test_one_hundred_bogus_media_urls_make_one_job_and_no_request_outside_twilio(wa):
    fields = load("text", MessageSid="SMmany0001", Body="", NumMedia="100")
    fields += [(f"MediaUrl{i}", f"http://10.0.0.{i}/latest/meta-data") for i in range(100)]
    fields += [(f"MediaContentType{i}", "image/jpeg") for i in range(100)]
    assert wa.app.post("/webhooks/whatsapp", fields).status_code == 200
    wa.run_worker()
    with wa.runtime.sessions() as session:
        [job] = session.scalars(select(Job).where(Job.dedupe_key == "media:SMmany0001")).all()
        assert job.status == "failed" and "outside Twilio" in job.last_error
        assert session.scalar(select(Message.id).where(Message.external_id == "SMmany0001")) is not None


def test_secrets_never_reach_the_log(demo, wa, caplog):
    caplog.set_level(logging.DEBUG)
    wa.app.webhook("text")
    wa.app.webhook("document_pdf")
    wa.app.post("/webhooks/whatsapp", load("text", MessageSid="SMbad"), token="wrong-token")  # refused
    wa.app.post("/webhooks/whatsapp/status", load("status_delivered"))
    wa.run_worker()
    assert wa.twilio.sent(), "the worker talked to (fake) Twilio with the token"
    for secret in (AUTH_TOKEN, SHARED_KEY):
        assert secret not in caplog.text


def test_nul_and_control_characters_in_fields_are_stored_or_refused_never_a_500(wa):
    for index, value in enumerate(["a\x00b", "\x00", "\x1b[31m", "\ud7ff\uffff"]):
        fields = load("text", MessageSid=f"SMnul{index}", Body=value, ProfileName=value)
        assert wa.app.post("/webhooks/whatsapp", fields).status_code == 200
    wa.run_worker()


def test_an_absurd_num_media_is_answered_at_once(wa):
    fields = load("document_pdf", MessageSid="SMabsurd", NumMedia="99999999999999999999")
    response = wa.app.http.post("/webhooks/whatsapp", content=urlencode(fields),
                                headers={"Content-Type": "application/x-www-form-urlencoded",
                                         "X-Twilio-Signature": sign(fields, PUBLIC + "/webhooks/whatsapp")},
                                timeout=60)  # a loop over the count would never answer
    assert response.status_code == 200
