"""The words of a client's letter: a PDF's text layer, else OCR of its page images; a photo by OCR.

`read(data, content_type, ...)` never raises on bad input (corrupt, huge, empty, noise): it returns
status "unreadable". Only a missing Tesseract (an operations problem) raises OcrUnavailable, so
the job retries instead of telling the client the photo is unclear.

Statuses stored on the document (documents.text_status): "text" (PDF text layer), "ocr",
"unreadable".
"""
from __future__ import annotations

import io
import logging
import re
import time
from dataclasses import dataclass

from PIL import Image

log = logging.getLogger(__name__)

PDF = "application/pdf"
HEIC = "image/heic"  # what iPhones take photos in; decoded by pillow-heif (libheif in its wheel)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", HEIC)
LETTER_TYPES = (PDF, *IMAGE_TYPES)
MIN_TEXT_CHARS = 20  # letters/digits below which a text layer is only a stray header: OCR instead


@dataclass(frozen=True)
class Extraction:
    text: str
    status: str  # text | ocr | unreadable
    pages: int = 0
    reason: str = ""  # why unreadable, for the log and staff: corrupt | too_large | timeout | no_text


def is_letter(content_type: str) -> bool:
    return content_type in LETTER_TYPES


def read(data: bytes, content_type: str, *, seconds: float = 90.0, max_pages: int = 5,
         max_pixels: int = 40_000_000) -> Extraction:
    """The text of one document within `seconds` (OCR) and `max_pages`; images above `max_pixels`
    are not decoded."""
    from bot.letters import ocr

    deadline = time.monotonic() + seconds

    def remaining() -> float:
        return deadline - time.monotonic()

    try:
        if content_type == PDF:
            return _pdf(data, remaining=remaining, max_pages=max_pages, max_pixels=max_pixels)
        if content_type in IMAGE_TYPES:
            if content_type == HEIC:
                _register_heif()
            image = _open_image(data, max_pixels)
            if image is None:
                return Extraction("", "unreadable", reason="corrupt")
            page = ocr.read_page(image, remaining=remaining)
            return _result([page.text], [page.readable], pages=1)
        return Extraction("", "unreadable", reason="unsupported")
    except ocr.OcrUnavailable:
        raise
    except ocr.OcrTimeout:
        return Extraction("", "unreadable", reason="timeout")
    except _TooLarge:
        return Extraction("", "unreadable", reason="too_large")
    except Exception:  # a malformed file can break any parser in any way: never the worker
        log.warning("document could not be read", exc_info=True)
        return Extraction("", "unreadable", reason="corrupt")


class _TooLarge(Exception):
    pass


def _register_heif() -> None:
    # Imported on the first HEIC only: most letters are PDFs and JPEGs.
    import pillow_heif

    pillow_heif.register_heif_opener()


def _open_image(data: bytes, max_pixels: int) -> Image.Image | None:
    try:
        image = Image.open(io.BytesIO(data))
    except Exception:
        return None
    if image.width * image.height > max_pixels:
        raise _TooLarge()
    image.load()
    return image


def _chars(text: str) -> int:
    return len(re.findall(r"\w", text))


def _pdf(data: bytes, *, remaining, max_pages: int, max_pixels: int) -> Extraction:
    from pypdf import PdfReader

    from bot.letters import ocr

    reader = PdfReader(io.BytesIO(data), strict=False)
    pages = list(reader.pages)[:max_pages]
    layer = [page.extract_text() or "" for page in pages]
    if _chars("".join(layer)) >= MIN_TEXT_CHARS:
        return Extraction("\n\n".join(t.strip() for t in layer if t.strip()), "text", pages=len(pages))
    # A scan: OCR the largest picture of each page, at the resolution it was placed with.
    texts, readable = [], []
    for page in pages:
        images = [i for i in page.images if i.image is not None]
        if not images:
            continue
        biggest = max(images, key=lambda i: i.image.width * i.image.height).image
        if biggest.width * biggest.height > max_pixels:
            raise _TooLarge()
        width_inches = float(page.mediabox.width) / 72 or 8.27
        dpi = max(70, min(600, round(biggest.width / width_inches)))
        try:
            result = ocr.read_page(biggest, remaining=remaining, dpi=dpi)
        except ocr.OcrTimeout:
            break  # what the earlier pages gave is kept
        texts.append(result.text)
        readable.append(result.readable)
    return _result(texts, readable, pages=len(pages))


def _result(texts: list[str], readable: list[bool], *, pages: int) -> Extraction:
    if not any(readable):
        return Extraction("", "unreadable", pages=pages, reason="no_text")
    return Extraction("\n\n".join(t.strip() for t in texts if t.strip()), "ocr", pages=pages)
