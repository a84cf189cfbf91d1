"""schemathesis over the app's own OpenAPI document: every operation it lists (/healthz, the
WhatsApp webhooks and the signed document links; the back-office is HTML and not in the schema)
gets generated and mutated input. None may answer 5xx. The webhooks require Twilio's signature,
so generated posts must be refused with 403 before anything parses them. Bounded: a few dozen
examples per operation, well under a minute for both databases."""
from __future__ import annotations

import logging

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from bot.app import create_app
from bot.clock import ManualClock
from bot.app.wiring import build_runtime
from tests.whatsapp.conftest import NOW, make_settings


def _app(db, tmp_path):
    runtime = build_runtime(make_settings(db.url, tmp_path / "documents", "http://127.0.0.1:9"),
                            clock=ManualClock(NOW))
    return runtime, create_app(runtime=runtime)


def test_no_generated_request_gets_a_server_error(db, tmp_path, caplog):
    # schemathesis' pytest plugin does not run under pytest 9 (AttributeError: _nodeid), so each
    # operation's strategy is driven by Hypothesis here; the checks are schemathesis' own.
    caplog.set_level(logging.ERROR)
    runtime, app = _app(db, tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/healthz", "/webhooks/whatsapp", "/webhooks/whatsapp/status",
                                              "/whatsapp/documents/{document_id}"}
    seen: dict[str, set[int]] = {}
    try:
        for operation in operations:
            @given(case=operation.as_strategy())
            @settings(max_examples=25, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def call(case):
                response = case.call_and_validate(checks=[not_a_server_error])
                seen.setdefault(case.path, set()).add(response.status_code)
                if case.path.startswith("/webhooks/"):
                    assert response.status_code == 403  # unsigned: refused before parsing

            call()
    finally:
        runtime.engine.dispose()
    assert all(code < 500 for codes in seen.values() for code in codes), seen
    assert seen["/healthz"] == {200}
    unlogged = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info is None]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in unlogged]


def test_an_unhandled_exception_is_logged_with_the_request_id(db, tmp_path, caplog):
    """The safety net under every route: Starlette answers 500, and our middleware has logged the
    traceback with the request's correlation id first."""
    from fastapi.testclient import TestClient

    runtime, app = _app(db, tmp_path)

    @app.get("/test-only/boom")  # a route of this test's own, not a patch of ours
    def boom():
        raise RuntimeError("kaboom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test-only/boom", headers={"X-Request-ID": "boom-1"})
    runtime.engine.dispose()
    assert response.status_code == 500
    [record] = [r for r in caplog.records if r.name == "bot.observability.middleware"]
    assert record.getMessage() == "unhandled error on GET /test-only/boom"
    assert record.exc_info[0] is RuntimeError
