"""Técnico preventivo (procedure K): the analista's list (CSV or XLSX) is read and checked against
the portfolio, uploaded through the back-office, launched, sent over the fake Twilio server and
the real SMTP server, and each answer goes where the procedure says: fibre -> the K dialog (excess
cable, case), another product -> a case for the ejecutivo(a), a problem -> the E dialog."""
from __future__ import annotations

import email
import email.header
import email.policy
import io
import json

import httpx
import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bot.campaigns import preventive
from bot.campaigns.preventive import parse_list
from bot.models import (
    Campaign,
    CampaignSend,
    CampaignTarget,
    Case,
    Client,
    Conversation,
    Product,
    Staff,
)
from bot.messaging import InboundMessage
from tests.backoffice.support import CSRF, PASSWORD, StaffClient, demo_hash
from tests.whatsapp.conftest import TEMPLATES

TUNARI = ("1029384017", "+59172233003")  # internet 300301 on cobre
CLINICA = ("1031122019", "+59170111004")  # internet 300401 with open order OT-2026-0401
CLINICA_EMAIL = "administracion@clinicalosolivos.com.bo"
EL_VALLE = ("1020304021", "+59170000001")
PANIFICADORA = ("1078899016", "+59170998008")
CAFE = ("1134455016", "+59179988014")  # internet 301401 on cobre
LABORATORIOS = ("1112233010", "+59165432012")  # internet 301202 on fibra


def _ids(db, nit: str, contract: str | None = None) -> tuple[int, int | None]:
    with db.sessions() as session:
        client_id = session.scalar(select(Client.id).where(Client.nit == nit))
        product_id = session.scalar(select(Product.id).where(Product.contract == contract)) if contract else None
        return client_id, product_id


def _parse(db, data: bytes, filename: str):
    with db.sessions() as session:
        return parse_list(data, filename, session=session)


# --- reading the list ----------------------------------------------------------------------------
def test_a_semicolon_csv_with_bom_from_a_spanish_excel(demo):
    data = ("NIT;Producto;Oportunidad;Detalle\r\n"
            "1029384017;300301;Migración a fibra;\r\n"
            "1031122019;300401;problema;cortes frecuentes\r\n").encode("utf-8-sig")
    rows, errors = _parse(demo, data, "lista.csv")
    assert errors == []
    tunari, tunari_internet = _ids(demo, "1029384017", "300301")
    clinica, clinica_internet = _ids(demo, "1031122019", "300401")
    assert rows == [
        {"client_id": tunari, "product_id": tunari_internet, "opportunity": "fibra", "detail": "", "source_row": 2},
        {"client_id": clinica, "product_id": clinica_internet, "opportunity": "problema",
         "detail": "cortes frecuentes", "source_row": 3},
    ]


def test_a_comma_csv_in_latin_1_names_a_line_by_its_number(demo):
    data = ("nit,linea,oportunidad,detalle\n"
            "1020304021,4412345,otro producto,Televisión Empresarial Plus\n"
            "1078899016,,venta,Central telefónica IP\n").encode("latin-1")
    rows, errors = _parse(demo, data, "LISTA.CSV")
    assert errors == []
    el_valle, line = _ids(demo, "1020304021", "300101")  # 4412345 is contract 300101
    panificadora, _ = _ids(demo, "1078899016")
    assert rows == [
        {"client_id": el_valle, "product_id": line, "opportunity": "otro_producto",
         "detail": "Televisión Empresarial Plus", "source_row": 2},
        {"client_id": panificadora, "product_id": None, "opportunity": "otro_producto",
         "detail": "Central telefónica IP", "source_row": 3},
    ]


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_with_numbers_typed_as_numbers(demo):
    data = _xlsx([["NIT", "Contrato", "Oportunidad", "Detalle"],
                  [1029384017, 300301, "fibra", None],
                  [None, None, None, None],  # spreadsheets keep empty rows
                  [1134455016.0, "301401", "FIBRA", "ADSL lento"]])
    rows, errors = _parse(demo, data, "preventivo.xlsx")
    assert errors == []
    tunari, tunari_internet = _ids(demo, "1029384017", "300301")
    cafe, cafe_internet = _ids(demo, "1134455016", "301401")
    assert rows == [
        {"client_id": tunari, "product_id": tunari_internet, "opportunity": "fibra", "detail": "", "source_row": 2},
        {"client_id": cafe, "product_id": cafe_internet, "opportunity": "fibra", "detail": "ADSL lento",
         "source_row": 4},
    ]


