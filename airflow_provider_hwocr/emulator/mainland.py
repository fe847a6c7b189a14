"""Answers of the APIs added with the vendor's whole surface, read off the image where practical.

Most of them are mainland documents: VAT and other invoices, tickets, licences and
certificates. Their fields are printed as ``标签：值`` lines (``发票代码：011002100111``),
so an answer is the labelled lines the reader found, under the API's documented field
names (``catalog/labels.py``); a plate number, a VIN, phone numbers and e-mail addresses are
found by their form; tables (financial statements), key-value pairs (bank receipts) and
text blocks (health-code screenshots) by their layout. Chinese text needs the Chinese
reader (RapidOCR, the ``emulator-zh`` extra): without it, no label is found and the
answer falls back on the documented shape, announced as such.

invoice-verification takes no image: its answer echoes the invoice it was asked about;
the verdict itself (the tax authority's) is a placeholder of the documented shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from airflow_provider_hwocr.catalog.labels import LABELS, VAT_TYPES
from airflow_provider_hwocr.catalog.responses import response_model
from airflow_provider_hwocr.emulator.ocr import Line, quad, union
from airflow_provider_hwocr.emulator.validation import CheckedImage

_LABEL_ZH = re.compile(r"^\s*([\u4e00-\u9fff（）()A-Za-z]{2,16}?)\s*[:：]\s*(.+?)\s*$")


def chinese_labels(lines: list[Line]) -> dict[str, tuple[str, float, tuple[int, int, int, int]]]:
    """``标签：值`` lines: label -> (value, confidence, box). The first of a label wins."""
    found: dict[str, tuple[str, float, tuple[int, int, int, int]]] = {}
    for line in lines:
        match = _LABEL_ZH.match(line.text)
        if match:
            found.setdefault(match.group(1), (match.group(2), line.confidence, line.box))
    return found


def _labelled_fields(
    names: dict[str, str], lines: list[Line]
) -> tuple[dict[str, Any], dict[str, float], dict[str, Any]]:
    """(values, confidences, locations) of the documented fields whose labels are printed."""
    result: dict[str, Any] = {}
    confidence: dict[str, float] = {}
    locations: dict[str, Any] = {}
    for label, (value, conf, box) in chinese_labels(lines).items():
        name = names.get(label)
        if name is None or name in result:
            continue
        result[name] = value
        confidence[name] = conf
        locations[name] = quad(box)
    return result, confidence, locations


def _vat_title(lines: list[Line]) -> dict[str, str]:
    """A VAT invoice's ``title`` (the line naming the invoice) and the ``type`` it tells."""
    title = next((line.text for line in lines if "发票" in line.text and "：" not in line.text), "")
    return {"title": title, "type": next((kind for text, kind in VAT_TYPES if text in title), "special")}


def labelled(
    slug: str, lines: list[Line], body: dict[str, Any], image: CheckedImage
) -> dict[str, Any] | None:
    """The fields the API's labels name, with confidences and locations; None when none is printed."""
    result, confidence, locations = _labelled_fields(LABELS.get(slug, {}), lines)
    if not result:
        return None
    if slug == "vat-invoice":
        result.update(_vat_title(lines))
    documented = {f.name for f in response_model(slug).fields}
    if "confidence" in documented:
        result["confidence"] = confidence
    if "text_location" in documented:
        result["text_location"] = locations
    return result


# --- found by their form ----------------------------------------------------------------------

_VIN = re.compile(r"\b[A-HJ-NPR-Z0-9]{17}\b")
_PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•]?[A-HJ-NP-Z0-9]{5,6}"
)
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_WEB = re.compile(r"(?:https?://|www\.)[\w./-]+", re.IGNORECASE)
_PAIR = re.compile(r"^\s*(.+?)\s*[:：]\s*(.+?)\s*$")


def vin(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any] | None:
    for line in lines:
        match = _VIN.search(line.text.replace(" ", "").upper())
        if match:
            return {"vin": match.group(0)}
    return None


