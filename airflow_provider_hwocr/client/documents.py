"""Multi-page documents (PDF and OFD), page by page: kind, page count, page choice, one page out.

The service reads one page per call and never says how many pages a document has,
so the provider counts them itself and sends each page the way the API reads it
(``catalog.pages``): the whole document with a page field, a one-page PDF
(:func:`single_page_pdf`), or a PNG rendered here (:func:`render_page`).

* :func:`document_kind` tells a PDF (``%PDF-``) or an OFD (a ZIP holding ``OFD.xml``)
  from any other bytes;
* :func:`count_pages` counts pages: pypdf for PDF, the OFD's ``Document.xml`` for OFD;
* :func:`parse_pages` turns a ``pages`` argument (``None``, ``3``, ``"2-5"``,
  ``"1,3,5-7"``, ``"3-"``, ``[1, 4]``) into sorted page numbers, refusing a page
  the document does not have; :func:`check_pages_spec` checks the syntax alone,
  before the document is read;
* :func:`check_max_pages` refuses a document of more pages than a cap (each page
  is one billed call) before anything is called.

pypdf, pypdfium2 and Pillow are imported inside the functions that use them: a DAG
that imports an operator never loads them. Memory stays bounded by the one
document's bytes (plus one rendered page). PDFium is not thread-safe, so its calls
are serialised by a lock.
"""

from __future__ import annotations

import io
import math
import os
import posixpath
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from airflow_provider_hwocr.catalog.formats import format_of
from airflow_provider_hwocr.catalog.pages import DocumentKind
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = [
    "DEFAULT_DPI",
    "DEFAULT_MAX_PAGES",
    "DocumentKind",
    "check_max_pages",
    "check_pages_spec",
    "count_pages",
    "document_kind",
    "ofd_page_text",
    "parse_pages",
    "render_page",
    "single_page_pdf",
]

#: The most pages a document may have before anything is called (each page is a billed call).
DEFAULT_MAX_PAGES = 50
#: The resolution a page is rendered at, lowered when the API's pixel limits ask for less.
DEFAULT_DPI = 200
#: Below this a rendered page is too coarse to read; a page that fits only lower is refused.
MIN_DPI = 50
#: The largest member of an OFD read (a ZIP can claim anything; a page's XML or picture is small).
_MAX_OFD_MEMBER = 64 * 1024 * 1024
_MM_PER_INCH = 25.4
#: An OFD page without a size anywhere: A4 portrait, in millimetres.
_A4_MM = (210.0, 297.0)
_PDFIUM_LOCK = threading.Lock()


def _invalid(message: str, parameter: str = "image") -> HuaweiOcrValidationError:
    return HuaweiOcrValidationError(f"{parameter}: {message}", parameter=parameter)


# --- what the bytes are ----------------------------------------------------------------------


def document_kind(data: bytes) -> DocumentKind | None:
    """``"pdf"`` (``%PDF-``), ``"ofd"`` (a ZIP with ``OFD.xml`` at its root) or ``None`` (anything else)."""
    head = bytes(data[:8])
    if format_of(head) == "PDF":  # the catalog's signature, in the first bytes
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if any(name.lower() == "ofd.xml" for name in names):
            return "ofd"
    return None


def _kind(data: bytes, kind: DocumentKind | None) -> DocumentKind:
    found = document_kind(data) if kind is None else kind
    if found not in ("pdf", "ofd"):
        raise _invalid("not a PDF or OFD document (no %PDF- header, no ZIP holding OFD.xml)")
    return found


def count_pages(data: bytes, kind: DocumentKind | None = None) -> int:
    """The number of pages of a PDF or OFD document (``kind=None``: told from the bytes).

    Raises ``HuaweiOcrValidationError`` (naming ``image``) for a document that cannot be read.
    """
    if _kind(data, kind) == "pdf":
        with _pdf_reader(data) as reader:
            return len(reader.pages)
    return len(_Ofd(data).pages)


# --- which pages -------------------------------------------------------------------------------

_RANGE = re.compile(r"^\s*(\d+)\s*(?:(-)\s*(\d+)?\s*)?$")


