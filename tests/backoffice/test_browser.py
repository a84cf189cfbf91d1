"""The back-office and the simulator in a real browser (Debian's Chromium driven by Playwright),
against the real app served by uvicorn with its in-process worker (`python -m bot serve`)."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot import cases as case_log
from bot.models import Case, Staff
from tests.backoffice.support import PASSWORD, _client_id
from tests.conftest import service_missing
from tests.support import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-quic", "--disable-sync"]
# `make test` must not rewrite tracked files: screenshots go to a temp folder unless
# SCREENSHOTS_DIR says where (`make screenshots` refreshes the README's in docs/screenshots).
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "postventa-screenshots")
WAIT = 30_000  # ms: how long a step may take before the test gives up (a wait, not an assertion)
XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(staff, tmp_path, **env):
    """`python -m bot serve` on a free port with the demo; yields its base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": staff.url, "DEMO_MODE": "1", "SECRET_KEY": "browser-" + "s" * 40,
           "DOCUMENTS_DIR": str(tmp_path / "documents"), "WORKER_POLL_SECONDS": "0.2", "LIVE_POLL_SECONDS": "0.5",
           "LOG_LEVEL": "WARNING", **env}
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("server did not start: " + process.stdout.read().decode(errors="replace"))
        time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def server(staff, tmp_path):
    yield from serve(staff, tmp_path)


