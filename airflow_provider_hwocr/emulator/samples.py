"""Sample documents rendered with Pillow: what the demo uploads and the tests read back.

Each sample is a PNG together with the words printed on it, so a reader can
be scored against what is really there. The passport page carries a valid
ICAO 9303 machine-readable zone (check digits computed here); the ID card
prints its fields as ``Label: value`` lines, the way the emulator reads
cards.

Multi-page documents (:class:`SampleDocument`) come with the lines of each page:
:func:`invoice_pdf` (an invoice and two pages of its sales list, in English),
:func:`vat_invoice_pdf` (a Chinese VAT invoice and two pages of its 销货清单),
:func:`vat_invoice_ofd` (a fully digital VAT invoice as OFD, its form's labels on a
template page, and a page of its sales list) and :func:`pdf_of` (any pages of text).
Every page says which page it is. The same call makes the same bytes.
"""

from __future__ import annotations

import datetime
import io
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from airflow_provider_hwocr.emulator.documents import check_digit

_FONTS = {
    "sans": (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/Library/Fonts/Arial.ttf",
        "C:/Windows/Fonts/arial.ttf",
    ),
    "mono": (
        "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
        "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
        "/Library/Fonts/Courier New.ttf",
        "C:/Windows/Fonts/cour.ttf",
    ),
    "cjk": (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/System/Library/Fonts/PingFang.ttc",
        "C:/Windows/Fonts/msyh.ttc",
    ),
}


def cjk_font_path() -> str | None:
    """A font with Chinese glyphs: Noto Sans CJK from pip (the ``emulator-zh`` extra), else the system's."""
    try:
        import cvttf_NotoSansCJK_Regular as noto
    except ImportError:
        noto = None
    if noto is not None:
        path = os.path.join(os.path.dirname(noto.__file__), "NotoSansCJKtc-Regular.otf")
        if os.path.exists(path):
            return path
    return next((p for p in _FONTS["cjk"] if os.path.exists(p)), None)


@dataclass(frozen=True)
class Sample:
    name: str
    png: bytes
    #: The lines of text printed on the page, top to bottom.
    lines: tuple[str, ...]

    @property
    def words(self) -> list[str]:
        return [w for line in self.lines for w in line.split()]


def font(size: int, kind: str = "sans") -> Any:
    """A TrueType font of ``size`` pixels: ``sans``, ``mono`` or ``cjk`` (LookupError without one)."""
    from PIL import ImageFont

    if kind == "cjk":
        path = cjk_font_path()
        if path is None:
            raise LookupError(
                "no font with Chinese glyphs: pip install 'airflow-provider-hwocr[emulator-zh]'"
            )
        return ImageFont.truetype(path, size)
    for path in _FONTS[kind]:
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _page(
    size: tuple[int, int], lines: list[str], *, font_size=30, start=(50, 50), gap=1.6, box=False, kind="sans"
):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    face = font(font_size, kind)
    x, y = start
    for line in lines:
        draw.text((x, y), line, fill="black", font=face)
        y += int(font_size * gap)
    if box:
        draw.rectangle([20, 20, size[0] - 20, size[1] - 20], outline="black", width=3)
    return img, draw


