"""Rule decisions are logged as a code plus facts; staff read a Spanish reason rendered from
templates/backoffice/_decisions.html. Every code the dialogs use has one, and it renders from
exactly the facts its call site stores (StrictUndefined: a missing fact fails)."""
from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backoffice.web import local
from bot.models import CaseEvent
from bot.texts import environment
from bot.rules import role_names
from tests.dialogs.reasons import decisions_module, reason

DIALOGS = Path(__file__).resolve().parents[2] / "dialogs"
IMPORTADORA = "+59170000001"  # privada; five pending invoices; line 4412345 is Comteco

# The facts of every rule code: the union of the keys its call sites pass.
FACTS = {
    "product_auto": {"contract": "300302"},
    "product_by_type": {"contracts": ["300301"], "contract": "300301"},
    "no_products": {"action": "suspension"},
    "requirements_complete": {"codes": ["carta_solicitud"], "next_role": "gestor_comercial"},
    "requirements_missing": {"codes": ["carta_solicitud"], "received": 0, "role_when_complete": "gestor_comercial"},
    "supplementary_tariff": {"service": "identificador", "service_name": "Identificador de llamadas",
                             "action": "enable", "lines": ["4412345", "4412346"], "amount": "10.00"},
    "no_other_plan": {"contract": "300101", "product_type": "hspa", "technology": "movil"},
    "plan_higher": {"contract": "300101", "plan": "FIBRA-100", "current_fee": "150.00", "new_fee": "200.00",
                    "difference": "50.00"},
    "plan_lower": {"contract": "300101", "plan": "FIBRA-20", "current_fee": "1250.00", "new_fee": "200.00",
                   "difference": "1050.00"},
    "products_named": {"contracts": ["300101", "300102"]},
    "city_default": {"city": "Cochabamba"},
    "relocation_tariff": {"contracts": ["300101"], "amount": "100.00", "new_installation": "250.00"},
    "technical_feasibility": {"next_roles": ["gestor_tecnico", "ejecutivo"]},
    "accounts_not_up_to_date": {"invoices": [{"contract": "300101", "period": "2026-10", "amount": "78.40",
                                              "due_on": "2026-10-20"}] * 2,
                                "invoices_total": "156.80", "client_type": "privada"},
    "once_per_year": {"contract": "300301", "year": 2026,
                      "previous": [{"starts_on": "2026-02-01", "ends_on": "2026-05-31"}]},
    "max_months": {"max_months": 4, "requested_end": "2027-05-31", "max_end": "2027-03-31", "accepted": True},
    "accounts_up_to_date": {},
    "first_suspension_of_year": {"contract": "300302", "year": 2026},
    "within_max_months": {"max_months": 4, "starts_on": "2026-12-01", "ends_on": "2027-02-28"},
    "reconnection": {"contract": "301001", "technology": "cobre", "reconnect_on": "2026-11-28",
                     "services": {"telefonia": 24}},
    "pending_invoices_to_collect": {"invoices": [{"contract": "301001", "period": "2026-10", "amount": "560.00",
                                                  "due_on": "2026-10-20"}], "invoices_total": "560.00"},
    "open_order_exists": {"work_order": "OT-2026-0101", "status": "asignada"},
    "closed_without_solution": {"previous_order": "OT-2026-0099", "cause": "cable_cortado"},
    "internet_to_analista": {"diagnosis": {"lights": "rojo"}},
    "line_tv_to_gestor_tecnico": {"component": "telefonia"},
    "address_differs": {"address": "Calle Jordán 123"},
    "urgent_follow_up": {"claim": "RC-1", "period": "2026-10", "unit": "UTAR"},
    "claim_resolution_accepted": {"claim": "RC-1", "client_words": "sí, conforme"},
    "escalate_utar": {"claim": "RC-1", "client_words": "<b>no</b> estoy conforme", "unit": "UTAR"},
    "derive_utar": {"period": "2026-10", "claim_reason": "monto_elevado", "unit": "UTAR",
                    "procedure": "GC-PRC-COM-UTA-01"},
    "boliviatel_free": {"line": "4412399"},
    "previous_months_cost": {"line": "4412345", "months": ["2026-08", "2026-09"], "per_month": "12.00"},
    "current_month_free": {"line": "4412345"},
    "history": {"contract": "300801", "work_orders": ["OT-1", "OT-2"], "claims": []},
    "inside_permanence": {"contract": "300801", "ends_on": "2027-05-15", "monthly_fee": "290.00",
                          "amount": "1740.00", "months": 6},
    "permanence_fulfilled": {"contract": "300801", "ends_on": "2025-01-10"},
    "penalty_refused": {"amount": "4350.00"},
    "penalty_accepted": {"amount": "4350.00"},
    "retention_accepted": {"offer": "DESC-20-6M", "offered": ["DESC-20-6M", "PLAN-MENOR"], "quality_first": False},
    "retention_declined": {"offered": ["DESC-20-6M", "PLAN-MENOR"]},
    "no_retention_offer": {"reason_code": "cierre"},
    "final_bill": {"contract": "300801", "method": "prorated", "amount": "270.67"},
    "in_person_requirement": {"code": "devolucion_equipos"},
    "proforma_requested": {"contracts": ["300101"]},
    "data_update": {"fields": ["email", "telefono"]},
    "excess_cable_refused": {},
    "copper_product": {"contract": "300101"},
    "excess_cable_accepted": {"per_meter": "5.00", "included_meters": 150, "next_role": "gestor_comercial"},
    "open_damage_order": {"work_orders": ["OT-9"]},
    "speed_from_plan": {"plan": "INTERNET-50", "speed_mbps": 50},
    "remote_diagnosis_first": {"problem": "lento", "devices": 5, "speed_mbps": 50,
                               "preferred_dates": ["2026-12-01"]},
}