@pytest.fixture
def quick_hold_server(staff, tmp_path):
    """A held conversation's unanswered client message is "waiting" after 3 s instead of 15 min."""
    yield from serve(staff, tmp_path, HELD_REPLY_MINUTES="0.05")


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        service_missing("Chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


class Alerts:
    """Any JavaScript dialog is a script that ran: recorded and dismissed."""

    def __init__(self):
        self.seen: list[str] = []

    def watch(self, page):
        page.on("dialog", lambda dialog: (self.seen.append(dialog.message), dialog.dismiss()))
        return page


def staff_page(chromium, base: str, username: str, alerts: Alerts):
    page = alerts.watch(chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page())
    page.goto(base + "/backoffice/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Cola de trabajo')", timeout=WAIT)
    return page


def client_page(chromium, base: str, alerts: Alerts):
    page = alerts.watch(chromium.new_context(viewport={"width": 1200, "height": 900}).new_page())
    page.goto(base + "/simulador/")
    return page


def client_says(page, text: str, *, replies_before: int):
    """Send in the WhatsApp-like chat; wait until the bot (or a person) answered once more."""
    chat = page.locator("section.phone")
    chat.locator("input[name=texto]").fill(text)
    chat.locator("button[type=submit]").click()
    page.wait_for_function(
        "n => document.querySelectorAll('section.phone li.bubble.theirs').length > n", arg=replies_before,
        timeout=WAIT)
    return chat.locator("li.bubble.theirs").last.inner_text()


def theirs(page) -> int:
    return page.locator("section.phone li.bubble.theirs").count()


def test_client_writes_ejecutiva_takes_over_answers_and_hands_back(staff, server, chromium):
    seed_queue(staff)
    alerts = Alerts()
    ejecutiva = staff_page(chromium, server, "mrojas", alerts)
    client = client_page(chromium, server, alerts)

    welcome = client_says(client, "Hola", replies_before=0)
    assert "Importadora El Valle" in welcome
    summary = client_says(client, "quiero el detalle de llamadas de agosto y septiembre de la línea 4412345",
                          replies_before=theirs(client))
    number = re.search(r"PV-\d{4}-\d{6}", summary).group(0)

    # The case appears in her queue without a reload (live polling).
    row = ejecutiva.locator(f"tr[data-case='{number}']")
    row.wait_for(timeout=WAIT)
    save(ejecutiva, "queue")
    row.locator("a").click()
    ejecutiva.wait_for_selector(f"h1:has-text('{number}')", timeout=WAIT)

    ejecutiva.click("#take-over")
    ejecutiva.wait_for_selector("text=Atiende: María Rojas", timeout=WAIT)
    # The client is told a person joined (issue 15).
    client.wait_for_selector("section.phone li.bubble.theirs:has-text('desde ahora le atiendo personalmente')",
                             timeout=WAIT)
    assert "Le saluda María Rojas" in client.locator("section.phone li.bubble.theirs").last.inner_text()
    # While she holds it, the client's message reaches her page and the bot says nothing.
    client.locator("section.phone input[name=texto]").fill("¿Me pueden llamar hoy?")
    client.locator("section.phone button[type=submit]").click()
    ejecutiva.wait_for_selector("#timeline .msg.in:has-text('¿Me pueden llamar hoy?')", timeout=WAIT)

    before = theirs(client)
    ejecutiva.fill("#reply-body", "Buenos días, le habla María Rojas. La llamo a las 15:00.")
    ejecutiva.click("#reply-form button[type=submit]")
    client.wait_for_function("n => document.querySelectorAll('section.phone li.bubble.theirs').length > n",
                             arg=before, timeout=WAIT)
    bubbles = client.locator("section.phone li.bubble").all_inner_texts()
    assert bubbles[-2:] == ["¿Me pueden llamar hoy?", "Buenos días, le habla María Rojas. La llamo a las 15:00."]
    ejecutiva.wait_for_selector("#timeline .msg.staff .status-delivered", timeout=WAIT)
    # For the screenshot; no element handle, which a live refresh of the timeline could detach.
    ejecutiva.evaluate("() => document.querySelectorAll('ol.timeline').forEach(l => { l.scrollTop = l.scrollHeight; })")
    save(ejecutiva, "case")

    ejecutiva.select_option("select[name=step]", "main/menu")
    ejecutiva.click("button:has-text('Devolver al bot')")
    ejecutiva.wait_for_selector("text=Atiende el bot", timeout=WAIT)
    # ... and that she left, before the bot answers again.
    client.wait_for_selector("section.phone li.bubble.theirs:has-text('María Rojas terminó de atenderle')",
                             timeout=WAIT)
    menu = client_says(client, "menú", replies_before=theirs(client))
    assert "¿En qué podemos ayudarle?" in menu
    save(client, "simulator")
    assert alerts.seen == []


def test_client_text_and_file_names_render_inert(staff, server, chromium):
    alerts = Alerts()
    client = client_page(chromium, server, alerts)
    client_says(client, "Hola", replies_before=0)
    summary = client_says(client, "quiero el detalle de llamadas de agosto de la línea 4412345",
                          replies_before=theirs(client))
    number = re.search(r"PV-\d{4}-\d{6}", summary).group(0)
    with staff.sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == number))
    ejecutiva = staff_page(chromium, server, "mrojas", alerts)
    ejecutiva.goto(f"{server}/backoffice/casos/{case_id}")
    # Arrives after the page loaded: through the live region (innerHTML of server-escaped HTML).
    client_says(client, XSS, replies_before=theirs(client))
    chat = client.locator("section.phone")
    chat.locator("input[type=file]").set_input_files(
        {"name": "<img src=x onerror=alert(2)>.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"})
    chat.locator("input[name=texto]").fill("")
    chat.locator("button[type=submit]").click()
    ejecutiva.wait_for_selector("#timeline .msg.in .body:has-text('<script>alert(1)</script>')", timeout=WAIT)
    ejecutiva.wait_for_selector("#timeline .attachment a:has-text('.pdf')", timeout=WAIT)
    body = ejecutiva.locator("#timeline .msg.in .body", has_text="<script>").inner_text()
    assert body == XSS  # shown as text
    assert ejecutiva.locator("#timeline img[src='x'], #timeline script").count() == 0
    assert ejecutiva.locator("#timeline .attachment a", has_text="onerror=alert(2)").count() == 1
    ejecutiva.reload()  # and on a full page load
    ejecutiva.wait_for_selector("#timeline .msg.in .body:has-text('<script>')", timeout=WAIT)
    assert ejecutiva.locator("img[src='x']").count() == 0
    client.wait_for_selector("section.phone li.bubble.mine:has-text('<script>')", timeout=WAIT)
    assert client.locator("img[src='x']").count() == 0
    assert alerts.seen == []


