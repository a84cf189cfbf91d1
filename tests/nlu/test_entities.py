"""Entity extraction, with `today` fixed so relative months and dates are known."""
from __future__ import annotations

from datetime import date

import pytest

from bot.nlu import analyze

TODAY = date(2026, 11, 28)


def entities(text: str) -> dict:
    return analyze(text, TODAY).entities


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Month names resolve to their latest occurrence up to November 2026.
        ("necesito el detalle de llamadas de agosto y septiembre", ["2026-08", "2026-09"]),
        ("agosto, septiembre y octubre", ["2026-08", "2026-09", "2026-10"]),
        ("la factura de diciembre", ["2025-12"]),
        ("agosto de 2025", ["2025-08"]),
        ("septiembre 2026", ["2026-09"]),
        ("noviembre, diciembre y enero de 2026", ["2025-11", "2025-12", "2026-01"]),
        ("el mes pasado", ["2026-10"]),
        ("del mes anterior", ["2026-10"]),
        ("este mes", ["2026-11"]),
        ("el mes actual", ["2026-11"]),
        # The N months before the current one, which has no closed bill yet.
        ("los últimos 3 meses", ["2026-08", "2026-09", "2026-10"]),
        ("los ultimos dos meses", ["2026-09", "2026-10"]),
        ("de agosto a octubre", ["2026-08", "2026-09", "2026-10"]),
        ("desde octubre hasta enero", ["2025-10", "2025-11", "2025-12", "2026-01"]),
        ("los meses de julio a octubre de 2026", ["2026-07", "2026-08", "2026-09", "2026-10"]),
        ("08/2026", ["2026-08"]),
        ("del 01/2026 al 03/2026", ["2026-01", "2026-02", "2026-03"]),
    ],
)
def test_months(text, expected):
    assert entities(text)["months"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("del 1 de diciembre al 31 de enero", {"start": "2026-12-01", "end": "2027-01-31"}),
        (
            "desde el 15 de diciembre hasta el 15 de marzo",
            {"start": "2026-12-15", "end": "2027-03-15"},
        ),
        (
            "a partir del 1 de diciembre por 3 meses",
            {"start": "2026-12-01", "end": "2027-02-28"},
        ),
        ("del 01/12/2026 al 31/01/2027", {"start": "2026-12-01", "end": "2027-01-31"}),
        ("del 1ro de diciembre al 15 de diciembre", {"start": "2026-12-01", "end": "2026-12-15"}),
        ("a partir del 1 de diciembre", {"start": "2026-12-01"}),
    ],
)
def test_date_range(text, expected):
    assert entities(text)["date_range"] == expected


def test_day_dates_are_not_month_mentions():
    found = entities("suspender del 1 de diciembre al 31 de enero")
    assert "months" not in found


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("por 3 meses", 3),
        ("durante dos meses", 2),
        ("por 90 días", 3),
        ("por un mes", 1),
        ("kiero suspender x 2 meses", 2),
        ("necesito congelar el servicio unos dos meses", 2),
        ("por medio año", 6),
    ],
)
def test_duration_months(text, months):
    assert entities(text)["duration_months"] == months


@pytest.mark.parametrize(
    "text", ["hace 3 días que no tengo internet", "los últimos 3 meses", "por medio de la presente"]
)
def test_no_duration(text):
    assert "duration_months" not in entities(text)


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("+591 71234567", ["71234567"]),
        ("591 71234567", ["71234567"]),
        ("59171234567", ["71234567"]),
        ("71234567", ["71234567"]),
        ("4412345", ["4412345"]),
        ("+591 4412345", ["4412345"]),
        ("+591 4 4412345", ["4412345"]),
        ("4-412345", ["4412345"]),
        ("44 12 345", ["4412345"]),
        ("mi línea es la 4412345 y mi celular 71234567", ["4412345", "71234567"]),
        ("llamar al 4412345 71234567", ["4412345", "71234567"]),
        ("las líneas 4412345, 4412346 y 4412345", ["4412345", "4412346"]),
        # After a keyword any 7 digits are a line, not only the departments' 2/3/4.
        ("la linea 5123456 no tiene tono", ["5123456"]),
    ],
)
def test_lines(text, lines):
    assert entities(text)["lines"] == lines


