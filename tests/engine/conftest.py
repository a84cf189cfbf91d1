"""A small portfolio written straight into the database, and an engine over it."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.clock import ManualClock
from bot.engine import Engine
from dialogs.registry import dialogs
from bot.models import Client, Contact, Product, Staff
from bot.settings import Settings

from tests.support import EMAIL, NIT, OTHER_NIT, PHONE


@pytest.fixture
def portfolio(db):
    with db.sessions.begin() as session:
        ejecutiva = Staff(username="mrojas", full_name="María Rojas", role="ejecutivo")
        session.add(ejecutiva)
        session.flush()
        client = Client(nit=NIT, razon_social="Industrias Andinas S.R.L.", tipo="privada",
                        ejecutivo_id=ejecutiva.id, email="gerencia@andinas.bo", whatsapp="")
        other = Client(nit=OTHER_NIT, razon_social="Farmacias del Valle S.A.", tipo="privada",
                       ejecutivo_id=ejecutiva.id, email="", whatsapp="")
        session.add_all([client, other])
        session.flush()
        session.add(Contact(client_id=client.id, name="Ana Pérez", role="Contadora", phone=PHONE, email=EMAIL))
        session.add_all([
            Product(contract="300101", client_id=client.id, product_type="telefonia_fija", number="4412345",
                    technology="cobre", plan="Empresarial", monthly_fee=Decimal("70.00"),
                    installed_on=date(2020, 1, 10), min_permanence_months=0, status="activo", address="Av. Ballivián 456"),
            Product(contract="300201", client_id=other.id, product_type="internet", number="4455667",
                    technology="fibra", plan="Fibra 100", monthly_fee=Decimal("350.00"),
                    installed_on=date(2022, 5, 2), min_permanence_months=12, status="activo", address="Calle Jordán 12"),
        ])
    return db


@pytest.fixture
def clock():
    return ManualClock(datetime(2026, 11, 28, 13, 0, tzinfo=UTC))


@pytest.fixture
def engine(portfolio, clock):
    return Engine(portfolio.sessions, settings=Settings(database_url=portfolio.url), clock=clock, dialogs=dialogs())
