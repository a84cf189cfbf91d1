"""One page image in, its words out: preprocessing and Tesseract (Spanish model, `spa`).

Preprocessing is measured by bench/ocr_pages.py on the generated letters of tests/letters: on a
phone photo tilted 2.5° and a speckled scan tilted 3°, bare Tesseract read 98% and 95% of the
letter's words, this pipeline 100% of both, at about 1.4 s a page against 0.7-1.0 s (2026-12-03,
2 shared cores). Speckle removal, upscaling small images, flattening the light, straightening
and thresholding are what it adds. Deskew is a projection
profile in numpy: it matched the `deskew` package angle for angle on the test set without pulling
in scikit-image and SciPy. Tesseract's OSD only reports quarter turns, so it is used solely as a
fallback for a page that reads as nothing (a photo stored sideways without an EXIF tag).
"""
from __future__ import annotations

import functools
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytesseract
from PIL import Image, ImageFilter, ImageOps

# Tesseract's OpenMP threads fight each other (and the worker) on a 2-core machine: one thread
# per process is faster overall. pytesseract passes os.environ to the CLI, so set it here, once,
# at import (changing the environment later, while threads run, is unsafe).
os.environ["OMP_THREAD_LIMIT"] = "1"

LANG = "spa"
SMALL_SIDE = 2400  # long side below which a page is upscaled: x-height gets to Tesseract's liking
MAX_SIDE = 3500  # long side above which it is downscaled: more pixels cost time, not words
MAX_UPSCALE = 3.0
MAX_SKEW = 10.0  # degrees searched either way; a photo tilted more than that is retaken anyway
MIN_CONFIDENT_WORDS = 3  # fewer confident words than this and the page counts as unreadable
CONFIDENT = 60  # Tesseract word confidence, 0-100


class OcrTimeout(Exception):
    """The document's time budget ran out."""


class OcrUnavailable(Exception):
    """Tesseract or its Spanish model is not installed: an operations problem, not bad input."""


@dataclass(frozen=True)
class PageText:
    text: str
    readable: bool  # enough confident words to call it a page of text


@functools.cache
def available() -> bool:
    """Whether the `tesseract` CLI and its Spanish model are installed (cached per process)."""
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return False
    try:
        return LANG in pytesseract.get_languages(config="")
    except (pytesseract.TesseractError, OSError):
        return False


def read_page(image: Image.Image, *, remaining: Callable[[], float], dpi: int | None = None) -> PageText:
    """The text of one page. `remaining()` gives the seconds left in the document's budget;
    raises OcrTimeout when it runs out, OcrUnavailable when Tesseract is missing."""
    page = prepare(image)
    result = _tesseract(page, remaining, dpi)
    if result.readable:
        return result
    turn = _quarter_turn(page, remaining)
    if turn:
        turned = _tesseract(page.rotate(-turn, expand=True), remaining, dpi)
        if turned.readable:
            return turned
    return result


def prepare(image: Image.Image) -> Image.Image:
    """EXIF orientation, grayscale, speckle removed, size, flat light, straight lines, black on
    white (mode "1")."""
    gray = ImageOps.exif_transpose(image).convert("L")
    if speckled(gray):
        # A 3x3 median first: a scanner's salt-and-pepper survives Otsu as specks Tesseract reads
        # as punctuation inside words (bench/ocr_pages.py: scan words 87% -> 100%). Only then: on
        # a clean page the median thins digits enough to turn a 5 into a 3.
        gray = gray.filter(ImageFilter.MedianFilter(3))
    gray = _resize(gray)
    flat = _flatten(gray)
    angle = skew_angle(flat)
    if abs(angle) >= 0.3:  # below that, resampling blurs more than the tilt hurts
        flat = flat.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
    array = np.asarray(flat)
    return Image.fromarray(array > otsu_threshold(array)).convert("1")


SPECKLE_PER_10K = 5.0  # isolated dark pixels per 10,000: 0 on photos and clean pages, ~30 on the test scans


def speckled(gray: Image.Image) -> bool:
    """Salt-and-pepper noise: dark pixels with no dark neighbour (ink strokes always have some)."""
    dark = np.asarray(gray) < 128
    padded = np.pad(dark, 1).astype(np.uint8)
    h, w = dark.shape
    neighbours = sum(padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    return float((dark & (neighbours == 1)).sum()) * 10_000 / max(dark.size, 1) > SPECKLE_PER_10K


def _resize(gray: Image.Image) -> Image.Image:
    long_side = max(gray.size)
    if long_side < SMALL_SIDE:
        factor = min(MAX_UPSCALE, SMALL_SIDE / long_side)
    elif long_side > MAX_SIDE:
        factor = MAX_SIDE / long_side
    else:
        return gray
    size = (max(1, round(gray.width * factor)), max(1, round(gray.height * factor)))
    return gray.resize(size, Image.LANCZOS)


def _flatten(gray: Image.Image) -> Image.Image:
    """Divide by the paper's own brightness, so a shadow or a dim corner of a photo turns white
    like the rest of the sheet instead of black under a global threshold. The background is the
    local maximum (text removed) of a 1/8 image, blurred and scaled back: cheap and smooth."""
    small = gray.reduce(8) if min(gray.size) >= 64 else gray
    background = small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(4))
    background = background.resize(gray.size, Image.BILINEAR)
    ink = np.asarray(gray, dtype=np.float32)
    paper = np.asarray(background, dtype=np.float32) + 1.0
    return Image.fromarray(np.clip(ink / paper * 255.0, 0, 255).astype(np.uint8))