@pytest.mark.parametrize(
    "text",
    [
        "carnet 1234567",  # a bare 7-digit number outside the 2-4 ranges
        "80012345",  # 8 digits that are not a Bolivian mobile
        "somos 20 personas con 300 megas",
    ],
)
def test_not_lines(text):
    assert "lines" not in entities(text)


@pytest.mark.parametrize(
    ("text", "nit"),
    [
        ("NIT 1023456029", "1023456029"),
        ("NIT: 7123456", "7123456"),
        ("el NIT de la empresa es 102345602", "102345602"),
        ("nit nro. 1023456029013", "1023456029013"),
        ("1023456029", "1023456029"),
    ],
)
def test_nit(text, nit):
    assert entities(text)["nit"] == nit


def test_keyword_of_another_entity_breaks_the_link():
    found = entities("NIT y la linea 4412345")
    assert "nit" not in found
    assert found["lines"] == ["4412345"]


@pytest.mark.parametrize(
    ("text", "contracts"),
    [
        ("contrato 300145", ["300145"]),
        ("cto 300145 y 300146", ["300145", "300146"]),
        ("Nro. de contrato: 300145", ["300145"]),
        ("contrato N° 300145", ["300145"]),
        ("contratos 300145, 300146 y 300147", ["300145", "300146", "300147"]),
        ("300145", ["300145"]),
        ("el contrato 30014 es el antiguo", ["30014"]),
    ],
)
def test_contracts(text, contracts):
    assert entities(text)["contracts"] == contracts


def test_emails_are_lower_cased():
    assert entities("Mi correo es Juan.Perez@Gmail.com, copia a ventas@empresa.com.bo")[
        "emails"
    ] == ["juan.perez@gmail.com", "ventas@empresa.com.bo"]


@pytest.mark.parametrize(
    ("text", "amounts"),
    [
        ("Bs 36", ["36.00"]),
        ("36,50 bs", ["36.50"]),
        ("Bs. 1.250,00", ["1250.00"]),
        ("Bs. 1.250,50", ["1250.50"]),
        ("Bs 12.-", ["12.00"]),
        ("un cobro de 45 Bs y otro de Bs 1,250.50", ["45.00", "1250.50"]),
        ("250 bolivianos", ["250.00"]),
    ],
)
def test_amounts(text, amounts):
    assert entities(text)["amounts"] == amounts


@pytest.mark.parametrize(
    ("text", "choice"),
    [("3", 3), ("12", 12), ("opción 3", 3), ("Opcion 10", 10), ("la tres", 3), (" 7 ", 7)],
)
def test_menu_choice(text, choice):
    assert entities(text) == {"menu_choice": choice}


@pytest.mark.parametrize("text", ["0", "13", "opcion 30", "3 lineas", "quiero la opcion de fibra"])
def test_not_menu_choice(text):
    assert "menu_choice" not in entities(text)


def test_empty_entities_are_omitted():
    assert entities("hola buenos días") == {}


def test_formal_letter():
    letter = (
        "Señores COMTECO R.L.\nPresente.-\nRef.: Detalle de llamadas\n"
        "Por medio de la presente, Importadora Andina S.R.L. con NIT 1023456029 solicita "
        "el detalle de llamadas salientes de las líneas 4412345 y 4412346 (contrato 300145) "
        "de los meses de agosto y septiembre de 2026. Favor enviar a "
        "contabilidad@andina.com.bo. El costo de Bs 12.- por mes será cancelado.\n"
        "Lic. María Rojas\nCel. 71234567"
    )
    result = analyze(letter, TODAY)
    assert result.tramite == "G"
    assert result.entities == {
        "nit": "1023456029",
        "contracts": ["300145"],
        "lines": ["4412345", "4412346", "71234567"],
        "months": ["2026-08", "2026-09"],
        "emails": ["contabilidad@andina.com.bo"],
        "amounts": ["12.00"],
    }


def test_suspension_request():
    result = analyze(
        "Solicitamos la suspensión temporal del contrato 300145 a partir del 1 de diciembre "
        "por 3 meses",
        TODAY,
    )
    assert result.tramite == "D"
    assert result.entities == {
        "contracts": ["300145"],
        "duration_months": 3,
        "date_range": {"start": "2026-12-01", "end": "2027-02-28"},
    }