def decide_calls() -> list[tuple[str, list[str], ast.Call]]:
    """Every `<dialog>.decide(turn, "code", **facts)` in dialogs/*.py: (where, codes, call)."""
    found = []
    for path in sorted(DIALOGS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "decide":
                rule = node.args[1]
                # `"plan_higher" if higher else "plan_lower"` logs one of two codes.
                options = [rule.body, rule.orelse] if isinstance(rule, ast.IfExp) else [rule]
                assert all(isinstance(o, ast.Constant) for o in options), f"{path.name}:{node.lineno}"
                found.append((f"{path.name}:{node.lineno}", [o.value for o in options], node))
    return found


CALLS = decide_calls()


def test_the_call_sites_are_found():
    # 52 call sites in dialogs/ when written; fewer would mean the scan misses some.
    assert len(CALLS) >= 50
    assert {"product_auto", "accounts_not_up_to_date", "plan_lower", "remote_diagnosis_first"} <= {
        code for _, codes, _ in CALLS for code in codes}


def test_every_code_used_has_a_reason_and_no_stale_facts_are_kept_here():
    used = {code for _, codes, _ in CALLS for code in codes}
    module = decisions_module()
    assert sorted(code for code in used if not hasattr(module, code)) == []
    assert set(FACTS) == used


@pytest.mark.parametrize("where,codes,call", CALLS, ids=[c[0] for c in CALLS])
def test_each_call_site_stores_only_facts_and_its_reason_renders_from_them(where, codes, call):
    assert len(call.args) == 2, "the reason is a template, not a string argument"
    keys = [k.arg for k in call.keywords]
    assert None not in keys, "facts are named, so the template can be checked against them"
    assert "reason" not in keys, "a `reason` fact would be shown as an old event's written reason"
    for code in codes:
        assert set(keys) <= set(FACTS[code]), code
        facts = {"rule": code, **{k: FACTS[code][k] for k in keys}}
        assert reason(facts).strip()


@pytest.mark.parametrize("facts,expected", [
    ({"rule": "plan_higher", **FACTS["plan_higher"]},
     "Plan FIBRA-100 de mayor costo mensual: Bs 150,00 → Bs 200,00 (+Bs 50,00)."),
    ({"rule": "plan_lower", **FACTS["plan_lower"]},
     "Plan FIBRA-20 de menor costo mensual: Bs 1.250,00 → Bs 200,00 (−Bs 1.050,00)."),
    ({"rule": "max_months", **FACTS["max_months"]},
     "Pidió suspender hasta el 31 de mayo de 2027, más de 4 meses; aceptó suspender por el máximo "
     "(hasta el 31 de marzo de 2027)."),
    ({"rule": "max_months", **FACTS["max_months"], "accepted": False},
     "Pidió suspender hasta el 31 de mayo de 2027, más de 4 meses; rechazó el máximo ofrecido "
     "(hasta el 31 de marzo de 2027)."),
    ({"rule": "accounts_not_up_to_date", **FACTS["accounts_not_up_to_date"]},
     "2 factura(s) pendiente(s) por Bs 156,80: cuentas no al día, no procede la suspensión."),
    ({"rule": "inside_permanence", **FACTS["inside_permanence"]},
     "Contrato 300801 con permanencia mínima hasta el 15 de mayo de 2027: penalidad de 6 mes(es) × Bs 290,00 "
     "= Bs 1.740,00."),
    ({"rule": "technical_feasibility", **FACTS["technical_feasibility"]},
     "Factibilidad técnica a verificar por el Gestor(a) Comercial (C.2); luego Gestor(a) Técnico Empresas y "
     "Ejecutivo(a) Equipo Empresas."),
    ({"rule": "requirements_complete", **FACTS["requirements_complete"]},
     "Requisitos presentados con la solicitud: deriva a Gestor(a) Comercial Empresas."),
    ({"rule": "final_bill", **FACTS["final_bill"]},
     "Última factura del contrato 300801: Bs 270,67, prorrateada a la fecha."),
    ({"rule": "supplementary_tariff", **FACTS["supplementary_tariff"], "action": "disable"},
     "Deshabilitar Identificador de llamadas: Bs 10,00 por línea (4412345, 4412346), a la factura recurrente."),
    ({"rule": "no_products"}, "El cliente no tiene productos para este trámite."),
    ({"rule": "no_products", "action": "reconexion"}, "El cliente no tiene productos para este trámite (reconexión)."),
    ({"rule": "escalate_utar", **FACTS["escalate_utar"]},
     "Cliente no conforme con la resolución del reclamo RC-1: gestión de la inconformidad con UTAR (correo con "
     "copia a Encargado(a) Equipo Empresas y Jefe Div.)."),
    # What the client wrote is escaped: the reason lands in an HTML page.
    ({"rule": "address_differs", "address": "<b>Calle</b> Jordán 123"},
     "El cliente indicó otra dirección que la de cartera: &lt;b&gt;Calle&lt;/b&gt; Jordán 123."),
])
def test_reason_texts(facts, expected):
    assert reason(facts) == expected


def render_events(events: list[CaseEvent]) -> str:
    """The case page's event log (templates/backoffice/_events.html) with the page's helpers."""
    return environment().get_template("backoffice/_events.html").render(
        events=events, local=local, role_names=role_names())


def test_refused_suspension_shows_its_reason_on_the_event_log(chat):
    client = chat(IMPORTADORA)
    client.say("quiero suspender temporalmente el internet por vacaciones")
    case = client.last_case()
    stored = next(e for e in client.events(case) if e.detail.get("rule") == "accounts_not_up_to_date")
    # The stored event keeps the code and facts only; the text is rendered when shown.
    assert "reason" not in stored.detail
    assert stored.detail["invoices_total"] == "1174.60"
    page = render_events(client.events(case))
    # 300101: 78.40 + 65.00; 300102: 71.20; 300104: 480.00 x 2 -> five invoices, Bs 1.174,60
    assert "5 factura(s) pendiente(s) por Bs 1.174,60: cuentas no al día, no procede la suspensión." in page
    assert "invoices_total" not in page  # not the raw facts


def test_call_detail_case_shows_the_cost_rule_on_the_event_log(chat):
    client = chat(IMPORTADORA)
    client.say("quiero el detalle de llamadas de agosto y septiembre de la línea 4412345")
    page = render_events(client.events(client.last_case()))
    # Two previous months at the tariff's Bs 12,00 per month and line.
    assert "2 mes(es) anterior(es) × Bs 12,00 en la línea Comteco 4412345; requiere carta." in page


def test_events_logged_with_a_written_reason_still_show_it_and_unknown_codes_show_their_facts():
    at = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
    legacy = CaseEvent(case_id=1, at=at, actor="bot", kind="rule",
                       detail={"rule": "plan_higher", "reason": "plan de mayor costo mensual: Bs 150.00 -> Bs 200.00",
                               "contract": "300101"})
    unknown = CaseEvent(case_id=1, at=at, actor="bot", kind="rule", detail={"rule": "retired_rule", "contract": "9"})
    page = render_events([legacy, unknown])
    assert "plan de mayor costo mensual: Bs 150.00 -&gt; Bs 200.00" in page
    assert "Bs 150,00" not in page  # not re-rendered from the facts
    assert "rule: retired_rule; contract: 9" in page
