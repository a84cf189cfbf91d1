"""D) Suspensión temporal y reconexión, every branch, through the console channel.

Today is 2026-11-28 (conftest)."""
from __future__ import annotations

from sqlalchemy import select, update

from bot.models import Invoice, Product

# No pending invoices; internet 300301 suspended 2026-02..05; line 300302/4257788.
CONSTRUCTORA = "+59172233003"
AGRO = "+59171555010"  # multipack 301001 (cobre) suspendido 2026-11-01 -> 2027-02-28
IMPORTADORA = "+59170000001"  # privada, five pending invoices
TIQUIPAYA = "+59171722002"  # publica (SIGEP), pending invoices; multipack 300201 on fibra


def rules_of(client, case) -> dict:
    return {e.detail["rule"]: e.detail for e in client.events(case) if e.kind == "rule"}


def test_suspension_in_one_message_waits_for_the_letter_with_the_ejecutivo(chat):
    client = chat(CONSTRUCTORA)
    reply = client.say("Queremos la suspensión temporal de la línea 4257788 "
                       "del 1 de diciembre al 28 de febrero")
    assert "1 de diciembre de 2026" in reply and "28 de febrero de 2027" in reply
    assert "4257788" in reply
    assert "no tiene costo" in reply
    assert "Carta de solicitud" in reply
    case = client.last_case()
    assert case.number in reply and "Ejecutivo(a) Equipo Empresas" in reply
    assert case.tramite == "D" and case.status == "pendiente_requisitos"
    assert case.current_role == "ejecutivo" and case.assignee_id is not None
    assert case.quoted_costs == []
    assert [r["code"] for r in case.requirements] == ["carta_solicitud"]
    assert case.data["contract"] == "300302" and case.data["action"] == "suspension"
    assert (case.data["starts_on"], case.data["ends_on"]) == ("2026-12-01", "2027-02-28")
    assert case.data["role_when_complete"] == "gestor_comercial"
    expected = {"accounts_up_to_date", "first_suspension_of_year", "within_max_months"}
    assert expected <= set(rules_of(client, case))


def test_letter_arriving_later_moves_the_suspension_to_gestor_comercial(chat, pdf):
    client = chat(CONSTRUCTORA)
    client.say("suspender la línea 4257788 desde el 1 de diciembre por 3 meses")
    reply = client.say(f"/adjuntar {pdf}")
    case = client.last_case()
    assert case.number in reply and "Gestor(a) Comercial" in reply
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"
    assert case.data["ends_on"] == "2027-02-28"  # 3 months from 1 December
    assert case.requirements[0]["status"] == "received"


def test_letter_sent_with_the_request_goes_straight_to_gestor_comercial(chat, pdf):
    client = chat(CONSTRUCTORA)
    client.say("Hola")
    reply = client.say(f"/adjuntar {pdf} suspender la línea 4257788 "
                       "del 1 de diciembre al 31 de diciembre")
    case = client.last_case()
    assert "Requisitos pendientes" not in reply
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"


def test_pending_invoices_refuse_the_suspension_listing_them_with_payment_channels(chat):
    client = chat(IMPORTADORA)
    reply = client.say("quiero suspender temporalmente el internet por vacaciones")
    # 300101: 78.40 + 65.00; 300102: 71.20; 300104: 480.00 x 2
    assert "Bs 78,40" in reply and "Bs 71,20" in reply and "Bs 480,00" in reply
    assert "Total pendiente: Bs 1.174,60" in reply
    assert "venció el 20 de octubre de 2026" in reply
    assert "página web" in reply and "SIGEP" not in reply
    case = client.last_case()
    assert case.number in reply
    assert case.status == "no_procede" and case.closed_at is not None
    assert case.current_role == "ejecutivo" and case.assignee_id is not None
    detail = rules_of(client, case)["accounts_not_up_to_date"]
    assert len(detail["invoices"]) == 5


def test_public_institution_is_told_to_pay_through_sigep(chat):
    client = chat(TIQUIPAYA)
    reply = client.say("necesitamos suspender la línea 4316101 del 1 de diciembre al 31 de enero")
    assert "SIGEP" in reply and "página web" not in reply
    assert "Total pendiente: Bs 1.875,00" in reply  # 890 + 890 + 95
    assert client.last_case().status == "no_procede"