def _ranges(spec: object) -> list[tuple[int, int | None]]:
    """The spec as ``(first, last)`` ranges, ``last=None`` meaning "to the end"; syntax only."""

    def bad(why: str) -> HuaweiOcrValidationError:
        return _invalid(
            f"{spec!r} {why}; give a page (3), pages ('1,3,5-7', '3-' for 3 to the end), "
            "a list of pages ([1, 4]) or None for every page",
            "pages",
        )

    if isinstance(spec, bool):
        raise bad("is not a page number")
    if isinstance(spec, int):
        out: list[tuple[int, int | None]] = [(spec, spec)]
    elif isinstance(spec, str):
        if not spec.strip():
            raise bad("is empty")
        out = []
        for part in spec.split(","):
            match = _RANGE.match(part)
            if match is None:
                raise bad(f"is not a page list ({part.strip()!r} is not a page or a range)")
            first, dash, last = match.groups()
            out.append((int(first), None if dash and last is None else int(last or first)))
    elif isinstance(spec, (list, tuple)):
        if not spec:
            raise bad("names no page")
        if not all(isinstance(p, int) and not isinstance(p, bool) for p in spec):
            raise bad("holds something other than page numbers")
        out = [(p, p) for p in spec]
    else:
        raise bad(f"is a {type(spec).__name__}")
    for first, last in out:
        if first < 1:
            raise _invalid(f"pages are numbered from 1; {spec!r} names page {first}", "pages")
        if last is not None and last < first:
            raise bad(f"has a range that runs backwards ({first}-{last})")
    return out


def check_pages_spec(spec: object) -> None:
    """Check a ``pages`` argument's syntax before the document is read (at DAG parse time)."""
    if spec is not None:
        _ranges(spec)


def parse_pages(spec: object, count: int) -> list[int]:
    """The 1-based page numbers ``spec`` names in a document of ``count`` pages, sorted, once each.

    ``spec``: ``None`` (every page), a page (``3``), a string of pages and ranges (``"2-5"``,
    ``"1,3,5-7"``, ``"3-"`` for page 3 to the end) or a list or tuple of pages. A page below 1
    or past the end, or a spec that is none of these, raises ``HuaweiOcrValidationError``
    naming ``pages`` (and the page count).
    """
    if count < 1:
        raise _invalid(f"the document has no page (count={count})")
    if spec is None:
        return list(range(1, count + 1))
    pages: set[int] = set()
    for first, last in _ranges(spec):
        end = count if last is None else last
        if max(first, end) > count:
            raise _invalid(
                f"{spec!r} names page {max(first, end)}, past the end: the document has "
                f"{_plural(count, 'page')}",
                "pages",
            )
        pages.update(range(first, end + 1))
    return sorted(pages)