def _png(image: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def td3(
    *,
    country: str,
    surname: str,
    given_names: str,
    number: str,
    nationality: str,
    birth: str,
    sex: str,
    expiry: str,
    personal: str = "",
) -> tuple[str, str]:
    """The two 44-character lines of a passport's machine-readable zone (dates as YYMMDD)."""
    names = f"{surname.replace(' ', '<')}<<{given_names.replace(' ', '<')}"
    line1 = f"P<{country}{names}".ljust(44, "<")[:44]
    number = number.ljust(9, "<")
    personal = personal.ljust(14, "<")
    personal_check = check_digit(personal) if personal.strip("<") else "<"
    body = f"{number}{check_digit(number)}{nationality}{birth}{check_digit(birth)}{sex}{expiry}{check_digit(expiry)}"
    body += f"{personal}{personal_check}"
    composite = number + check_digit(number) + birth + check_digit(birth) + expiry + check_digit(expiry)
    composite += personal + personal_check
    return line1, body + check_digit(composite)


#: The demo passport's holder, as the MRZ encodes it.
PASSPORT_HOLDER = {
    "country_code": "UTO",
    "surname": "ERIKSSON",
    "given_name": "ANNA MARIA",
    "passport_number": "L898902C3",
    "date_of_birth": "1974-08-12",
    "sex": "F",
    "date_of_expiry": "2032-04-15",
}


def passport() -> Sample:
    from PIL import Image, ImageDraw

    mrz = td3(
        country="UTO", surname="ERIKSSON", given_names="ANNA MARIA", number="L898902C3",
        nationality="UTO", birth="740812", sex="F", expiry="320415", personal="ZE184226B",
    )  # fmt: skip
    text = [
        "PASSPORT",
        "Surname: ERIKSSON",
        "Given names: ANNA MARIA",
        "Nationality: UTOPIAN",
        "Date of birth: 1974-08-12",
        "Date of expiry: 2032-04-15",
    ]
    img = Image.new("RGB", (1000, 660), "white")
    draw = ImageDraw.Draw(img)
    face = font(28)
    for i, line in enumerate(text):
        draw.text((340, 50 + i * 52), line, fill="black", font=face)
    draw.rectangle([40, 60, 300, 400], outline="black", width=3)
    draw.text((110, 215), "PHOTO", fill="black", font=face)
    mono = font(26, "mono")
    draw.text((40, 510), mrz[0], fill="black", font=mono)
    draw.text((40, 560), mrz[1], fill="black", font=mono)
    return Sample("passport", _png(img), (*text, "PHOTO", *mrz))


def invoice() -> Sample:
    lines = [
        "INVOICE  No. 2026-1120",
        "Acme Supplies Ltd.",
        "Bill to: Northwind Traders",
        "Widgets    10   4.50   45.00",
        "Bolts     200   0.10   20.00",
        "Total due             65.00",
    ]
    img, _ = _page((900, 620), lines)
    return Sample("invoice", _png(img), tuple(lines))


def receipt() -> Sample:
    lines = [
        "CORNER CAFE",
        "2 Espresso      6.00",
        "1 Croissant     3.50",
        "TOTAL           9.50",
        "Thank you!",
    ]
    img, _ = _page((600, 520), lines)
    return Sample("receipt", _png(img), tuple(lines))


def note() -> Sample:
    lines = ["Meeting notes", "Ship the OCR pipeline on Friday", "Backfill November scans"]
    img, _ = _page((800, 360), lines, font_size=34)
    return Sample("note", _png(img), tuple(lines))


def table() -> Sample:
    lines = [
        "Region      Orders      Revenue",
        "North          120          5400",
        "South           95          4100",
        "East           143          6020",
    ]
    img, draw = _page((900, 440), lines, font_size=34, start=(60, 60), gap=2.4)
    for i in range(5):
        draw.line([(40, 42 + i * 82), (860, 42 + i * 82)], fill="black", width=2)
    return Sample("table", _png(img), tuple(lines))


#: The demo ID card's fields, as printed.
ID_CARD_FIELDS = {
    "Name": "MARIA GARCIA",
    "Born": "1990-04-12",
    "No": "4509 2231 7788",
    "Expires": "2031-04-11",
}


def id_card() -> Sample:
    lines = ["IDENTITY CARD", *(f"{label}: {value}" for label, value in ID_CARD_FIELDS.items())]
    img, draw = _page((860, 540), lines, start=(320, 70), box=True)
    draw.rectangle([60, 90, 280, 380], outline="black", width=3)
    draw.text((110, 220), "PHOTO", fill="black", font=font(30))
    return Sample("id_card", _png(img), (*lines, "PHOTO"))


#: The demo VAT invoice's fields, as printed (label -> value; the labels are the vendor's).
VAT_INVOICE_FIELDS = {
    "发票代码": "011002100111",
    "发票号码": "12345678",
    "开票日期": "2026年11月20日",
    "校验码": "12345678901234567890",
    "购买方名称": "北京示例科技有限公司",
    "购买方纳税人识别号": "91110108MA01ABCDEF",
    "销售方名称": "上海样例贸易有限公司",
    "销售方纳税人识别号": "91310115MA1HXYZ123",
    "合计金额": "1000.00",
    "合计税额": "130.00",
    "价税合计": "1130.00",
}


def vat_invoice() -> Sample:
    """A mainland VAT invoice, its fields printed as 标签：值 lines (needs a CJK font)."""
    lines = ["增值税专用发票", *(f"{label}：{value}" for label, value in VAT_INVOICE_FIELDS.items())]
    img, _ = _page((1100, 860), lines, font_size=32, start=(50, 40), gap=1.9, box=True, kind="cjk")
    return Sample("vat_invoice", _png(img), tuple(lines))


# --- multi-page documents ------------------------------------------------------------------


@dataclass(frozen=True)
class SampleDocument:
    """A PDF or an OFD, with the lines printed on each of its pages (top to bottom)."""

    name: str
    #: ``pdf`` or ``ofd``
    kind: str
    data: bytes
    pages: tuple[tuple[str, ...], ...]

    @property
    def page_count(self) -> int:
        return len(self.pages)


#: The creation time written into sample files: the same document makes the same bytes.
_FIXED_TIME = datetime.datetime(2026, 11, 20, 9, 30, 0)


def pdf_of(
    name: str,
    pages: Sequence[Sequence[str]],
    *,
    size: tuple[int, int] = (1000, 640),
    font_size: int = 30,
    kind: str = "sans",
) -> SampleDocument:
    """A PDF whose page *i* is an image (150 dpi, as a scanner makes) of the lines ``pages[i]``."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    images = [_page(size, list(lines), font_size=font_size, gap=1.8, kind=kind)[0] for lines in pages]
    buf = io.BytesIO()
    images[0].save(
        buf, "PDF", save_all=True, append_images=images[1:], resolution=150.0,
        creationDate=_FIXED_TIME.timetuple(), modDate=_FIXED_TIME.timetuple(),
    )  # fmt: skip
    return SampleDocument(name, "pdf", buf.getvalue(), tuple(tuple(lines) for lines in pages))


#: The English invoice's pages: the invoice, then its sales list over two pages.
INVOICE_PAGES = (
    ("INVOICE  No. 2026-1120", "Acme Supplies Ltd.", "Bill to: Northwind Traders", "Total due  65.00",
     "Page 1 of 3"),
    ("SALES LIST  No. 2026-1120", "Widgets    10    4.50    45.00", "Page 2 of 3"),
    ("SALES LIST  No. 2026-1120", "Bolts     200    0.10    20.00", "Page 3 of 3"),
)  # fmt: skip


def invoice_pdf() -> SampleDocument:
    """A 3-page PDF: an invoice (page 1) and its sales list (pages 2 and 3), each page saying which it is."""
    return pdf_of("invoice-3-pages.pdf", INVOICE_PAGES)


#: The sales list (销货清单) of the demo VAT invoice: (item, quantity, amount) per page.
VAT_SALES_LIST = (
    (("办公桌", "2", "600.00"), ("办公椅", "4", "200.00")),
    (("打印纸", "10", "150.00"), ("墨盒", "1", "50.00")),
)


def _page_mark(page: int, count: int) -> str:
    return f"第{page}页 共{count}页"


def _sales_list_page(number: str, items: Sequence[tuple[str, str, str]], page: int, count: int) -> list[str]:
    lines = ["销货清单", f"发票号码：{number}"]
    lines += [f"{item}  {quantity}  {amount}" for item, quantity, amount in items]
    return [*lines, _page_mark(page, count)]


def vat_invoice_pdf() -> SampleDocument:
    """A 3-page PDF: the demo VAT invoice (page 1) and its 销货清单 (pages 2 and 3). Needs a CJK font."""
    count = 1 + len(VAT_SALES_LIST)
    first = ["增值税专用发票", *(f"{label}：{value}" for label, value in VAT_INVOICE_FIELDS.items())]
    pages = [[*first, _page_mark(1, count)]]
    for i, items in enumerate(VAT_SALES_LIST, start=2):
        pages.append(_sales_list_page(VAT_INVOICE_FIELDS["发票号码"], items, i, count))
    return pdf_of("vat-invoice-3-pages.pdf", pages, size=(1100, 960), font_size=30, kind="cjk")


#: The fully digital VAT invoice (全电发票) of the OFD sample: it has a 20-digit number and no code.
DIGITAL_INVOICE_TITLE = "电子发票（增值税专用发票）"
DIGITAL_INVOICE_FIELDS = {
    "发票号码": "26112000000012345678",
    "开票日期": "2026年11月20日",
    "购买方名称": "北京示例科技有限公司",
    "购买方纳税人识别号": "91110108MA01ABCDEF",
    "销售方名称": "上海样例贸易有限公司",
    "销售方纳税人识别号": "91310115MA1HXYZ123",
    "合计金额": "1000.00",
    "合计税额": "130.00",
    "价税合计": "1130.00",
    "开票人": "王五",
}
_OFD_NS = "http://www.ofdspec.org/2016"
_OFD_XML = '<?xml version="1.0" encoding="UTF-8"?>\n'
_OFD_TIME = _FIXED_TIME.timetuple()[:6]


def _ofd_text(id_: int, x: float, y: float, text: str, size: float = 3.5, delta: float | None = None) -> str:
    """A ``TextObject`` at (x, y) mm; ``delta``: even glyph spacing (``DeltaX``), as digits get."""
    width = len(text) * (delta or size)
    spacing = f" DeltaX={quoteattr(f'g {len(text) - 1} {delta}')}" if delta and len(text) > 1 else ""
    return (
        f'<ofd:TextObject ID="{id_}" Boundary="{x} {y} {width:.2f} {size * 1.4:.2f}" Font="3" Size="{size}">'
        f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="{size}"{spacing}>{escape(text)}</ofd:TextCode>'
        "</ofd:TextObject>"
    )


def _ofd_content(objects: Sequence[str], template: str | None = None) -> str:
    use = f'<ofd:Template TemplateID="{template}" ZOrder="Background"/>' if template else ""
    body = "".join(objects)
    return f'{_OFD_XML}<ofd:Page xmlns:ofd="{_OFD_NS}">{use}<ofd:Content><ofd:Layer ID="2">{body}</ofd:Layer></ofd:Content></ofd:Page>'


def _ofd_invoice_pages(count: int) -> tuple[str, str, list[str]]:
    """(template with the labels, page 1 with the values, the lines page 1 prints)."""
    labels, values = [_ofd_text(10, 40, 8, DIGITAL_INVOICE_TITLE, 5.0)], []
    lines = [DIGITAL_INVOICE_TITLE]
    for row, (label, value) in enumerate(DIGITAL_INVOICE_FIELDS.items()):
        y = 20 + row * 9
        labels.append(_ofd_text(20 + row, 12, y, f"{label}："))
        delta = 2.0 if value.isascii() else None
        values.append(_ofd_text(40 + row, 13 + 3.5 * (len(label) + 1), y, value, 3.5, delta))
        lines.append(f"{label}：{value}")
    values.append(_ofd_text(60, 160, 128, _page_mark(1, count), 3.0))
    return _ofd_content(labels), _ofd_content(values, template="1"), [*lines, _page_mark(1, count)]


def _ofd_sales_page(page: int, count: int) -> tuple[str, list[str]]:
    lines = _sales_list_page(DIGITAL_INVOICE_FIELDS["发票号码"], VAT_SALES_LIST[0], page, count)
    objects = [_ofd_text(100 + i, 12, 12 + i * 10, line) for i, line in enumerate(lines)]
    return _ofd_content(objects), lines


def vat_invoice_ofd() -> SampleDocument:
    """A fully digital VAT invoice as OFD (210 x 140 mm pages): the invoice (its labels on a template
    page, its values on the page) and a page of its sales list. No font is needed to make it."""
    template, first, first_lines = _ofd_invoice_pages(2)
    sales, sales_lines = _ofd_sales_page(2, 2)
    files = {
        "OFD.xml": (
            f'{_OFD_XML}<ofd:OFD xmlns:ofd="{_OFD_NS}" Version="1.1" DocType="OFD"><ofd:DocBody>'
            "<ofd:DocInfo><ofd:DocID>hwocr-emulator-sample</ofd:DocID></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
        ),
        "Doc_0/Document.xml": (
            f'{_OFD_XML}<ofd:Document xmlns:ofd="{_OFD_NS}"><ofd:CommonData><ofd:MaxUnitID>200</ofd:MaxUnitID>'
            "<ofd:PageArea><ofd:PhysicalBox>0 0 210 140</ofd:PhysicalBox></ofd:PageArea>"
            "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
            '<ofd:TemplatePage ID="1" BaseLoc="Tpls/Tpl_0/Content.xml"/></ofd:CommonData><ofd:Pages>'
            '<ofd:Page ID="4" BaseLoc="Pages/Page_0/Content.xml"/>'
            '<ofd:Page ID="5" BaseLoc="Pages/Page_1/Content.xml"/></ofd:Pages></ofd:Document>'
        ),
        "Doc_0/PublicRes.xml": (
            f'{_OFD_XML}<ofd:Res xmlns:ofd="{_OFD_NS}" BaseLoc="Res"><ofd:Fonts>'
            '<ofd:Font ID="3" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>'
        ),
        "Doc_0/Tpls/Tpl_0/Content.xml": template,
        "Doc_0/Pages/Page_0/Content.xml": first,
        "Doc_0/Pages/Page_1/Content.xml": sales,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():  # OFD.xml first: the format is told by it
            archive.writestr(zipfile.ZipInfo(name, _OFD_TIME), text.encode("utf-8"), zipfile.ZIP_DEFLATED)
    return SampleDocument("vat-invoice.ofd", "ofd", buf.getvalue(), (tuple(first_lines), tuple(sales_lines)))


def all_documents() -> dict[str, SampleDocument]:
    """Every multi-page sample by name (the Chinese PDF where a CJK font is installed)."""
    found = [invoice_pdf(), vat_invoice_ofd()]
    if cjk_font_path() is not None:
        found.append(vat_invoice_pdf())
    return {d.name: d for d in found}


def all_samples() -> dict[str, Sample]:
    """Every sample document by name (the Chinese VAT invoice where a CJK font is installed)."""
    found = [invoice(), receipt(), note(), table(), id_card(), passport()]
    if cjk_font_path() is not None:
        found.append(vat_invoice())
    return {s.name: s for s in found}
