"""The system-of-record reads dialogs use, checked against the demo portfolio's documented facts
(bot/demo/cartera/README.md)."""
from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event

from bot.portfolio import DEMO_CARTERA_DIR, import_cartera
from bot.portfolio.records import ClientInfo, DatabaseRecords, ProductInfo

IMPORTADORA = "1020304021"
GAM_TIQUIPAYA = "1023456028"
CONSTRUCTORA = "1029384017"
ESTUDIO_ARCE = "1089900011"
COMERCIAL_QUILLACOLLO = "1145566013"


def load_demo(database) -> None:
    with database.sessions() as session:
        import_cartera(session, DEMO_CARTERA_DIR)
        session.commit()


@pytest.fixture
def records(db):
    load_demo(db)
    with db.sessions() as session:
        yield DatabaseRecords(session)


# --- clients ---------------------------------------------------------------------------------

def test_client_by_nit_and_by_id(records):
    client = records.client_by_nit(IMPORTADORA)
    assert client == ClientInfo(client.id, IMPORTADORA, "Importadora El Valle S.R.L.", "privada",
                                "mrojas", "gerencia@empresa.bo", "+59170000001")
    assert records.client_by_id(client.id) == client
    assert records.client_by_nit(f" {IMPORTADORA} ") == client
    assert records.client_by_nit("1") is None
    assert records.client_by_id(999_999) is None
    assert records.client_by_nit(GAM_TIQUIPAYA).tipo == "publica"


def test_results_are_frozen_values_not_orm_objects(records):
    client = records.client_by_nit(IMPORTADORA)
    with pytest.raises(dataclasses.FrozenInstanceError):
        client.razon_social = "Otra"  # type: ignore[misc]
    product = records.products(client.id)[0]
    assert type(product) is ProductInfo and isinstance(product.monthly_fee, Decimal)


def test_client_by_phone_matches_contacts_and_the_client_whatsapp(records):
    importadora = records.client_by_nit(IMPORTADORA)
    assert records.client_by_phone("+59170000001") == importadora  # contact and whatsapp
    assert records.client_by_phone("+59171711001") == importadora  # a second contact
    # Supermercados El Prado: its whatsapp is on no contact.
    assert records.client_by_phone("+59160011013").nit == "1123344019"
    # Landline of a contact (GAM Tiquipaya).
    assert records.client_by_phone("+59144316100").nit == GAM_TIQUIPAYA
    assert records.client_by_phone("+59179999999") is None
    assert records.client_by_phone("") is None  # never "every client without a number"


def test_a_phone_shared_by_two_clients_identifies_neither(records):
    """The outside accountant works for two empresas: the dialog must ask for the NIT."""
    assert records.client_by_phone("+59170555015") is None
    assert [c.nit for c in records.clients_by_phone("+59170555015")] == [
        ESTUDIO_ARCE, COMERCIAL_QUILLACOLLO]


def test_client_by_email_ignores_case(records):
    importadora = records.client_by_nit(IMPORTADORA)
    assert records.client_by_email("Contabilidad@Empresa.BO") == importadora
    assert records.client_by_email(" contabilidad@empresa.bo ") == importadora
    # Clínica Los Olivos: the client's own email (imported capitalised), on no contact.
    assert records.client_by_email("ADMINISTRACION@clinicalosolivos.com.bo").nit == "1031122019"
    assert records.client_by_email("nadie@empresa.bo") is None
    assert records.client_by_email("") is None


# --- products --------------------------------------------------------------------------------

def test_products_of_a_client_with_filters(records):
    importadora = records.client_by_nit(IMPORTADORA).id
    assert [p.contract for p in records.products(importadora)] == [
        "300101", "300102", "300103", "300104"]
    assert [p.number for p in records.products(importadora, types=["telefonia_fija"])] == [
        "4412345", "4412346", "4412347"]
    gam = records.client_by_nit(GAM_TIQUIPAYA).id
    assert [p.contract for p in records.products(gam)] == ["300201", "300202", "300203", "300204"]
    assert [p.contract for p in records.products(gam, active_only=True)] == [
        "300201", "300202", "300203"]
    assert records.products(gam, types=[]) == []

    internet = records.products(importadora, types={"internet"})[0]
    assert internet == ProductInfo(
        internet.id, "300104", importadora, "internet", "", "fibra", "Fibra Empresa 100 Mbps",
        Decimal("480.00"), date(2022, 8, 15), 24, "activo",
        "Av. Ballivián 456, Zona Central, Cochabamba")


def test_product_by_contract_or_number_only_finds_the_clients_own(records):
    importadora = records.client_by_nit(IMPORTADORA).id
    gam = records.client_by_nit(GAM_TIQUIPAYA).id
    assert records.product_by_contract_or_number(importadora, "300104").product_type == "internet"
    assert records.product_by_contract_or_number(importadora, "4412346").contract == "300102"
    assert records.product_by_contract_or_number(importadora, " 4412346 ").contract == "300102"
    # The GAM's multipack exists, but it is not this client's.
    assert records.product_by_contract_or_number(gam, "300201").product_type == "multipack"
    assert records.product_by_contract_or_number(importadora, "300201") is None
    assert records.product_by_contract_or_number(importadora, "4316100") is None
    assert records.product_by_contract_or_number(importadora, "") is None
    assert records.product_by_contract_or_number(importadora, "999999") is None