def otsu_threshold(array: np.ndarray) -> int:
    """Otsu's threshold: the grey level that best separates ink from paper."""
    hist = np.bincount(array.ravel(), minlength=256).astype(np.float64)
    weight = np.cumsum(hist) / max(hist.sum(), 1.0)
    mean = np.cumsum(hist * np.arange(256)) / max(hist.sum(), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean[-1] * weight - mean) ** 2 / (weight * (1.0 - weight))
    between = np.nan_to_num(between, nan=0.0, posinf=0.0)
    return int(np.argmax(between))


def skew_angle(flat: Image.Image) -> float:
    """Degrees to rotate (counter-clockwise, as Image.rotate) to level the text lines.

    Projection profile: lines of text are level when the row sums of ink change most sharply
    from row to row (ink rows against blank gaps). Coarse search in 0.5° steps, then 0.1°, on a
    ~800 px copy so each trial rotation costs a millisecond or two."""
    small = flat.reduce(max(1, flat.width // 800))
    array = np.asarray(small)
    ink = Image.fromarray(((array <= otsu_threshold(array)) * 255).astype(np.uint8))

    def sharpness(angle: float) -> float:
        rows = np.asarray(ink.rotate(angle, resample=Image.NEAREST), dtype=np.float32).sum(axis=1)
        return float(np.var(np.diff(rows)))

    coarse = max(np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.5), key=sharpness)
    fine = max(np.arange(coarse - 0.5, coarse + 0.51, 0.1), key=sharpness)
    return round(float(fine), 1)


def _budget(remaining: Callable[[], float]) -> float:
    seconds = remaining()
    if seconds <= 0:
        raise OcrTimeout()
    return seconds


def _tesseract(page: Image.Image, remaining: Callable[[], float], dpi: int | None) -> PageText:
    # --dpi when known (a rendered PDF page) spares Tesseract guessing the resolution.
    config = f"--psm 3 --dpi {dpi}" if dpi else "--psm 3"
    try:
        data = pytesseract.image_to_data(page, lang=LANG, config=config, timeout=_budget(remaining),
                                         output_type=pytesseract.Output.DICT)
    except RuntimeError as exc:  # pytesseract's "Tesseract process timeout" (process killed)
        if "timeout" in str(exc).lower():
            raise OcrTimeout() from exc
        raise
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailable(str(exc)) from exc
    except pytesseract.TesseractError as exc:
        if "loading language" in str(exc).lower():
            raise OcrUnavailable(str(exc)) from exc
        return PageText("", False)  # e.g. "Image too small to scale": nothing to read
    return _assemble(data)


def _assemble(data: dict) -> PageText:
    """Lines and paragraphs back from Tesseract's word boxes. Every word is kept, confident or
    not (a doubtful word is still the client's); confidence only decides `readable`."""
    lines: dict[tuple[int, int, int], list[str]] = {}
    confident = 0
    for i, word in enumerate(data["text"]):
        word = (word or "").strip()
        if not word:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append(word)
        if float(data["conf"][i]) >= CONFIDENT and len(re.findall(r"\w", word)) >= 2:
            confident += 1
    out: list[str] = []
    previous = None
    for key, words in lines.items():  # dicts keep Tesseract's reading order
        if previous is not None and key[:2] != previous[:2]:
            out.append("")  # a new paragraph or block
        out.append(" ".join(words))
        previous = key
    return PageText("\n".join(out), confident >= MIN_CONFIDENT_WORDS)


def _quarter_turn(page: Image.Image, remaining: Callable[[], float]) -> int:
    """Tesseract's OSD: 90, 180 or 270 when the page lies sideways or upside down, else 0."""
    try:
        osd = pytesseract.image_to_osd(page, config="--psm 0", timeout=_budget(remaining))
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise OcrTimeout() from exc
        raise
    except pytesseract.TesseractError:  # "Too few characters": no script to orient by
        return 0
    rotate = re.search(r"Rotate: (\d+)", osd)
    confidence = re.search(r"Orientation confidence: ([\d.]+)", osd)
    if not rotate or not confidence or float(confidence.group(1)) < 2.0:
        return 0
    return int(rotate.group(1)) % 360
