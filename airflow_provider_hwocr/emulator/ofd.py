"""The emulator's own OFD reader: the pages of an OFD file and the text printed on each.

OFD (GB/T 33190, the format of China's fully digital invoices) is a ZIP of XML files:

* ``OFD.xml``: ``DocBody/DocRoot`` names the document's ``Document.xml``;
* ``Document.xml``: ``CommonData/PageArea/PhysicalBox`` (the default page size, mm),
  ``CommonData/TemplatePage`` (pages of a printed form, shared by the pages that use them)
  and ``Pages/Page`` (each with ``BaseLoc``, its ``Content.xml``);
* a page's ``Content.xml``: ``Area/PhysicalBox`` (its own size, if it differs),
  ``Template`` (the template pages it is printed on) and ``Content/Layer`` holding
  ``TextObject`` elements: ``Boundary`` (x y width height, mm), ``Size`` (the font size,
  mm) and ``TextCode`` elements, each a run of text at ``X``/``Y`` (its baseline) inside
  the boundary, ``DeltaX`` spacing its glyphs.

Only what a text reader needs is read: text, where it is and how large. Paths, images,
fonts and transformations (``CTM``) are ignored. Element names are matched without their
namespace, so ``ofd:`` prefixes or none both work. The reader is written for the emulator,
apart from the provider's client, on purpose: it is an independent witness of what the
service reads. Every XML part is read with a size cap, so a ZIP bomb is refused rather than
unpacked.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree

#: The largest XML part read (bytes, uncompressed).
MAX_PART_BYTES = 8 * 1024 * 1024
#: The page size when neither the page nor the document gives one: A4 (mm).
A4_MM = (210.0, 297.0)


class OfdError(ValueError):
    """The file is not an OFD this reader can read (a part is missing, broken or too large)."""


@dataclass(frozen=True)
class OfdText:
    """One ``TextCode``: its text, font size and box (left, top, right, bottom), all in mm."""

    text: str
    size: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class OfdPage:
    """A page: its size (width, height) in mm and its text, template text first."""

    size: tuple[float, float]
    texts: tuple[OfdText, ...]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ElementTree.Element, name: str) -> Iterator[ElementTree.Element]:
    return (child for child in element if _local(child.tag) == name)


def _child(element: ElementTree.Element | None, *path: str) -> ElementTree.Element | None:
    """The first descendant along ``path`` (local names), or None."""
    for name in path:
        if element is None:
            return None
        element = next(_children(element, name), None)
    return element


def _numbers(text: str | None) -> list[float]:
    try:
        return [float(part) for part in (text or "").split()]
    except ValueError:
        raise OfdError(f"not a list of numbers: {text!r}") from None


def _box(text: str | None) -> tuple[float, float] | None:
    """(width, height) of a ``PhysicalBox`` (``x y width height``), or None."""
    numbers = _numbers(text)
    if len(numbers) != 4 or numbers[2] <= 0 or numbers[3] <= 0:
        return None
    return numbers[2], numbers[3]


class _Package:
    """The ZIP and its XML parts, each read once with a size cap."""

    def __init__(self, data: bytes) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError, OSError):
            raise OfdError("not a ZIP archive") from None

    def xml(self, path: str) -> ElementTree.Element:
        try:
            info = self._zip.getinfo(path)
        except KeyError:
            raise OfdError(f"{path} is missing") from None
        if info.file_size > MAX_PART_BYTES:
            raise OfdError(f"{path} is larger than {MAX_PART_BYTES} bytes")
        try:
            with self._zip.open(info) as part:
                raw = part.read(MAX_PART_BYTES + 1)
            return ElementTree.fromstring(raw)
        except (zipfile.BadZipFile, OSError, EOFError, ElementTree.ParseError, RuntimeError) as exc:
            raise OfdError(f"{path} cannot be read: {exc}") from None

    def close(self) -> None:
        self._zip.close()


def _resolve(base: str, location: str) -> str:
    """A ``BaseLoc``: absolute from the package root when it starts with ``/``, else relative to ``base``."""
    location = location.strip()
    if location.startswith("/"):
        return posixpath.normpath(location.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), location))


@dataclass(frozen=True)
class _Document:
    path: str
    root: ElementTree.Element
    #: Each page's Content.xml path, in order.
    pages: tuple[str, ...]
    #: Template page ID -> its Content.xml path.
    templates: dict[str, str]


def _document(package: _Package) -> _Document:
    doc_root = _child(package.xml("OFD.xml"), "DocBody", "DocRoot")
    if doc_root is None or not (doc_root.text or "").strip():
        raise OfdError("OFD.xml names no DocBody/DocRoot")
    path = _resolve("OFD.xml", doc_root.text or "")
    root = package.xml(path)
    listed = _child(root, "Pages")
    pages = (
        ()
        if listed is None
        else tuple(_resolve(path, p.get("BaseLoc", "")) for p in _children(listed, "Page"))
    )
    if not pages:
        raise OfdError(f"{path} lists no pages")
    common = _child(root, "CommonData")
    templates = {
        t.get("ID", ""): _resolve(path, t.get("BaseLoc", ""))
        for t in (_children(common, "TemplatePage") if common is not None else ())
    }
    return _Document(path, root, pages, templates)


def _delta_x(text: str | None) -> list[float]:
    """``DeltaX``: numbers, ``g N v`` standing for N times v."""
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


def _glyph_width(char: str, size: float) -> float:
    """A glyph's advance without ``DeltaX``: full width for CJK, about half for Latin."""
    return size if ord(char) >= 0x2E80 or char in "：，（）" else size * 0.55


