"""GET /metrics in Prometheus text format (METRICS_ENABLED; bearer METRICS_TOKEN when set).

Business figures (messages, outbox, cases, dialog errors, failed jobs) are counted in the
database at scrape time, so every web process answers the same truth however many there are.
The webhook latency histogram is the one per-process series: each process keeps its own, so a
scraper must reach every web process (a Prometheus target per process, told apart by the
`instance` label) to see all of them. prometheus-client's multiprocess mode was not used: it
needs a shared directory wiped at each deploy, and the database gauges already give the totals.
"""
from __future__ import annotations

import hmac
from collections.abc import Iterator

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Case, InboundFailure, Job, Message, Outbox

# Not in prometheus-client's global registry: tests build many apps in one process.
WEBHOOK_SECONDS = Histogram(
    "postventa_webhook_duration_seconds", "Time to answer a webhook (this process only)", ["path"],
    registry=None, buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
)
DIALOG_ERROR = "dialog_error"  # messages.error_code of an inbound message whose dialog crashed


class DatabaseCollector(Collector):
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def collect(self) -> Iterator:
        with self.sessions() as session:
            yield from self._messages(session)
            yield from self._grouped(session, "postventa_outbox_messages", "Outbox rows by status",
                                     ["status"], Outbox.status)
            pending_since = session.scalar(select(func.min(Outbox.created_at)).where(Outbox.status == "pending"))
            oldest = GaugeMetricFamily("postventa_outbox_oldest_pending_timestamp_seconds",
                                       "Creation time of the oldest undelivered outbox row (0: none)")
            oldest.add_metric([], pending_since.timestamp() if pending_since else 0)
            yield oldest
            yield from self._grouped(session, "postventa_cases", "Cases by status", ["status"], Case.status)
            yield from self._grouped(session, "postventa_jobs", "Background jobs by kind and status",
                                     ["kind", "status"], Job.kind, Job.status)
            errors = CounterMetricFamily("postventa_dialog_errors", "Inbound messages whose dialog failed")
            errors.add_metric([], session.scalar(select(func.count(Message.id)).where(
                Message.direction == "in", Message.error_code == DIALOG_ERROR)))
            yield errors
            failures = GaugeMetricFamily("postventa_inbound_failures_open",
                                         "Inbound messages or files not processed, awaiting staff")
            failures.add_metric([], session.scalar(select(func.count(InboundFailure.id)).where(
                InboundFailure.resolved_at.is_(None))))
            yield failures

    def _messages(self, session: Session):
        yield from self._grouped(session, "postventa_messages", "Messages by channel, direction and status",
                                 ["channel", "direction", "status"], Message.channel, Message.direction,
                                 Message.status)

    @staticmethod
    def _grouped(session: Session, name: str, documentation: str, labels: list[str], *columns):
        family = GaugeMetricFamily(name, documentation, labels=labels)
        for *values, count in session.execute(select(*columns, func.count()).group_by(*columns)):
            family.add_metric([str(v or "") for v in values], count)
        yield family


def exposition(sessions: sessionmaker[Session]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(sessions))
    registry.register(WEBHOOK_SECONDS)
    return generate_latest(registry)


def authorised(request: Request, token: str) -> bool:
    if not token:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def include_routes(app: FastAPI, runtime) -> None:
    """Nothing is mounted while METRICS_ENABLED is false: /metrics answers 404."""
    if not runtime.settings.metrics_enabled:
        return
    token = runtime.settings.metrics_token.get_secret_value()

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:  # a plain def: FastAPI runs the queries in its threadpool
        if not authorised(request, token):
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return Response(exposition(runtime.sessions), media_type=CONTENT_TYPE_LATEST)