def test_gestor_comercial_does_not_see_the_takeover_action_on_another_roles_case(staff, server, chromium):
    from tests.backoffice.support import make_conversation

    conversation = make_conversation(staff)
    with staff.sessions.begin() as session:
        mrojas = session.scalar(select(Staff.id).where(Staff.username == "mrojas"))
        case = case_log.open_case(session, tramite="G", client_id=_client_id(session, "1020304021"),
                                  conversation_id=conversation, role="ejecutivo", assignee_id=mrojas,
                                  now=case_log_now(), sla_hours=24)
        # The gestor generated the detail earlier and returned it: the case is now the ejecutiva's.
        case_log.add_event(session, case=case, now=case_log_now(), actor="gcomercial", kind="derived",
                           detail={"from": "gestor_comercial", "to": "ejecutivo"})
        case_id = case.id
    alerts = Alerts()
    gestor = staff_page(chromium, server, "gcomercial", alerts)
    gestor.goto(f"{server}/backoffice/casos/{case_id}")
    gestor.wait_for_selector("h2:has-text('Conversación')", timeout=WAIT)
    assert gestor.locator("#take-over").count() == 0
    assert gestor.locator("text=Tomar conversación").count() == 0
    ejecutiva = staff_page(chromium, server, "mrojas", alerts)
    ejecutiva.goto(f"{server}/backoffice/casos/{case_id}")
    assert ejecutiva.locator("#take-over").count() == 1


def test_kpi_page_screenshot(staff, server, chromium):
    seed_month(staff)
    page = staff_page(chromium, server, "responsable", Alerts())
    page.goto(f"{server}/backoffice/indicadores?mes=2026-10")
    page.wait_for_selector("svg.chart", timeout=WAIT)
    assert page.locator("svg.chart").count() == 4
    save(page, "kpis")


def open_case_and_take_over(chromium, server, alerts, request: str):
    """The client asks in the simulator; the ejecutiva opens the case and takes the conversation."""
    client = client_page(chromium, server, alerts)
    client_says(client, "Hola", replies_before=0)
    summary = client_says(client, request, replies_before=theirs(client))
    number = re.search(r"PV-\d{4}-\d{6}", summary).group(0)
    ejecutiva = staff_page(chromium, server, "mrojas", alerts)
    ejecutiva.locator(f"tr[data-case='{number}'] a").click()
    ejecutiva.wait_for_selector(f"h1:has-text('{number}')", timeout=WAIT)
    ejecutiva.click("#take-over")
    ejecutiva.wait_for_selector("text=Atiende: María Rojas", timeout=WAIT)
    client.wait_for_selector("section.phone li.bubble.theirs:has-text('desde ahora le atiendo personalmente')",
                             timeout=WAIT)
    return client, ejecutiva, number


def test_derived_but_kept_conversation_is_in_mis_conversaciones_with_unread_marker_and_title(
        staff, server, chromium):
    alerts = Alerts()
    client, ejecutiva, number = open_case_and_take_over(
        chromium, server, alerts, "quiero el detalle de llamadas de agosto de la línea 4412345")
    derive = ejecutiva.locator("form[action$='/acciones/derive']")
    derive.locator("select[name=to_role]").select_option("gestor_comercial")
    derive.locator("input[name=seguir]").check()
    derive.locator("button[type=submit]").click()
    ejecutiva.wait_for_selector("text=Atiende: María Rojas", timeout=WAIT)  # still hers after deriving

    ejecutiva.goto(server + "/backoffice/")
    held = ejecutiva.locator("#queue-held table.held tbody tr")
    held.first.wait_for(timeout=WAIT)
    assert held.count() == 1 and "Importadora El Valle" in held.first.inner_text()
    assert held.first.locator("a", has_text=number).count() == 1
    assert not ejecutiva.title().startswith("(")
    # The client writes: without a reload, the row is marked unread and the tab title counts it.
    client.locator("section.phone input[name=texto]").fill("¿Ya tienen novedades?")
    client.locator("section.phone button[type=submit]").click()
    ejecutiva.wait_for_selector("#queue-held tr.unread .badge.unread:has-text('1 sin respuesta')", timeout=WAIT)
    ejecutiva.wait_for_function("() => document.title.startsWith('(1) ')", timeout=WAIT)
    save(ejecutiva, "mis_conversaciones")
    held.first.locator("a", has_text="Abrir conversación").click()
    ejecutiva.wait_for_selector("#timeline .msg.in:has-text('¿Ya tienen novedades?')", timeout=WAIT)
    assert alerts.seen == []


