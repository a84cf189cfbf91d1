"""Letters whose request is only in the attachment (issue 14), end to end: delivered to Dovecot over
LMTP, fetched by the poller, read by the worker's read_letter job (pypdf / Tesseract), answered
over SMTP. The letter (tests/letters/documents.py) asks for the call detail of line 4412345 for
August and September, signed for Importadora El Valle (NIT 1020304021), whose contact
contabilidad@empresa.bo sends it: trámite G, Bs 24,00, the letter is the carta de solicitud."""
from __future__ import annotations

from decimal import Decimal
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import select

from bot.letters import ocr
from bot.models import Document, Job
from tests.conftest import service_missing
from tests.letters import documents as letters

ANA = "contabilidad@empresa.bo"


@pytest.fixture(autouse=True)
def _tesseract():
    if not ocr.available() or not letters.font_available():
        service_missing("tesseract-ocr, tesseract-ocr-spa and fonts-dejavu-core are needed (apt-get install)")


def email_with(filename: str, content_type: str, data: bytes, body: str = "Adjunto nuestra carta.") -> tuple[bytes, str]:
    message = EmailMessage()
    message["From"] = f"María Fernanda Quiroga <{ANA}>"
    message["To"] = "Comteco Empresas <empresas@comteco.bo>"
    message["Subject"] = "Carta"
    message["Message-ID"] = message_id = make_msgid(domain="empresa.bo")
    message["Date"] = "Sat, 28 Nov 2026 08:45:12 -0400"
    if body:
        message.set_content(body)
    maintype, subtype = content_type.split("/")
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(), message_id


def text_of(received) -> str:
    return received.message.get_body(("plain",)).get_content()


def send_and_work(bot, raw: bytes):
    report = bot.deliver_and_poll(raw)
    assert (report.processed, report.failed) == (1, 0)
    # The poll answered nothing: the request is in the letter, read by the worker.
    assert bot.replies_to(ANA) == []
    with bot.session() as session:
        jobs = list(session.scalars(select(Job).where(Job.kind == "read_letter")))
    assert [j.status for j in jobs] == ["pending"]
    bot.runtime.worker.run_once()  # one worker pass: read_letter, then the outbox
    with bot.session() as session:
        assert session.get(Job, jobs[0].id).status == "done"


def assert_answered_as_g(bot, message_id: str, filename: str, status: str) -> None:
    (reply,) = bot.replies_to(ANA)
    body = text_of(reply)
    (case,) = bot.cases()
    assert case.tramite == "G" and case.status == "en_proceso" and case.current_role == "gestor_comercial"
    assert [Decimal(c["amount"]) for c in case.quoted_costs] == [Decimal("12.00"), Decimal("12.00")]
    assert "Bs 24,00" in body and case.number in body
    # The letter is the carta de solicitud: received, never asked for again.
    assert "Requisitos pendientes" not in body
    assert [(r["code"], r["status"]) for r in case.requirements] == [("carta_solicitud", "received")]
    with bot.session() as session:
        (document,) = session.scalars(select(Document))
    assert (document.filename, document.case_id, document.text_status) == (filename, case.id, status)
    assert case.requirements[0]["document_id"] == document.id
    assert letters.LINE_NUMBER in document.text and "Quiroga" in document.text
    # Threaded on the client's email.
    assert reply.message["In-Reply-To"].strip() == message_id
    # The letter's words are a message of the same conversation, derived from the original.
    original, derived = bot.messages(direction="in")
    assert original.external_id == message_id and derived.external_id == f"{message_id}#carta"
    assert derived.conversation_id == original.conversation_id and derived.case_id == case.id
    # A second worker pass changes nothing (the job is done; the derived id is unique).
    bot.runtime.worker.run_once()
    assert len(bot.replies_to(ANA)) == 1 and len(bot.cases()) == 1


def test_pdf_only_letter_is_read_from_its_text_layer(bot):
    raw, message_id = email_with("carta.pdf", "application/pdf", letters.text_pdf())
    send_and_work(bot, raw)
    assert_answered_as_g(bot, message_id, "carta.pdf", "text")
    # A worker that died after the engine's commit but before marking the job done: run again.
    with bot.runtime.sessions.begin() as session:
        job = session.scalars(select(Job).where(Job.kind == "read_letter")).one()
        job.status, job.due_at = "pending", bot.clock.now()
    bot.runtime.worker.run_once()
    assert len(bot.replies_to(ANA)) == 1 and len(bot.cases()) == 1 and len(bot.messages(direction="in")) == 2
    with bot.session() as session:
        assert session.scalars(select(Job).where(Job.kind == "read_letter")).one().status == "done"


def test_photo_of_the_letter_is_read_by_ocr(bot):
    photo = letters.jpeg(letters.photo(letters.letter_image()))  # tilted, noisy, uneven light
    raw, message_id = email_with("IMG_20261128_084412.jpg", "image/jpeg", photo, body="")
    send_and_work(bot, raw)
    assert_answered_as_g(bot, message_id, "IMG_20261128_084412.jpg", "ocr")


def test_iphone_heic_photo_of_the_letter_is_read_by_ocr(bot):
    photo = letters.heic(letters.photo(letters.letter_image()))
    raw, message_id = email_with("IMG_4417.HEIC", "image/heic", photo, body="")
    send_and_work(bot, raw)
    assert_answered_as_g(bot, message_id, "IMG_4417.HEIC", "ocr")


def test_scanned_pdf_is_read_by_ocr(bot):
    scan = letters.image_pdf(letters.scanned(letters.letter_image()))
    raw, message_id = email_with("escaneo.pdf", "application/pdf", scan)
    send_and_work(bot, raw)
    assert_answered_as_g(bot, message_id, "escaneo.pdf", "ocr")


def test_unreadable_image_is_answered_politely_and_kept(bot):
    raw, message_id = email_with("foto.jpg", "image/jpeg", letters.noise_image())
    send_and_work(bot, raw)
    (reply,) = bot.replies_to(ANA)
    body = text_of(reply)
    assert "no logramos leer" in body and "foto más nítida" in body
    assert reply.message["In-Reply-To"].strip() == message_id
    assert bot.cases() == []
    with bot.session() as session:
        (document,) = session.scalars(select(Document))
    assert (document.filename, document.text_status, document.removed_at) == ("foto.jpg", "unreadable", None)
    path = bot.runtime.settings.documents_dir / document.path
    assert path.read_bytes() == letters.noise_image()
