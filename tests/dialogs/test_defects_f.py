"""Issue 13 defects of F) reclamo de facturación, through the console channel (today 2026-11-28).

F.2: the account is checked before any claim: a month with no invoice of the product opens no
case and the client is told which invoices there are. The client's words name the reason."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import BillingClaim, Product

CONSTRUCTORA = "+59172233003"  # line 300302/4257788: invoices 2026-09 and 2026-10; no claims
FARMACIAS = "+59176543006"  # duo_pack 300601: invoices 2026-08..10; RC-2026-0601 (2026-08)


def claims_of(demo, contract: str) -> list[BillingClaim]:
    with demo.sessions() as session:
        return session.scalars(
            select(BillingClaim).join(Product, Product.id == BillingClaim.product_id)
            .where(Product.contract == contract).order_by(BillingClaim.id)).all()


def test_a_month_without_an_invoice_opens_no_claim_and_lists_the_recent_invoices(chat, demo):
    client = chat(CONSTRUCTORA)
    reply = client.say("tengo un reclamo de la factura de julio de la línea 4257788")
    assert "No encontramos una factura de julio de 2026" in reply
    assert "septiembre de 2026: Bs 65,00" in reply and "octubre de 2026: Bs 65,00" in reply
    assert "¿De qué mes" in reply
    assert client.cases() == [] and claims_of(demo, "300302") == []


def test_after_a_month_without_invoice_a_month_with_one_goes_on_with_the_claim(chat, demo):
    client = chat(CONSTRUCTORA)
    client.say("reclamo de la factura de julio de la línea 4257788")
    reason = client.say("octubre")
    assert "motivo" in reason and "octubre de 2026" in reason
    reply = client.say("nos cobraron doble")
    case = client.last_case()
    assert "RC-" not in reply and case.number in reply and "cobro duplicado" in reply
    assert case.data["period"] == "2026-10" and case.data["reason"] == "cobro_duplicado"
    assert [c.period for c in claims_of(demo, "300302")] == ["2026-10"]


def test_the_current_month_has_no_invoice_yet(chat):
    client = chat(CONSTRUCTORA)
    reply = client.say("reclamo de la factura de este mes de la línea 4257788")
    assert "No encontramos una factura de noviembre de 2026" in reply
    assert "octubre de 2026: Bs 65,00" in reply
    assert client.cases() == []


def test_no_invoice_of_a_month_before_an_existing_claim_is_looked_at(chat):
    client = chat(FARMACIAS)
    reply = client.say("reclamo de la factura de mayo")
    assert "No encontramos una factura de mayo de 2026" in reply
    assert "agosto de 2026: Bs 435,00" in reply
    assert client.cases() == []


def test_double_charge_in_the_first_message_is_the_reason_of_the_claim(chat, demo):
    client = chat(CONSTRUCTORA)
    reply = client.say("nos cobraron doble en la factura de octubre de la línea 4257788")
    assert "¿Cuál es el motivo" not in reply
    case = client.last_case()
    assert "RC-" not in reply and case.number in reply and "cobro duplicado" in reply
    assert case.data["reason"] == "cobro_duplicado"
    rules = {e.detail["rule"]: e.detail for e in client.events(case) if e.kind == "rule"}
    assert rules["derive_utar"]["claim_reason"] == "cobro_duplicado"


def test_a_product_with_no_invoice_on_record_opens_no_claim(chat, demo):
    client = chat("+59179988014")  # Café Tunari: internet 301401, no invoice on record
    reply = client.say("tengo un reclamo de la factura de octubre")
    assert "No encontramos facturas de su Internet" in reply and "301401" in reply
    assert "octubre de 2026" in reply
    assert client.cases() == [] and claims_of(demo, "301401") == []