def test_reply_draft_survives_an_action_canned_response_inserted_and_ctrl_enter_sends(staff, server, chromium):
    alerts = Alerts()
    client, ejecutiva, number = open_case_and_take_over(
        chromium, server, alerts, "quiero el detalle de llamadas de agosto de la línea 4412345")
    box = ejecutiva.locator("#reply-body")
    box.fill("Buenos días, estamos revisando su pedido.")
    # Another action on the page (an internal note) reloads it: the half-written reply is kept.
    note = ejecutiva.locator("form[action$='/acciones/note']")
    note.locator("textarea[name=note]").fill("Cliente pide el detalle con urgencia")
    note.locator("button[type=submit]").click()
    ejecutiva.wait_for_selector("#events :text('Cliente pide el detalle con urgencia')", timeout=WAIT)
    assert ejecutiva.locator("#reply-body").input_value() == "Buenos días, estamos revisando su pedido."
    assert ejecutiva.locator("textarea[name=note]").input_value() == ""  # the note itself was sent

    # A canned response goes in after the draft, filled in with this case's number.
    options = ejecutiva.locator("#canned option").all_inner_texts()
    assert "Caso en proceso" in options
    ejecutiva.select_option("#canned", label="Caso en proceso")
    text = ejecutiva.locator("#reply-body").input_value()
    assert text.startswith("Buenos días, estamos revisando su pedido. ") and number in text
    assert "{{" not in text

    before = theirs(client)
    ejecutiva.locator("#reply-body").press("Control+Enter")
    client.wait_for_function("n => document.querySelectorAll('section.phone li.bubble.theirs').length > n",
                             arg=before, timeout=WAIT)
    assert client.locator("section.phone li.bubble.theirs").last.inner_text() == text
    ejecutiva.wait_for_selector("#timeline .msg.staff", timeout=WAIT)
    assert ejecutiva.locator("#reply-body").input_value() == ""  # sent: the draft is gone
    assert alerts.seen == []


def test_files_both_ways_during_a_takeover_and_the_silent_hold_notice(staff, quick_hold_server, chromium):
    server = quick_hold_server
    alerts = Alerts()
    client, ejecutiva, number = open_case_and_take_over(
        chromium, server, alerts, "quiero el detalle de llamadas de agosto de la línea 4412345")
    requirement = ejecutiva.locator("ul.requirements li", has_text="Carta de solicitud")
    assert "Falta" in requirement.inner_text()

    # The client sends the signed letter while she holds the conversation: stored, requirement ticked.
    chat = client.locator("section.phone")
    chat.locator("input[type=file]").set_input_files(
        {"name": "carta firmada.pdf", "mimeType": "application/pdf", "buffer": PDF})
    chat.locator("input[name=texto]").fill("Le envío la carta firmada")
    chat.locator("button[type=submit]").click()
    ejecutiva.wait_for_selector("#timeline .attachment a:has-text('carta firmada.pdf')", timeout=WAIT)
    ejecutiva.reload()
    assert "Recibido" in ejecutiva.locator("ul.requirements li", has_text="Carta de solicitud").inner_text()
    assert ejecutiva.locator("ul.requirements li a", has_text="carta firmada.pdf").count() == 1

    # Nobody answers it: after HELD_REPLY_MINUTES the client is told a person has the message.
    client.wait_for_selector("section.phone li.bubble.theirs:has-text('Disculpe la espera')", timeout=WAIT)
    assert "María Rojas ya tiene su mensaje" in client.locator("section.phone li.bubble.theirs").last.inner_text()

    # She answers with a file of her own: the client receives the words and the file.
    ejecutiva.fill("#reply-body", "Recibida, gracias. Le adjunto la proforma.")
    ejecutiva.locator("#reply-form input[type=file]").set_input_files(
        {"name": "proforma.pdf", "mimeType": "application/pdf", "buffer": PDF})
    before = theirs(client)
    ejecutiva.click("#reply-form button[type=submit]")
    client.wait_for_function("n => document.querySelectorAll('section.phone li.bubble.theirs').length > n",
                             arg=before, timeout=WAIT)
    last = client.locator("section.phone li.bubble.theirs").last
    assert "Recibida, gracias. Le adjunto la proforma." in last.inner_text()
    assert last.locator(".file", has_text="proforma.pdf").count() == 1
    ejecutiva.wait_for_selector("#timeline .msg.staff .attachment a:has-text('proforma.pdf')", timeout=WAIT)
    assert alerts.seen == []


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


PHONE = {"width": 390, "height": 844}