def test_every_wrong_row_is_reported_and_nothing_is_accepted(demo):
    data = (b"NIT;producto;oportunidad;detalle\n"
            b"1029384017;300301;fibra;\n"  # valid, yet not accepted: all or nothing
            b"999999999;300301;fibra;\n"
            b"1029384017;300401;problema;\n"  # Clínica's internet
            b"1029384017;300302;upgrade;\n"
            b"1031122019;300401;fibra;\n"  # already on fibra
            b"1020304021;;otro_producto;\n"
            b"1029384017;300301;migracion;\n"
            b";777777;;\n")
    rows, errors = _parse(demo, data, "lista.csv")
    assert rows == []
    assert [str(e) for e in errors] == [
        "Fila 3, columna «NIT»: no hay ningún cliente con NIT 999999999 en la cartera",
        "Fila 4, columna «producto»: el producto 300401 es de otro cliente (NIT 1031122019)",
        ("Fila 5, columna «oportunidad»: «upgrade» no es una oportunidad válida (use una de: fibra, "
         "otro_producto, problema)"),
        "Fila 6, columna «producto»: el producto 300401 no puede migrar a fibra (tecnología: fibra)",
        "Fila 7, columna «detalle»: indique en «detalle» el producto que se ofrece",
        "Fila 8: el mismo cliente y producto ya aparecen en la fila 2",
        "Fila 9, columna «oportunidad»: el campo es obligatorio y está vacío",
        "Fila 9, columna «NIT»: el campo es obligatorio y está vacío",
    ]
    assert (errors[0].row, errors[0].field) == (3, "NIT")


def test_a_list_without_the_required_columns_or_in_another_format(demo):
    _, errors = _parse(demo, b"NIT;opcion\n1029384017;fibra\n", "lista.csv")
    assert [str(e) for e in errors] == [
        "Fila 1, columna «opcion»: columna desconocida (columnas válidas: nit, producto, oportunidad, detalle)",
        "Fila 1, columna «oportunidad»: falta la columna obligatoria",
        "Fila 1, columna «producto»: falta la columna obligatoria",
    ]
    _, errors = _parse(demo, b"%PDF-1.4", "lista.pdf")
    assert [str(e) for e in errors] == [("el archivo «lista.pdf» no es CSV ni XLSX; guarde la planilla como "
                                         ".xlsx o .csv")]
    _, errors = _parse(demo, b"PK\x03\x04 not really a workbook", "lista.xlsx")
    assert [str(e) for e in errors] == [("el archivo no se puede leer como planilla (BadZipFile); guárdelo "
                                         "de nuevo como .xlsx o .csv")]


@pytest.mark.parametrize(("text", "opportunity", "expected"), [
    ("Sí, me interesa", "fibra", "accept"),
    ("no me interesa, gracias", "fibra", "decline"),
    ("No, gracias", "otro_producto", "decline"),
    ("ok", "otro_producto", "accept"),
    ("sí, funciona bien", "problema", "fine"),
    ("no hay problemas", "problema", "fine"),
    ("no funciona bien, se corta", "problema", "problem"),
    ("no", "problema", "problem"),
    ("¿quién habla?", "fibra", None),
])
def test_answers_are_read_by_their_longest_phrase(text, opportunity, expected):
    assert preventive.answer(text, opportunity) == expected


# --- end to end ----------------------------------------------------------------------------------
def _staff_client(app, username: str, role: str = "analista_tecnico") -> StaffClient:
    """A staff member signed in over HTTP to the running app (the back-office tests' client)."""
    with app.runtime.sessions.begin() as session:
        row = session.scalars(select(Staff).where(Staff.username == username)).one_or_none()
        if row is None:
            row = Staff(username=username, role=role, full_name=username)
            session.add(row)
        row.password_hash, row.active = demo_hash(), True
    client = StaffClient.__new__(StaffClient)
    client.http = httpx.Client(base_url=app.app.url, follow_redirects=False, timeout=60)
    client.csrf = ""
    assert client.login(username, PASSWORD).status_code == 303
    return client


