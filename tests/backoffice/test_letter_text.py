"""Staff see the words the worker read in a letter (issue 14) with the document on the case page:
in the requirements checklist (the letter is the carta de solicitud) and in the timeline."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from bot.letters import ocr
from bot.messaging import Attachment, InboundMessage
from bot.models import Case
from tests.conftest import service_missing
from tests.letters import documents as letters


@pytest.fixture(autouse=True)
def _tesseract():
    if not ocr.available() or not letters.font_available():
        service_missing("tesseract-ocr, tesseract-ocr-spa and fonts-dejavu-core are needed (apt-get install)")


def test_case_page_shows_the_text_read_from_the_photo(staff, login, runtime):
    photo = letters.jpeg(letters.photo(letters.letter_image()))
    runtime.conversations.handle(InboundMessage(
        channel="whatsapp", address="+59170000001", body="", external_id="wa-letter",
        attachments=(Attachment(filename="carta.jpg", content_type="image/jpeg", data=photo),)))
    runtime.worker.run_once()
    with staff.sessions() as session:
        case = session.scalars(select(Case)).one()
    page = html.unescape(login("mrojas").get(f"/backoffice/casos/{case.id}").text)
    assert case.tramite == "G"
    # Once beside the checklist's carta de solicitud, once with the message it came with.
    assert page.count("Texto leído por OCR (compárelo con el documento)") == 2
    assert page.count("Importadora El Valle S.R.L., con NIT 1020304021") >= 2
    assert "carta.jpg" in page
