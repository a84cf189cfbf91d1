"""Portfolio import: all or nothing, upsert by natural key, Spanish errors naming the cell."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from bot.models import (
    BillingClaim,
    Client,
    Contact,
    Invoice,
    Product,
    Staff,
    Suspension,
    WorkOrder,
)
from bot.portfolio import DEMO_CARTERA_DIR, PortfolioImportError, import_cartera
from bot.portfolio.cli import run_cli

TABLES = (Staff, Client, Contact, Product, Invoice, WorkOrder, BillingClaim, Suspension)

HEADERS = {
    "clientes.csv": "nit,razon_social,tipo,ejecutivo,email,whatsapp",
    "contactos.csv": "nit,nombre,cargo,telefono,email",
    "productos.csv": "contrato,nit,producto,numero,tecnologia,plan,tarifa_mensual,"
                     "fecha_instalacion,permanencia_minima_meses,estado,direccion",
    "facturas.csv": "contrato,periodo,importe,estado,vencimiento",
    "ordenes.csv": "numero,contrato,tipo,estado,fecha,causal",
    "reclamos.csv": "numero,contrato,periodo,estado,resolucion",
    "suspensiones.csv": "contrato,desde,hasta",
}

# A small valid portfolio; in every file the first data row is line 2.
GOOD = {
    "clientes.csv": [
        "1020304021,Importadora El Valle S.R.L.,privada,mrojas,Gerencia@Empresa.bo,+591 70000001",
        "1023456028,Gobierno Autónomo Municipal de Tiquipaya,publica,jquiroga,,",
    ],
    "contactos.csv": [
        "1020304021,María Céspedes,Contadora,70000001,Contabilidad@Empresa.BO",
        "1023456028,Rodrigo Mamani,Jefe de Sistemas,4 4316100,",
    ],
    "productos.csv": [
        '300101,1020304021,telefonia_fija,4412345,cobre,Línea Comercial,65.00,2015-06-10,12,activo,'
        '"Av. Ballivián 456, Zona Central, Cochabamba"',
        "300104,1020304021,internet,,fibra,Fibra Empresa 100 Mbps,120.50,2026-03-16,24,activo,",
        "300201,1023456028,multipack,4316100,fibra,Multipack,890,2019-04-01,,suspendido,Tiquipaya",
    ],
    "facturas.csv": [
        "300101,2026-09,78.40,pendiente,2026-10-20",
        "300104,2026-10,120.50,pagada,2026-11-20",
    ],
    "ordenes.csv": [
        "OT-2026-0401,300104,dano,asignada,2026-11-25,Sin servicio de internet",
        "OT-2026-0402,300201,Daño,cerrada_sin_solucion,2026-11-18,",
    ],
    "reclamos.csv": [
        'RC-2026-0601,300101,2026-08,atendido,"Nota de crédito de Bs 45.00."',
        "RC-2026-0602,300101,2026-09,asignado,",
    ],
    "suspensiones.csv": [
        "300201,2026-02-01,2026-05-31",
    ],
}


def write_portfolio(directory: Path, files: dict[str, list[str]],
                    headers: dict | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    headers = {**HEADERS, **(headers or {})}
    for name, lines in files.items():
        (directory / name).write_text("\n".join([headers[name], *lines]) + "\n", encoding="utf-8")
    return directory


def good(**changes: list[str]) -> dict[str, list[str]]:
    """GOOD with some files replaced (keyword = file name without .csv)."""
    return {**GOOD, **{f"{name}.csv": lines for name, lines in changes.items()}}


def row_counts(db) -> dict[str, int]:
    with db.sessions() as session:
        count = func.count()
        return {m.__tablename__: session.scalar(select(count).select_from(m)) for m in TABLES}


def run_import(db, directory: Path):
    with db.sessions() as session:
        report = import_cartera(session, directory)
        session.commit()
    return report


def rejected(db, directory: Path) -> list:
    with db.sessions() as session, pytest.raises(PortfolioImportError) as caught:
        import_cartera(session, directory)
    return caught.value.errors


def where(errors) -> list[tuple]:
    return [(e.file, e.line, e.field) for e in errors]


# --- good data -------------------------------------------------------------------------------

def test_good_portfolio_is_imported_with_its_values(db, tmp_path):
    report = run_import(db, write_portfolio(tmp_path, GOOD))

    assert {name: c.created for name, c in report.files.items()} == {
        "clientes.csv": 2, "contactos.csv": 2, "productos.csv": 3, "facturas.csv": 2,
        "ordenes.csv": 2, "reclamos.csv": 2, "suspensiones.csv": 1}
    assert report.staff_created == ["jquiroga", "mrojas"]
    with db.sessions() as s:
        client = s.scalar(select(Client).where(Client.nit == "1020304021"))
        assert (client.razon_social, client.tipo, client.email, client.whatsapp) == (
            "Importadora El Valle S.R.L.", "privada", "gerencia@empresa.bo", "+59170000001")
        assert (client.ejecutivo.username, client.ejecutivo.role) == ("mrojas", "ejecutivo")
        gam = s.scalar(select(Client).where(Client.nit == "1023456028"))
        assert (gam.tipo, gam.email, gam.whatsapp) == ("publica", "", "")

        contact = s.scalar(select(Contact).where(Contact.name == "María Céspedes"))
        assert (contact.client_id, contact.role, contact.phone, contact.email) == (
            client.id, "Contadora", "+59170000001", "contabilidad@empresa.bo")
        landline = s.scalar(select(Contact).where(Contact.name == "Rodrigo Mamani"))
        assert (landline.phone, landline.email) == ("+59144316100", "")

        line = s.scalar(select(Product).where(Product.contract == "300101"))
        assert (line.client_id, line.product_type, line.number, line.technology, line.plan) == (
            client.id, "telefonia_fija", "4412345", "cobre", "Línea Comercial")
        assert (line.monthly_fee, line.installed_on, line.min_permanence_months, line.status) == (
            Decimal("65.00"), date(2015, 6, 10), 12, "activo")
        assert line.address == "Av. Ballivián 456, Zona Central, Cochabamba"
        internet = s.scalar(select(Product).where(Product.contract == "300104"))
        assert (internet.number, internet.monthly_fee, internet.address) == (
            "", Decimal("120.50"), "")
        multipack = s.scalar(select(Product).where(Product.contract == "300201"))
        assert (multipack.min_permanence_months, multipack.status) == (0, "suspendido")

        invoice = s.scalar(select(Invoice).where(Invoice.product_id == line.id))
        assert (invoice.period, invoice.amount, invoice.status, invoice.due_on) == (
            "2026-09", Decimal("78.40"), "pendiente", date(2026, 10, 20))
        order = s.scalar(select(WorkOrder).where(WorkOrder.number == "OT-2026-0402"))
        assert (order.product_id, order.kind, order.status, order.opened_on, order.cause) == (
            multipack.id, "dano", "cerrada_sin_solucion", date(2026, 11, 18), "")
        claim = s.scalar(select(BillingClaim).where(BillingClaim.number == "RC-2026-0601"))
        assert (claim.product_id, claim.period, claim.status, claim.resolution) == (
            line.id, "2026-08", "atendido", "Nota de crédito de Bs 45.00.")
        suspension = s.scalar(select(Suspension))
        assert (suspension.product_id, suspension.starts_on, suspension.ends_on) == (
            multipack.id, date(2026, 2, 1), date(2026, 5, 31))


def test_existing_staff_is_reused_not_recreated(db, tmp_path):
    with db.sessions() as s:
        s.add(Staff(username="mrojas", full_name="Marcela Rojas", role="gestor_comercial"))
        s.commit()
    report = run_import(db, write_portfolio(tmp_path, {"clientes.csv": GOOD["clientes.csv"]}))
    assert report.staff_created == ["jquiroga"]
    with db.sessions() as s:
        staff = s.scalar(select(Staff).where(Staff.username == "mrojas"))
        assert (staff.full_name, staff.role) == ("Marcela Rojas", "gestor_comercial")


def test_rows_may_refer_to_clients_and_contracts_already_in_the_database(db, tmp_path):
    run_import(db, write_portfolio(tmp_path / "first", {
        "clientes.csv": GOOD["clientes.csv"], "productos.csv": GOOD["productos.csv"]}))
    report = run_import(db, write_portfolio(tmp_path / "second", {
        "contactos.csv": GOOD["contactos.csv"], "facturas.csv": GOOD["facturas.csv"]}))
    assert report.files["contactos.csv"].created == 2
    assert report.files["facturas.csv"].created == 2


def test_excel_habits_are_accepted(db, tmp_path):
    """BOM, ';' separator, CRLF, capitalised header, blank and empty-cell rows, padded values."""
    content = ("\ufeffNIT;Razon_Social;Tipo;Ejecutivo\r\n"
               " 1020304021 ; Importadora  El Valle S.R.L. ;Privada;mrojas\r\n"
               "\r\n"
               ";;;\r\n")
    tmp_path.joinpath("clientes.csv").write_text(content, encoding="utf-8", newline="")
    report = run_import(db, tmp_path)
    assert report.files["clientes.csv"].created == 1
    with db.sessions() as s:
        client = s.scalar(select(Client))
        assert (client.nit, client.razon_social, client.tipo, client.whatsapp) == (
            "1020304021", "Importadora El Valle S.R.L.", "privada", "")


# --- bad data: named precisely, and nothing written ------------------------------------------

BAD_CASES = {
    "unknown column": (
        {"clientes.csv": HEADERS["clientes.csv"] + ",telefono"},
        good(clientes=[line + ",70000001" for line in GOOD["clientes.csv"]]),
        ("clientes.csv", 1, "telefono"), "columna desconocida 'telefono'"),
    "missing column": (
        {"facturas.csv": "contrato,periodo,estado,vencimiento"},
        good(facturas=["300101,2026-09,pendiente,2026-10-20"]),
        ("facturas.csv", 1, "importe"), "falta la columna obligatoria 'importe'"),
    "bad enum": (
        {}, good(productos=[*GOOD["productos.csv"][:2],
                            GOOD["productos.csv"][2].replace(",fibra,", ",satelital,")]),
        ("productos.csv", 4, "tecnologia"),
        "'satelital' no es un valor válido (use uno de: cobre, fibra, hspa, movil)"),
    "bad date": (
        {}, good(facturas=[GOOD["facturas.csv"][0], "300104,2026-10,120.50,pagada,20/11/2026"]),
        ("facturas.csv", 3, "vencimiento"), "'20/11/2026' no es una fecha válida (use AAAA-MM-DD"),
    "impossible date": (
        {}, good(suspensiones=["300201,2026-02-30,2026-05-31"]),
        ("suspensiones.csv", 2, "desde"), "'2026-02-30' no es una fecha válida"),
    "bad amount": (
        {}, good(productos=[GOOD["productos.csv"][0],
                            GOOD["productos.csv"][1].replace("120.50", '"120,50"'),
                            GOOD["productos.csv"][2]]),
        ("productos.csv", 3, "tarifa_mensual"),
        "'120,50' no es un importe válido (use punto decimal"),
    "bad period": (
        {}, good(reclamos=[GOOD["reclamos.csv"][0], "RC-2026-0602,300101,09/2026,asignado,"]),
        ("reclamos.csv", 3, "periodo"), "'09/2026' no es un periodo válido"),
    "bad phone": (
        {}, good(contactos=[GOOD["contactos.csv"][0], "1023456028,Rodrigo Mamani,Jefe,12345,"]),
        ("contactos.csv", 3, "telefono"), "'12345' no es un número de teléfono válido"),
    "bad whatsapp": (
        {}, good(clientes=[GOOD["clientes.csv"][0].replace("+591 70000001", "7000"),
                           GOOD["clientes.csv"][1]]),
        ("clientes.csv", 2, "whatsapp"), "'7000' no es un número de teléfono válido"),
    "bad email": (
        {}, good(contactos=["1020304021,María Céspedes,Contadora,70000001,contabilidad@empresa",
                            GOOD["contactos.csv"][1]]),
        ("contactos.csv", 2, "email"), "'contabilidad@empresa' no es un correo electrónico válido"),
    "bad nit": (
        {}, good(clientes=[*GOOD["clientes.csv"], "1.02E+09,Nueva S.A.,privada,mrojas,,"]),
        ("clientes.csv", 4, "nit"), "'1.02E+09' no es un NIT válido"),
    "unknown NIT": (
        {}, good(contactos=[GOOD["contactos.csv"][0], "9999999,Ana Pérez,,70000002,"]),
        ("contactos.csv", 3, "nit"),
        "el NIT '9999999' no está en clientes.csv ni en la base de datos"),
    "unknown contract": (
        {}, good(ordenes=[GOOD["ordenes.csv"][0], "OT-2026-0402,999999,dano,asignada,2026-11-18,"]),
        ("ordenes.csv", 3, "contrato"),
        "el contrato '999999' no está en productos.csv ni en la base de datos"),
    "empty required field": (
        {}, good(clientes=[GOOD["clientes.csv"][0], "1023456028,,publica,jquiroga,,"]),
        ("clientes.csv", 3, "razon_social"), "el campo es obligatorio y está vacío"),
    "too long": (
        {}, good(productos=[*GOOD["productos.csv"][:2],
                            GOOD["productos.csv"][2].replace("Multipack", "M" * 81)]),
        ("productos.csv", 4, "plan"), "el valor tiene 81 caracteres; el máximo es 80"),
    "months out of range": (
        {}, good(productos=[*GOOD["productos.csv"][:2],
                            GOOD["productos.csv"][2].replace(",,suspendido", ",-3,suspendido")]),
        ("productos.csv", 4, "permanencia_minima_meses"),
        "'-3' no es un número entero entre 0 y 120"),
    "wrong number of cells": (
        {}, good(facturas=[GOOD["facturas.csv"][0], "300104,2026-10,120.50,pagada"]),
        ("facturas.csv", 3, None), "la fila tiene 4 campos y el encabezado tiene 5"),
    "unquoted comma": (
        {}, good(facturas=[GOOD["facturas.csv"][0], "300104,2026-10,120,50,pagada,2026-11-20"]),
        ("facturas.csv", 3, None), "la fila tiene 6 campos y el encabezado tiene 5 (¿una coma"),
    "duplicate key": (
        {}, good(facturas=[*GOOD["facturas.csv"], "300101,2026-09,80.00,pagada,2026-10-20"]),
        ("facturas.csv", 4, None), "ya aparece en la línea 2"),
    "duplicate contact, other case": (
        {}, good(contactos=[*GOOD["contactos.csv"], "1020304021,MARÍA CÉSPEDES,,,"]),
        ("contactos.csv", 4, None), "ya aparece en la línea 2"),
    "suspension ends before it starts": (
        {}, good(suspensiones=["300201,2026-05-31,2026-02-01"]),
        ("suspensiones.csv", 2, "hasta"), "la fecha 2026-02-01 es anterior al inicio"),
}


@pytest.mark.parametrize("headers, files, location, text", BAD_CASES.values(), ids=BAD_CASES.keys())
def test_a_bad_row_is_named_and_nothing_is_written(db, tmp_path, headers, files, location, text):
    errors = rejected(db, write_portfolio(tmp_path, files, headers))

    assert where(errors) == [location]
    assert text in errors[0].message
    assert all(count == 0 for count in row_counts(db).values())  # not even the other files' rows


def test_message_reads_as_the_operator_expects(db, tmp_path):
    files = good(productos=[*GOOD["productos.csv"][:2],
                            GOOD["productos.csv"][2].replace(",890,", ",doce,")])
    errors = rejected(db, write_portfolio(tmp_path, files))
    assert [str(e) for e in errors] == [
        "productos.csv, línea 4, campo tarifa_mensual: 'doce' no es un importe válido "
        "(use punto decimal, p. ej. 120.50)"]


def test_every_error_of_every_file_is_collected_in_order(db, tmp_path):
    files = good(
        clientes=[GOOD["clientes.csv"][0].replace("privada", "mixta"), GOOD["clientes.csv"][1]],
        productos=[GOOD["productos.csv"][0].replace("65.00", "sesenta"),
                   GOOD["productos.csv"][1].replace("2026-03-16", "2026-13-01"),
                   GOOD["productos.csv"][2]],
        suspensiones=["300999,2026-02-01,2026-05-31"],
    )
    errors = rejected(db, write_portfolio(tmp_path, files))
    assert where(errors) == [
        ("clientes.csv", 2, "tipo"),
        ("productos.csv", 2, "tarifa_mensual"),
        ("productos.csv", 3, "fecha_instalacion"),
        ("suspensiones.csv", 2, "contrato"),
    ]


def test_line_numbers_are_physical_lines_even_after_a_multiline_cell(db, tmp_path):
    files = good(reclamos=[
        'RC-2026-0601,300101,2026-08,atendido,"Primer párrafo.\n\nSegundo párrafo."',
        "",
        "RC-2026-0602,300101,2026-13,asignado,",
    ])
    errors = rejected(db, write_portfolio(tmp_path, files))
    assert where(errors) == [("reclamos.csv", 6, "periodo")]


def test_a_broken_header_does_not_bury_the_operator_in_follow_on_errors(db, tmp_path):
    """Rows pointing at a file with a bad header are not reported as unknown references."""
    files = good(clientes=[line + ",x" for line in GOOD["clientes.csv"]])
    headers = {"clientes.csv": HEADERS["clientes.csv"] + ",zona"}
    errors = rejected(db, write_portfolio(tmp_path, files, headers))
    assert where(errors) == [("clientes.csv", 1, "zona")]


def test_a_rejected_reimport_leaves_the_database_as_it_was(db, tmp_path):
    run_import(db, write_portfolio(tmp_path / "first", GOOD))
    before = row_counts(db)
    files = good(
        clientes=[GOOD["clientes.csv"][0].replace("Importadora", "Distribuidora"),
                  GOOD["clientes.csv"][1], "1099999011,Nueva S.A.,privada,nuevo.ejecutivo,,"],
        facturas=[GOOD["facturas.csv"][0].replace("pendiente", "pagada"),
                  "300104,2026-10,abc,pagada,2026-11-20"],
    )
    errors = rejected(db, write_portfolio(tmp_path / "second", files))

    assert where(errors) == [("facturas.csv", 3, "importe")]
    assert row_counts(db) == before
    with db.sessions() as s:
        assert s.scalar(select(Client.razon_social).where(Client.nit == "1020304021")) == (
            "Importadora El Valle S.R.L.")
        assert s.scalar(select(Invoice.status).where(Invoice.period == "2026-09")) == "pendiente"


@pytest.mark.parametrize("case", ["missing folder", "empty folder", "misnamed file", "empty file",
                                  "not utf-8"])
def test_folder_and_file_problems(db, tmp_path, case):
    folder = tmp_path / "cartera"
    if case != "missing folder":
        folder.mkdir()
    if case == "misnamed file":
        write_portfolio(folder, {"clientes.csv": GOOD["clientes.csv"]})
        (folder / "cliente.csv").write_text(HEADERS["clientes.csv"] + "\n", encoding="utf-8")
    if case == "empty file":
        (folder / "clientes.csv").write_text("", encoding="utf-8")
    if case == "not utf-8":
        content = HEADERS["clientes.csv"] + "\n1020304021,Compañía S.A.,privada,mrojas,,\n"
        (folder / "clientes.csv").write_bytes(content.encode("cp1252"))
    errors = rejected(db, folder)
    expected = {
        "missing folder": [(str(folder), None, None)],
        "empty folder": [(str(folder), None, None)],
        "misnamed file": [("cliente.csv", None, None)],
        "empty file": [("clientes.csv", 1, None)],
        "not utf-8": [("clientes.csv", 2, None)],
    }[case]
    assert where(errors) == expected
    assert all(count == 0 for count in row_counts(db).values())


# --- re-import: update, never duplicate -------------------------------------------------------

def test_reimport_updates_changed_values_and_creates_no_duplicates(db, tmp_path):
    run_import(db, write_portfolio(tmp_path / "first", GOOD))
    before = row_counts(db)
    changed = good(
        clientes=[GOOD["clientes.csv"][0].replace("mrojas", "lvargas"), GOOD["clientes.csv"][1]],
        contactos=["1020304021,MARÍA CÉSPEDES,Contadora General,70000001,contabilidad@empresa.bo",
                   GOOD["contactos.csv"][1]],
        productos=[GOOD["productos.csv"][0], GOOD["productos.csv"][1].replace("120.50", "150.00"),
                   GOOD["productos.csv"][2]],
        facturas=[GOOD["facturas.csv"][0].replace("pendiente", "pagada"), GOOD["facturas.csv"][1]],
        ordenes=[GOOD["ordenes.csv"][0].replace("asignada", "cerrada_solucionada"),
                 GOOD["ordenes.csv"][1]],
        reclamos=[GOOD["reclamos.csv"][0], "RC-2026-0602,300101,2026-09,atendido,Procede."],
        suspensiones=["300201,2026-02-01,2026-04-30"],
    )
    report = run_import(db, write_portfolio(tmp_path / "second", changed))

    assert {n: (c.created, c.updated, c.unchanged) for n, c in report.files.items()} == {
        "clientes.csv": (0, 1, 1), "contactos.csv": (0, 1, 1), "productos.csv": (0, 1, 2),
        "facturas.csv": (0, 1, 1), "ordenes.csv": (0, 1, 1), "reclamos.csv": (0, 1, 1),
        "suspensiones.csv": (0, 1, 0)}
    assert report.staff_created == ["lvargas"]
    after = row_counts(db)
    assert after == {**before, "staff": before["staff"] + 1}
    with db.sessions() as s:
        client = s.scalar(select(Client).where(Client.nit == "1020304021"))
        assert client.ejecutivo.username == "lvargas"
        contact = s.scalar(select(Contact).where(Contact.client_id == client.id))
        assert (contact.name, contact.role) == ("MARÍA CÉSPEDES", "Contadora General")
        fee = s.scalar(select(Product.monthly_fee).where(Product.contract == "300104"))
        assert fee == Decimal("150")
        assert s.scalar(select(Invoice.status).where(Invoice.period == "2026-09")) == "pagada"
        assert s.scalar(select(WorkOrder.status).where(WorkOrder.number == "OT-2026-0401")) == (
            "cerrada_solucionada")
        claim = s.scalar(select(BillingClaim).where(BillingClaim.number == "RC-2026-0602"))
        assert (claim.status, claim.resolution) == ("atendido", "Procede.")
        assert s.scalar(select(Suspension.ends_on)) == date(2026, 4, 30)


def test_a_column_left_out_keeps_the_existing_values(db, tmp_path):
    run_import(db, write_portfolio(tmp_path / "first", GOOD))
    header = {"clientes.csv": "nit,razon_social,tipo,ejecutivo"}
    rows = ["1020304021,Importadora El Valle S.A.,privada,mrojas",
            "1099999011,Nueva Empresa S.R.L.,privada,mrojas"]
    report = run_import(db, write_portfolio(tmp_path / "second", {"clientes.csv": rows}, header))

    assert (report.files["clientes.csv"].created, report.files["clientes.csv"].updated) == (1, 1)
    with db.sessions() as s:
        kept = s.scalar(select(Client).where(Client.nit == "1020304021"))
        assert (kept.razon_social, kept.email, kept.whatsapp) == (
            "Importadora El Valle S.A.", "gerencia@empresa.bo", "+59170000001")
        new = s.scalar(select(Client).where(Client.nit == "1099999011"))
        assert (new.email, new.whatsapp) == ("", "")


def test_an_empty_optional_cell_clears_the_value(db, tmp_path):
    run_import(db, write_portfolio(tmp_path / "first", GOOD))
    rows = ["1020304021,Importadora El Valle S.R.L.,privada,mrojas,gerencia@empresa.bo,"]
    run_import(db, write_portfolio(tmp_path / "second", {"clientes.csv": rows}))
    with db.sessions() as s:
        assert s.scalar(select(Client.whatsapp).where(Client.nit == "1020304021")) == ""


def test_a_contract_can_move_to_another_client(db, tmp_path):
    run_import(db, write_portfolio(tmp_path / "first", GOOD))
    moved = [GOOD["productos.csv"][0].replace(",1020304021,", ",1023456028,")]
    run_import(db, write_portfolio(tmp_path / "second", {"productos.csv": moved}))
    with db.sessions() as s:
        owner = s.scalar(select(Client.nit).join(Product).where(Product.contract == "300101"))
        assert owner == "1023456028"


# --- the demo portfolio -----------------------------------------------------------------------

def test_demo_portfolio_imports_cleanly_and_reimports_idempotently(db):
    first = run_import(db, DEMO_CARTERA_DIR)
    counts = row_counts(db)
    second = run_import(db, DEMO_CARTERA_DIR)

    assert set(first.files) == set(HEADERS)
    assert first.total().created == sum(counts.values()) - counts["staff"]
    assert first.staff_created == ["jquiroga", "lvargas", "mrojas"]
    assert counts["clients"] >= 14
    assert second.total().created == second.total().updated == 0
    assert second.total().unchanged == first.total().created
    assert row_counts(db) == counts


# --- size: a handful of statements, whatever the number of rows ------------------------------

def test_ten_thousand_rows_take_a_constant_number_of_statements(db, tmp_path):
    clients = [f"{1_000_000 + i},Empresa {i} S.R.L.,privada,ejec{i % 7},,{70_000_000 + i}"
               for i in range(2_000)]
    products = [f"{400_000 + i},{1_000_000 + i // 2},telefonia_fija,{4_400_000 + i},cobre,,65.00,"
                f"2020-01-01,0,activo," for i in range(4_000)]
    invoices = [f"{400_000 + i},2026-10,65.00,pendiente,2026-11-20" for i in range(4_000)]
    folder = write_portfolio(tmp_path, {"clientes.csv": clients, "productos.csv": products,
                                        "facturas.csv": invoices})
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        report = run_import(db, folder)
        again = run_import(db, folder)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)

    assert report.total().created == 10_000
    assert again.total().unchanged == 10_000
    # insertmanyvalues sends one statement per batch of rows; everything else is per table.
    assert len(statements) < 60, len(statements)


# --- command line ---------------------------------------------------------------------------

def test_cli_prints_a_summary_and_exits_0(db, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    code = run_cli(write_portfolio(tmp_path, GOOD), db.url, out, err)

    assert code == 0, err.getvalue()
    assert "clientes.csv: 2 creados, 0 actualizados, 0 sin cambios" in out.getvalue()
    assert "ejecutivos nuevos: jquiroga, mrojas" in out.getvalue()
    assert err.getvalue() == ""
    assert row_counts(db)["clients"] == 2  # committed by run_cli's own transaction


def test_cli_prints_each_error_on_its_own_line_and_exits_1(db, tmp_path):
    files = good(contactos=[GOOD["contactos.csv"][0], "1023456028,Rodrigo Mamani,Jefe,12345,x@"],
                 facturas=[GOOD["facturas.csv"][0], "300104,2026-10,doce,pagada,2026-11-20"])
    out, err = io.StringIO(), io.StringIO()
    code = run_cli(write_portfolio(tmp_path, files), db.url, out, err)

    lines = err.getvalue().splitlines()
    assert code == 1
    assert out.getvalue() == ""
    assert lines[0].startswith("No se importó nada: 3 error(es)")
    assert lines[1:] == [
        "contactos.csv, línea 3, campo telefono: '12345' no es un número de teléfono válido "
        "(p. ej. 70000001, +591 70000001 o 4 4412345 con código de área)",
        "contactos.csv, línea 3, campo email: 'x@' no es un correo electrónico válido",
        "facturas.csv, línea 3, campo importe: 'doce' no es un importe válido "
        "(use punto decimal, p. ej. 120.50)",
    ]
    assert all(count == 0 for count in row_counts(db).values())


def test_cli_on_a_missing_folder_exits_1(db, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(tmp_path / "nada", db.url, out, err) == 1
    assert "no existe" in err.getvalue()


def test_demo_csv_files_are_well_formed():
    """Every demo row has as many cells as its header (csv quoting of addresses included)."""
    for path in DEMO_CARTERA_DIR.glob("*.csv"):
        rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
        assert rows[0] == HEADERS[path.name].split(","), path.name
        assert all(len(row) == len(rows[0]) for row in rows), path.name