def _say(app, number: str, body: str, n: int) -> str:
    sid = f"SMbeef{n:028d}"
    app.app.webhook("text", From=f"whatsapp:{number}", WaId=number.lstrip("+"), Body=body, MessageSid=sid,
                    SmsMessageSid=sid, SmsSid=sid)
    app.run_worker()
    return [r.value("Body") for r in app.twilio.sent()
            if r.value("To") == f"whatsapp:{number}" and r.value("Body")][-1]


def _target(app, nit: str) -> CampaignTarget:
    with app.runtime.sessions() as session:
        return session.scalars(select(CampaignTarget).join(Client, Client.id == CampaignTarget.client_id)
                               .where(Client.nit == nit)).one()


def _case(app, case_id: int) -> Case:
    with app.runtime.sessions() as session:
        return session.get(Case, case_id)


def _upload_and_launch(app, data: bytes, filename: str = "preventivo.csv") -> int:
    analista = _staff_client(app, "atecnico")
    form = analista.get("/backoffice/campanas/preventivo/lista")
    assert form.status_code == 200 and "oportunidad" in form.text
    response = analista.post("/backoffice/campanas/preventivo/lista", {"nombre": "Preventivo diciembre"},
                             files={"archivo": (filename, data, "text/csv")})
    assert response.status_code == 303, response.text
    campaign_id = int(response.headers["location"].rstrip("/").rsplit("/", 1)[1])
    with app.runtime.sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        assert (campaign.kind, campaign.audience, campaign.status) == ("preventivo", "lista", "borrador")
    page = analista.get(f"/backoffice/campanas/{campaign_id}")  # the creator's campaign, with the preview
    assert page.status_code == 200
    for fragment in PREVIEWS.get(data, ()):
        assert fragment in page.text
    launched = analista.post(f"/backoffice/campanas/{campaign_id}/lanzar")
    assert launched.status_code == 303
    app.run_worker()
    return campaign_id


LIST = ("NIT;producto;oportunidad;detalle\n"
        f"{TUNARI[0]};300301;fibra;\n"
        f"{CLINICA[0]};300401;problema;cortes reportados en Help Desk\n"
        f"{EL_VALLE[0]};300101;otro_producto;TV Empresarial Plus\n"
        f"{PANIFICADORA[0]};;otro_producto;Central telefónica IP\n"
        f"{CAFE[0]};301401;fibra;\n").encode()


# What the campaign page previews for the list's first client (Tunari's internet on cobre).
PREVIEWS = {LIST: (("Internet (contrato 300301, Av. Blanco Galindo Km 4, Zona Oeste, Cochabamba) puede "
                    "migrar a fibra óptica"),
                   "Empresarial Fibra 50 Mbps (Bs 290,00 al mes), Empresarial Fibra 100 Mbps")}