def _text_width(text: str, size: float, deltas: list[float]) -> float:
    if deltas:
        return sum(deltas[: len(text) - 1]) + _glyph_width(text[-1], size)
    return sum(_glyph_width(char, size) for char in text)


def _text_codes(obj: ElementTree.Element) -> Iterator[OfdText]:
    """The runs of one ``TextObject``, placed on the page."""
    boundary = _numbers(obj.get("Boundary"))
    if len(boundary) != 4:
        return
    left, top = boundary[0], boundary[1]
    size = _numbers(obj.get("Size") or "3.5")[0]
    x = y = 0.0
    for code in _children(obj, "TextCode"):
        text = "".join(code.itertext()).strip()
        x = float(code.get("X", x))
        y = float(code.get("Y", y + size))
        if not text:
            continue
        width = _text_width(text, size, _delta_x(code.get("DeltaX")))
        base = top + y  # the baseline
        yield OfdText(text, size, (left + x, base - size, left + x + width, base + size * 0.2))


def _texts(root: ElementTree.Element) -> Iterator[OfdText]:
    """Every run of text in a Content.xml, in document order."""
    for element in root.iter():
        if _local(element.tag) == "TextObject":
            yield from _text_codes(element)


def _page(package: _Package, document: _Document, path: str) -> OfdPage:
    root = package.xml(path)
    texts: list[OfdText] = []
    for use in _children(root, "Template"):
        template = document.templates.get(use.get("TemplateID", ""))
        if template is not None:
            texts += _texts(package.xml(template))
    texts += _texts(root)
    return OfdPage(_page_size(root, document), tuple(texts))


def _page_size(root: ElementTree.Element, document: _Document) -> tuple[float, float]:
    """The page's own ``Area/PhysicalBox``, else the document's ``PageArea``, else A4."""
    for box in (
        _child(root, "Area", "PhysicalBox"),
        _child(document.root, "CommonData", "PageArea", "PhysicalBox"),
    ):
        size = _box(box.text) if box is not None else None
        if size is not None:
            return size
    return A4_MM


def read(data: bytes, number: int) -> tuple[int, OfdPage | None]:
    """(page count, page ``number`` (1-based) or None when there is no such page).

    Raises :class:`OfdError` for a file this reader cannot read.
    """
    package = _Package(data)
    try:
        document = _document(package)
        count = len(document.pages)
        if not 1 <= number <= count:
            return count, None
        return count, _page(package, document, document.pages[number - 1])
    finally:
        package.close()
