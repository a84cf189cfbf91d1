"""A client's letter in every shape it reaches us: a PDF with a text layer, a scanned PDF, a phone
photo (JPEG, HEIC), plus the bad inputs (noise, a corrupt PDF). Everything is generated here, so the
tests and bench/ocr_pages.py read the same documents and no binary fixture lives in the repository.

The scan and the photo are made the way the real ones go wrong: tilt, noise, uneven light, JPEG
artefacts, a phone that stores the picture sideways with an EXIF orientation tag.
"""
from __future__ import annotations

import io
import random
import unicodedata
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core
FONT = FONT_DIR / "DejaVuSerif.ttf"

# The words the tests look for: what the engine will later need from the letter.
SIGNER = "María Fernanda Quiroga Vargas"
LINE_NUMBER = "4412345"
NIT = "1020304021"  # Importadora El Valle S.R.L. in the demo portfolio (line 4412345)
KEY_WORDS = ["detalle de llamadas", LINE_NUMBER, NIT, "Quiroga", "Vargas", "Cochabamba"]

LETTER = [
    "Cochabamba, 14 de noviembre de 2026",
    "",
    "Señores",
    "COMTECO R.L.",
    "Atención al Cliente Empresarial",
    "Presente.-",
    "",
    "Ref.: Solicitud de detalle de llamadas",
    "",
    "De nuestra consideración:",
    "",
    f"Por medio de la presente, Importadora El Valle S.R.L., con NIT {NIT},",
    f"solicita el detalle de llamadas de la línea fija número {LINE_NUMBER},",
    "correspondiente a los meses de agosto y septiembre de 2026, para",
    "nuestro control interno de gastos. Agradecemos su atención.",
    "",
    "Sin otro particular, saludamos a ustedes atentamente.",
    "",
    "",
    SIGNER,
    "Gerente Administrativa",
    "Importadora El Valle S.R.L.",
]


def fold(text: str) -> str:
    """Lower case, accents removed, runs of whitespace collapsed: OCR drops accents and breaks
    lines where it likes, and neither matters for finding a word."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().split())


def font_available() -> bool:
    return FONT.exists()


def text_pdf() -> bytes:
    """The letter as a word processor exports it: a real text layer (fpdf2, core font)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in LETTER:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def letter_image(dpi: int = 200) -> Image.Image:
    """The letter printed on a white A4 sheet, grayscale, at `dpi`."""
    width, height = round(8.27 * dpi), round(11.69 * dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), size=round(11 / 72 * dpi))  # 11 pt
    margin, y, step = round(dpi * 1.0), round(dpi * 1.2), round(dpi * 0.23)
    for line in LETTER:
        draw.text((margin, y), line, font=font, fill=0)
        y += step
    return page


def scanned(page: Image.Image, *, angle: float = 3.0, seed: int = 1) -> Image.Image:
    """A flatbed scan: the sheet a few degrees off, grey paper, speckle noise, slight blur."""
    rng = random.Random(seed)
    tilted = page.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
    noisy = tilted.point(lambda v: 235 if v > 200 else v)  # paper is never white
    noisy = noisy.filter(ImageFilter.GaussianBlur(0.6))
    pixels = noisy.load()
    w, h = noisy.size
    for _ in range(w * h // 150):  # salt-and-pepper
        x, y = rng.randrange(w), rng.randrange(h)
        pixels[x, y] = rng.choice((40, 255))
    return noisy


def photo(page: Image.Image, *, angle: float = -2.5) -> Image.Image:
    """A phone photo of the sheet on a desk: darker surround, light falling off to one corner,
    tilt, sensor noise, colour."""
    w, h = page.size
    desk = Image.new("L", (int(w * 1.15), int(h * 1.12)), 90)
    desk.paste(page, ((desk.width - w) // 2, (desk.height - h) // 2))
    tilted = desk.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=90)
    # Light falls off from the top-left corner: a gradient multiplied in.
    down = Image.linear_gradient("L").resize(tilted.size)
    across = down.transpose(Image.Transpose.ROTATE_270).resize(tilted.size)
    shade = ImageChops.add(down, across, scale=2).point(lambda v: 255 - v // 3)
    lit = Image.composite(tilted, Image.new("L", tilted.size, 0), shade)
    lit = lit.filter(ImageFilter.GaussianBlur(0.8))
    noise = Image.effect_noise(lit.size, 18)  # Gaussian around mid-grey
    lit = Image.blend(lit, noise, 0.12)
    rgb = Image.merge("RGB", (lit, lit.point(lambda v: int(v * 0.97)), lit.point(lambda v: int(v * 0.9))))
    return rgb


def jpeg(image: Image.Image, *, sideways: bool = False, quality: int = 80) -> bytes:
    """JPEG bytes; `sideways` stores the pixels rotated and an EXIF orientation of 6 ("rotate 90°
    clockwise to view"), as phones do."""
    out = io.BytesIO()
    if sideways:
        exif = Image.Exif()
        exif[0x0112] = 6
        image.rotate(90, expand=True).save(out, "JPEG", quality=quality, exif=exif)
    else:
        image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def heic(image: Image.Image) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    image.convert("RGB").save(out, "HEIF", quality=70)
    return out.getvalue()


def image_pdf(image: Image.Image, *, pages: int = 1) -> bytes:
    """A PDF whose pages are only pictures, as a scanner or a "scan to PDF" app writes it."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    buffer = io.BytesIO()
    image.convert("L").save(buffer, "JPEG", quality=85)
    for _ in range(pages):
        pdf.add_page()
        pdf.image(io.BytesIO(buffer.getvalue()), x=0, y=0, w=210, h=297)
    return bytes(pdf.output())


def noise_image(size: tuple[int, int] = (1200, 1600), seed: int = 3) -> bytes:
    """Random grey noise as a JPEG: a photo with nothing readable in it."""
    rng = random.Random(seed)
    raw = bytes(rng.randrange(256) for _ in range(size[0] * size[1]))
    return jpeg(Image.frombytes("L", size, raw))


def corrupt_pdf() -> bytes:
    """A PDF cut short in transit: the header and a bit of the body, no xref, no trailer."""
    return text_pdf()[:300]