def test_upload_launch_and_every_answer(campaigns):
    app = campaigns()
    # Café Tunari asked not to get campaign messages on WhatsApp before the campaign.
    _say(app, CAFE[1], "STOP", 0)
    campaign_id = _upload_and_launch(app, LIST)

    # WhatsApp: outside the 24-hour window the approved "preventive_offer" template goes out,
    # the question itself in its second variable so the client can answer it at once.
    [offer] = [r for r in app.twilio.sent() if r.value("To") == f"whatsapp:{TUNARI[1]}"]
    assert offer.value("ContentSid") == TEMPLATES["preventive_offer"]
    variables = json.loads(offer.value("ContentVariables"))
    assert variables["1"] == "Constructora Tunari S.A."
    assert "fibra óptica" in variables["2"] and "300301" in variables["2"] and "\n" not in variables["2"]
    # Email: the check itself, with its subject.
    [letter] = [r for r in app.smtp.received if "administracion@clinicalosolivos.com.bo" in r.rcpt_tos]
    mime = email.message_from_bytes(letter.raw, policy=email.policy.default)
    subject = str(email.header.make_header(email.header.decode_header(mime["Subject"])))
    assert "Revisión de su servicio – Clínica Los Olivos S.R.L." in subject
    body = mime.get_body(("plain",)).get_content()
    assert "Internet (contrato 300401" in body and "¿Su servicio funciona bien?" in body
    # Opt-out respected: no WhatsApp to Café Tunari after its STOP, the email still went out.
    with app.runtime.sessions() as session:
        cafe_sends = {s.channel: s.status for s in session.scalars(
            select(CampaignSend).where(CampaignSend.campaign_id == campaign_id,
                                       CampaignSend.client_id == _ids(app.db, CAFE[0])[0]))}
    assert cafe_sends == {"whatsapp": "opted_out", "email": "sent"}
    assert [r for r in app.twilio.sent() if r.value("To") == f"whatsapp:{CAFE[1]}" and r.value("ContentSid")] == []

    # Fibre: "sí" -> the K dialog asks about the excess cable for 300301 -> "sí" -> case.
    ask = _say(app, TUNARI[1], "Sí, me interesa", 1)
    assert "300301" in ask and "150 metros de cable" in ask and "Bs 3,50" in ask
    assert "Responda «sí» o «no»" in ask
    summary = _say(app, TUNARI[1], "sí", 2)
    target = _target(app, TUNARI[0])
    case = _case(app, target.case_id)
    assert (target.status, target.outcome) == ("respondido", "aceptado")
    assert (case.tramite, case.current_role, case.status) == ("K", "analista_tecnico", "en_proceso")
    assert case.data["accepted_excess_cable"] is True and case.data["next_role"] == "gestor_comercial"
    assert case.data["products"] == ["300301"] and case.data["campaign_target_id"] == target.id
    assert case.number in summary

    # Problem: "no, se corta" -> E for 300401, whose open order goes to the gestor técnico today.
    _say(app, CLINICA[1], "No, el internet se corta a cada rato", 3)
    target = _target(app, CLINICA[0])
    case = _case(app, target.case_id)
    assert (target.status, target.outcome) == ("respondido", "problema")
    assert (case.tramite, case.current_role) == ("E", "gestor_tecnico")
    assert case.data["contract"] == "300401" and case.data["work_order"] == "OT-2026-0401"
    # The same client answers the email too (as the mail poller hands it in): not counted twice.
    app.runtime.conversations.handle(InboundMessage("email", CLINICA_EMAIL, "Sí, funciona bien",
                                                    "<answer-1@clinicalosolivos.com.bo>",
                                                    subject="Re: Revisión de su servicio"))
    again = _target(app, CLINICA[0])
    assert (again.outcome, again.case_id) == ("problema", case.id)
    with app.runtime.sessions() as session:
        conversation = session.scalars(select(Conversation).where(
            Conversation.channel == "email", Conversation.address == CLINICA_EMAIL)).one()
        assert (conversation.dialog, conversation.state) == ("main", "menu")

    # Rejection: thanks, no case, the conversation is free again.
    reply = _say(app, EL_VALLE[1], "No, gracias", 4)
    assert reply.startswith("Entendido, gracias por su respuesta.")
    target = _target(app, EL_VALLE[0])
    assert (target.status, target.outcome, target.case_id) == ("respondido", "rechazado", None)
    with app.runtime.sessions() as session:
        conversation = session.scalars(select(Conversation).where(
            Conversation.channel == "whatsapp", Conversation.address == EL_VALLE[1])).one()
        assert (conversation.dialog, conversation.state) == ("main", "menu")
        send = session.scalars(select(CampaignSend).where(CampaignSend.campaign_id == campaign_id,
                                                          CampaignSend.address == EL_VALLE[1])).one()
        assert (send.answer, send.words) == ("rechazado", "No, gracias")

    # Another product: a case for the client's ejecutivo(a), who sends the proposal (K.11).
    reply = _say(app, PANIFICADORA[1], "me interesa", 5)
    target = _target(app, PANIFICADORA[0])
    case = _case(app, target.case_id)
    assert (target.outcome, case.tramite, case.current_role) == ("aceptado", "K", "ejecutivo")
    with app.runtime.sessions() as session:
        assert session.get(Staff, case.assignee_id).username == "lvargas"
    assert case.data["offer"] == "Central telefónica IP" and case.number in reply


