"""The case page's control-de-calidad panel: when the bot asked, what the client answered (their
own words) and the outcome: efectivo, reabierto, or no answer -> a call task for the ejecutivo(a)."""
from __future__ import annotations

from tests.backoffice.support import EL_VALLE_NIT
from tests.proactive.test_eficacia_after_quality import EL_VALLE_WA, open_case, resolve, say

ASKED = "28/11/2026 12:00"  # NOW is 10:00 in La Paz; resolved two hours later, asked at once
ANSWERED = "28/11/2026 12:30"


def panel(client, case_id) -> str:
    page = client.get(f"/backoffice/casos/{case_id}")
    assert page.status_code == 200
    return page.text.split('<section class="quality" id="quality">')[1].split("</section>")[0]


def resolved_and_asked(staff, runtime, login, clock):
    case_id = open_case(staff, EL_VALLE_NIT, EL_VALLE_WA, "mrojas")
    mrojas = login("mrojas")
    assert 'id="quality"' not in mrojas.get(f"/backoffice/casos/{case_id}").text  # nothing to show yet
    clock.advance(hours=2)
    resolve(mrojas, case_id)
    runtime.worker.run_once()  # the quality-check job asks the client
    clock.advance(minutes=30)
    return mrojas, case_id


def test_a_yes_shows_the_words_and_efectivo(staff, runtime, login, clock):
    mrojas, case_id = resolved_and_asked(staff, runtime, login, clock)
    waiting = panel(mrojas, case_id)
    assert ASKED in waiting and "Esperando la respuesta del cliente" in waiting
    say(runtime, EL_VALLE_WA, "Sí, ya funciona, gracias")
    shown = panel(mrojas, case_id)
    assert ASKED in shown and ANSWERED in shown
    assert "«Sí, ya funciona, gracias»" in shown and "Efectivo" in shown and "Esperando" not in shown


def test_a_no_shows_the_words_and_reabierto(staff, runtime, login, clock):
    mrojas, case_id = resolved_and_asked(staff, runtime, login, clock)
    say(runtime, EL_VALLE_WA, "No, sigue sin funcionar la línea")
    shown = panel(mrojas, case_id)
    assert "«No, sigue sin funcionar la línea»" in shown and "Reabierto" in shown and "Efectivo" not in shown


def test_silence_for_48_hours_shows_the_call_task(staff, runtime, login, clock):
    _, case_id = resolved_and_asked(staff, runtime, login, clock)
    clock.advance(hours=48)
    runtime.worker.run_once()
    shown = panel(login("mrojas"), case_id)  # a new sign-in: sessions last 12 hours
    assert ASKED in shown and "30/11/2026 12:30" in shown  # the worker pass after the 48 h ran out
    assert "tarea de llamada" in shown and "«" not in shown  # no words: the client never wrote


def test_the_client_words_are_escaped(staff, runtime, login, clock):
    mrojas, case_id = resolved_and_asked(staff, runtime, login, clock)
    say(runtime, EL_VALLE_WA, "no funciona <script>alert(1)</script>")
    shown = panel(mrojas, case_id)
    assert "<script>" not in shown and "&lt;script&gt;" in shown