def test_permanence_facts_of_the_demo(records):
    panificadora = records.client_by_nit("1078899016").id
    recent = records.product_by_contract_or_number(panificadora, "300801")
    assert (recent.installed_on, recent.min_permanence_months) == (date(2026, 3, 16), 24)
    old = records.product_by_contract_or_number(records.client_by_nit(IMPORTADORA).id, "300101")
    assert (old.installed_on, old.min_permanence_months) == (date(2015, 6, 10), 12)


# --- open items ------------------------------------------------------------------------------

def test_pending_invoices_oldest_due_first(records):
    importadora = records.client_by_nit(IMPORTADORA).id
    pending = records.pending_invoices(importadora)
    assert [(i.contract, i.period, i.amount, i.due_on) for i in pending] == [
        ("300101", "2026-09", Decimal("78.40"), date(2026, 10, 20)),
        ("300104", "2026-09", Decimal("480.00"), date(2026, 10, 20)),
        ("300101", "2026-10", Decimal("65.00"), date(2026, 11, 20)),
        ("300102", "2026-10", Decimal("71.20"), date(2026, 11, 20)),
        ("300104", "2026-10", Decimal("480.00"), date(2026, 11, 20)),
    ]
    assert {i.status for i in pending} == {"pendiente"}
    assert records.pending_invoices(records.client_by_nit(CONSTRUCTORA).id) == []


def test_work_orders_newest_first(records):
    hotel = records.work_orders("300501")
    assert [(o.number, o.status) for o in hotel] == [
        ("OT-2026-0502", "cerrada_sin_solucion"), ("OT-2026-0501", "cerrada_solucionada")]
    assert hotel[0].cause == "Sin señal de TV en 12 habitaciones del segundo piso"
    clinic = records.work_orders("300401")
    assert [(o.number, o.kind, o.status, o.opened_on) for o in clinic] == [
        ("OT-2026-0401", "dano", "asignada", date(2026, 11, 25))]
    assert records.work_orders("300104") == []


def test_claims_by_contract_and_period(records):
    attended = records.claims("300601")
    assert [(c.number, c.period, c.status) for c in attended] == [
        ("RC-2026-0601", "2026-08", "atendido")]
    assert "nota de crédito de Bs 45.00" in attended[0].resolution
    assert records.claims("300601", period="2026-09") == []
    assigned = records.claims("300701", period="2026-09")
    assert [(c.number, c.status, c.resolution) for c in assigned] == [
        ("RC-2026-0701", "asignado", "")]


def test_suspensions_latest_first(records):
    assert [(s.starts_on, s.ends_on) for s in records.suspensions("300301")] == [
        (date(2026, 2, 1), date(2026, 5, 31))]
    assert [s.starts_on.year for s in records.suspensions("301001")] == [2026, 2025]
    assert records.suspensions("300101") == []


# --- every lookup uses an index ----------------------------------------------------------------

def _plans(database, call) -> list[str]:
    """Run `call` and EXPLAIN QUERY PLAN every SELECT it sent (SQLite only)."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        with database.sessions() as session:
            call(DatabaseRecords(session))
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
    assert statements
    with database.engine.connect() as conn:
        return [row[3] for statement, parameters in statements
                for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]


def _full_scans(plan: list[str]) -> list[str]:
    # "SCAN t" and "SCAN t USING [COVERING] INDEX i" both read the whole table or index.
    return [step for step in plan if step.startswith("SCAN ") and step != "SCAN CONSTANT ROW"]


LOOKUPS = {
    "client_by_nit": lambda r: r.client_by_nit(IMPORTADORA),
    "client_by_id": lambda r: r.client_by_id(1),
    "client_by_phone": lambda r: r.client_by_phone("+59170000001"),
    "products": lambda r: r.products(1, types=["internet"], active_only=True),
    "product_by_contract_or_number": lambda r: r.product_by_contract_or_number(1, "4412345"),
    "pending_invoices": lambda r: r.pending_invoices(1),
    "work_orders": lambda r: r.work_orders("300501"),
    "claims": lambda r: r.claims("300601", period="2026-08"),
    "suspensions": lambda r: r.suspensions("301001"),
}


@pytest.mark.parametrize("lookup", LOOKUPS.values(), ids=LOOKUPS.keys())
def test_lookups_use_an_index(sqlite_db, lookup):
    load_demo(sqlite_db)
    assert _full_scans(_plans(sqlite_db, lookup)) == []


def test_client_by_email_uses_an_index(sqlite_db):
    load_demo(sqlite_db)
    plan = _plans(sqlite_db, lambda r: r.client_by_email("contabilidad@empresa.bo"))
    assert _full_scans(plan) == []
