"""Multi-page test documents, made on the fly: PDFs whose pages say which page they are, and OFD
VAT invoices.

Nothing binary is committed: every document is built here, the same bytes each time, together
with the text printed on each of its pages, so a reader (the emulator, a test, the demo) can be
checked against what is really there.

* :func:`text_pdf` writes a PDF with real text (Helvetica), which pypdf can extract;
  :func:`scanned_pdf` a PDF of page images (what a scanner makes: no text layer), with Pillow;
* :func:`numbered_pdf` is either, with page *n* of *m* saying ``Page n of m`` and words of its own
  (:func:`page_lines`);
* :func:`ofd_invoice` writes a small OFD in the shape of a fully digital VAT invoice
  (``OFD.xml``, ``Doc_0/Document.xml``, a template with the form's labels and frame, a page of
  values with the seal as a picture), optionally followed by a page of its sales list.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "INVOICE",
    "INVOICE_LABELS",
    "SALES_LIST",
    "SampleDocument",
    "numbered_pdf",
    "ofd_invoice",
    "page_lines",
    "scanned_pdf",
    "text_pdf",
]


@dataclass(frozen=True)
class SampleDocument:
    name: str
    kind: Literal["pdf", "ofd"]
    data: bytes
    #: The lines of text on each page, top to bottom (for an OFD: the page's own ``TextCode``
    #: strings in document order, without its template's labels).
    pages: tuple[tuple[str, ...], ...]

    @property
    def page_count(self) -> int:
        return len(self.pages)


# --- PDF -----------------------------------------------------------------------------------------

#: One word per page (the NATO alphabet: words OCR reads well), so pages differ by more than a number.
_WORDS = (
    "ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "HOTEL", "INDIA", "JULIET",
    "KILO", "LIMA", "MIKE", "NOVEMBER", "OSCAR", "PAPA", "QUEBEC", "ROMEO", "SIERRA", "TANGO",
    "UNIFORM", "VICTOR", "WHISKEY", "XRAY", "YANKEE", "ZULU",
)  # fmt: skip

#: A4 in PDF points (1/72 inch).
A4_POINTS = (595, 842)


def page_lines(page: int, count: int) -> tuple[str, ...]:
    """What page ``page`` of ``count`` says: ``Page n of m``, then a word and a number of its own."""
    word = _WORDS[(page - 1) % len(_WORDS)]
    return (f"Page {page} of {count}", f"{word} RECEIPT {page:04d}")


def _pdf_string(text: str) -> str:
    if not text.isascii():
        raise ValueError(f"text_pdf writes ASCII text only (Helvetica, no embedded font): {text!r}")
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def text_pdf(
    pages: Sequence[Sequence[str]],
    *,
    size: tuple[int, int] = A4_POINTS,
    font_size: int = 24,
    inherit: bool = False,
) -> bytes:
    """A PDF whose page *i* prints the lines ``pages[i]`` in Helvetica: real, extractable text.

    ``inherit=True`` puts the page size and the font on the page tree rather than on each
    page (pages inherit them), as some producers do: a page taken out alone must keep them.
    """
    if not pages:
        raise ValueError("a PDF needs at least one page")
    width, height = size
    resources = "<< /Font << /F1 3 0 R >> >>"
    box = f"[0 0 {width} {height}]"
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    tree = f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)}"
    tree += f" /MediaBox {box} /Resources {resources} >>" if inherit else " >>"
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(tree.encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i, lines in enumerate(pages):
        own = "" if inherit else f" /MediaBox {box} /Resources {resources}"
        objects.append(f"<< /Type /Page /Parent 2 0 R{own} /Contents {5 + 2 * i} 0 R >>".encode())
        ops = [f"BT /F1 {font_size} Tf {font_size * 1.5:.1f} TL 72 {height - 72 - font_size} Td"]
        ops += [f"{_pdf_string(line)} Tj T*" for line in lines]
        stream = (" ".join(ops) + " ET").encode()
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


_SANS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
)


def _sans(size: int) -> Any:
    from PIL import ImageFont

    path = next((p for p in _SANS if os.path.exists(p)), None)
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


def scanned_pdf(pages: Sequence[Sequence[str]], *, dpi: int = 100) -> bytes:
    """A PDF of A4 page images (no text layer, as a scanner makes), page *i* showing ``pages[i]``."""
    from PIL import Image, ImageDraw

    if not pages:
        raise ValueError("a PDF needs at least one page")
    size = (round(A4_POINTS[0] / 72 * dpi), round(A4_POINTS[1] / 72 * dpi))
    font = _sans(max(8, dpi // 3))
    images = []
    for lines in pages:
        image = Image.new("L", size, 255)
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(lines):
            draw.text((dpi, dpi + row * dpi // 2), line, fill=0, font=font)
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi))
    return out.getvalue()


def numbered_pdf(count: int, *, scanned: bool = False, dpi: int = 100) -> SampleDocument:
    """A PDF of ``count`` pages, page *n* saying :func:`page_lines` ``(n, count)``."""
    pages = tuple(page_lines(n, count) for n in range(1, count + 1))
    data = scanned_pdf(pages, dpi=dpi) if scanned else text_pdf(pages)
    name = f"{'scanned' if scanned else 'text'}-{count}-pages.pdf"
    return SampleDocument(name=name, kind="pdf", data=data, pages=pages)


# --- OFD -----------------------------------------------------------------------------------------

_NS = "http://www.ofdspec.org/2016"
_XML = '<?xml version="1.0" encoding="UTF-8"?>\n'
#: A fixed time for the ZIP entries: the same document makes the same bytes.
_ZIP_TIME = (2024, 11, 5, 9, 30, 0)

#: The values of the fictitious invoice (page 1), as printed. No real company or number.
INVOICE: dict[str, str] = {
    "title": "电子发票（增值税专用发票）",
    "number": "24112000000012345678",
    "date": "2024年11月05日",
    "buyer_name": "示例采购有限公司",
    "buyer_id": "91110000MA00000000",
    "seller_name": "示例销售有限公司",
    "seller_id": "91310000MA11111111",
    "item": "*信息技术服务*软件开发服务",
    "amount": "1000.00",
    "tax_rate": "6%",
    "tax": "60.00",
    "total_words": "壹仟零陆拾圆整",
    "total": "¥1060.00",
    "issuer": "张三",
}
#: The printed form's labels (the template's text, or the page's when ``template=False``).
INVOICE_LABELS = ("发票号码：", "开票日期：", "购买方", "销售方", "价税合计（大写）", "（小写）", "开票人：")
#: The sales list (销货清单) on page 2: (item, amount).
SALES_LIST = (
    ("*信息技术服务*需求分析", "300.00"),
    ("*信息技术服务*编码", "500.00"),
    ("*信息技术服务*测试", "200.00"),
)


def _text(id_: int, x: float, y: float, text: str, size: float = 3.5, delta: float | None = None) -> str:
    """A ``TextObject`` at (x, y) mm, its baseline one size below; ``delta``: even glyph spacing."""
    width = len(text) * (delta or size)
    spacing = f" DeltaX={quoteattr(f'g {len(text) - 1} {delta}')}" if delta and len(text) > 1 else ""
    return (
        f'<ofd:TextObject ID="{id_}" Boundary="{x} {y} {width:.2f} {size * 1.4:.2f}" Font="4" Size="{size}">'
        f'<ofd:FillColor Value="0 0 0"/>'
        f'<ofd:TextCode X="0" Y="{size}"{spacing}>{escape(text)}</ofd:TextCode></ofd:TextObject>'
    )


def _frame(id_: int) -> str:
    """The invoice's ruled frame: an outer box and the lines between its parts."""
    path = "M 0 0 L 190 0 L 190 100 L 0 100 C M 0 25 L 190 25 M 0 75 L 190 75 M 0 88 L 190 88"
    return (
        f'<ofd:PathObject ID="{id_}" Boundary="10 25 190 100" LineWidth="0.35">'
        f'<ofd:StrokeColor Value="128 0 0"/><ofd:AbbreviatedData>{path}</ofd:AbbreviatedData>'
        "</ofd:PathObject>"
    )


