"""One page of a document (PDF or OFD): which page a request reads, and that page as the service sees it.

The service reads one page of a document per call:

* the page the API's page field names (``pdf_page_number`` or ``page_num``: the catalog
  says which, :func:`airflow_provider_hwocr.catalog.pages.page_field`), page 1 when the
  field is not sent; an API that takes documents but has no page field (business-license,
  mvs-invoice, peru-id-card, train-ticket) reads page 1;
* a page past the last one is refused (AIS.0101, in :mod:`.validation`), and not billed;
* a PDF page is rendered at 150 dpi (the vendor's docs: "PDFs are converted to images with
  a resolution of 150 dpi", and must then meet the image size limits) with PDFium, then
  read like any image;
* an OFD page is parsed (:mod:`.ofd`): its text objects are the page's lines, exactly as
  printed, the way the service reads an OFD unless asked for ``ofd_to_image_mode``; the page
  is also drawn with Pillow, which is what the OCR reads with ``ofd_to_image_mode``, and what
  sizes, crops and coordinates of the answer refer to.

A page field sent with an image (PNG, JPEG ...) is not an error: the vendor documents the
field for multi-page PDFs, so for an image it has nothing to choose and the image is read.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from airflow_provider_hwocr.catalog import Api
from airflow_provider_hwocr.catalog.pages import page_field
from airflow_provider_hwocr.emulator import ofd
from airflow_provider_hwocr.emulator.ocr import Line, Word

#: Formats that hold pages.
DOCUMENT_FORMATS = frozenset({"PDF", "OFD"})
#: The resolution a page is rendered at (the vendor's, for PDFs).
RENDER_DPI = 150
#: A page larger than this (pixels at ``RENDER_DPI``) is rendered smaller: the OCR shrinks
#: larger images anyway, and the emulator must not spend gigabytes on one page.
MAX_RENDER_PIXELS = 24_000_000
#: What ``X-Emulator-Ocr`` says for an OFD page read from its own text objects.
PARSED = "ofd"
#: Words of an OFD page on one row further apart than this many line heights are separate lines.
_LINE_GAP = 1.0
_MM_PER_INCH = 25.4
_POINTS_PER_INCH = 72
#: PDFium is not thread-safe: one call into it at a time.
_PDFIUM = threading.Lock()
#: The cached fonts are shared by the request threads: one OFD page drawn at a time.
_DRAWING = threading.Lock()


class DocumentProblem(Exception):
    """The document cannot be read (broken, encrypted, no pages): the service's AIS.0104."""


@dataclass(frozen=True)
class Outline:
    """How many pages a document has, and the size in pixels of the requested page (None: no such page)."""

    pages: int
    size: tuple[int, int] | None


@dataclass(frozen=True)
class RenderedPage:
    """A page as an image (PNG), and its text when the file holds it (OFD), else None: read it with OCR."""

    png: bytes
    size: tuple[int, int]
    lines: tuple[Line, ...] | None


def requested_page(api: Api, body: dict[str, Any]) -> int:
    """The page the request selects: the API's page field (validated as an int >= 1), else 1."""
    field = page_field(api)
    value = body.get(field) if field is not None else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _scale(width: float, height: float, per_inch: float) -> float:
    """Pixels per unit (point or mm) of a page rendered at ``RENDER_DPI``, less for a huge page."""
    scale = RENDER_DPI / per_inch
    pixels = width * height * scale * scale
    if pixels > MAX_RENDER_PIXELS:
        scale *= (MAX_RENDER_PIXELS / pixels) ** 0.5
    return scale


def _pixels(width: float, height: float, per_inch: float) -> tuple[int, int]:
    """The size at ``RENDER_DPI`` (unscaled: what the service's limits are checked against)."""
    factor = RENDER_DPI / per_inch
    return max(1, round(width * factor)), max(1, round(height * factor))


# --- PDF ------------------------------------------------------------------------------------


def _open_pdf(data: bytes) -> Any:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise DocumentProblem(f"PDF cannot be opened: {exc}") from None
    if len(pdf) < 1:
        pdf.close()
        raise DocumentProblem("PDF has no pages")
    return pdf


def _pdf_outline(data: bytes, number: int) -> Outline:
    with _PDFIUM:
        pdf = _open_pdf(data)
        try:
            count = len(pdf)
            if not 1 <= number <= count:
                return Outline(count, None)
            page = pdf[number - 1]
            try:
                width, height = page.get_size()
            finally:
                page.close()
        finally:
            pdf.close()
    return Outline(count, _pixels(width, height, _POINTS_PER_INCH))


