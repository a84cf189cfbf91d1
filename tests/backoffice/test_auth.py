"""Accounts, sessions, CSRF, throttling and headers, through the real sub-application."""
from __future__ import annotations

import re

from fastapi.routing import APIRoute
from sqlalchemy import func, select

from backoffice import security
from bot.models import LoginAttempt, Staff, StaffSession
from tests.backoffice.support import PASSWORD, StaffClient


def test_login_sets_a_signed_httponly_lax_cookie_and_stores_only_a_digest(app, staff):
    client = StaffClient(app)
    response = client.login("mrojas")
    assert response.status_code == 303 and response.headers["location"] == "/backoffice/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(security.SESSION_COOKIE + "=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    value = client.http.cookies[security.SESSION_COOKIE]
    token = value.rsplit(".", 1)[0]
    with staff.sessions() as session:
        stored = session.scalars(select(StaffSession.token_hash)).all()
    assert stored == [security.token_digest(token)]  # the token itself is never stored
    assert "Cola de trabajo" in client.get("/backoffice/").text


def test_cookie_is_secure_over_https(app, staff):
    response = StaffClient(app, base_url="https://testserver").login("mrojas")
    assert "Secure" in response.headers["set-cookie"]


def test_passwords_are_argon2_hashes(staff):
    with staff.sessions() as session:
        hashes = session.scalars(select(Staff.password_hash).where(Staff.password_hash.is_not(None))).all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert security.verify_password(hashes[0], PASSWORD)
    assert not security.verify_password(hashes[0], PASSWORD + "x")
    assert not security.verify_password(None, PASSWORD)


def test_wrong_password_is_refused_and_recorded(app, staff):
    client = StaffClient(app)
    response = client.login("mrojas", "not-the-password")
    assert response.status_code == 401
    assert security.SESSION_COOKIE not in client.http.cookies
    assert "incorrectos" in response.text
    with staff.sessions() as session:
        attempts = session.execute(select(LoginAttempt.username, LoginAttempt.success)).all()
    assert attempts == [("mrojas", False)]


def test_inactive_account_cannot_sign_in(app, staff):
    with staff.sessions.begin() as session:
        session.scalars(select(Staff).where(Staff.username == "lvargas")).one().active = False
    assert StaffClient(app).login("lvargas").status_code == 401


def test_account_is_throttled_after_five_failures_even_with_the_right_password(app, staff):
    for _ in range(5):
        assert StaffClient(app).login("mrojas", "wrong-password").status_code == 401
    refused = StaffClient(app).login("mrojas")
    assert refused.status_code == 429 and "Demasiados intentos" in refused.text
    assert StaffClient(app).login("lvargas").status_code == 303  # other accounts are not locked


def test_address_is_throttled_across_accounts(app, staff, runtime):
    runtime.settings.login_max_failures_per_address = 3
    for username in ("aaa", "bbb", "ccc"):
        assert StaffClient(app).login(username, "wrong-password").status_code == 401
    assert StaffClient(app).login("mrojas").status_code == 429


def test_throttling_state_is_shared_by_every_process(staff, clock, tmp_path):
    """Two web processes = two apps over one database: failures counted by one lock the other."""
    from fastapi import FastAPI

    from backoffice.app import mount
    from bot.app.wiring import build_runtime
    from bot.settings import Settings

    apps = []
    for _ in range(2):
        runtime = build_runtime(Settings(database_url=staff.url, secret_key="s" * 40,
                                         documents_dir=tmp_path), clock=clock)
        app = FastAPI()
        mount(app, runtime)
        apps.append((app, runtime))
    try:
        for _ in range(5):
            assert StaffClient(apps[0][0]).login("jquiroga", "wrong-password").status_code == 401
        assert StaffClient(apps[1][0]).login("jquiroga").status_code == 429
        clock.advance(minutes=16)  # the window has passed
        assert StaffClient(apps[1][0]).login("jquiroga").status_code == 303
    finally:
        for _, runtime in apps:
            runtime.engine.dispose()


def test_login_form_needs_its_csrf_token(app, staff):
    client = StaffClient(app)
    client.http.get("/backoffice/login")
    response = client.http.post("/backoffice/login", data={"username": "mrojas", "password": PASSWORD,
                                                           "csrf_token": "forged"})
    assert response.status_code == 403
    assert security.SESSION_COOKIE not in client.http.cookies


def test_login_issues_a_new_session_id_and_drops_the_old_one(app, staff):
    """Session fixation: a cookie planted or kept from before never survives a login."""
    client = StaffClient(app)
    client.login("mrojas")
    first = client.http.cookies[security.SESSION_COOKIE]
    client.login("mrojas")  # the same browser, still holding the first cookie, logs in again
    second = client.http.cookies[security.SESSION_COOKIE]
    assert first != second
    stale = StaffClient(app)
    stale.http.cookies.set(security.SESSION_COOKIE, first)
    assert stale.get("/backoffice/").status_code == 303  # the old session is gone
    with staff.sessions() as session:
        assert session.scalar(select(func.count()).select_from(StaffSession)) == 1


