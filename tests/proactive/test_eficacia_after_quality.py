"""Eficacia after the quality checks, through the real flow: staff resolve cases in the back-office,
the scheduler's job asks each client, the clients answer through the engine (or stay silent 48 h),
and the indicators page shows the figure counted by hand.

Procedure III: Eficacia = requests attended effectively / all requests x 100. A client's "sí"
closes the case as effective; "no" reopens it (not effective); silence leaves it resolved, with a
call task for the ejecutivo(a) (effective unless someone reopens it)."""
# ruff: noqa: F811  (the back-office fixtures imported below are parameters of these tests)
from __future__ import annotations

import re
from itertools import count

from sqlalchemy import select

from bot.models import Case, StaffTask
from bot.messaging import InboundMessage
from tests.backoffice.conftest import app, clock, login, runtime, staff  # noqa: F401
from tests.backoffice.support import EL_VALLE_NIT, TUNARI_NIT, make_case, make_conversation

CLINICA_NIT, CLINICA_WA = "1031122019", "+59170111004"  # ejecutiva mrojas
TIQUIPAYA_NIT, TIQUIPAYA_WA = "1023456028", "+59171722002"  # ejecutivo jquiroga
EL_VALLE_WA, TUNARI_WA = "+59170000001", "+59172233003"
QUESTION = "«sí» o «no»"  # templates/messages/quality_question.j2
_sids = count(1)


def open_case(staff_db, nit, address, ejecutivo):
    conversation_id = make_conversation(staff_db, address=address, nit=nit)
    return make_case(staff_db, tramite="G", nit=nit, assignee=ejecutivo, conversation_id=conversation_id,
                     status="en_proceso")


def resolve(client, case_id, note="Atendido"):
    response = client.post(f"/backoffice/casos/{case_id}/acciones/resolve", {"note": note})
    assert response.status_code == 303 and "error" not in response.headers["location"], response.headers


def say(runtime, address, text):
    """The client writes on WhatsApp: the same engine call the Twilio webhook makes."""
    runtime.conversations.handle(InboundMessage(channel="whatsapp", address=address, body=text,
                                                external_id=f"SMquality{next(_sids):024d}"))
    runtime.worker.run_once()


def sent_to(runtime, address):
    return [m.body for m in runtime.channels.get("whatsapp").sent if m.address == address]


def test_eficacia_counts_sí_as_effective_and_no_as_not(staff, runtime, login, clock):
    el_valle = open_case(staff, EL_VALLE_NIT, EL_VALLE_WA, "mrojas")  # will answer sí
    tunari = open_case(staff, TUNARI_NIT, TUNARI_WA, "lvargas")  # will answer no
    clinica = open_case(staff, CLINICA_NIT, CLINICA_WA, "mrojas")  # will not answer
    open_case(staff, TIQUIPAYA_NIT, TIQUIPAYA_WA, "jquiroga")  # still being worked on

    clock.advance(hours=2)
    mrojas, lvargas = login("mrojas"), login("lvargas")
    for client, case_id in ((mrojas, el_valle), (lvargas, tunari), (mrojas, clinica)):
        resolve(client, case_id)
    runtime.worker.run_once()  # the quality-check jobs ask the three clients
    for address in (EL_VALLE_WA, TUNARI_WA, CLINICA_WA):
        assert QUESTION in sent_to(runtime, address)[-1]

    say(runtime, EL_VALLE_WA, "Sí, ya funciona, gracias")
    say(runtime, TUNARI_WA, "No, sigue sin funcionar")
    clock.advance(hours=48, minutes=1)
    runtime.worker.run_once()  # Clínica's silence: a call task, the case stays resuelto

    with runtime.sessions() as session:
        statuses = {c.id: c.status for c in session.scalars(select(Case))}
        assert session.scalar(select(StaffTask.case_id).where(StaffTask.kind == "quality_call")) == clinica
    assert (statuses[el_valle], statuses[tunari], statuses[clinica]) == ("cerrado", "reabierto", "resuelto")

    # By hand: 4 cases in November; effective = El Valle (sí) + Clínica (resolved, unanswered) = 2.
    page = login("responsable").get("/backoffice/indicadores?mes=2026-11")
    assert page.status_code == 200
    overall = page.text.split('id="overall"')[1].split("</section>")[0]
    assert "4 casos" in overall
    assert re.search(r'class="eficacia">50\.0 %<', overall), overall
    ejecutivos = page.text.split('id="by-ejecutivo"')[1]

    def eficacia_of(username):
        row = ejecutivos.split(f'data-key="{username}"')[1].split("</tr>")[0]
        return re.search(r'class="num eficacia">([^<]*)<', row).group(1)

    # mrojas: 2 of 2; lvargas: the reopened one, 0 of 1; jquiroga: the open one, 0 of 1.
    assert (eficacia_of("mrojas"), eficacia_of("lvargas"), eficacia_of("jquiroga")) == ("100.0 %", "0.0 %", "0.0 %")


def test_a_case_reopened_by_the_client_stays_not_effective_after_a_second_resolution(
        staff, runtime, login, clock):
    """The first attention did not work: resolving it again and hearing "sí" does not make it effective."""
    case_id = open_case(staff, EL_VALLE_NIT, EL_VALLE_WA, "mrojas")
    mrojas = login("mrojas")
    resolve(mrojas, case_id)
    runtime.worker.run_once()
    say(runtime, EL_VALLE_WA, "no, sigue sin funcionar")
    clock.advance(hours=3)
    resolve(mrojas, case_id, "Técnico reemplazó el equipo")
    runtime.worker.run_once()
    assert QUESTION in sent_to(runtime, EL_VALLE_WA)[-1]
    say(runtime, EL_VALLE_WA, "sí, ahora funciona")
    with runtime.sessions() as session:
        assert session.get(Case, case_id).status == "cerrado"
    page = login("responsable").get("/backoffice/indicadores?mes=2026-11")
    overall = page.text.split('id="overall"')[1].split("</section>")[0]
    assert "1 casos" in overall and re.search(r'class="eficacia">0\.0 %<', overall), overall


def test_the_month_is_the_month_the_case_was_opened(staff, runtime, login, clock):
    """A November case confirmed in December still counts for November (the control for the page)."""
    case_id = open_case(staff, EL_VALLE_NIT, EL_VALLE_WA, "mrojas")
    clock.advance(days=3)  # 1 December
    resolve(login("mrojas"), case_id)
    runtime.worker.run_once()
    say(runtime, EL_VALLE_WA, "sí")
    page = login("responsable").get("/backoffice/indicadores?mes=2026-11")
    overall = page.text.split('id="overall"')[1].split("</section>")[0]
    assert "1 casos" in overall and re.search(r'class="eficacia">100\.0 %<', overall), overall
