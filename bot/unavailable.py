"""The database cannot be reached (restart, failover, network): answer 503 at once, never 500.

A request that loses its connection half-way has nothing half-written: each message is one
transaction and PostgreSQL rolls back what the dropped connection had not committed. A 503 with
Retry-After tells Twilio (and health checks, proxies) that the same request will work later; the
retried webhook is then stored once (its MessageSid is unique). Other database errors (a broken
constraint, a bug) still raise and answer 500: retrying them would not help.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.texts import environment

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def is_unavailable(exc: BaseException) -> bool:
    """Connection refused or dropped, server shutting down, pool exhausted."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def install(app: FastAPI, *, page: str | None = None) -> None:
    """`page`: a template answered to browsers (the back-office), so staff read why, in Spanish."""

    async def database_unavailable(request: Request, exc: Exception):
        if not is_unavailable(exc):
            raise exc
        log.warning("database unavailable for %s %s: %s", request.method, request.url.path,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if page is not None and "text/html" in request.headers.get("accept", ""):
            body = environment().get_template(page).render(retry_after=RETRY_AFTER_SECONDS)
            return HTMLResponse(body, status_code=503, headers=headers)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503,
                            headers=headers)

    app.add_exception_handler(DBAPIError, database_unavailable)
    app.add_exception_handler(PoolTimeout, database_unavailable)
