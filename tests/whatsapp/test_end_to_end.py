"""A whole trámite over WhatsApp: signed webhooks in, replies captured by the fake Twilio server.

G) Detalle de llamadas: the request in one message gets the summary (Bs 24,00, letter missing); the
signed letter arrives as a PDF media message; the case moves to Gestor Comercial.
"""
from __future__ import annotations

from sqlalchemy import select

from bot.models import Case, CaseEvent, Document

from tests.whatsapp.conftest import IMPORTADORA, SENDER

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n2 0 obj<</Type/Page>>endobj\ntrailer<<>>\n%%EOF\n"
MM, ME = "MM2a1b3c4d5e6f708192a3b4c5d6e7f801", "ME5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a"


def _case(wa) -> Case:
    with wa.runtime.sessions() as session:
        return session.scalars(select(Case)).one()


def test_detalle_de_llamadas_with_the_letter_sent_as_a_pdf(demo, wa):
    wa.app.webhook("text")  # "quiero el detalle de llamadas de agosto y septiembre de la línea 4412345"
    wa.run_worker()
    [summary] = wa.twilio.sent()
    assert summary.value("To") == f"whatsapp:{IMPORTADORA}" and summary.value("From") == SENDER
    text = summary.value("Body")
    case = _case(wa)
    assert case.tramite == "G" and case.status == "pendiente_requisitos" and case.current_role == "ejecutivo"
    assert "Bs 24,00" in text and "Carta de solicitud" in text and case.number in text
    [reply] = wa.messages(direction="out")
    assert reply.case_id == case.id

    wa.twilio.add_media(ME, PDF, "application/pdf", message_sid=MM)
    wa.app.webhook("document_pdf")
    assert _case(wa).status == "pendiente_requisitos"  # nothing happens until the worker has the file
    wa.run_worker()

    case = _case(wa)
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"
    with wa.runtime.sessions() as session:
        [document] = session.scalars(select(Document)).all()
        kinds = [e.kind for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert document.case_id == case.id and case.requirements[0]["status"] == "received"
    assert case.requirements[0]["document_id"] == document.id
    assert "requirement_received" in kinds and "derived" in kinds
    confirmation = wa.twilio.sent()[-1].value("Body")
    assert case.number in confirmation and "Gestor(a) Comercial" in confirmation
    assert len(wa.twilio.sent()) == 2
    [_, incoming_pdf] = wa.messages(direction="in")
    assert incoming_pdf.case_id == case.id

    # Twilio reports both replies delivered and read.
    for reply in wa.messages(direction="out"):
        for status in ("sent", "delivered", "read"):
            fields = [("MessageSid", reply.external_id), ("MessageStatus", status), ("SmsStatus", status),
                      ("To", f"whatsapp:{IMPORTADORA}"), ("From", SENDER), ("ChannelPrefix", "whatsapp")]
            assert wa.app.post(f"/webhooks/whatsapp/status?message={reply.id}", fields).status_code == 200
    assert [m.status for m in wa.messages(direction="out")] == ["read", "read"]
