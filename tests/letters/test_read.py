"""bot/letters on the generated letters (tests/letters/documents.py): the text layer of a PDF, OCR
of a scan and of a tilted noisy phone photo, and bad inputs that must give "unreadable", never an
exception."""
from __future__ import annotations

import time

import pytest

from bot import letters
from bot.letters import ocr
from tests.conftest import service_missing
from tests.letters import documents


@pytest.fixture(autouse=True)
def _tesseract():
    if not ocr.available() or not documents.font_available():
        service_missing("tesseract-ocr, tesseract-ocr-spa and fonts-dejavu-core are needed (apt-get install)")


def found(text: str) -> list[str]:
    folded = documents.fold(text).replace(" ", "")
    return [w for w in documents.KEY_WORDS if documents.fold(w).replace(" ", "") in folded]


def test_pdf_text_layer_is_read_without_ocr():
    result = letters.read(documents.text_pdf(), "application/pdf")
    assert (result.status, result.pages) == ("text", 1)
    assert found(result.text) == documents.KEY_WORDS
    assert "detalle de llamadas de la línea fija número 4412345" in result.text


def test_scanned_pdf_is_read_by_ocr():
    scan = documents.image_pdf(documents.scanned(documents.letter_image(), angle=3.0))
    result = letters.read(scan, "application/pdf")
    assert result.status == "ocr"
    assert found(result.text) == documents.KEY_WORDS


@pytest.mark.parametrize("sideways", [False, True])
def test_tilted_noisy_photo_is_read_by_ocr(sideways):
    photo = documents.jpeg(documents.photo(documents.letter_image()), sideways=sideways)
    result = letters.read(photo, "image/jpeg")
    assert result.status == "ocr"
    assert found(result.text) == documents.KEY_WORDS


def test_png_is_read():
    result = letters.read(documents.png(documents.letter_image()), "image/png")
    assert result.status == "ocr" and found(result.text) == documents.KEY_WORDS


def test_iphone_heic_photo_is_read():
    # A HEIC encoded here by pillow-heif from the tilted noisy photo; before HEIC was read it was
    # "unsupported" and the client got "no pudimos leer".
    result = letters.read(documents.heic(documents.photo(documents.letter_image())), "image/heic")
    assert result.status == "ocr" and found(result.text) == documents.KEY_WORDS


@pytest.mark.parametrize("data, content_type, reason", [
    (documents.corrupt_pdf(), "application/pdf", "corrupt"),
    (b"%PDF-1.4 garbage", "application/pdf", "corrupt"),
    (b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg", "corrupt"),
    (b"", "image/png", "corrupt"),
    (documents.noise_image(), "image/jpeg", "no_text"),
    (b"GIF89a", "image/gif", "unsupported"),
])
def test_bad_input_is_unreadable_never_an_exception(data, content_type, reason):
    result = letters.read(data, content_type)
    assert (result.status, result.text, result.reason) == ("unreadable", "", reason)


def test_image_above_the_pixel_cap_is_not_decoded():
    result = letters.read(documents.png(documents.letter_image(dpi=100)), "image/png", max_pixels=100_000)
    assert (result.status, result.reason) == ("unreadable", "too_large")


def test_time_cap_per_document():
    scan = documents.image_pdf(documents.scanned(documents.letter_image()), pages=3)
    started = time.monotonic()
    result = letters.read(scan, "application/pdf", seconds=0.5)
    assert time.monotonic() - started < 5
    assert result.status == "unreadable"


def test_page_cap_per_document():
    scan = documents.image_pdf(documents.scanned(documents.letter_image()), pages=3)
    result = letters.read(scan, "application/pdf", max_pages=1)
    assert (result.status, result.pages) == ("ocr", 1)


def test_speckle_filter_only_on_speckled_pages():
    # The median that cleans a scan would thin a clean page's digits (a 5 read as a 3).
    assert ocr.speckled(documents.scanned(documents.letter_image()))
    assert not ocr.speckled(documents.letter_image())
    assert not ocr.speckled(documents.photo(documents.letter_image()).convert("L"))
