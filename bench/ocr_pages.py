"""OCR seconds per page of a client's letter: bot/letters (preprocessing + Tesseract `spa`) against
the bare `pytesseract.image_to_string(page, lang="spa")` on the same page, side by side, with the
share of the letter's words each one reads.

Pages come from tests/letters/documents.py (no binary fixture): a phone photo (tilted -2.5°, noise,
uneven light, JPEG) and a flatbed scan (tilted 3°, speckle, in a PDF). The baseline gets exactly the
image bot/letters gets: the decoded JPEG, the picture inside the scanned PDF. Runs are interleaved
(ours, bare, ours, bare…) so machine load hits both alike; median and min of N runs.

    .venv/bin/python bench/ocr_pages.py [--runs 5]
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pytesseract  # noqa: E402
from PIL import Image  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from bot import letters  # noqa: E402  (sets OMP_THREAD_LIMIT=1 for both sides)
from tests.letters import documents  # noqa: E402


def words_read(text: str) -> float:
    """Share of the letter's words (3+ letters) found in the text, accents and case folded."""
    wanted = [w for w in documents.fold(" ".join(documents.LETTER)).split() if len(w) >= 3]
    found = set(documents.fold(text).split())
    return sum(w in found for w in wanted) / len(wanted)


def pages() -> list[tuple[str, bytes, str, Image.Image]]:
    page = documents.letter_image()
    photo = documents.jpeg(documents.photo(page))
    scan = documents.image_pdf(documents.scanned(page))
    scan_image = PdfReader(io.BytesIO(scan)).pages[0].images[0].image
    return [("photo (JPEG)", photo, "image/jpeg", Image.open(io.BytesIO(photo))),
            ("scan (PDF)", scan, "application/pdf", scan_image)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"tesseract {pytesseract.get_tesseract_version()}, {args.runs} runs per side, interleaved\n")
    print(f"{'page':<14} {'bot/letters s/page':>20} {'bare pytesseract s/page':>24} {'words ours':>11} {'words bare':>11}")
    for name, data, content_type, image in pages():
        ours, bare, ours_text, bare_text = [], [], "", ""
        for _ in range(args.runs):
            started = time.perf_counter()
            ours_text = letters.read(data, content_type).text
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            bare_text = pytesseract.image_to_string(image, lang="spa")
            bare.append(time.perf_counter() - started)
        print(f"{name:<14} {statistics.median(ours):>12.2f} (min {min(ours):.2f}) "
              f"{statistics.median(bare):>15.2f} (min {min(bare):.2f}) "
              f"{words_read(ours_text):>10.0%} {words_read(bare_text):>11.0%}")


if __name__ == "__main__":
    main()