def license_plate(
    lines: list[Line], body: dict[str, Any], image: CheckedImage
) -> list[dict[str, Any]] | None:
    plates = []
    for line in lines:
        match = _PLATE.search(line.text.replace(" ", ""))
        if match:
            number = match.group(0).replace("·", "").replace("•", "")
            color = "green" if len(number) == 8 else "blue"  # new-energy plates have 8 characters
            plates.append(
                {"plate_number": number, "plate_color": color, "plate_location": quad(line.box),
                 "confidence": line.confidence}
            )  # fmt: skip
    return plates or None


def _matches(pattern: re.Pattern[str], texts: list[str]) -> list[str]:
    """Every match of ``pattern`` in ``texts``, in order."""
    return [m.group(0) for t in texts for m in pattern.finditer(t)]


def _plain(text: str) -> bool:
    """A line that is no phone number, e-mail address or web site (a name, title, company)."""
    return not _PHONE.search(text) and "@" not in text and not _WEB.search(text)


def business_card(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any] | None:
    text = [line.text for line in lines]
    if not text:
        return None
    phones = [phone.strip() for phone in _matches(_PHONE, [t for t in text if "@" not in t])]
    plain = [t for t in text if _plain(t)]
    return {
        "name": plain[:1], "title": plain[1:2], "company": plain[2:3], "department": [], "phone": phones,
        "address": [], "email": _matches(_EMAIL, text), "fax": [], "postcode": [],
        "website": _matches(_WEB, text), "extra_info_list": [],
    }  # fmt: skip


# --- found by their layout ---------------------------------------------------------------------


def _blocks(lines: list[Line]) -> list[dict[str, Any]]:
    return [{"words": line.text, "location": quad(line.box), "confidence": line.confidence} for line in lines]


def screenshot(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any] | None:
    """health-code and pcr-test-record: the text blocks of the screenshot (the fields fill in empty)."""
    if not lines:
        return None
    blocks = _blocks(lines)
    return {"words_block_count": len(blocks), "words_block_list": blocks}


def bank_receipt(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any] | None:
    pairs = []
    for line in lines:
        match = _PAIR.match(line.text)
        if match:
            pairs.append({"key": match.group(1), "value": match.group(2)})
    if not pairs:
        return None
    box = union(line.box for line in lines)
    receipt = {"kv_pair_count": len(pairs), "bank_receipt_location": quad(box), "kv_pair_list": pairs}
    return {"bank_receipt_count": 1, "bank_receipt_list": [receipt]}


def financial_statement(
    rows: list[tuple[str, list[dict[str, Any]]]], body: dict[str, Any], image: CheckedImage
) -> dict[str, Any]:
    """Regions as general-table finds them (``rows``: (kind, cells)), in the financial-statement shape."""
    with_location = bool(body.get("return_text_location"))
    regions = []
    for kind, cells in rows:
        blocks = []
        for cell in cells:
            block = {"words": cell["words"], "confidence": cell["confidence"]}
            if kind == "table":
                block.update(rows=cell.get("rows", [0]), columns=cell.get("columns", [0]))
            if with_location and "location" in cell:
                block["location"] = cell["location"]
                if kind == "table":
                    block["cell_location"] = cell["location"]
            blocks.append(block)
        regions.append({"type": kind, "words_block_count": float(len(blocks)), "words_block_list": blocks})
    return {"words_region_count": len(regions), "words_region_list": regions}


# --- no image at all ----------------------------------------------------------------------------


def invoice_verification(body: dict[str, Any]) -> dict[str, Any]:
    """The invoice asked about, echoed; the tax authority's verdict is left to the documented shape."""
    return {
        name: body[name]
        for name in ("code", "number", "issue_date", "check_code", "subtotal_amount")
        if isinstance(body.get(name), str)
    }


#: APIs read by their form or layout (the builders above), beside the labelled ones.
BUILDERS: dict[str, Callable[[list[Line], dict[str, Any], CheckedImage], Any]] = {
    "vin": vin,
    "license-plate": license_plate,
    "business-card": business_card,
    "health-code": screenshot,
    "pcr-test-record": screenshot,
    "bank-receipt": bank_receipt,
}