def test_second_suspension_in_the_same_calendar_year_is_refused(chat):
    client = chat(CONSTRUCTORA)
    reply = client.say("Queremos suspender el internet contrato 300301 "
                       "desde el 1 de diciembre por 2 meses")
    assert "una sola vez por año" in reply
    assert "1 de febrero de 2026" in reply and "31 de mayo de 2026" in reply
    assert "1 de enero de 2027" in reply
    case = client.last_case()
    assert case.status == "no_procede" and case.current_role == "ejecutivo"
    detail = rules_of(client, case)["once_per_year"]
    assert detail["year"] == 2026 and detail["previous"][0]["starts_on"] == "2026-02-01"


def test_suspension_starting_next_year_is_allowed_after_one_this_year(chat):
    client = chat(CONSTRUCTORA)
    reply = client.say("suspender el internet contrato 300301 "
                       "desde el 1 de enero de 2027 por 3 meses")
    assert "31 de marzo de 2027" in reply
    case = client.last_case()
    assert case.status == "pendiente_requisitos"
    assert "first_suspension_of_year" in rules_of(client, case)


def test_more_than_four_months_offers_the_maximum_and_yes_continues(chat):
    client = chat(CONSTRUCTORA)
    offer = client.say("suspender la línea 4257788 desde el 1 de diciembre por 6 meses")
    assert "¿Desea suspender por 4 meses desde el 1 de diciembre de 2026" in offer
    assert client.cases() == []
    reply = client.say("sí")
    assert "31 de marzo de 2027" in reply  # 4 months from 1 December 2026
    case = client.last_case()
    assert case.status == "pendiente_requisitos" and case.data["ends_on"] == "2027-03-31"
    detail = rules_of(client, case)["max_months"]
    assert detail["accepted"] is True and detail["requested_end"] == "2027-05-31"


def test_more_than_four_months_declined_is_recorded_as_not_proceeding(chat):
    client = chat(CONSTRUCTORA)
    client.say("suspender la línea 4257788 del 1 de diciembre al 30 de junio")
    reply = client.say("no, gracias")
    case = client.last_case()
    assert "no registramos la suspensión" in reply and case.number in reply
    assert case.status == "no_procede"
    assert rules_of(client, case)["max_months"]["accepted"] is False


def test_a_shorter_period_given_instead_of_yes_is_accepted(chat):
    client = chat(CONSTRUCTORA)
    client.say("suspender la línea 4257788 desde el 1 de diciembre por 5 meses")
    reply = client.say("mejor por 2 meses")
    assert "31 de enero de 2027" in reply
    assert client.last_case().data["ends_on"] == "2027-01-31"


def test_start_date_in_the_past_is_refused_with_a_hint(chat):
    client = chat(CONSTRUCTORA)
    past = client.say("suspender la línea 4257788 desde el 1 de noviembre")
    assert "1 de noviembre de 2026" in past and "ya pasó" in past
    ask_end = client.say("el 5 de diciembre")
    assert "5 de diciembre de 2026" in ask_end and "¿Hasta qué fecha" in ask_end
    reply = client.say("por 2 meses")
    assert "4 de febrero de 2027" in reply
    assert client.last_case().data["starts_on"] == "2026-12-05"


def test_turn_by_turn_from_the_menu(chat):
    client = chat(CONSTRUCTORA)
    client.say("Hola")
    action = client.say("4")
    assert "1. Suspender" in action and "2. Reconectar" in action
    products = client.say("1")
    assert "300301" in products and "300302" in products
    start = client.say("2")
    assert "¿Desde qué fecha" in start
    end = client.say("1 de diciembre")
    assert "¿Hasta qué fecha" in end
    reply = client.say("hasta el 28 de febrero")
    assert "28 de febrero de 2027" in reply and "4257788" in reply
    assert client.last_case().data["contract"] == "300302"


def test_end_before_start_gets_a_hint(chat):
    client = chat(CONSTRUCTORA)
    client.say("suspender la línea 4257788 desde el 10 de diciembre")
    reply = client.say("hasta el 5 de diciembre de 2026")
    assert "debe ser posterior" in reply
    assert client.cases() == []