def _pdf_page(data: bytes, number: int) -> RenderedPage:
    with _PDFIUM:
        pdf = _open_pdf(data)
        try:
            page = pdf[number - 1]
            try:
                width, height = page.get_size()
                scale = _scale(width, height, _POINTS_PER_INCH)
                image = page.render(scale=scale).to_pil()
            finally:
                page.close()
        finally:
            pdf.close()
    return RenderedPage(_png(image.convert("RGB")), image.size, None)


# --- OFD ------------------------------------------------------------------------------------


def _ofd_read(data: bytes, number: int) -> tuple[int, ofd.OfdPage | None]:
    try:
        return ofd.read(data, number)
    except ofd.OfdError as exc:
        raise DocumentProblem(f"OFD cannot be read: {exc}") from None


def _ofd_outline(data: bytes, number: int) -> Outline:
    count, page = _ofd_read(data, number)
    return Outline(count, None if page is None else _pixels(*page.size, _MM_PER_INCH))


def _same_row(row: list[Word], word: Word) -> bool:
    """Each one's vertical centre lies within the other's band (a title above does not take a value in)."""
    top, bottom = min(w.box[1] for w in row), max(w.box[3] for w in row)
    return (
        top <= (word.box[1] + word.box[3]) / 2 <= bottom and word.box[1] <= (top + bottom) / 2 <= word.box[3]
    )


def _rows(words: list[Word]) -> list[list[Word]]:
    """Words grouped into rows of text, top to bottom."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.box[1], w.box[0])):
        row = next((r for r in rows if _same_row(r, word)), None)
        if row is None:
            rows.append([word])
        else:
            row.append(word)
    return rows


def _split(row: list[Word]) -> list[Line]:
    """A row's words left to right, cut into lines where the gap is wider than ``_LINE_GAP`` heights."""
    row = sorted(row, key=lambda w: w.box[0])
    lines, current = [], [row[0]]
    for word in row[1:]:
        height = max(1, current[-1].box[3] - current[-1].box[1])
        if word.box[0] - current[-1].box[2] > _LINE_GAP * height:
            lines.append(Line(tuple(current)))
            current = []
        current.append(word)
    lines.append(Line(tuple(current)))
    return lines


def ofd_lines(page: ofd.OfdPage, scale: float) -> tuple[Line, ...]:
    """The page's text as lines (the reader's unit), in pixels at ``scale`` pixels per mm."""
    words = [
        Word(text.text, 1.0, (round(text.box[0] * scale), round(text.box[1] * scale),
                              round(text.box[2] * scale), round(text.box[3] * scale)))
        for text in page.texts
    ]  # fmt: skip
    lines = [line for row in _rows(words) for line in _split(row)] if words else []
    return tuple(sorted(lines, key=lambda line: (line.box[1], line.box[0])))


@lru_cache(maxsize=64)
def _font(size: int) -> Any:
    """A font for drawing OFD text: one with Chinese glyphs where installed, else a Latin one."""
    from airflow_provider_hwocr.emulator.samples import cjk_font_path, font

    return font(size, "cjk" if cjk_font_path() is not None else "sans")


def _draw(page: ofd.OfdPage, scale: float) -> Any:
    """The page drawn with Pillow: each run of text at its place and size, black on white."""
    from PIL import Image, ImageDraw

    width, height = (max(1, round(side * scale)) for side in page.size)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for text in page.texts:
        left, top = round(text.box[0] * scale), round(text.box[1] * scale)
        draw.text((left, top), text.text, fill="black", font=_font(max(6, round(text.size * scale))))
    return image


def _ofd_page(data: bytes, number: int, parse: bool) -> RenderedPage:
    _count, page = _ofd_read(data, number)
    if page is None:  # checked before: validation refuses a page past the end
        raise DocumentProblem(f"OFD has no page {number}")
    scale = _scale(*page.size, _MM_PER_INCH)
    with _DRAWING:
        image = _draw(page, scale)
    return RenderedPage(_png(image), image.size, ofd_lines(page, scale) if parse else None)


# --- both -----------------------------------------------------------------------------------


def _png(image: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def outline(data: bytes, fmt: str, number: int) -> Outline:
    """The document's page count and the pixel size of page ``number`` at ``RENDER_DPI``.

    Raises :class:`DocumentProblem` for a document that cannot be read.
    """
    if fmt == "PDF":
        return _pdf_outline(data, number)
    if fmt == "OFD":
        return _ofd_outline(data, number)
    raise ValueError(f"{fmt} is not a document format")


def render(data: bytes, fmt: str, number: int, *, parse_ofd: bool = True) -> RenderedPage:
    """Page ``number`` (1-based, known to exist) as a PNG; an OFD's text too unless ``parse_ofd`` is false."""
    if fmt == "PDF":
        return _pdf_page(data, number)
    if fmt == "OFD":
        return _ofd_page(data, number, parse_ofd)
    raise ValueError(f"{fmt} is not a document format")
