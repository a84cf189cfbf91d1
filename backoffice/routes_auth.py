"""Sign in and out. The login form's CSRF token is bound to a signed pre-login cookie; a
successful login always starts a new session row and a new cookie (no session fixation)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from backoffice import auth, security
from backoffice.web import DB, Me, redirect, render, runtime_of, signing_of, url

router = APIRouter()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _safe_next(request: Request, target: str | None) -> str:
    """Only a path inside the back-office: never an absolute URL (open redirect)."""
    home = url(request, "queue")
    root = home.rstrip("/")
    if target and target.startswith(root + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return home


def _login_page(request: Request, *, error: str | None = None, next_path: str = "",
                status_code: int = 200, username: str = "") -> HTMLResponse:
    signing = signing_of(request)
    prelogin = signing.unsign_prelogin(request.cookies.get(security.PRELOGIN_COOKIE)) or security.new_token()
    response = render(request, "backoffice/login.html", status_code=status_code, error=error,
                      login_csrf=signing.prelogin_csrf(prelogin), next_path=next_path,
                      username=username[:64])
    response.set_cookie(security.PRELOGIN_COOKIE, signing.sign_prelogin(prelogin), httponly=True,
                        samesite="lax", secure=_secure(request), path=url(request, "login"))
    return response


@router.get("/login", name="login")
def login_form(request: Request, next: str = ""):
    return _login_page(request, next_path=next)


@router.post("/login", name="login_submit")
def login_submit(request: Request, session: DB, username: Annotated[str, Form()] = "",
                 password: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
                 next: Annotated[str, Form()] = ""):
    signing = signing_of(request)
    prelogin = signing.unsign_prelogin(request.cookies.get(security.PRELOGIN_COOKIE))
    if prelogin is None or not security.same(csrf_token, signing.prelogin_csrf(prelogin)):
        return _login_page(request, error="csrf", next_path=next, status_code=403)
    runtime = runtime_of(request)
    try:
        signed_in = auth.login(
            session, username=username, password=password,
            address=request.client.host if request.client else "", user_agent=request.headers.get("user-agent", ""),
            now=runtime.clock.now(), settings=runtime.settings)
    except auth.LoginRefused as exc:
        status = 429 if exc.reason == "throttled" else 401
        # The username stays in the form: only the password is typed again.
        return _login_page(request, error=exc.reason, next_path=next, status_code=status, username=username)
    # Whatever session cookie came in is dropped: the new one names a row created just now.
    auth.logout(session, signing.unsign_session(request.cookies.get(security.SESSION_COOKIE)))
    response = redirect(_safe_next(request, next))
    response.set_cookie(security.SESSION_COOKIE, signing.sign_session(signed_in.token), httponly=True,
                        samesite="lax", secure=_secure(request), path="/",
                        max_age=runtime.settings.session_hours * 3600)
    response.delete_cookie(security.PRELOGIN_COOKIE, path=url(request, "login"))
    return response


@router.post("/logout", name="logout")
def logout(request: Request, session: DB, me: Me):
    auth.logout(session, signing_of(request).unsign_session(request.cookies.get(security.SESSION_COOKIE)))
    response = redirect(url(request, "login"))
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response