def _content(objects: Sequence[str], *, template: str | None = None) -> str:
    use = f'<ofd:Template TemplateID="{template}" ZOrder="Background"/>' if template else ""
    return (
        f'{_XML}<ofd:Page xmlns:ofd="{_NS}">{use}<ofd:Content><ofd:Layer ID="90" Type="Body">'
        + "".join(objects)
        + "</ofd:Layer></ofd:Content></ofd:Page>"
    )


def _labels() -> list[str]:
    positions = ((130, 14), (130, 20), (12, 30), (105, 30), (12, 107), (130, 107), (12, 133))
    return [_text(200 + i, x, y, label) for i, (label, (x, y)) in enumerate(zip(INVOICE_LABELS, positions))]


def _seal_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (240, 160), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((6, 6, 234, 154), outline=(200, 0, 0, 255), width=8)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _invoice_page(template: bool, picture: bool) -> tuple[str, tuple[str, ...]]:
    v = INVOICE
    values = [
        (60, 10, v["title"], 5.0, None),
        (150, 14, v["number"], 3.0, 2.0),
        (150, 20, v["date"], 3.0, None),
        (25, 36, v["buyer_name"], 3.5, None),
        (25, 42, v["buyer_id"], 3.0, 2.0),
        (118, 36, v["seller_name"], 3.5, None),
        (118, 42, v["seller_id"], 3.0, 2.0),
        (12, 56, v["item"], 3.5, None),
        (120, 56, v["amount"], 3.5, None),
        (150, 56, v["tax_rate"], 3.5, None),
        (170, 56, v["tax"], 3.5, None),
        (60, 107, v["total_words"], 3.5, None),
        (150, 107, v["total"], 3.5, None),
        (30, 133, v["issuer"], 3.5, None),
    ]
    objects = [_frame(100)] if not template else []
    objects += [] if template else _labels()
    objects += [_text(300 + i, x, y, t, size, delta) for i, (x, y, t, size, delta) in enumerate(values)]
    if picture:
        objects.append(
            '<ofd:ImageObject ID="400" Boundary="140 112 30 20" CTM="30 0 0 20 0 0" ResourceID="5"/>'
        )
    texts = (() if template else INVOICE_LABELS) + tuple(t for _x, _y, t, _s, _d in values)
    return _content(objects, template="2" if template else None), texts


