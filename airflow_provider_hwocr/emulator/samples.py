"""Sample documents rendered with Pillow: what the demo uploads and the tests read back.

Each sample is a PNG together with the words printed on it, so a reader can
be scored against what is really there. The passport page carries a valid
ICAO 9303 machine-readable zone (check digits computed here); the ID card
prints its fields as ``Label: value`` lines, the way the emulator reads
cards.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

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


def _font(size: int, kind: str = "sans") -> Any:
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
    font = _font(font_size, kind)
    x, y = start
    for line in lines:
        draw.text((x, y), line, fill="black", font=font)
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
    font = _font(28)
    for i, line in enumerate(text):
        draw.text((340, 50 + i * 52), line, fill="black", font=font)
    draw.rectangle([40, 60, 300, 400], outline="black", width=3)
    draw.text((110, 215), "PHOTO", fill="black", font=font)
    mono = _font(26, "mono")
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
    draw.text((110, 220), "PHOTO", fill="black", font=_font(30))
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


def all_samples() -> dict[str, Sample]:
    """Every sample document by name (the Chinese VAT invoice where a CJK font is installed)."""
    found = [invoice(), receipt(), note(), table(), id_card(), passport()]
    if cjk_font_path() is not None:
        found.append(vat_invoice())
    return {s.name: s for s in found}
