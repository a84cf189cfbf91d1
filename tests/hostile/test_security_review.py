"""Security review items not covered elsewhere (see tests/backoffice/test_auth.py for CSRF, login on
every route and security headers; tests/whatsapp for signatures and SSRF; tests/backoffice/
test_permissions.py for path traversal; tests/backoffice/test_kpis.py for CSV formula escaping)."""
from __future__ import annotations

import logging

import pytest

from bot.addresses import mask_address, mask_email, mask_nit, mask_phone
from bot.clock import ManualClock
from bot.settings import Settings
from bot.messaging import InboundMessage
from channels.email.sender import Draft, EmailChannel
from tests.backoffice.conftest import app, clock, login, runtime, staff  # noqa: F401
from tests.backoffice.support import NOW, PASSWORD, StaffClient

XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def test_client_text_is_escaped_in_timeline_queue_and_live_updates(app, runtime, login):  # noqa: F811
    outcome = runtime.conversations.handle(InboundMessage(
        channel="whatsapp", address="+59170000001", body=XSS, external_id="SMxss1", profile_name=XSS))
    client = login("mrojas")
    pages = {
        "timeline": client.get(f"/backoffice/conversaciones/{outcome.conversation_id}").text,
        "live": client.get(f"/backoffice/conversaciones/{outcome.conversation_id}/vivo").text,
        "queue": client.get("/backoffice/").text,
        "queue live": client.get("/backoffice/cola/vivo").text,
    }
    for name, html in pages.items():
        assert "<script>alert" not in html and "<img src=x" not in html, name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["timeline"]


def test_the_html_email_we_send_escapes_what_it_quotes(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3", email_from="empresas@comteco.example",
                        email_from_name="Comteco Empresas")
    sender = EmailChannel(settings, sessions=None, clock=ManualClock(NOW))
    body = f"Usted escribió: {XSS}\n\nY también: \"><a href=javascript:alert(1)>x</a>"
    mime = sender.compose(Draft(message_id="<1@comteco.example>", author="staff", body=body,
                                case_number="<b>PV-1</b>", thread={}, subject=f"Re: {XSS}"), "a@empresa.bo")
    html = mime.get_body(("html",)).get_content()
    assert "<script>" not in html and "<img src=x" not in html and "<a href=javascript" not in html
    assert "<b>PV-1</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert XSS in mime.get_body(("plain",)).get_content()  # the text part is text: nothing to escape


def test_passwords_and_keys_never_reach_the_log(app, runtime, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    client = StaffClient(app)
    assert client.login("mrojas", "wrong-" + PASSWORD).status_code != 303
    assert client.login("mrojas").status_code == 303
    client.get("/backoffice/")
    for secret in (PASSWORD, runtime.settings.secret_key.get_secret_value()):
        assert secret not in caplog.text


@pytest.mark.parametrize(("raw", "masked"), [
    ("+59170000001", "+591700****1"),
    ("whatsapp:+59170000001", "+591700****1"),
    ("gerencia@empresa.bo", "g***@empresa.bo"),
    ("123", "***"),
])
def test_addresses_are_masked_for_logs(raw, masked):
    assert mask_address(raw) == masked


def test_masking_hides_most_of_each_identifier():
    assert mask_phone("+59170000001").count("*") == 4
    assert mask_email("@x") == "***"
    assert mask_nit("1020304021") == "10******21"
