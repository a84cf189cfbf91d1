"""The HTTP plumbing every back-office route shares: the database session (the edge owns the
transaction), the signed-in staff member, the CSRF check, rendering and error pages."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from backoffice import auth, diagrams, policy, security
from bot.clock import LOCAL_TZ
from bot.db import session_scope
from bot.rules import role_names, tramites
from bot.runtime import Runtime
from bot.texts import environment

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class NotSignedIn(Exception):
    status_code = 401


class CsrfFailed(Exception):
    status_code = 403


class NotFound(Exception):
    status_code = 404


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def signing_of(request: Request) -> security.Signing:
    return request.app.state.signing


def db_session(request: Request) -> Iterator[Session]:
    with session_scope(runtime_of(request).sessions) as session:
        yield session


# scope="function": commit before the response goes out, so the page a redirect leads to sees it.
DB = Annotated[Session, Depends(db_session, scope="function")]


async def submitted_csrf(request: Request) -> str | None:
    if request.method in SAFE_METHODS:
        return None
    header = request.headers.get(security.CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached on the request: the route reads the same form
        value = form.get(security.CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


@dataclass(frozen=True)
class Current:
    staff: policy.Actor
    csrf_token: str
    now: datetime


def current_staff(request: Request, session: DB,
                  submitted: Annotated[str | None, Depends(submitted_csrf)]) -> Current:
    """Every back-office route but the login page depends on this: no session, no page; a
    state-changing request without this session's CSRF token is refused before the route runs."""
    now = runtime_of(request).clock.now()
    token = signing_of(request).unsign_session(request.cookies.get(security.SESSION_COOKIE))
    found = auth.session_for(session, token, now=now)
    if found is None:
        raise NotSignedIn()
    staff_session, staff = found
    if request.method not in SAFE_METHODS and not security.same(submitted, staff_session.csrf_token):
        raise CsrfFailed()
    request.state.current = Current(policy.Actor.of(staff), staff_session.csrf_token, now)
    return request.state.current


Me = Annotated[Current, Depends(current_staff)]


def local(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite returns naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).strftime(fmt)


def url(request: Request, route: str, query: dict | None = None, /, **params) -> str:
    path = request.url_for(route, **{k: str(v) for k, v in params.items()}).path
    query = {k: v for k, v in (query or {}).items() if v not in (None, "")}
    return f"{path}?{urlencode(query)}" if query else path


def render_fragment(request: Request, template: str, **context) -> str:
    return environment().get_template(template).render(**base_context(request), **context)


def base_context(request: Request) -> dict:
    current: Current | None = getattr(request.state, "current", None)
    runtime = runtime_of(request)
    return {
        "request": request,
        "me": current.staff if current else None,
        "csrf_token": current.csrf_token if current else "",
        "csrf_field": security.CSRF_FIELD,
        "url": lambda route, query=None, /, **params: url(request, route, query, **params),
        "local": local,
        "role_names": role_names(),
        "tramites": tramites(),
        "diagram_state": diagrams.state_label,  # a dialog state in business Spanish
        "may_page": (lambda page: policy.may_page(current.staff, page)) if current else (lambda page: False),
        "demo_mode": runtime.settings.demo_mode,
        "poll_ms": int(runtime.settings.live_poll_seconds * 1000),
    }


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(render_fragment(request, template, **context), status_code=status_code)


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def flash_url(target: str, *, ok: str | None = None, error: str | None = None) -> str:
    query = urlencode({k: v for k, v in {"ok": ok, "error": error}.items() if v})
    if not query:
        return target
    return f"{target}{'&' if '?' in target else '?'}{query}"
