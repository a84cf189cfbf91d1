"""The agent workspace (issue 15): "Mis conversaciones" with unanswered counts, deriving while
keeping the conversation, search by line, contract and message text, the "all states" filter,
reopened cases first, and canned responses filled in from the case."""
from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select

from backoffice import repository
from bot import requirements
from bot.models import Case, Conversation, Staff
from tests.backoffice.support import NOW, TUNARI_NIT, make_case
from tests.backoffice.test_takeover import conversation_of_address, sent, write


def held_rows(page: str) -> list[str]:
    """The conversation ids listed under "Mis conversaciones", in order."""
    section = page.split('id="mis-conversaciones"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'data-conversation="(\d+)"', section)


def staff_row(db, username):
    with db.sessions() as session:
        return session.scalars(select(Staff).where(Staff.username == username)).one()


def held_case(db, login, runtime, **case):
    """The client (El Valle, WhatsApp) wrote; mrojas has a case of that conversation and holds it."""
    write(runtime, "Hola")
    conversation_id = conversation_of_address(db, "+59170000001")
    case_id = make_case(db, assignee="mrojas", conversation_id=conversation_id, **case)
    mrojas = login("mrojas")
    mrojas.post(f"/backoffice/conversaciones/{conversation_id}/tomar", {"case_id": case_id})
    return conversation_id, case_id, mrojas


def test_a_held_conversation_is_in_mis_conversaciones_with_its_unanswered_messages(staff, login, runtime, clock):
    write(runtime, "Hola")
    conversation_id = conversation_of_address(staff, "+59170000001")
    case_id = make_case(staff, assignee="mrojas", conversation_id=conversation_id)
    mrojas = login("mrojas")
    assert held_rows(mrojas.get("/backoffice/").text) == []
    mrojas.post(f"/backoffice/conversaciones/{conversation_id}/tomar", {"case_id": case_id})
    clock.advance(minutes=1)
    write(runtime, "¿Me confirma la hora?")
    clock.advance(minutes=1)
    write(runtime, "Es urgente")

    page = mrojas.get("/backoffice/").text
    assert held_rows(page) == [str(conversation_id)]
    assert "2 sin respuesta" in page
    assert 'data-attention="2"' in page  # the tab title's count (no open tasks yet)
    holder = staff_row(staff, "mrojas")
    with staff.sessions() as session:
        number = session.get(Case, case_id).number
        (row,) = repository.held_conversations(session, holder)
    assert (row.unanswered, row.case_number, row.client) == (2, number, "Importadora El Valle S.R.L.")
    # Somebody else's list does not show it; the responsable sees everybody's, with the holder.
    assert held_rows(login("lvargas").get("/backoffice/").text) == []
    overview = login("responsable").get("/backoffice/").text
    assert held_rows(overview) == [str(conversation_id)] and "María Rojas" in overview.split('id="mis-conversaciones"')[1]

    mrojas.post(f"/backoffice/conversaciones/{conversation_id}/responder", {"body": "A las 15:00, le llamo."})
    assert "sin respuesta" not in mrojas.get("/backoffice/").text
    with staff.sessions() as session:
        assert repository.held_conversations(session, holder)[0].unanswered == 0
    # The live fragment carries the same list, so it appears without a reload.
    clock.advance(minutes=1)
    write(runtime, "Gracias, ¿y el costo?")
    live = mrojas.get("/backoffice/cola/vivo").json()["regions"]["queue-held"]
    assert f'data-conversation="{conversation_id}"' in live and "1 sin respuesta" in live


def test_deriving_may_keep_the_conversation_and_it_stays_in_mis_conversaciones(staff, login, runtime, clock):
    conversation_id, case_id, mrojas = held_case(staff, login, runtime)
    assert "Seguir atendiendo la conversación" in mrojas.get(f"/backoffice/casos/{case_id}").text
    mrojas.post(f"/backoffice/casos/{case_id}/acciones/derive",
                {"to_role": "gestor_comercial", "note": "Para alta", "seguir": "1"})
    holder = staff_row(staff, "mrojas")
    with staff.sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert session.get(Case, case_id).current_role == "gestor_comercial"
        assert (conversation.mode, conversation.held_by_id) == ("human", holder.id)
    assert held_rows(mrojas.get("/backoffice/").text) == [str(conversation_id)]
    before = len(sent(runtime))
    clock.advance(minutes=1)
    write(runtime, "7")
    assert len(sent(runtime)) == before  # still hers: the bot stays silent


def test_search_finds_a_case_by_line_contract_and_message_text_and_all_states(staff, login, runtime):
    write(runtime, "Hola, consulta sobre la portabilidad de la central")
    conversation_id = conversation_of_address(staff, "+59170000001")
    by_message = make_case(staff, conversation_id=conversation_id)
    other = make_case(staff, nit=TUNARI_NIT)
    finished = make_case(staff, status="concluido")
    with staff.sessions() as session:
        numbers = {case_id: session.get(Case, case_id).number for case_id in (by_message, other, finished)}
    client = login("responsable")

    def found(query: str) -> set[str]:
        page = client.get("/backoffice/", params={"q": query}).text
        return set(re.findall(r'data-case="([^"]+)"', page)) & set(numbers.values())

    # 4412346 is one of El Valle's lines, 300104 its internet contract (bot/demo/cartera/productos.csv).
    assert found("4412346") == {numbers[by_message]}
    assert found("300104") == {numbers[by_message]}
    assert found("portabilidad de la central") == {numbers[by_message]}
    assert numbers[other] not in found("4412346")
    everything = set(re.findall(r'data-case="([^"]+)"', client.get("/backoffice/?estado=todos").text))
    assert numbers[finished] in everything and numbers[finished] not in set(
        re.findall(r'data-case="([^"]+)"', client.get("/backoffice/").text))


def test_reopened_cases_come_first_with_a_priority_marker(staff, login):
    early = make_case(staff, opened_at=NOW - timedelta(hours=20))
    reopened = make_case(staff, opened_at=NOW, status="reabierto")
    with staff.sessions() as session:
        numbers = [session.get(Case, i).number for i in (reopened, early)]
    page = login("responsable").get("/backoffice/").text
    listed = re.findall(r'data-case="([^"]+)"', page)
    assert listed[:2] == numbers  # due later, but reopened: first
    first_row = page.split(f'data-case="{numbers[0]}"', 1)[1].split("</tr>", 1)[0]
    assert "Prioridad: reabierto" in first_row
    assert "Prioridad" not in page.split(f'data-case="{numbers[1]}"', 1)[1].split("</tr>", 1)[0]


def test_canned_responses_are_filled_in_with_the_client_case_and_missing_documents(staff, login, runtime):
    write(runtime, "Hola")
    conversation_id = conversation_of_address(staff, "+59170000001")
    checklist = requirements.checklist(["carta_solicitud", "croquis"])
    case_id = make_case(staff, assignee="mrojas", conversation_id=conversation_id, status="pendiente_requisitos",
                        requirements=checklist)
    mrojas = login("mrojas")
    assert 'id="canned"' not in mrojas.get(f"/backoffice/casos/{case_id}").text  # only for the holder
    mrojas.post(f"/backoffice/conversaciones/{conversation_id}/tomar", {"case_id": case_id})
    page = mrojas.get(f"/backoffice/casos/{case_id}").text
    options = dict((title, html.unescape(value)) for value, title in
                   re.findall(r'<option value="([^"]+)">([^<]+)</option>', page.split('id="canned"', 1)[1]
                              .split("</select>", 1)[0]))
    with staff.sessions() as session:
        case = session.get(Case, case_id)
        missing = [r["name"] for r in case.requirements]
        number = case.number
    text = options["Documentos que faltan"]
    assert number in text and all(name in text for name in missing)
    assert "{{" not in " ".join(options.values())
    assert options["Saludo"].startswith("Buenos días, Importadora El Valle S.R.L.: le saluda María Rojas")


def test_staff_attach_files_to_a_reply_stored_with_the_case_and_sent_with_it(staff, login, runtime, clock):
    from bot.models import Document, Message, Outbox
    from tests.backoffice.test_takeover import PDF

    conversation_id, case_id, mrojas = held_case(staff, login, runtime)
    before = len(sent(runtime))
    response = mrojas.post(f"/backoffice/conversaciones/{conversation_id}/responder",
                           {"case_id": case_id, "body": "Le adjunto la proforma."},
                           files=[("archivo", ("proforma.pdf", PDF, "application/pdf"))])
    assert response.headers["location"].endswith("ok=replied")
    assert sent(runtime)[before:] == ["Le adjunto la proforma."]
    with staff.sessions() as session:
        reply = session.scalars(select(Message).where(Message.author == "mrojas",
                                                      Message.body == "Le adjunto la proforma.")).one()
        (document,) = session.scalars(select(Document).where(Document.message_id == reply.id))
        outbox = session.scalars(select(Outbox).where(Outbox.message_id == reply.id)).one()
        assert (document.filename, document.case_id, document.content_type) == ("proforma.pdf", case_id,
                                                                                  "application/pdf")
        assert outbox.payload["document_ids"] == [document.id]  # WhatsApp: media from a signed link
        assert reply.attachments == [{"document_id": document.id, "filename": "proforma.pdf"}]  # email: attached
    # The case page shows the file with the reply; a file that is not a PDF or an image is refused.
    assert "proforma.pdf" in mrojas.get(f"/backoffice/casos/{case_id}").text
    refused = mrojas.post(f"/backoffice/conversaciones/{conversation_id}/responder",
                          {"case_id": case_id, "body": "Y este otro."},
                          files=[("archivo", ("macro.docm", b"PK\x03\x04 not a pdf", "application/octet-stream"))])
    assert refused.headers["location"].endswith("error=file_unsupported")
    assert "Solo se envían archivos PDF" in mrojas.get(refused.headers["location"]).text
    with staff.sessions() as session:
        assert session.scalar(select(Message.id).where(Message.body == "Y este otro.")) is None
    # A file alone, without words, is a reply too.
    mrojas.post(f"/backoffice/conversaciones/{conversation_id}/responder", {"case_id": case_id, "body": ""},
                files=[("archivo", ("plano.pdf", PDF, "application/pdf"))])
    with staff.sessions() as session:
        assert session.scalars(select(Document.filename).where(Document.filename == "plano.pdf")).one()


def test_the_event_log_reads_in_words_not_field_names(staff, login, runtime, clock):
    from bot.rules import role_names
    from tests.backoffice.test_takeover import PDF

    conversation_id, case_id, mrojas = held_case(
        staff, login, runtime, status="pendiente_requisitos", requirements=requirements.checklist(["carta_solicitud"]),
        summary="Detalle de agosto")
    clock.advance(minutes=1)
    from bot.messaging import Attachment, InboundMessage
    runtime.conversations.handle(InboundMessage(
        channel="whatsapp", address="+59170000001", body="La carta", external_id="wa-carta-eventos",
        attachments=(Attachment(filename="carta.pdf", content_type="application/pdf", data=PDF),)))
    mrojas.post(f"/backoffice/conversaciones/{conversation_id}/responder", {"case_id": case_id, "body": "Gracias"},
                files=[("archivo", ("proforma.pdf", PDF, "application/pdf"))])
    mrojas.post(f"/backoffice/conversaciones/{conversation_id}/devolver", {"case_id": case_id, "step": "main/menu"})
    page = mrojas.get(f"/backoffice/casos/{case_id}").text
    events = html.unescape(page.split("<table class=\"events\">", 1)[1].split("</table>", 1)[0])
    rows = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.split(">", 1)[1])).strip()
            for row in events.split("<tr")[2:]]
    # A field name (snake_case, as in "assignee_id: 3") is the sign of an event shown raw.
    assert not [row for row in rows if re.search(r"\b[a-z]+_[a-z_]+\b", row)], rows
    assert any(f"Para {role_names()['ejecutivo']}: Detalle de agosto" in row for row in rows)
    assert any("Requisito recibido" in row and "Carta de solicitud firmada" in row and "(carta.pdf)" in row
               for row in rows)
    assert any("Respuesta enviada" in row and "Con proforma.pdf" in row for row in rows)
    assert any("Conversación devuelta al bot" in row and "Menú principal" in row for row in rows)
