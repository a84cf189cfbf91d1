"""WhatsApp: a photo or a PDF of a letter sent without words is read by the worker (issue 14) and
answered with the trámite it asks for; the download job hands the file over, a read_letter job
reads it. The letter (tests/letters/documents.py) asks for the call detail of line 4412345 for
August and September for Importadora El Valle, whose WhatsApp is +59170000001."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.letters import ocr
from bot.models import Document, Job
from tests.conftest import service_missing
from tests.letters import documents as letters
from tests.whatsapp.test_media import DOC_ME, DOC_MM, IMG_ME, IMG_MM


@pytest.fixture(autouse=True)
def _tesseract():
    if not ocr.available() or not letters.font_available():
        service_missing("tesseract-ocr, tesseract-ocr-spa and fonts-dejavu-core are needed (apt-get install)")


def _answered_as_g(wa, status: str) -> None:
    [reply] = wa.replies()
    with wa.runtime.sessions() as session:
        [case] = session.scalars(select(wa_case_model()))
        [document] = session.scalars(select(Document))
        kinds = sorted((j.kind, j.status) for j in session.scalars(select(Job)))
    assert case.tramite == "G" and case.status == "en_proceso"
    assert [Decimal(c["amount"]) for c in case.quoted_costs] == [Decimal("12.00"), Decimal("12.00")]
    assert "Bs 24,00" in reply and case.number in reply and "Requisitos pendientes" not in reply
    assert [(r["code"], r["status"], r["document_id"]) for r in case.requirements] == [
        ("carta_solicitud", "received", document.id)]
    assert document.case_id == case.id and document.text_status == status
    assert kinds == [("read_letter", "done"), ("whatsapp_media", "done")]


def wa_case_model():
    from bot.models import Case
    return Case


def test_photo_of_a_letter_without_words(demo, wa):
    photo = letters.jpeg(letters.photo(letters.letter_image()), quality=70)
    wa.twilio.add_media(IMG_ME, photo, "image/jpeg", message_sid=IMG_MM)
    wa.app.webhook("image_caption", Body="")
    assert wa.replies() == []  # the webhook neither downloads nor reads
    wa.run_worker()  # download job, then read_letter, then the outbox
    _answered_as_g(wa, "ocr")


def test_photo_of_a_letter_with_a_caption_that_asks_nothing(demo, wa):
    # "Adjunto la carta firmada" used to get the menu at once, and the letter was then never read.
    photo = letters.jpeg(letters.photo(letters.letter_image()), quality=70)
    wa.twilio.add_media(IMG_ME, photo, "image/jpeg", message_sid=IMG_MM)
    wa.app.webhook("image_caption", Body="Buenos días, adjunto la carta firmada")
    assert wa.replies() == []  # the words wait for the letter
    wa.run_worker()
    _answered_as_g(wa, "ocr")


def test_pdf_of_a_letter_without_words(demo, wa):
    wa.twilio.add_media(DOC_ME, letters.text_pdf(), "application/pdf", message_sid=DOC_MM)
    wa.app.webhook("document_pdf")
    wa.run_worker()
    _answered_as_g(wa, "text")


def test_unreadable_photo_is_answered_politely(demo, wa):
    wa.twilio.add_media(IMG_ME, letters.noise_image((600, 800)), "image/jpeg", message_sid=IMG_MM)
    wa.app.webhook("image_caption", Body="")
    wa.run_worker()
    [reply] = wa.replies()
    assert "no logramos leer" in reply and "foto más nítida" in reply
    with wa.runtime.sessions() as session:
        [document] = session.scalars(select(Document))
    assert document.text_status == "unreadable" and document.removed_at is None
