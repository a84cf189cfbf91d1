"""F) Reclamo de facturación, every branch, through the console channel (today 2026-11-28)."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import BillingClaim, Product

FARMACIAS = "+59176543006"  # duo_pack 300601: RC-2026-0601, 2026-08, atendido with a resolution
TRANSPORTES = "+59168765007"  # line 300701/4701234: RC-2026-0701, 2026-09, asignado; hspa 300702
CONSTRUCTORA = "+59172233003"  # internet 300301, line 300302/4257788; no claims


def rules_of(client, case) -> dict:
    return {e.detail["rule"]: e.detail for e in client.events(case) if e.kind == "rule"}


def claims_of(demo, contract: str) -> list[BillingClaim]:
    with demo.sessions() as session:
        return session.scalars(
            select(BillingClaim).join(Product, Product.id == BillingClaim.product_id)
            .where(Product.contract == contract).order_by(BillingClaim.id)).all()


def test_attended_claim_gives_the_resolution_and_agreement_concludes_the_case(chat):
    client = chat(FARMACIAS)
    question = client.say("tengo un reclamo de la factura de agosto")
    assert "RC-2026-0601" in question and "agosto de 2026" in question
    assert "nota de crédito de Bs 45.00" in question and "¿Está de acuerdo" in question
    assert client.cases() == []
    reply = client.say("sí, estamos de acuerdo")
    case = client.last_case()
    assert case.number in reply and "concluido" in reply
    assert case.tramite == "F" and case.status == "concluido" and case.closed_at is not None
    assert case.current_role == "ejecutivo" and case.assignee_id is not None
    assert case.data["claim"] == "RC-2026-0601" and case.data["agreed"] is True
    assert rules_of(client, case)["claim_resolution_accepted"]["claim"] == "RC-2026-0601"


def test_disagreement_with_its_reason_is_escalated_to_utar_with_the_clients_words(chat, demo):
    client = chat(FARMACIAS)
    client.say("reclamo sobre la factura de agosto")
    words = "No estoy de acuerdo, nos cobraron tres veces esas llamadas y el crédito es poco"
    reply = client.say(words)
    case = client.last_case()
    assert case.number in reply and "UTAR" in reply and "Ejecutivo(a) Equipo Empresas" in reply
    assert case.status == "en_proceso" and case.current_role == "ejecutivo"
    assert case.assignee_id is not None
    detail = rules_of(client, case)["escalate_utar"]
    assert detail["claim"] == "RC-2026-0601"
    assert detail["client_words"] == words
    assert case.data["agreed"] is False
    assert [c.number for c in claims_of(demo, "300601")] == ["RC-2026-0601"]  # no new claim


def test_a_bare_no_asks_what_the_client_disagrees_with(chat):
    client = chat(FARMACIAS)
    client.say("reclamo de la factura de agosto")
    ask = client.say("no")
    assert "en qué no está de acuerdo" in ask
    assert client.cases() == []
    reply = client.say("el crédito debía ser de 90 Bs")
    assert "«el crédito debía ser de 90 Bs»" in reply
    detail = rules_of(client, client.last_case())["escalate_utar"]
    assert detail["client_words"] == "el crédito debía ser de 90 Bs"


def test_assigned_claim_gets_an_urgent_follow_up_and_a_call(chat, demo):
    client = chat(TRANSPORTES)
    reply = client.say("reclamo de la factura de septiembre de la línea 4701234")
    case = client.last_case()
    assert "RC-2026-0701" in reply and "le llamarán por teléfono" in reply
    assert case.number in reply and "Ejecutivo(a) Equipo Empresas" in reply
    assert case.status == "en_proceso" and case.current_role == "ejecutivo"
    assert case.assignee_id is not None
    assert case.data["claim"] == "RC-2026-0701" and case.data["action"] == "seguimiento_urgente"
    assert rules_of(client, case)["urgent_follow_up"]["claim"] == "RC-2026-0701"
    assert len(claims_of(demo, "300701")) == 1


def test_new_claim_is_registered_and_derived_to_utar(chat, demo):
    client = chat(TRANSPORTES)
    products = client.say("me cobraron de más el mes pasado")
    assert "4701234" in products and "76012345" in products
    reply = client.say("1")
    case = client.last_case()
    claim_number = case.number  # the case reference until UTAR numbers the claim
    assert "RC-" not in reply and case.number in reply and "octubre de 2026" in reply
    assert "monto mayor al habitual" in reply
    assert "le llamará con la resolución" in reply and "UTAR" in reply
    assert case.status == "en_proceso" and case.current_role == "ejecutivo"
    assert case.assignee_id is not None
    assert case.data["claim"] == claim_number and case.data["procedure"] == "FIN-FAC-P03"
    assert case.data["derived_to"] == "UTAR" and case.data["period"] == "2026-10"
    assert case.data["client_words"] == ["me cobraron de más el mes pasado"]
    detail = rules_of(client, case)["derive_utar"]
    assert detail["period"] == "2026-10" and detail["claim_reason"] == "monto_elevado"
    new = claims_of(demo, "300701")[-1]
    assert (new.number, new.period, new.status) == (claim_number, "2026-10", "asignado")
    assert new.resolution == ""
    assert any(e.kind == "claim_registered" for e in client.events(case))


def test_turn_by_turn_from_the_menu_with_the_reason_in_the_clients_words(chat):
    client = chat(CONSTRUCTORA)
    client.say("Hola")
    products = client.say("6")
    assert "300301" in products and "4257788" in products
    period = client.say("2")
    assert "¿De qué mes" in period
    reason = client.say("octubre")
    assert "motivo" in reason and "octubre de 2026" in reason
    reply = client.say("la factura trae un cargo de instalación extraño")
    case = client.last_case()
    assert "RC-" not in reply and case.number in reply and "otro motivo" in reply
    assert case.data["reason"] == "otro" and case.data["contract"] == "300302"


def test_future_month_and_several_months_are_refused_with_a_hint(chat):
    client = chat(CONSTRUCTORA)
    future = client.say("reclamo de la factura de diciembre de 2026 de la línea 4257788")
    assert "diciembre de 2026 aún no fue emitida" in future
    several = client.say("septiembre y octubre")
    assert "un solo mes" in several
    assert client.cases() == []


def test_bad_answers_twice_then_a_person_is_offered(chat):
    client = chat(CONSTRUCTORA)
    client.say("reclamo de facturación de la línea 4257788")
    assert "Disculpe" in client.say("no sé")
    assert "Disculpe" in client.say("la de siempre")
    offer = client.say("???")
    assert "ejecutivo" in offer and "sí" in offer
    assert "ejecutivo" in client.say("sí")
    assert client.cases() == []


def test_product_of_another_client_is_refused(chat):
    client = chat(CONSTRUCTORA)
    reply = client.say("reclamo de la factura de octubre de la línea 4701234")  # Transportes' line
    assert "No encontramos 4701234" in reply
    assert client.cases() == []
