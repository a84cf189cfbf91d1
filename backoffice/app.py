"""The back-office sub-application, mounted at /backoffice by bot.app.create_app (and the demo
simulator at /simulador when DEMO_MODE is set)."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from backoffice import (
    accounts,
    cases,
    policy,
    routes_auth,
    routes_campaigns,
    routes_case,
    routes_conversation,
    routes_kpis,
    routes_preventive,
    routes_procedures,
    routes_queue,
    routes_users,
    routes_visits,
    security,
    takeover,
)
from backoffice.simulator_app import create_simulator
from backoffice.web import CsrfFailed, NotFound, NotSignedIn, redirect, render, url
from bot import unavailable
from bot.runtime import Runtime

STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "/backoffice"


def _wants_json(request: Request) -> bool:
    return request.url.path.endswith("/vivo") or "application/json" in request.headers.get("accept", "")


def create_backoffice(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="Back-office", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    app.state.signing = security.Signing(security.secret_key(runtime.settings))
    app.add_middleware(security.SecurityHeadersMiddleware)
    unavailable.install(app, page="backoffice/unavailable.html")  # database down: 503, not 500
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (routes_auth, routes_queue, routes_case, routes_conversation, routes_kpis, routes_procedures,
                   routes_visits, routes_users, routes_preventive, routes_campaigns):
        app.include_router(module.router)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn):
        if request.method == "GET" and not _wants_json(request):
            return redirect(url(request, "login", {"next": request.url.path}))
        return JSONResponse({"error": "not_signed_in"}, status_code=401)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed):
        return render(request, "backoffice/error.html", status_code=403, error="csrf")

    @app.exception_handler(policy.Forbidden)
    async def forbidden(request: Request, exc: policy.Forbidden):
        return render(request, "backoffice/error.html", status_code=403, error="forbidden")

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound):
        return render(request, "backoffice/error.html", status_code=404, error="not_found")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # An unknown address (a mistyped or outdated link) gets the Spanish page, not {"detail": …}.
        if exc.status_code == 404 and not _wants_json(request):
            return render(request, "backoffice/error.html", status_code=404, error="not_found")
        return await http_exception_handler(request, exc)

    @app.exception_handler(accounts.InvalidAccount)
    async def invalid_account(request: Request, exc: accounts.InvalidAccount):
        return render(request, "backoffice/error.html", status_code=400, error=f"account_{exc.reason}")

    for refused in (cases.ActionRefused, takeover.TakeoverRefused):
        @app.exception_handler(refused)
        async def action_refused(request: Request, exc):
            return render(request, "backoffice/error.html", status_code=409, error=exc.reason)

    return app


def mount(app: FastAPI, runtime: Runtime) -> None:
    app.mount(PREFIX, create_backoffice(runtime))
    if runtime.settings.demo_mode:
        app.mount("/simulador", create_simulator(runtime))

    @app.get("/", include_in_schema=False)
    async def home():
        return RedirectResponse(PREFIX + "/", status_code=303)