def test_a_forged_or_unsigned_cookie_is_not_a_session(app, staff):
    client = StaffClient(app)
    client.login("mrojas")
    token = client.http.cookies[security.SESSION_COOKIE].rsplit(".", 1)[0]
    forged = StaffClient(app)
    forged.http.cookies.set(security.SESSION_COOKIE, token + ".AAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert forged.get("/backoffice/").status_code == 303


def test_logout_ends_the_session_in_the_database(app, staff):
    client = StaffClient(app)
    client.login("mrojas")
    cookie = client.http.cookies[security.SESSION_COOKIE]
    assert client.post("/backoffice/logout").status_code == 303
    again = StaffClient(app)
    again.http.cookies.set(security.SESSION_COOKIE, cookie)
    response = again.get("/backoffice/")
    assert response.status_code == 303 and response.headers["location"].startswith("/backoffice/login")


def test_session_expires(app, staff, clock):
    client = StaffClient(app)
    client.login("mrojas")
    clock.advance(hours=13)
    assert client.get("/backoffice/").status_code == 303


def api_routes(routes):
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers as such
        if included is not None:
            yield from api_routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def test_every_backoffice_route_requires_login(app, staff):
    backoffice = next(r.app for r in app.routes if getattr(r, "path", "") == "/backoffice")
    public = {"login", "login_submit"}
    anonymous = StaffClient(app)
    checked = 0
    for route in api_routes(backoffice.routes):
        if not isinstance(route, APIRoute) or route.name in public:
            continue
        path = "/backoffice" + re.sub(r"\{[^}]+\}", "1", route.path)
        for method in route.methods:
            response = anonymous.http.request(method, path)
            if method == "GET" and path.endswith("/vivo"):  # polled by live.js: 401, it reloads the page
                assert response.status_code == 401, path
            elif method == "GET":
                assert response.status_code == 303, (method, path)
                assert response.headers["location"].startswith("/backoffice/login"), path
            else:
                assert response.status_code in (401, 403), (method, path, response.status_code)
            checked += 1
    assert checked >= 25


def test_state_changing_requests_without_a_valid_csrf_token_are_refused(app, staff, login):
    from tests.backoffice.support import make_case

    case_id = make_case(staff, assignee="mrojas")
    client = login("mrojas")
    path = f"/backoffice/casos/{case_id}/acciones/note"
    assert client.post(path, {"note": "sin token"}, csrf=False).status_code == 403
    assert client.post(path, {"note": "token ajeno", "csrf_token": "x" * 43}).status_code == 403
    other = login("lvargas")
    assert client.post(path, {"note": "token de otra sesión", "csrf_token": other.csrf}).status_code == 403
    ok = client.post(path, {"note": "con token"})
    assert ok.status_code == 303
    page = client.get(f"/backoffice/casos/{case_id}").text
    assert "con token" in page and "sin token" not in page and "token ajeno" not in page


def test_security_headers_on_every_page(app, staff, login):
    client = login("mrojas")
    for path in ("/backoffice/", "/backoffice/login", "/backoffice/visitas", "/simulador/"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert "'self'" in script and "unsafe-inline" not in script and "unsafe-eval" not in script
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-content-type-options"] == "nosniff"


def test_pages_have_no_inline_script(app, staff, login):
    client = login("responsable")
    for path in ("/backoffice/", "/backoffice/indicadores", "/backoffice/visitas", "/backoffice/usuarios",
                 "/backoffice/procedimientos/tramite_G"):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert " on" not in re.sub(r"<[^>]+>", lambda m: m.group(0) if " on" in m.group(0).lower() and
                                   re.search(r"\son\w+=", m.group(0)) else "", html), path


def test_next_parameter_cannot_redirect_off_site(app, staff):
    client = StaffClient(app)
    page = client.http.get("/backoffice/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.http.post("/backoffice/login", data={
        "username": "mrojas", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"})
    assert response.headers["location"] == "/backoffice/"


def test_a_failed_login_keeps_the_username_and_never_the_password(app, staff):
    response = StaffClient(app).login("mrojas", "not-her-password")
    assert response.status_code == 401
    assert "Usuario o contraseña incorrectos." in response.text
    assert re.search(r'name="username"[^>]*value="mrojas"', response.text)
    assert "not-her-password" not in response.text
    # Markup in a typed username is escaped, not rendered.
    response = StaffClient(app).login('"><script>x</script>', "whatever1")
    assert "<script>x</script>" not in response.text and "&lt;script&gt;" in response.text


def test_an_unknown_backoffice_address_gets_a_spanish_html_page(app, staff, login):
    for client in (StaffClient(app), login("mrojas")):
        response = client.get("/backoffice/no-existe")
        assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
        assert "No encontrado." in response.text and 'lang="es"' in response.text
    response = StaffClient(app).http.get("/backoffice/no-existe", headers={"accept": "application/json"})
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}
