"""I) Mora, the client's side: pending invoices, payment channels, the proforma (today 2026-11-28)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from bot.models import Staff

IMPORTADORA = "+59170000001"  # 5 pending invoices, privada
TIQUIPAYA = "+59171722002"  # 3 pending invoices, publica (SIGEP)
TUNARI = "+59172233003"  # all paid


def staff_id(client, username: str) -> int:
    with client.runtime.sessions() as session:
        return session.scalar(select(Staff.id).where(Staff.username == username))


def test_pending_invoices_with_total_and_channels_for_a_private_client(chat):
    total = sum(Decimal(a) for a in ("78.40", "65.00", "71.20", "480.00", "480.00"))
    assert total == Decimal("1174.60")
    client = chat(IMPORTADORA)
    reply = client.say("cuánto debo")
    assert "5 facturas pendientes" in reply
    for fact in ("Línea fija 4412345 (contrato 300101), septiembre de 2026: Bs 78,40",
                 "venció el 20 de octubre de 2026",
                 "Línea fija 4412346 (contrato 300102), octubre de 2026: Bs 71,20",
                 "Internet (contrato 300104), octubre de 2026: Bs 480,00, venció el 20 de noviembre de 2026"):
        assert fact in reply
    assert "agosto de 2026" not in reply  # paid
    assert "Total pendiente: Bs 1.174,60" in reply
    assert "página web" in reply and "Bancos" in reply and "SIGEP" not in reply
    assert "proforma" in reply
    assert client.cases() == []  # information only


def test_public_institution_pays_through_sigep_then_facturacion(chat):
    client = chat(TIQUIPAYA)
    reply = client.say("cómo pago")
    assert "Multipack 4316100 (contrato 300201), septiembre de 2026: Bs 890,00" in reply
    assert "Línea Boliviatel 4316102 (contrato 300203), octubre de 2026: Bs 95,00" in reply
    assert "Total pendiente: Bs 1.875,00" in reply  # 890 + 890 + 95
    assert "institución pública" in reply
    assert "SIGEP" in reply and "Facturación" in reply and "sellar" in reply
    assert "Bancos" not in reply
    assert client.cases() == []


def test_menu_option_lists_the_debts_too(chat):
    client = chat(TIQUIPAYA)
    client.say("Hola")
    assert "Total pendiente: Bs 1.875,00" in client.say("9")


def test_no_pending_invoices_says_so_and_thanks(chat):
    client = chat(TUNARI)
    reply = client.say("tengo deudas?")
    assert "no tiene facturas pendientes" in reply and "Gracias" in reply
    assert "Total" not in reply
    assert client.cases() == []


def test_naming_a_line_narrows_the_answer(chat):
    client = chat(IMPORTADORA)
    reply = client.say("tengo deudas de la línea 4412345?")
    assert "Bs 78,40" in reply and "Bs 65,00" in reply
    assert "Total pendiente: Bs 143,40" in reply  # 78.40 + 65.00
    assert "Bs 480,00" not in reply and "4412346" not in reply


def test_asking_for_the_proforma_opens_a_case_for_the_ejecutivo(chat):
    client = chat(IMPORTADORA)
    reply = client.say("envíeme la proforma por favor")
    case = client.last_case()
    assert case.number in reply and "factura proforma" in reply
    assert "Ejecutivo(a) Equipo Empresas" in reply and "24 horas" in reply
    assert case.tramite == "I" and case.status == "en_proceso"
    assert case.current_role == "ejecutivo" and case.assignee_id == staff_id(client, "mrojas")
    assert case.data["request"] == "proforma" and case.quoted_costs == [] and case.requirements == []
    assert [e.detail["rule"] for e in client.events(case) if e.kind == "rule"] == ["proforma_requested"]


def test_proforma_after_the_debt_list(chat):
    client = chat(TIQUIPAYA)
    client.say("tenemos deudas pendientes?")
    assert client.cases() == []
    reply = client.say("envíeme la proforma")
    case = client.last_case()
    assert case.number in reply and case.assignee_id == staff_id(client, "jquiroga")
