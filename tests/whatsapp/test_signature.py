"""X-Twilio-Signature: known answers from twilio-python's own tests, then signed posts to the app."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from starlette.datastructures import ImmutableMultiDict

from bot.settings import Settings
from channels.whatsapp import signature

from tests.whatsapp.conftest import AUTH_TOKEN, PUBLIC, SHARED_KEY, load

# twilio/twilio-python tests/unit/test_request_validator.py
TOKEN = "12345"
URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {"CallSid": "CA1234567890ABCDE", "Digits": "1234", "From": "+14158675309", "To": "+18005551212",
          "Caller": "+14158675309"}


def test_known_answer_vector():
    assert signature.compute(TOKEN, URI, PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


@pytest.mark.parametrize("uri, expected", [
    ("https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
    ("http://mycompany.com:80/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
])
def test_known_answers_with_ports(uri, expected):
    assert signature.compute(TOKEN, uri, PARAMS) == expected


def test_known_answer_with_repeated_fields():
    fields = ImmutableMultiDict([("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"),
                                 ("Digits", "1234"), ("Digits", "1234")])
    assert signature.compute(TOKEN, URI, fields) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def _settings(**overrides) -> Settings:
    return Settings(twilio_account_sid="AC" + "0" * 32, twilio_auth_token=TOKEN, **overrides)


def test_validation_accepts_the_vector_with_and_without_the_default_port():
    settings = _settings()
    for url in (URI, "https://mycompany.com:443/myapp.php?foo=1&bar=2"):
        assert signature.is_valid(settings, url=url, params=PARAMS, signature="RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                                  signature_settings="")


@pytest.mark.parametrize("url", [
    "http://mycompany.com/myapp.php?foo=1&bar=2",   # scheme
    "https://mycompany.com/myapp.php?foo=1&bar=3",  # query
    "https://mycompany.com/myapp.php/?foo=1&bar=2",  # trailing slash
])
def test_validation_refuses_another_url(url):
    assert not signature.is_valid(_settings(), url=url, params=PARAMS, signature="RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                                  signature_settings="")


def test_an_empty_auth_token_never_validates():
    # HMAC with an empty key is computable by anyone.
    settings = Settings(twilio_account_sid="AC" + "0" * 32, twilio_auth_token="")
    forged = signature.compute("", URI, PARAMS)
    assert not signature.is_valid(settings, url=URI, params=PARAMS, signature=forged, signature_settings="")


# --- through the running app ---------------------------------------------------------------------

def _stored(wa) -> int:
    return len(wa.messages(direction="in"))


def test_signed_webhook_is_accepted_behind_a_tls_proxy(wa):
    # The app listens on http://127.0.0.1; Twilio signed https://<PUBLIC_BASE_URL>/webhooks/whatsapp.
    assert wa.app.url.startswith("http://127.0.0.1")
    response = wa.app.post("/webhooks/whatsapp", load("text"))
    assert response.status_code == 200
    assert _stored(wa) == 1


def test_unsigned_webhook_gets_403_and_nothing_is_stored(wa):
    response = wa.app.http.post("/webhooks/whatsapp", content=urlencode(load("text")),
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 403
    assert _stored(wa) == 0 and wa.outbox() == []


def test_tampered_body_gets_403(wa):
    fields = load("text")
    tampered = [(k, "quiero dar de baja todas mis líneas" if k == "Body" else v) for k, v in fields]
    response = wa.app.post("/webhooks/whatsapp", fields, body=urlencode(tampered))
    assert response.status_code == 403
    assert _stored(wa) == 0


def test_field_added_after_signing_gets_403(wa):
    fields = load("text")
    response = wa.app.post("/webhooks/whatsapp", fields, body=urlencode([*fields, ("Extra", "1")]))
    assert response.status_code == 403


def test_signature_over_the_url_the_app_sees_is_refused(wa):
    # Signed for http://127.0.0.1:port/... (what the app sees), not the configured public URL.
    response = wa.app.post("/webhooks/whatsapp", load("text"), signed_url=wa.app.url + "/webhooks/whatsapp")
    assert response.status_code == 403
    assert _stored(wa) == 0


def test_signature_over_http_instead_of_https_is_refused(wa):
    http_url = PUBLIC.replace("https://", "http://") + "/webhooks/whatsapp"
    response = wa.app.post("/webhooks/whatsapp", load("text"), signed_url=http_url)
    assert response.status_code == 403


def test_wrong_token_is_refused(wa):
    response = wa.app.post("/webhooks/whatsapp", load("text"), token=AUTH_TOKEN[::-1])
    assert response.status_code == 403


def test_unknown_and_blank_fields_are_part_of_the_signature(wa):
    # Twilio adds fields without notice; every posted field, blank ones included, is signed.
    fields = load("text", Body="Hola", ChannelMetadata='{"type":"whatsapp"}', Forwarded="", NewField="x")
    assert wa.app.post("/webhooks/whatsapp", fields).status_code == 200
    assert [m.body for m in wa.messages(direction="in")] == ["Hola"]


def test_query_string_is_part_of_the_signed_url(wa):
    fields = load("text")
    ok = wa.app.post("/webhooks/whatsapp?source=sandbox", fields,
                     signed_url=PUBLIC + "/webhooks/whatsapp?source=sandbox")
    assert ok.status_code == 200
    refused = wa.app.post("/webhooks/whatsapp?source=sandbox", load("text", MessageSid="SM" + "9" * 32),
                          signed_url=PUBLIC + "/webhooks/whatsapp")
    assert refused.status_code == 403


def test_webhook_rule_hmac_sha256_with_the_shared_key(wa):
    header = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_test,algorithm=HMAC_SHA256"}
    ok = wa.app.post("/webhooks/whatsapp", load("text"), token=SHARED_KEY, algorithm="HMAC_SHA256", headers=header)
    assert ok.status_code == 200
    assert _stored(wa) == 1


def test_webhook_rule_signed_with_the_auth_token_is_refused(wa):
    header = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_test,algorithm=HMAC_SHA256"}
    response = wa.app.post("/webhooks/whatsapp", load("text"), token=AUTH_TOKEN, algorithm="HMAC_SHA256",
                           headers=header)
    assert response.status_code == 403


def test_sha1_signature_claimed_as_sha256_is_refused(wa):
    header = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_test,algorithm=HMAC_SHA256"}
    response = wa.app.post("/webhooks/whatsapp", load("text"), token=SHARED_KEY, algorithm="HMAC_SHA1",
                           headers=header)
    assert response.status_code == 403


def test_status_callback_must_be_signed_too(wa):
    response = wa.app.http.post("/webhooks/whatsapp/status", content=urlencode(load("status_delivered")),
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 403
