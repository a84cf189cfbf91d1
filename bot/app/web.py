"""The web application: FastAPI factory, health check; channels and back-office mount here."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from bot.app.wiring import build_runtime, channel_wirings
from bot.runtime import Runtime
from bot.settings import Settings, get_settings


def create_app(settings: Settings | None = None, *, with_worker: bool = False,
               runtime: Runtime | None = None) -> FastAPI:
    """`runtime` lets tests and benchmarks pass one built with their own clock."""
    settings = runtime.settings if runtime is not None else settings or get_settings()
    runtime = runtime or build_runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if with_worker:
            runtime.worker.start_in_thread()
        yield
        runtime.worker.stop()
        runtime.engine.dispose()

    from bot.observability import logs, metrics
    from bot.observability.middleware import RequestContext

    logs.configure(level=settings.log_level, log_format=settings.log_format)
    app = FastAPI(title="Postventa Empresas", lifespan=lifespan)
    app.state.runtime = runtime
    from bot import unavailable

    unavailable.install(app)  # database down: 503 + Retry-After, not 500 (README, Operación)
    app.add_middleware(RequestContext)  # correlation id per request, webhook latency, errors logged
    metrics.include_routes(app, runtime)  # /metrics when METRICS_ENABLED
    for wiring in channel_wirings().values():  # /webhooks/whatsapp... when TWILIO_ACCOUNT_SID is set
        if hasattr(wiring, "include_routes"):
            wiring.include_routes(app, settings)

    @app.get("/healthz")
    async def healthz():
        from bot.db import database_status

        status = await run_in_threadpool(database_status, runtime.engine)
        body = {"status": "ok" if status == "ok" else "degraded", "database": status}
        return JSONResponse(body, status_code=200 if status == "ok" else 503)

    from backoffice.app import mount as mount_backoffice

    mount_backoffice(app, runtime)  # staff pages at /backoffice, the demo simulator at /simulador
    return app
