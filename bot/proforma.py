"""Factura proforma (procedure section I): the client's pending invoices as a PDF.

The words come from templates/documents/proforma.yaml.j2 (rendered, then read as data); this
module only lays them out with fpdf2. Core fonts cover Latin-1, which is all Spanish needs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import yaml
from fpdf import FPDF

from bot import texts
from bot.portfolio.records import ClientInfo, SystemOfRecord
from bot.rules import load_rules


@dataclass(frozen=True)
class ProformaLine:
    contract: str
    product: str
    period: str
    due_on: date
    amount: Decimal


def lines_for(records: SystemOfRecord, client: ClientInfo) -> list[ProformaLine]:
    products = {p.contract: p for p in records.products(client.id)}
    labels = texts.labels()["product_types"]
    lines = []
    for invoice in records.pending_invoices(client.id):
        product = products.get(invoice.contract)
        name = labels.get(product.product_type, "") if product else ""
        if product and product.number:
            name = f"{name} {product.number}"
        lines.append(ProformaLine(invoice.contract, name, invoice.period, invoice.due_on, invoice.amount))
    return lines


def content(client: ClientInfo, lines: list[ProformaLine], *, today: date) -> dict:
    channels = load_rules("payment_channels.yaml")[client.tipo]
    source = texts.environment().get_template("documents/proforma.yaml.j2").render(
        client=client, invoices=lines, total=sum((l.amount for l in lines), start=Decimal(0)),
        payment_channels=channels, today=today)
    return yaml.safe_load(source)


def render_pdf(doc: dict) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, doc["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 6, doc["subtitle"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for line in doc["client"]:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.multi_cell(0, 6, doc["intro"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if doc.get("rows"):
        with pdf.table(col_widths=(18, 34, 26, 30, 22), text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT")) as table:
            header = table.row()
            for title in doc["headers"]:
                header.cell(title)
            for values in doc["rows"]:
                row = table.row()
                for value in values:
                    row.cell(str(value))
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 7, doc["total"], new_x="LMARGIN", new_y="NEXT", align="R")
        pdf.set_font("Helvetica", "", 10)
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(0, 7, doc["channels_title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for channel in doc.get("channels") or []:
        pdf.multi_cell(0, 6, channel, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(0, 5, doc["footer"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def proforma_pdf(records: SystemOfRecord, client: ClientInfo, *, today: date) -> bytes:
    return render_pdf(content(client, lines_for(records, client), today=today))
