"""/metrics: Prometheus text computed from the database at scrape time (every process the same
truth) plus this process's webhook latency histogram; 404 unless METRICS_ENABLED, 401 without
the bearer token when METRICS_TOKEN is set. Figures are checked against rows this test wrote."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.app import create_app
from bot.clock import ManualClock
from bot.models import Case, Client, Conversation, InboundFailure, Message, Outbox
from bot.app.wiring import build_runtime
from bot.settings import Settings

NOW = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)


def _app(db, tmp_path, **settings):
    runtime = build_runtime(Settings(database_url=db.url, documents_dir=tmp_path / "documents", **settings),
                            clock=ManualClock(NOW))
    return TestClient(create_app(runtime=runtime)), runtime


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _rows(session):
    client = Client(nit="9990001", razon_social="Prueba S.A.", tipo="privada")
    session.add(client)
    session.flush()
    conversation = Conversation(channel="whatsapp", address="+59170009999", dialog="main", state="menu", data={},
                                mode="bot", created_at=NOW, updated_at=NOW)
    email = Conversation(channel="email", address="x@empresa.bo", dialog="main", state="menu", data={},
                         mode="bot", created_at=NOW, updated_at=NOW)
    session.add_all([conversation, email])
    session.flush()

    numbers = iter(range(1, 100))

    def message(conv, direction, status, error_code=""):
        row = Message(conversation_id=conv.id, direction=direction, channel=conv.channel,
                      external_id=f"x{next(numbers)}",
                      body="b", attachments=[], author="client" if direction == "in" else "bot", status=status,
                      error_code=error_code, created_at=NOW)
        session.add(row)
        session.flush()
        return row

    for _ in range(3):
        message(conversation, "in", "received")
    message(conversation, "in", "received", "dialog_error")
    message(email, "in", "received")
    sent = [message(conversation, "out", "delivered") for _ in range(2)]
    pending = [message(email, "out", "pending") for _ in range(2)]
    failed = message(conversation, "out", "failed")
    for row, status, created in [(sent[0], "sent", NOW), (sent[1], "sent", NOW),
                                 (pending[0], "pending", NOW - timedelta(minutes=7)),
                                 (pending[1], "pending", NOW), (failed, "failed", NOW)]:
        session.add(Outbox(message_id=row.id, channel=row.channel, address="a", payload={}, status=status,
                           attempts=1, next_attempt_at=NOW, created_at=created))
    for status in ("abierto", "abierto", "en_proceso", "resuelto"):
        session.add(Case(tramite="A", status=status, current_role="ejecutivo", client_id=client.id,
                         opened_at=NOW, due_at=NOW))
    session.add(InboundFailure(channel="email", external_id="e1", error="x", created_at=NOW))
    session.add(InboundFailure(channel="email", external_id="e2", error="x", created_at=NOW, resolved_at=NOW))


def test_database_figures_are_exposed_as_counted_by_hand(db, tmp_path):
    with db.sessions.begin() as session:
        _rows(session)
    client, _ = _app(db, tmp_path, metrics_enabled=True)
    with client:
        response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    s = _samples(response.text)
    msg = "postventa_messages"
    assert s[(msg, (("channel", "whatsapp"), ("direction", "in"), ("status", "received")))] == 4
    assert s[(msg, (("channel", "email"), ("direction", "in"), ("status", "received")))] == 1
    assert s[(msg, (("channel", "whatsapp"), ("direction", "out"), ("status", "delivered")))] == 2
    assert s[(msg, (("channel", "email"), ("direction", "out"), ("status", "pending")))] == 2
    assert s[(msg, (("channel", "whatsapp"), ("direction", "out"), ("status", "failed")))] == 1
    assert s[("postventa_outbox_messages", (("status", "sent"),))] == 2
    assert s[("postventa_outbox_messages", (("status", "pending"),))] == 2
    assert s[("postventa_outbox_messages", (("status", "failed"),))] == 1
    assert s[("postventa_outbox_oldest_pending_timestamp_seconds", ())] == (NOW - timedelta(minutes=7)).timestamp()
    assert s[("postventa_cases", (("status", "abierto"),))] == 2
    assert s[("postventa_cases", (("status", "en_proceso"),))] == 1
    assert s[("postventa_cases", (("status", "resuelto"),))] == 1
    assert s[("postventa_dialog_errors_total", ())] == 1
    assert s[("postventa_inbound_failures_open", ())] == 1


def test_webhook_latency_is_observed_per_process(whatsapp_factory):
    wa = whatsapp_factory(metrics_enabled=True)
    path = (("path", "/webhooks/whatsapp"),)
    before = _samples(wa.app.http.get("/metrics").text).get(("postventa_webhook_duration_seconds_count", path), 0)
    from tests.whatsapp.conftest import load

    wa.app.post("/webhooks/whatsapp", load("text", Body="Hola"))
    wa.app.post("/webhooks/whatsapp", load("text", Body="Hola", MessageSid="SM" + "0" * 32))
    after = _samples(wa.app.http.get("/metrics").text)
    assert after[("postventa_webhook_duration_seconds_count", path)] == before + 2
    assert after[("postventa_webhook_duration_seconds_bucket", (("le", "+Inf"), *path))] == before + 2


def test_metrics_are_not_served_when_disabled(db, tmp_path):
    client, _ = _app(db, tmp_path)
    with client:
        assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize("header, status", [(None, 401), ("Bearer wrong", 401), ("Bearer s3cret-token", 200)])
def test_a_token_is_required_when_set(db, tmp_path, header, status):
    client, _ = _app(db, tmp_path, metrics_enabled=True, metrics_token="s3cret-token")
    with client:
        response = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == status
    if status == 200:
        assert "postventa_cases" in response.text
