"""Carta de información de mora (procedure I): the same pending invoices as the proforma, as a
letter the ejecutivo downloads from the back-office and sends. Words in
templates/documents/carta_mora.yaml.j2; the layout is the proforma's."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import yaml

from bot import proforma, texts
from bot.portfolio.records import ClientInfo, SystemOfRecord
from bot.rules import load_rules


def carta_mora_pdf(records: SystemOfRecord, client: ClientInfo, *, today: date, ejecutivo: str = "") -> bytes:
    lines = proforma.lines_for(records, client)
    source = texts.environment().get_template("documents/carta_mora.yaml.j2").render(
        client=client, invoices=lines, total=sum((line.amount for line in lines), start=Decimal(0)),
        payment_channels=load_rules("payment_channels.yaml")[client.tipo], today=today, ejecutivo=ejecutivo)
    return proforma.render_pdf(yaml.safe_load(source))
