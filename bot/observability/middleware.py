"""Every HTTP request gets a correlation id (the caller's X-Request-ID when usable), echoed in the
response; webhook latency is observed; an exception no handler caught is logged with that id
before Starlette turns it into a 500. Plain ASGI, so the context variable reaches the endpoint
and the threadpool it runs the engine in."""
from __future__ import annotations

import logging
import time

from bot.observability import correlation, metrics

log = logging.getLogger(__name__)

WEBHOOK_PREFIX = "/webhooks/"


class RequestContext:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        started = time.perf_counter()
        with correlation.bound(correlation.clean(given)) as correlation_id:

            async def send_with_id(message):
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []),
                                          (b"x-request-id", correlation_id.encode())]
                await send(message)

            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
                raise
            finally:
                path = scope.get("path", "")
                if path.startswith(WEBHOOK_PREFIX):
                    # Fixed paths only (/webhooks/whatsapp, /webhooks/whatsapp/status): bounded labels.
                    metrics.WEBHOOK_SECONDS.labels(path=path[:64]).observe(time.perf_counter() - started)
