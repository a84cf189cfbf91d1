"""B) Cambio de plan, every branch, through the console channel.

Catalogue (dialogs/rules/plans.yaml), internet on fibra: FIBRA-50 Bs 290, FIBRA-100 Bs 390,
FIBRA-200 Bs 590, FIBRA-500 Bs 990; on cobre: COBRE-10 Bs 220, COBRE-20 Bs 280; duo pack:
DUO-50 Bs 340, DUO-100 Bs 440. The difference is against what the product costs today.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from bot.models import Client, Product, Staff

IMPORTADORA = "+59170000001"  # internet 300104 fibra Bs 480; three fixed lines
CLINICA = "+59170111004"  # internet 300401 fibra Bs 750; line 300402
PANIFICADORA = "+59170998008"  # internet 300801 "Fibra Empresa 50 Mbps" Bs 290; line 300802
LOS_ANDES = "+59177001011"  # internet 301101 fibra Bs 990; tv 301102; line 301103
CONSTRUCTORA = "+59172233003"  # internet 300301 cobre "ADSL Empresa 20 Mbps" Bs 250; line 300302
FARMACIAS = "+59176543006"  # only a duo_pack 300601 Bs 390


def rules(client, case) -> list[str]:
    return [e.detail["rule"] for e in client.events(case) if e.kind == "rule"]


def test_everything_at_once_needs_no_question(chat):
    client = chat(IMPORTADORA)
    reply = client.say("quiero cambiar el plan de internet a fibra 200")
    assert "Fibra Empresa 100 Mbps, Bs 480,00 por mes" in reply
    assert "Empresarial Fibra 200 Mbps, Bs 590,00 por mes" in reply
    assert "mayor costo mensual: Bs 110,00 más por mes" in reply  # 590 - 480
    assert "Este trámite no tiene costo" in reply
    assert "Carta de solicitud" in reply and "Ejecutivo(a) Equipo Empresas" in reply
    case = client.last_case()
    assert case.number in reply
    assert case.tramite == "B" and case.status == "pendiente_requisitos"
    assert case.current_role == "ejecutivo"
    with client.runtime.sessions() as session:
        mrojas = session.scalar(select(Staff.id).where(Staff.username == "mrojas"))
    assert case.assignee_id == mrojas
    assert case.data["contract"] == "300104" and case.data["new_plan"] == "FIBRA-200"
    assert case.data["difference"] == "110.00" and case.data["direction"] == "mayor"
    assert case.data["role_when_complete"] == "gestor_comercial"
    assert case.quoted_costs == []
    assert {"product_by_type", "plan_higher", "requirements_missing"} <= set(rules(client, case))


def test_lower_cost_plan(chat):
    client = chat(IMPORTADORA)
    reply = client.say("queremos bajar el plan de internet a 50 megas")
    assert "menor costo mensual: Bs 190,00 menos por mes" in reply  # 480 - 290
    case = client.last_case()
    assert case.data["new_plan"] == "FIBRA-50" and case.data["difference"] == "-190.00"
    assert "plan_lower" in rules(client, case)


def test_turn_by_turn_with_numbered_options(chat):
    client = chat(IMPORTADORA)
    client.say("Hola")
    products = client.say("2")
    assert "4. Internet (contrato 300104" in products
    plans = client.say("4")
    assert "Fibra Empresa 100 Mbps" in plans and "Bs 480,00" in plans
    assert "1. Empresarial Fibra 50 Mbps: Bs 290,00 por mes" in plans
    assert "4. Empresarial Fibra 500 Mbps: Bs 990,00 por mes" in plans
    assert "Cobre" not in plans  # plans of another technology are not offered
    reply = client.say("4")
    assert "Bs 510,00 más por mes" in reply  # 990 - 480


def test_plan_named_before_the_product_is_kept(chat):
    client = chat(IMPORTADORA)
    products = client.say("quiero cambiar mi plan a fibra 200")
    assert "¿Sobre qué producto" in products
    reply = client.say("4")
    assert "Empresarial Fibra 200 Mbps" in reply and "Bs 110,00 más por mes" in reply


def test_plan_code_is_accepted(chat):
    client = chat(CLINICA)
    plans = client.say("cambio de plan del internet")
    assert "Fibra Empresa 200 Mbps" in plans
    reply = client.say("FIBRA-500")
    assert "Bs 240,00 más por mes" in reply  # 990 - 750


def test_the_current_plan_is_refused_with_a_hint(chat):
    client = chat(PANIFICADORA)
    refused = client.say("cambiar el plan de internet a fibra 50")
    assert "Empresarial Fibra 50 Mbps es su plan actual" in refused
    assert "(su plan actual)" in refused
    assert client.cases() == []
    reply = client.say("mejor el de 200 megas")
    assert "Bs 300,00 más por mes" in reply  # 590 - 290


def test_a_plan_with_the_same_fee_is_refused_with_a_hint(chat):
    client = chat(LOS_ANDES)
    refused = client.say("cambiar el plan de internet a fibra 500")
    assert "misma tarifa mensual que su plan actual (Bs 990,00)" in refused
    assert "elija un plan de tarifa diferente" in refused
    assert client.cases() == []


def test_a_plan_of_another_technology_points_to_the_migration(chat):
    client = chat(CONSTRUCTORA)
    refused = client.say("quiero cambiar el plan de internet a fibra 100")
    assert "su servicio actual es de cobre" in refused and "migración a fibra" in refused
    assert "1. Empresarial Cobre 10 Mbps: Bs 220,00 por mes" in refused
    assert client.cases() == []
    reply = client.say("cobre 10")
    assert "Bs 30,00 menos por mes" in reply  # 250 - 220


def test_only_product_is_chosen_and_pack_plans_are_listed(chat):
    client = chat(FARMACIAS)
    plans = client.say("cambio de plan")
    assert "Duo Pack 4223344" in plans and "Bs 390,00" in plans
    assert "2. Duo Pack Empresarial 100 Mbps + línea: Bs 440,00 por mes" in plans
    reply = client.say("el duo de 100")
    assert "Bs 50,00 más por mes" in reply  # 440 - 390
    assert "product_auto" in rules(client, client.last_case())


def test_letter_attached_goes_to_gestor_comercial_and_a_later_one_moves_the_case(chat, pdf):
    client = chat(IMPORTADORA)
    reply = client.say(f"/adjuntar {pdf} quiero cambiar el plan de internet a fibra 200")
    assert "Gestor(a) Comercial Empresas" in reply and "Requisitos pendientes" not in reply
    case = client.last_case()
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"

    client.say("quiero cambiar el plan de internet a fibra 500")
    waiting = client.last_case()
    assert waiting.status == "pendiente_requisitos"
    moved = client.say(f"/adjuntar {pdf}")
    assert waiting.number in moved and "Gestor(a) Comercial" in moved
    waiting = client.last_case()
    assert waiting.status == "en_proceso" and waiting.current_role == "gestor_comercial"


def test_bad_answers_get_a_hint_twice_then_a_person_is_offered(chat):
    client = chat(IMPORTADORA)
    client.say("cambio de plan del internet")
    first = client.say("uno más rápido")
    assert "Disculpe, no identifiqué el plan" in first
    second = client.say("9")
    assert "Disculpe" in second
    offer = client.say("no sé")
    assert "ejecutivo" in offer and "sí" in offer
    declined = client.say("no")
    assert "Entendido" in declined
    assert client.cases() == []


def test_a_product_without_another_plan_is_refused_and_recorded(chat):
    client = chat(IMPORTADORA)
    with client.runtime.sessions.begin() as session:
        owner = session.scalar(select(Client).where(Client.nit == "1020304021"))
        # Internet on a technology the catalogue has no plans for.
        session.add(Product(contract="399901", client_id=owner.id, product_type="internet",
                            number="", technology="radio", plan="Enlace Radio 20 Mbps",
                            monthly_fee=Decimal("400.00"), installed_on=date(2020, 1, 1),
                            min_permanence_months=0, status="activo",
                            address="Av. Ballivián 456, Zona Central, Cochabamba"))
    reply = client.say("quiero cambiar de plan el contrato 399901")
    assert "no tenemos otro plan" in reply and "Enlace Radio 20 Mbps" in reply
    case = client.last_case()
    assert case.number in reply
    assert case.status == "no_procede" and case.closed_at is not None
    assert "no_other_plan" in rules(client, case)
