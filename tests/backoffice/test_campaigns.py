"""Campañas page: clients in mora with the carta de información de mora (a real PDF), campaign
answers, and the scheduled jobs pending or failed for the responsable only."""
from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader

from bot.models import CampaignSend, InboundFailure, Job
from tests.backoffice.support import NOW, client_id

EL_VALLE = "1020304021"  # mrojas
TIQUIPAYA = "1023456028"  # jquiroga


def _add_jobs(db):
    with db.sessions.begin() as session:
        session.add(Job(kind="mora_run", payload={"period": "2026-12"}, status="pending", due_at=NOW + timedelta(days=7),
                        attempts=0, last_error="", dedupe_key="mora:2026-12", created_at=NOW))
        session.add(Job(kind="quality_check", payload={"case_id": 1}, status="failed", due_at=NOW, attempts=6,
                        last_error="RuntimeError: smtp caído", created_at=NOW))
        session.add(Job(kind="quality_check", payload={"case_id": 2}, status="done", due_at=NOW, attempts=1,
                        last_error="", dedupe_key="done-one", created_at=NOW))


def test_the_responsable_sees_every_client_in_mora_and_the_open_jobs(staff, login):
    _add_jobs(staff)
    page = login("responsable").get("/backoffice/campanas")
    assert page.status_code == 200
    assert "Importadora El Valle" in page.text and "Tiquipaya" in page.text
    assert "Constructora Tunari" not in page.text  # cuentas al día
    # Jobs in words (issue 15); the failed one is listed, the finished one is not.
    assert "Campaña de mora del mes (2026-12)" in page.text and "smtp caído" in page.text
    assert page.text.count("Control de calidad: pregunta al cliente") == 1 and "mora_run" not in page.text


def test_an_ejecutiva_sees_her_cartera_and_no_jobs(staff, login):
    _add_jobs(staff)
    with staff.sessions.begin() as session:
        session.add(CampaignSend(campaign="mora", run="2026-12", client_id=client_id(staff, EL_VALLE),
                                 channel="whatsapp", address="+59170000001", status="sent", answer="promise",
                                 words="pagaremos el viernes", outcome="", created_at=NOW))
    client = login("mrojas")
    assert "Campañas" in client.get("/backoffice/").text  # the nav link
    page = client.get("/backoffice/campanas")
    assert page.status_code == 200
    assert "Importadora El Valle" in page.text and "Tiquipaya" not in page.text
    assert "Promete pagar" in page.text and "pagaremos el viernes" in page.text
    assert "Tareas programadas" not in page.text and "mora:2026-12" not in page.text


def test_the_carta_de_mora_lists_the_pending_invoices(staff, login):
    response = login("mrojas").get(f"/backoffice/campanas/carta-mora/{client_id(staff, EL_VALLE)}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Carta de información de mora" in text and "Importadora El Valle" in text
    assert "300104" in text and "Total adeudado" in text and "María Rojas" in text


def test_the_carta_of_another_ejecutivos_client_and_the_page_for_other_roles_are_refused(staff, login):
    assert login("mrojas").get(f"/backoffice/campanas/carta-mora/{client_id(staff, TIQUIPAYA)}").status_code == 403
    assert login("gcomercial").get("/backoffice/campanas").status_code == 403
    assert login("responsable").get(f"/backoffice/campanas/carta-mora/{client_id(staff, TIQUIPAYA)}").status_code == 200


def test_letters_that_could_not_be_processed_are_listed_for_the_responsable_only(staff, login):
    with staff.sessions.begin() as session:
        session.add(InboundFailure(channel="email", external_id="<x1@cliente.bo>", sender="gerencia@cliente.bo",
                                   subject="Carta <script>alert(1)</script>", error="ValueError: adjunto ilegible",
                                   created_at=NOW))
        session.add(InboundFailure(channel="email", external_id="<x2@cliente.bo>", sender="viejo@cliente.bo",
                                   subject="Ya atendida", error="ValueError", created_at=NOW, resolved_at=NOW))
    page = login("responsable").get("/backoffice/campanas").text
    assert "gerencia@cliente.bo" in page and "adjunto ilegible" in page and "«Revisar»" in page
    assert "Carta &lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Ya atendida" not in page  # resolved: no longer listed
    assert "gerencia@cliente.bo" not in login("mrojas").get("/backoffice/campanas").text