def check_max_pages(count: int, max_pages: int | None, source: str, *, selected: int | None = None) -> None:
    """Refuse a document of more than ``max_pages`` pages, before any page is sent.

    ``count`` is the document's page count; ``selected``, when given, the pages chosen of it
    (``pages=``), which is what the cap counts then: one call per page. ``max_pages=None``
    sets no cap. Raises ``HuaweiOcrValidationError`` naming ``max_pages``, the page count and
    ``source``, e.g. ``max_pages: doc.pdf has 61 pages, over max_pages=50; nothing was called``.
    """
    if max_pages is None:
        return
    if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
        raise _invalid(f"must be a whole number of pages, 1 or more, or None; got {max_pages!r}", "max_pages")
    calls = count if selected is None else selected
    if calls <= max_pages:
        return
    what = (
        f"{source} has {_plural(count, 'page')}"
        if selected is None
        else f"{selected} of the {count} pages of {source} are selected"
    )
    raise _invalid(
        f"{what}, over max_pages={max_pages}; nothing was called "
        "(choose pages with pages=..., or raise max_pages: each page is one call)",
        "max_pages",
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _check_page(page: int, count: int) -> None:
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= count:
        raise _invalid(f"page {page!r} is not in the document, which has {_plural(count, 'page')}", "pages")


# --- PDF -----------------------------------------------------------------------------------------


@contextmanager
def _pdf_errors() -> Iterator[None]:
    """What pypdf raises on a broken file, as a validation error naming ``image``."""
    from pypdf.errors import PyPdfError

    broken = (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError)
    try:
        yield
    except HuaweiOcrValidationError:
        raise
    except (*broken, zlib.error, struct.error) as exc:
        raise _invalid(f"not a readable PDF ({type(exc).__name__}: {exc})") from None


@contextmanager
def _pdf_reader(data: bytes) -> Iterator[Any]:
    """A pypdf reader of ``data``, its stream closed on the way out: pypdf's objects refer to their
    reader (a cycle, freed only when the cycle collector runs) and its stream holds a copy of the
    bytes, so closing it lets that copy go at once, not a few documents later."""
    from pypdf import PdfReader

    stream = io.BytesIO(data)
    try:
        with _pdf_errors():
            reader = PdfReader(stream, strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise _invalid("the PDF is encrypted with a password; send it decrypted")
            len(reader.pages)  # walks the page tree: a broken one fails here, not later
        yield reader
    finally:
        stream.close()


def single_page_pdf(data: bytes, page: int) -> bytes:
    """Page ``page`` (1-based) of a PDF as a PDF of its own (for the APIs that read page 1 only).

    The page keeps what it inherits from the page tree (size, resources, rotation); only
    the objects it uses are copied.
    """
    from pypdf import PdfWriter

    out = io.BytesIO()
    with _pdf_reader(data) as reader:
        _check_page(page, len(reader.pages))
        with _pdf_errors():
            writer = PdfWriter()
            writer.add_page(reader.pages[page - 1])
            writer.write(out)
    return out.getvalue()


def _fit_scale(width: float, height: float, scale: float, max_side: int, max_pixels: int | None) -> float:
    """The largest scale <= ``scale`` at which a ``width`` x ``height`` page fits the limits."""
    scale = min(scale, max_side / max(width, height))
    if max_pixels is not None:
        scale = min(scale, math.sqrt(max_pixels / (width * height)))
    return scale


def _png(image: PILImage.Image, max_side: int, max_pixels: int | None) -> bytes:
    # Rounding up in the renderer can cost a pixel: shrink to the limits if it did.
    if max(image.size) > max_side or (max_pixels is not None and image.size[0] * image.size[1] > max_pixels):
        scale = _fit_scale(image.size[0], image.size[1], 1.0, max_side, max_pixels)
        image = image.resize((max(1, int(image.size[0] * scale)), max(1, int(image.size[1] * scale))))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _render_fitted(
    draw: Any, width: float, height: float, *, dpi: int, max_side: int, max_bytes: int, max_pixels: int | None
) -> bytes:
    """Render a ``width`` x ``height`` inch page with ``draw(ppi)`` (pixels per inch) at ``dpi``,
    lowered to fit ``max_side`` and ``max_pixels``, then until the PNG fits ``max_bytes``."""
    ppi = _fit_scale(width, height, dpi, max_side, max_pixels)
    if ppi < MIN_DPI:
        raise _invalid(
            f"the page is {width:.1f} x {height:.1f} inches: to fit {max_side} px on its longer side"
            + (f" and {max_pixels:,} pixels" if max_pixels else "")
            + f" it would be rendered at {ppi:.0f} DPI, under {MIN_DPI}, too coarse to read"
        )
    for _ in range(8):
        png = _png(draw(ppi), max_side, max_pixels)
        if len(png) <= max_bytes:
            return png
        ppi *= 0.9 * math.sqrt(max_bytes / len(png))
        if ppi < MIN_DPI:
            break
    raise _invalid(
        f"the page's PNG does not fit {max_bytes:,} bytes at {MIN_DPI} DPI or more (a page this "
        "detailed cannot be sent as an image)"
    )


def render_page(
    data: bytes,
    kind: DocumentKind | None,
    page: int,
    *,
    max_side: int,
    max_bytes: int,
    max_pixels: int | None = None,
    dpi: int = DEFAULT_DPI,
) -> bytes:
    """Page ``page`` (1-based) of a PDF or OFD as a PNG, for an API that reads images only.

    Rendered at ``dpi`` (200 by default), lowered so that the longer side is at most
    ``max_side`` pixels, the image at most ``max_pixels`` pixels, and the PNG at most
    ``max_bytes`` bytes (``catalog.pages.render_limits`` gives the three for an API). A PDF
    page is rendered by PDFium (pypdfium2). An OFD page is drawn by :func:`_draw_ofd_page`,
    a simple renderer of the text, pictures and lines of invoice-like OFDs, not a full
    OFD renderer. Raises ``HuaweiOcrValidationError`` when the page does not exist or
    cannot fit ``max_bytes`` at a readable resolution.
    """
    if dpi < MIN_DPI:
        raise ValueError(f"dpi must be {MIN_DPI} or more, not {dpi}")
    if _kind(data, kind) == "ofd":
        ofd = _Ofd(data)
        _check_page(page, len(ofd.pages))
        width_mm, height_mm = ofd.page_size(page)
        return _render_fitted(
            lambda ppi: _draw_ofd_page(ofd, page, ppi / _MM_PER_INCH),
            width_mm / _MM_PER_INCH,
            height_mm / _MM_PER_INCH,
            dpi=dpi,
            max_side=max_side,
            max_bytes=max_bytes,
            max_pixels=max_pixels,
        )
    import pypdfium2  # type: ignore[import-untyped]

    with _PDFIUM_LOCK:
        try:
            pdf = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError as exc:
            raise _invalid(f"not a PDF PDFium can read ({exc})") from None
        try:
            _check_page(page, len(pdf))
            pdf_page = pdf[page - 1]
            width, height = pdf_page.get_size()  # points: 1/72 inch
            return _render_fitted(
                lambda ppi: pdf_page.render(scale=ppi / 72).to_pil(),
                width / 72,
                height / 72,
                dpi=dpi,
                max_side=max_side,
                max_bytes=max_bytes,
                max_pixels=max_pixels,
            )
        finally:
            pdf.close()


# --- OFD -----------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _numbers(text: str | None) -> list[float]:
    """The numbers of an attribute such as ``Boundary`` (none if it holds anything else)."""
    try:
        return [float(t) for t in (text or "").split()]
    except ValueError:
        return []


class _Ofd:
    """An OFD package opened for reading: its first document's pages, templates and resources."""

    def __init__(self, data: bytes) -> None:
        self.doc_dir = ""
        self._parsed: dict[str, ElementTree.Element] = {}
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            self.names = {name.lower(): name for name in self.zip.namelist()}
            root = self.xml("OFD.xml")
            doc_root = root.find(".//{*}DocBody/{*}DocRoot")
            if doc_root is None or not (doc_root.text or "").strip():
                raise _invalid("OFD.xml names no document (DocBody/DocRoot)")
            self.doc_path = self.resolve("", doc_root.text or "")
            self.doc_dir = posixpath.dirname(self.doc_path)
            self.doc = self.xml(self.doc_path)
        except (zipfile.BadZipFile, ElementTree.ParseError, OSError, ValueError) as exc:
            if isinstance(exc, HuaweiOcrValidationError):
                raise
            raise _invalid(f"not a readable OFD ({type(exc).__name__}: {exc})") from None
        self.pages = [
            self.resolve(self.doc_dir, el.get("BaseLoc", "")) for el in self.doc.findall("./{*}Pages/{*}Page")
        ]
        common = self.doc.find("./{*}CommonData")
        self.common = common if common is not None else ElementTree.Element("CommonData")
        self.templates = {
            el.get("ID", ""): self.resolve(self.doc_dir, el.get("BaseLoc", ""))
            for el in self.common.findall("./{*}TemplatePage")
        }

    def resolve(self, base_dir: str, loc: str) -> str:
        """A ``BaseLoc``-style path as a member name: ``/``-rooted, or relative to ``base_dir``."""
        loc = loc.strip().replace("\\", "/")
        candidates = [loc.lstrip("/")] if loc.startswith("/") else [posixpath.join(base_dir, loc), loc]
        candidates.append(posixpath.join(self.doc_dir, loc.lstrip("/")))
        for candidate in candidates:
            name = self.names.get(posixpath.normpath(candidate).lower())
            if name is not None:
                return name
        raise _invalid(f"the OFD names {loc!r}, which it does not hold")

    def read(self, name: str) -> bytes:
        info = self.zip.getinfo(self.names.get(name.lower(), name))
        if info.file_size > _MAX_OFD_MEMBER:
            raise _invalid(f"the OFD member {name!r} is {info.file_size:,} bytes, over {_MAX_OFD_MEMBER:,}")
        return self.zip.read(info)

    def xml(self, name: str) -> ElementTree.Element:
        if name in self._parsed:
            return self._parsed[name]
        try:
            self._parsed[name] = ElementTree.fromstring(self.read(name))
            return self._parsed[name]
        except KeyError:
            raise _invalid(f"the OFD has no {name!r}") from None
        except ElementTree.ParseError as exc:
            raise _invalid(f"the OFD's {name!r} is not well-formed XML ({exc})") from None

    def page_xml(self, page: int) -> ElementTree.Element:
        _check_page(page, len(self.pages))
        return self.xml(self.pages[page - 1])

    def page_size(self, page: int) -> tuple[float, float]:
        """Width and height of a page in millimetres (its own area, else the document's, else A4)."""
        for area in (self.page_xml(page).find("./{*}Area"), self.common.find("./{*}PageArea")):
            box = _numbers(area.findtext("./{*}PhysicalBox")) if area is not None else []
            if len(box) == 4 and box[2] > 0 and box[3] > 0:
                return box[2], box[3]
        return _A4_MM

    def layers(self, page: int) -> Iterator[ElementTree.Element]:
        """The page's content layers in drawing order: background templates, the page, foreground."""
        content = self.page_xml(page)
        templates = content.findall("./{*}Template")
        before = [t for t in templates if t.get("ZOrder", "Background") == "Background"]
        after = [t for t in templates if t not in before]
        for template in before:
            yield from self._template_layers(template)
        yield from content.findall("./{*}Content/{*}Layer")
        for template in after:
            yield from self._template_layers(template)

    def _template_layers(self, template: ElementTree.Element) -> list[ElementTree.Element]:
        path = self.templates.get(template.get("TemplateID", ""))
        return [] if path is None else self.xml(path).findall("./{*}Content/{*}Layer")

    def media(self, page: int) -> dict[str, str]:
        """``ResourceID`` -> member name of every picture the document and the page declare."""
        res_files = [
            (self.doc_dir, el.text or "")
            for el in self.common
            if _local(el.tag) in ("PublicRes", "DocumentRes")
        ]
        page_dir = posixpath.dirname(self.pages[page - 1])
        res_files += [(page_dir, el.text or "") for el in self.page_xml(page).findall("./{*}PageRes")]
        found: dict[str, str] = {}
        for base, loc in res_files:
            try:
                path = self.resolve(base, loc)
            except HuaweiOcrValidationError:
                continue  # a missing resource file leaves its pictures out
            res = self.xml(path)
            res_dir = posixpath.join(posixpath.dirname(path), res.get("BaseLoc", ""))
            for item in res.findall(".//{*}MultiMedia"):
                media_file = (item.findtext("./{*}MediaFile") or "").strip()
                try:
                    found[item.get("ID", "")] = self.resolve(res_dir, media_file)
                except HuaweiOcrValidationError:
                    continue
        return found


def _objects(parent: ElementTree.Element) -> Iterator[ElementTree.Element]:
    """Drawable objects in order, ``PageBlock`` groups opened."""
    for child in parent:
        if _local(child.tag) == "PageBlock":
            yield from _objects(child)
        else:
            yield child


def ofd_page_text(data: bytes, page: int, *, templates: bool = False) -> list[str]:
    """The text (``TextCode`` strings) of page ``page`` (1-based) of an OFD, in document order.

    ``templates=True`` also gives the text of the page's templates (the printed form of an
    invoice: its labels), in drawing order.
    """
    ofd = _Ofd(data)
    _check_page(page, len(ofd.pages))
    layers = ofd.layers(page) if templates else ofd.page_xml(page).findall("./{*}Content/{*}Layer")
    return [
        code.text
        for layer in layers
        for obj in _objects(layer)
        if _local(obj.tag) == "TextObject"
        for code in obj.findall("./{*}TextCode")
        if code.text
    ]


# --- drawing an OFD page -------------------------------------------------------------------------

_FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
)


@cache
def _cjk_font_path() -> str | None:
    """A font with Chinese glyphs: Noto Sans CJK from pip (cvttf-notosanscjk-regular), else the system's."""
    try:
        import cvttf_NotoSansCJK_Regular as noto
    except ImportError:
        noto = None
    if noto is not None:
        path = os.path.join(os.path.dirname(noto.__file__), "NotoSansCJKtc-Regular.otf")
        if os.path.exists(path):
            return path
    return next((p for p in _FONT_PATHS if os.path.exists(p)), None)


@cache
def _font(size_px: int) -> Any:
    from PIL import ImageFont

    path = _cjk_font_path()
    if path is not None:
        return ImageFont.truetype(path, size_px)
    try:
        return ImageFont.load_default(size=size_px)  # Latin only: CJK text comes out as boxes
    except TypeError:  # Pillow < 10.1: one bitmap size
        return ImageFont.load_default()


def _colour(element: ElementTree.Element, child: str, default: tuple[int, int, int]) -> tuple[int, ...]:
    found = element.find(f"./{{*}}{child}")
    if found is None:
        return default
    values = []
    for token in (found.get("Value") or "").split():
        try:
            values.append(int(token[1:], 16) if token.startswith("#") else int(float(token)))
        except ValueError:
            return default
    return tuple(values[:3]) if len(values) >= 3 else (tuple(values[:1]) * 3 if values else default)


def _deltas(text: str | None) -> list[float]:
    """``DeltaX``/``DeltaY`` spacing: numbers, with ``g N d`` meaning ``d`` N times."""
    tokens = (text or "").split()
    out: list[float] = []
    i = 0
    while i < len(tokens):
        if tokens[i] == "g" and i + 2 < len(tokens):
            out += [float(tokens[i + 2])] * int(float(tokens[i + 1]))
            i += 3
        else:
            out.append(float(tokens[i]))
            i += 1
    return out


class _Canvas:
    """Pillow drawing in OFD millimetres: ``px_per_mm`` pixels per millimetre, origin top left."""

    def __init__(self, width_mm: float, height_mm: float, px_per_mm: float) -> None:
        from PIL import Image, ImageDraw

        self.k = px_per_mm
        size = (max(1, math.ceil(width_mm * px_per_mm)), max(1, math.ceil(height_mm * px_per_mm)))
        self.image = Image.new("RGB", size, "white")
        self.draw = ImageDraw.Draw(self.image)

    @staticmethod
    def frame(obj: ElementTree.Element) -> tuple[float, float, float, float, list[float]]:
        """``Boundary`` (x, y, width, height in mm) and ``CTM`` (identity if none) of an object."""
        box = (_numbers(obj.get("Boundary")) + [0.0] * 4)[:4]
        ctm = _numbers(obj.get("CTM"))
        return box[0], box[1], box[2], box[3], ctm if len(ctm) == 6 else [1, 0, 0, 1, 0, 0]

    def point(self, x0: float, y0: float, ctm: list[float], x: float, y: float) -> tuple[float, float]:
        a, b, c, d, e, f = ctm
        return (x0 + a * x + c * y + e) * self.k, (y0 + b * x + d * y + f) * self.k

    def text(self, obj: ElementTree.Element) -> None:
        x0, y0, _w, _h, ctm = self.frame(obj)
        size_mm = float(obj.get("Size", "3.5")) * (abs(ctm[3]) or 1.0)
        font = _font(max(1, round(size_mm * self.k)))
        fill = _colour(obj, "FillColor", (0, 0, 0))
        x = y = 0.0
        for code in obj.findall("./{*}TextCode"):
            x, y = float(code.get("X", x)), float(code.get("Y", y))
            chars = code.text or ""
            dx, dy = _deltas(code.get("DeltaX")), _deltas(code.get("DeltaY"))
            if not dx and not dy:
                self.draw.text(self.point(x0, y0, ctm, x, y), chars, fill=fill, font=font, anchor="ls")
                continue
            for i, char in enumerate(chars):  # one glyph at a time, where the spacing says
                self.draw.text(self.point(x0, y0, ctm, x, y), char, fill=fill, font=font, anchor="ls")
                x += dx[i] if i < len(dx) else (dx[-1] if dx else 0.0)
                y += dy[i] if i < len(dy) else 0.0

    def path(self, obj: ElementTree.Element) -> None:
        """Straight segments of ``AbbreviatedData`` (curves and arcs drawn as chords)."""
        x0, y0, _w, _h, ctm = self.frame(obj)
        tokens = (obj.findtext("./{*}AbbreviatedData") or "").split()
        arity = {"S": 2, "M": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}
        shapes: list[list[tuple[float, float]]] = []
        i = 0
        while i < len(tokens):
            op, n = tokens[i], arity.get(tokens[i])
            if n is None or i + n >= len(tokens):
                break  # an operator this drawing does not know, or one cut short
            args = [float(t) for t in tokens[i + 1 : i + 1 + n]]
            i += 1 + n
            if op in ("S", "M") or not shapes:
                shapes.append([])
            if op == "C":
                if shapes[-1]:
                    shapes[-1].append(shapes[-1][0])
            else:
                shapes[-1].append(self.point(x0, y0, ctm, args[-2], args[-1]))
        width = max(1, round(float(obj.get("LineWidth", "0.353")) * self.k))
        stroke = _colour(obj, "StrokeColor", (0, 0, 0))
        for points in shapes:
            if obj.get("Fill") == "true" and len(points) > 2:
                self.draw.polygon(points, fill=_colour(obj, "FillColor", (0, 0, 0)))
            if obj.get("Stroke", "true") != "false" and len(points) > 1:
                self.draw.line(points, fill=stroke, width=width)

    def picture(self, obj: ElementTree.Element, ofd: _Ofd, media: dict[str, str]) -> None:
        from PIL import Image, UnidentifiedImageError

        x0, y0, w, h, _ctm = self.frame(obj)
        name = media.get(obj.get("ResourceID", ""))
        if name is None or w <= 0 or h <= 0:
            return
        try:
            with Image.open(io.BytesIO(ofd.read(name))) as source:
                size = (max(1, round(w * self.k)), max(1, round(h * self.k)))
                picture = source.convert("RGBA").resize(size)
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
            return  # a format Pillow cannot read (JBIG2...) is left out
        self.image.paste(picture, (round(x0 * self.k), round(y0 * self.k)), picture)


def _draw_ofd_page(ofd: _Ofd, page: int, px_per_mm: float) -> PILImage.Image:
    """A simple renderer of the text, pictures and lines of invoice-like OFD pages.

    Not a full OFD renderer: text is drawn in one font (a CJK font if one is installed,
    else Pillow's default, which has no Chinese glyphs) at each ``TextCode``'s position and
    size, not in the document's embedded fonts; paths are stroked as straight segments;
    pictures fill their ``Boundary``, their ``CTM`` and clips are not applied; signatures'
    seal appearances, annotations, shading and patterns are not drawn.
    """
    width_mm, height_mm = ofd.page_size(page)
    canvas = _Canvas(width_mm, height_mm, px_per_mm)
    media = ofd.media(page)
    for layer in ofd.layers(page):
        for obj in _objects(layer):
            kind = _local(obj.tag)
            try:
                if kind == "TextObject":
                    canvas.text(obj)
                elif kind == "PathObject":
                    canvas.path(obj)
                elif kind == "ImageObject":
                    canvas.picture(obj, ofd, media)
            except (ValueError, TypeError):
                continue  # an object with a malformed number is left out, the rest is drawn
    return canvas.image