def test_unclear_request_bad_answers_twice_then_a_person_is_offered(chat):
    client = chat(CONSTRUCTORA)
    client.say("Hola")
    ask = client.say("4")
    assert "¿Qué desea hacer?" in ask
    assert "Disculpe" in client.say("no sé")
    assert "Disculpe" in client.say("lo de siempre")
    offer = client.say("???")
    assert "ejecutivo" in offer and "sí" in offer
    assert "ejecutivo" in client.say("sí")
    assert client.cases() == []


def test_reconnection_on_copper_tells_how_each_service_comes_back(chat):
    client = chat(AGRO)
    reply = client.say("Buenos días, queremos reconectar el servicio")
    assert "Reconexión" in reply and "301001" in reply
    assert "Internet: se habilita automáticamente" in reply
    assert "Línea telefónica: se habilita automáticamente" in reply
    assert "TV cable: se restablece en un plazo de hasta 24 horas" in reply
    assert "28 de febrero de 2027" in reply  # the suspension that is being cut short
    assert "no tiene costo" in reply and "Facturas pendientes" not in reply
    case = client.last_case()
    assert case.number in reply and "Gestor(a) Comercial" in reply
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"
    assert case.quoted_costs == [] and case.requirements == []
    assert case.data["action"] == "reconexion" and case.data["reconnect_on"] == "2026-11-28"
    detail = rules_of(client, case)["reconnection"]
    assert detail["services"] == {"internet": 0, "linea": 0, "tv": 24}


def test_reconnection_on_fibre_is_automatic_and_lists_pending_invoices(chat, demo):
    with demo.sessions.begin() as session:
        session.execute(update(Product).where(Product.contract == "300201")
                        .values(status="suspendido"))
    client = chat(TIQUIPAYA)
    reply = client.say("solicitamos la rehabilitación del multipack 300201")
    assert "TV cable: se habilita automáticamente" in reply
    assert "plazo de hasta 24 horas" not in reply
    assert "Facturas pendientes" in reply and "Total pendiente: Bs 1.875,00" in reply
    assert "SIGEP" in reply
    case = client.last_case()
    assert case.current_role == "gestor_comercial" and case.status == "en_proceso"
    assert len(rules_of(client, case)["pending_invoices_to_collect"]["invoices"]) == 3


def test_reconnection_lists_invoices_of_a_client_with_debts(chat, demo):
    with demo.sessions.begin() as session:
        product_id = session.scalar(select(Product.id).where(Product.contract == "301001"))
        session.execute(update(Invoice).where(Invoice.product_id == product_id)
                        .values(status="pendiente"))
    client = chat(AGRO)
    reply = client.say("quiero la reconexión del multipack")
    assert "Contrato 301001, octubre de 2026: Bs 560,00" in reply
    assert "página web" in reply
    assert "pending_invoices_to_collect" in rules_of(client, client.last_case())


def test_reconnection_without_suspended_products_opens_no_case(chat):
    client = chat(CONSTRUCTORA)
    reply = client.say("queremos reconectar el internet")
    assert "No encontramos productos suspendidos" in reply
    assert client.cases() == []


def test_product_of_another_client_is_refused(chat):
    client = chat(CONSTRUCTORA)
    # 4412345 is a line of Importadora El Valle.
    reply = client.say("suspender la línea 4412345 del 1 de diciembre al 31 de diciembre")
    assert "No encontramos 4412345" in reply
    assert client.cases() == []


def test_a_suspension_fee_set_in_the_tariffs_is_quoted_on_the_monthly_invoice(chat, monkeypatch):
    import dialogs.tramite_d as module

    real = module.load_rules

    def with_fee(name):
        rules = real(name)
        if name == "tariffs.yaml":
            rules = {**rules, "suspension": {"temporary_suspension": 50.00}}
        return rules

    monkeypatch.setattr(module, "load_rules", with_fee)
    client = chat(CONSTRUCTORA)
    reply = client.say("suspender la línea 4257788 desde el 1 de diciembre por 2 meses")
    assert "Suspensión temporal, contrato 300302: Bs 50,00" in reply
    assert "Se cargará en su factura del mes" in reply
    case = client.last_case()
    assert [(c["code"], c["amount"], c["charge"]) for c in case.quoted_costs] == [
        ("temporary_suspension", "50.00", "recurrente")]
