"""The proforma PDF lists the pending invoices, the total and the payment channels of the client."""
from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from bot.portfolio.records import DatabaseRecords
from bot.proforma import proforma_pdf


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_public_institution_gets_sigep_and_every_pending_invoice(demo):
    with demo.sessions() as session:
        records = DatabaseRecords(session)
        client = records.client_by_nit("1023456028")  # GAM de Tiquipaya
        data = proforma_pdf(records, client, today=date(2026, 11, 28))
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Gobierno Autónomo Municipal de Tiquipaya" in text and "1023456028" in text
    # Demo facts: multipack 300201 Bs 890.00 for 2026-09 and 2026-10, boliviatel 300203 Bs 95.00.
    assert text.count("Bs 890,00") == 2 and "Bs 95,00" in text
    assert "Bs 1.875,00" in text  # 890 + 890 + 95
    assert "SIGEP" in text


def test_private_client_without_debt_is_told_so(demo):
    with demo.sessions() as session:
        records = DatabaseRecords(session)
        client = records.client_by_nit("1029384017")  # Constructora Tunari, all paid
        text = pdf_text(proforma_pdf(records, client, today=date(2026, 11, 28)))
    assert "no registramos facturas pendientes" in text
    assert "SIGEP" not in text and "página web" in text