LIST_CHECKS = ("NIT;producto;oportunidad;detalle\n"
               f"{LABORATORIOS[0]};301202;problema;\n"
               f"{TUNARI[0]};300301;problema;\n"
               f"{EL_VALLE[0]};300101;fibra;\n"
               f"{CAFE[0]};301401;fibra;\n").encode()


def test_a_working_service_an_unclear_answer_and_another_request(campaigns):
    app = campaigns()
    _upload_and_launch(app, LIST_CHECKS)

    assert _say(app, LABORATORIOS[1], "Sí, funciona bien", 1).startswith("¡Qué bueno!")
    target = _target(app, LABORATORIOS[0])
    assert (target.outcome, target.case_id) == ("sin_problema", None)

    # Unclear: the question again (the client may have seen only the template), then the menu.
    again = _say(app, TUNARI[1], "hola", 2)
    assert again.startswith("Disculpe, no entendí su respuesta.") and "¿Su servicio funciona bien?" in again
    menu = _say(app, TUNARI[1], "quién habla?", 3)
    assert _target(app, TUNARI[0]).status == "enviado"  # no answer recorded
    with app.runtime.sessions() as session:
        conversation = session.scalars(select(Conversation).where(
            Conversation.channel == "whatsapp", Conversation.address == TUNARI[1])).one()
        assert (conversation.dialog, conversation.state) == ("main", "menu")
    assert "1" in menu  # the numbered menu

    # Another request is served as usual: the trámite's own dialog starts.
    _say(app, EL_VALLE[1], "quiero dar de baja una línea", 4)
    with app.runtime.sessions() as session:
        conversation = session.scalars(select(Conversation).where(
            Conversation.channel == "whatsapp", Conversation.address == EL_VALLE[1])).one()
        assert conversation.dialog == "tramite_H"
    assert _target(app, EL_VALLE[0]).status == "enviado"

    # Fibre accepted, then the excess cable refused (K.12.1): the interaction is recorded, no_procede.
    _say(app, CAFE[1], "sí, nos interesa", 5)
    refused = _say(app, CAFE[1], "no", 6)
    target = _target(app, CAFE[0])
    case = _case(app, target.case_id)
    assert (target.outcome, case.tramite, case.status) == ("cable_rechazado", "K", "no_procede")
    assert case.data["accepted_excess_cable"] is False and case.number in refused


def test_a_wrong_list_is_shown_on_the_form_and_creates_nothing(campaigns):
    app = campaigns(preventive_list_max_bytes=100)
    analista = _staff_client(app, "atecnico")
    page = analista.post("/backoffice/campanas/preventivo/lista", {"nombre": "Mala"},
                         files={"archivo": ("lista.csv", b"NIT;producto;oportunidad\n999;1;fibra\n", "text/csv")})
    assert page.status_code == 400
    assert "Fila 2, columna «NIT»: no hay ningún cliente con NIT 999 en la cartera" in page.text
    assert CSRF.search(page.text)  # the form again, ready for the corrected file
    assert len(LIST) > 100
    too_big = analista.post("/backoffice/campanas/preventivo/lista", {"nombre": "Grande"},
                            files={"archivo": ("lista.csv", LIST, "text/csv")})
    assert too_big.status_code == 400 and "El archivo es demasiado grande (máximo 0,0 MB)." in too_big.text
    with app.runtime.sessions() as session:
        assert session.scalars(select(Campaign)).all() == []
    # Only the analista técnico and the responsable upload lists.
    ejecutiva = _staff_client(app, "mrojas", "ejecutivo")
    assert ejecutiva.get("/backoffice/campanas/preventivo/lista").status_code == 403
    # A state-changing request without the session's CSRF token is refused.
    refused = analista.post("/backoffice/campanas/preventivo/lista", {"nombre": "x"}, csrf=False,
                            files={"archivo": ("lista.csv", LIST, "text/csv")})
    assert refused.status_code == 403