def test_pages_fit_a_390_px_phone_without_horizontal_scroll(staff, server, chromium):
    seed_queue(staff)
    seed_month(staff)
    alerts = Alerts()
    client, ejecutiva, number = open_case_and_take_over(
        chromium, server, alerts, "quiero el detalle de llamadas de agosto de la línea 4412345")
    with staff.sessions() as session:
        case = session.scalars(select(Case).where(Case.number == number)).one()
        case_id, conversation_id = case.id, case.conversation_id
    # The ejecutiva's own pages, then the responsable's (every page of the menu), on a phone.
    context = chromium.new_context(viewport=PHONE, is_mobile=True, device_scale_factor=2)
    context.add_cookies(ejecutiva.context.cookies())
    phone = alerts.watch(context.new_page())
    wide = too_wide(phone, server, ["/backoffice/", f"/backoffice/casos/{case_id}",
                                    f"/backoffice/conversaciones/{conversation_id}", "/backoffice/no-existe"])
    phone.goto(server + f"/backoffice/casos/{case_id}")
    save(phone, "case_phone")
    phone.goto(server + "/backoffice/")
    save(phone, "queue_phone")
    responsable = alerts.watch(chromium.new_context(viewport=PHONE, is_mobile=True).new_page())
    responsable.goto(server + "/backoffice/login")
    assert responsable.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    responsable.fill("input[name=username]", "responsable")
    responsable.fill("input[name=password]", PASSWORD)
    responsable.click("button[type=submit]")
    responsable.wait_for_selector("h1:has-text('Cola de trabajo')", timeout=WAIT)
    wide |= too_wide(responsable, server, [
        "/backoffice/", f"/backoffice/casos/{case_id}", "/backoffice/visitas", "/backoffice/indicadores?mes=2026-10",
        "/backoffice/procedimientos", "/backoffice/procedimientos/main", "/backoffice/campanas",
        "/backoffice/campanas/nueva", "/backoffice/usuarios", "/simulador/"])
    assert wide == {}
    assert alerts.seen == []


def too_wide(page, server: str, paths: list[str]) -> dict[str, list[int]]:
    """Pages whose content is wider than the screen (the page would scroll sideways)."""
    wide = {}
    for path in paths:
        page.goto(server + path)
        page.wait_for_load_state("load")
        # clientWidth: the layout viewport (390); a mobile browser widens innerWidth to the content.
        scroll, screen = page.evaluate("() => [document.documentElement.scrollWidth, "
                                       "document.documentElement.clientWidth]")
        if scroll > screen:
            wide[path] = [scroll, screen]
    return wide


def seed_queue(db):
    """Other open cases of her cartera, so the queue looks like a working day (one overdue)."""
    from datetime import timedelta

    now = case_log_now()
    plan = [("1031122019", "E", -30, "mrojas"), ("1067788015", "B", -20, None), ("1123344019", "D", -3, "mrojas"),
            ("1090011014", "A", -1, "mrojas")]
    with db.sessions.begin() as session:
        mrojas = session.scalar(select(Staff.id).where(Staff.username == "mrojas"))
        for nit, tramite, hours, assignee in plan:
            case_log.open_case(session, tramite=tramite, client_id=_client_id(session, nit), conversation_id=None,
                               role="ejecutivo", assignee_id=mrojas if assignee else None,
                               now=now + timedelta(hours=hours), sla_hours=24, summary="")


def case_log_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def seed_month(db):
    """A plausible October for the picture: per trámite, some cases on time, some late, one reopened."""
    from datetime import UTC, datetime, timedelta

    plan = [("1020304021", "G", [2, 5, 30, None]), ("1029384017", "B", [3, 4, 6, 8, 20]),
            ("1031122019", "E", [1, 26, 50]), ("1045566012", "C", [10, 12]), ("1052233018", "F", [2, 3, 4, 5])]
    start = datetime(2026, 10, 6, 13, 0, tzinfo=UTC)
    with db.sessions.begin() as session:
        for nit, tramite, hours in plan:
            for i, h in enumerate(hours):
                opened = start + timedelta(days=i * 3)
                case = case_log.open_case(session, tramite=tramite, client_id=_client_id(session, nit),
                                          conversation_id=None, role="ejecutivo", assignee_id=None, now=opened,
                                          sla_hours=24)
                if h is not None:
                    case.status, case.resolved_at = "concluido", opened + timedelta(hours=h)
                    case_log.add_event(session, case=case, now=case.resolved_at, actor="mrojas", kind="resolved")


def save(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS") == "0":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
