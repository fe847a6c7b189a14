"""What a reviewer sees of a held field: the page as an image, and the field cut out of it.

A field's location (its ``quad``) is in the pixels of the image the service read, so the page
is drawn the way the service saw it:

* an image is that image (a PNG as it is; another format converted to PNG, same pixels);
* a PDF page the provider rendered for an API that reads images only (page mode ``render``,
  ``catalog/pages.py``) is rendered again exactly so (``client.documents.render_page`` with the
  API's limits): the same pixels that were sent;
* a PDF page the service rendered itself (the whole document with a page field, or a one-page
  PDF) is rendered at :data:`SERVICE_PDF_DPI`. The vendor does not say at what resolution it
  renders a PDF page; 150 DPI is the emulator's model of it, so against the real service a crop
  may be offset or scaled: the form links the whole page as well;
* an OFD page is not drawn (``None``): the form says so.

:func:`crop_png` cuts the quad's bounding box (plus a margin) out of the page, no wider than
``max_width`` pixels (the UI shows images up to 300 px). Pillow and pypdfium2 are imported with
this module, which only a review task loads (``runtime.review`` does not import it).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence

import pypdfium2  # type: ignore[import-untyped]
from PIL import Image

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.pages import page_mode, render_limits
from airflow_provider_hwocr.client.documents import render_page
from airflow_provider_hwocr.client.images import sniff_format

__all__ = ["SERVICE_PDF_DPI", "crop_png", "page_image"]

#: The resolution a PDF page the service renders itself is drawn at (the emulator's model; the
#: vendor does not document it).
SERVICE_PDF_DPI = 150
#: The largest page drawn (pixels), as the emulator caps it: a huge page is drawn smaller.
_MAX_PIXELS = 24_000_000
_PDFIUM_LOCK = threading.Lock()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


def _image(data: bytes) -> bytes:
    if sniff_format(data) == "PNG":
        return data
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return _png(image.convert("RGBA" if "A" in image.getbands() else "RGB"))


def _service_pdf_page(data: bytes, page: int) -> bytes:
    with _PDFIUM_LOCK:
        pdf = pypdfium2.PdfDocument(data)
        try:
            if not 1 <= page <= len(pdf):
                raise ValueError(f"the document has {len(pdf)} pages, not a page {page}")
            pdf_page = pdf[page - 1]
            try:
                width, height = pdf_page.get_size()
                scale = SERVICE_PDF_DPI / 72
                pixels = width * height * scale * scale
                if pixels > _MAX_PIXELS:
                    scale *= (_MAX_PIXELS / pixels) ** 0.5
                image = pdf_page.render(scale=scale).to_pil()
            finally:
                pdf_page.close()
        finally:
            pdf.close()
    return _png(image.convert("RGB"))


def page_image(data: bytes, kind: str, page: int | None, *, slug: str | None = None) -> bytes | None:
    """The page as a PNG in the pixels the service read (see the module), or ``None`` for an OFD.

    ``kind``: ``pdf``, ``ofd``, or anything else for an image (``png``, ``jpg`` ...); ``page``:
    1-based, for a document. ``slug``: the API that read it, which says whether the provider
    rendered the page (then it is rendered again the same way) or the service did.
    """
    kind = kind.lower()
    if kind == "ofd":
        return None
    if kind != "pdf":
        return _image(data)
    number = page or 1
    if slug is not None:
        api = get_api(slug)
        if page_mode(api, "pdf") == "render":
            limits = render_limits(api)
            rendered = render_page(
                data,
                "pdf",
                number,
                max_side=limits.max_side,
                max_bytes=limits.max_bytes,
                max_pixels=limits.max_pixels,
            )
            return _image(rendered)
    return _service_pdf_page(data, number)


def crop_png(
    image: bytes, quad: Sequence[Sequence[float]], *, max_width: int = 300, margin: int = 12
) -> bytes:
    """The part of ``image`` (PNG, JPEG ...) inside ``quad`` (4 (x, y) points), ``margin`` pixels
    around it, as a PNG at most ``max_width`` wide. Raises ``ValueError`` for a quad that is not
    4 points or lies outside the image."""
    if len(quad) != 4 or any(len(point) != 2 for point in quad):
        raise ValueError(f"a quad is 4 (x, y) points, not {quad!r}")
    if max_width < 1 or margin < 0:
        raise ValueError("max_width must be positive and margin not negative")
    xs = [float(point[0]) for point in quad]
    ys = [float(point[1]) for point in quad]
    with Image.open(io.BytesIO(image)) as page:
        page.load()
        width, height = page.size
        left, top = max(0, int(min(xs)) - margin), max(0, int(min(ys)) - margin)
        right, bottom = min(width, int(max(xs) + 0.999) + margin), min(height, int(max(ys) + 0.999) + margin)
        if right <= left or bottom <= top:
            raise ValueError(f"the quad {quad!r} lies outside the {width}x{height} image")
        crop = page.crop((left, top, right, bottom))
    if crop.width > max_width:
        crop = crop.resize(
            (max_width, max(1, round(crop.height * max_width / crop.width))), Image.Resampling.LANCZOS
        )
    if crop.mode not in ("RGB", "RGBA", "L", "LA"):
        crop = crop.convert("RGB")
    return _png(crop)