def _sales_list_page() -> tuple[str, tuple[str, ...]]:
    texts = ["销货清单", f"发票号码：{INVOICE['number']}"]
    for item, amount in SALES_LIST:
        texts += [item, amount]
    objects = [_text(500, 85, 12, texts[0], 5.0), _text(501, 12, 24, texts[1], 3.0)]
    for row, (item, amount) in enumerate(SALES_LIST):
        y = 36 + row * 8
        objects += [_text(510 + 2 * row, 12, y, item), _text(511 + 2 * row, 150, y, amount)]
    return _content(objects), tuple(texts)


def ofd_invoice(*, sales_list: bool = False, template: bool = True, picture: bool = True) -> SampleDocument:
    """A small OFD shaped like a fully digital VAT invoice (210 x 140 mm pages).

    Page 1 holds the invoice's values (:data:`INVOICE`); its printed form, the labels
    (:data:`INVOICE_LABELS`) and ruled frame, is a template page (``template=False``: on the
    page itself), and the seal a PNG picture declared in ``DocumentRes.xml``
    (``picture=False``: none). ``sales_list=True`` adds page 2, the sales list
    (:data:`SALES_LIST`).
    """
    page_xml, texts = _invoice_page(template, picture)
    pages = [(page_xml, texts)]
    if sales_list:
        pages.append(_sales_list_page())
    page_refs = "".join(
        f'<ofd:Page ID="{10 + i}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages))
    )
    template_ref = '<ofd:TemplatePage ID="2" BaseLoc="Tpls/Tpl_0/Content.xml"/>' if template else ""
    files = {
        "OFD.xml": (
            f'{_XML}<ofd:OFD xmlns:ofd="{_NS}" Version="1.1" DocType="OFD"><ofd:DocBody>'
            "<ofd:DocInfo><ofd:DocID>0c8a3b5e0f1d4c2a9e7b6d5c4b3a2910</ofd:DocID>"
            "<ofd:CreationDate>2024-11-05</ofd:CreationDate></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
        ),
        "Doc_0/Document.xml": (
            f'{_XML}<ofd:Document xmlns:ofd="{_NS}"><ofd:CommonData><ofd:MaxUnitID>600</ofd:MaxUnitID>'
            "<ofd:PageArea><ofd:PhysicalBox>0 0 210 140</ofd:PhysicalBox></ofd:PageArea>"
            "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes><ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>"
            f"{template_ref}</ofd:CommonData><ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>"
        ),
        "Doc_0/PublicRes.xml": (
            f'{_XML}<ofd:Res xmlns:ofd="{_NS}" BaseLoc="Res"><ofd:Fonts>'
            '<ofd:Font ID="4" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>'
        ),
        "Doc_0/DocumentRes.xml": (
            f'{_XML}<ofd:Res xmlns:ofd="{_NS}" BaseLoc="Res"><ofd:MultiMedias>'
            '<ofd:MultiMedia ID="5" Type="Image" Format="PNG"><ofd:MediaFile>seal.png</ofd:MediaFile>'
            "</ofd:MultiMedia></ofd:MultiMedias></ofd:Res>"
        ),
    }
    if template:
        files["Doc_0/Tpls/Tpl_0/Content.xml"] = _content([_frame(100), *_labels()])
    for i, (xml, _texts) in enumerate(pages):
        files[f"Doc_0/Pages/Page_{i}/Content.xml"] = xml
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), text.encode("utf-8"), zipfile.ZIP_DEFLATED)
        archive.writestr(zipfile.ZipInfo("Doc_0/Res/seal.png", _ZIP_TIME), _seal_png())
    name = "vat-invoice-with-sales-list.ofd" if sales_list else "vat-invoice.ofd"
    return SampleDocument(name=name, kind="ofd", data=out.getvalue(), pages=tuple(t for _x, t in pages))
