"""Contract: our real outbound requests, through the twilio client, against Twilio's own OpenAPI spec.

Prism (@stoplight/prism-cli, pinned in tests/package.json) mocks ../shared/twilio/twilio_api_v2010.json
and validates every request against it (`--errors`: an invalid request gets 4xx, not a mock answer).
Each kind of message we send (text, document as media, template) must get 201. Skips with the
reason when ../shared or npm is absent; fails instead in CI (REQUIRE_SERVICES=1).

One adjustment, to a copy in pytest's temporary folder: Prism does not apply OpenAPI's default
encoding of arrays in form bodies (style form, explode true: `MediaUrl=a&MediaUrl=b`) unless the spec
spells it out, and refuses every MediaUrl with "must be array" (stoplightio/prism#2473). The copy
spells out that default for the array fields of the Messages POST; nothing else changes.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

import json

import httpx
import pytest
from twilio.http.http_client import TwilioHttpClient

from bot import documents, outbox
from bot.clock import ManualClock
from bot.models import Conversation
from bot.messaging import OutboundMessage, PermanentSendError
from channels.whatsapp.sender import WhatsAppChannel

from tests.conftest import ROOT, service_missing, shared_path
from tests.whatsapp.conftest import IMPORTADORA, NOW, make_settings

TESTS = ROOT / "tests"
PRISM = TESTS / "node_modules" / ".bin" / "prism"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _prism_binary():
    if PRISM.exists():
        return PRISM
    npm = shutil.which("npm")
    if npm is None:
        service_missing("npm is not installed: Prism (tests/package.json) cannot be installed")
    result = subprocess.run([npm, "ci", "--prefix", str(TESTS), "--no-audit", "--no-fund"],
                            capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0 or not PRISM.exists():
        service_missing(f"`npm ci --prefix tests` failed: {result.stderr[-500:]}")
    return PRISM


MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
FORM = "application/x-www-form-urlencoded"


def _spec_with_default_array_encoding(source, target):
    spec = json.loads(source.read_text())
    body = spec["paths"][MESSAGES_PATH]["post"]["requestBody"]["content"][FORM]
    encoding = body.setdefault("encoding", {})
    for name, prop in body["schema"]["properties"].items():
        if prop.get("type") == "array":
            encoding.setdefault(name, {"style": "form", "explode": True})
    target.write_text(json.dumps(spec))
    return target


@pytest.fixture(scope="module")
def prism_url(tmp_path_factory):
    spec = _spec_with_default_array_encoding(shared_path("twilio/twilio_api_v2010.json"),
                                             tmp_path_factory.mktemp("prism") / "twilio_api_v2010.json")
    prism = _prism_binary()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(TESTS / "node_modules" / "prism-test.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen([str(prism), "mock", "-h", "127.0.0.1", "-p", str(port), "--errors", str(spec)],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # it parses a 1.9 MB spec first
        while True:
            if process.poll() is not None:
                service_missing(f"Prism exited with {process.returncode}; see {log.name}")
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    service_missing(f"Prism did not start within 90 s; see {log.name}")
                time.sleep(0.3)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the group of the process this fixture started
            process.wait(timeout=10)
        log.close()


class StatusRecordingClient(TwilioHttpClient):
    """twilio's own HTTP client, keeping each response's status code for the assertions."""

    def __init__(self):
        super().__init__(timeout=15)
        self.statuses: list[int] = []

    def request(self, *args, **kwargs):
        response = super().request(*args, **kwargs)
        self.statuses.append(response.status_code)
        return response


@pytest.fixture
def channel(db, prism_url, tmp_path):
    clock = ManualClock(NOW)
    settings = make_settings(db.url, tmp_path / "documents", prism_url)
    http = StatusRecordingClient()
    return WhatsAppChannel(settings, db.sessions, clock=clock, http_client=http), http, db, clock


def _message(db, clock, body: str, payload: dict | None = None) -> OutboundMessage:
    with db.sessions.begin() as session:
        conversation = session.query(Conversation).filter_by(address=IMPORTADORA).one_or_none()
        if conversation is None:
            conversation = Conversation(channel="whatsapp", address=IMPORTADORA, dialog="main", state="start",
                                        data={}, mode="bot", last_inbound_at=clock.now(), created_at=clock.now(),
                                        updated_at=clock.now())
            session.add(conversation)
            session.flush()
        message = outbox.enqueue(session, conversation=conversation, body=body, now=clock.now(), payload=payload)
        return OutboundMessage(message.id, "whatsapp", IMPORTADORA, body, payload or {})


def test_text_media_and_template_each_get_201(channel):
    adapter, http, db, clock = channel
    stored = documents.store(adapter.settings.documents_dir, PDF)
    with db.sessions.begin() as session:
        document = documents.record(session, stored, filename="detalle.pdf", now=clock.now())
        session.flush()
        document_id = document.id

    text = adapter.send(_message(db, clock, "Su caso PV-2026-000001 fue derivado a Gestor(a) Comercial."))
    media = adapter.send(_message(db, clock, "Le enviamos el detalle.", {"document_ids": [document_id]}))
    template = adapter.send(_message(db, clock, "[plantilla]", {"purpose": "reopen", "variables": {"1": "María"},
                                                                "template_only": True}))

    assert http.statuses == [201, 201, 201, 201]  # text; text + media; template
    for result in (text, media, template):
        assert result.external_id.startswith("SM") and len(result.external_id) == 34


def test_the_mock_really_validates_requests(channel):
    # Proof that the 201s above mean something: a ContentSid off the spec's pattern is refused.
    adapter, http, db, clock = channel
    adapter.settings.twilio_template_reopen = "HX-not-a-content-sid"
    with pytest.raises(PermanentSendError):
        adapter.send(_message(db, clock, "[plantilla]",
                              {"purpose": "reopen", "variables": {}, "template_only": True}))
    assert http.statuses == [422]
