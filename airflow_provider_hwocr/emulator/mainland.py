"""Answers of the APIs added with the vendor's whole surface, read off the image where practical.

Most of them are mainland documents: VAT and other invoices, tickets, licences and
certificates. Their fields are printed as ``标签：值`` lines (``发票代码：011002100111``),
so an answer is the labelled lines the reader found, under the API's documented field
names (:data:`LABELS`); a plate number, a VIN, phone numbers and e-mail addresses are
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

from airflow_provider_hwocr.catalog.responses import response_model
from airflow_provider_hwocr.emulator.ocr import Line, quad, union
from airflow_provider_hwocr.emulator.validation import CheckedImage

_LABEL_ZH = re.compile(r"^\s*([\u4e00-\u9fff（）()A-Za-z]{2,16}?)\s*[:：]\s*(.+?)\s*$")

#: Printed label -> documented field name, per API (the labels of the vendor's sample documents).
LABELS: dict[str, dict[str, str]] = {
    "vat-invoice": {
        "发票代码": "code", "发票号码": "number", "开票日期": "issue_date", "校验码": "check_code",
        "机器编号": "machine_number", "密码区": "encryption_block",
        "购买方名称": "buyer_name", "购买方纳税人识别号": "buyer_id", "购买方地址电话": "buyer_address",
        "购买方开户行及账号": "buyer_bank", "销售方名称": "seller_name", "销售方纳税人识别号": "seller_id",
        "销售方地址电话": "seller_address", "销售方开户行及账号": "seller_bank",
        "合计金额": "subtotal_amount", "合计税额": "subtotal_tax", "价税合计": "total",
        "价税合计（大写）": "total_in_words", "备注": "remarks", "收款人": "receiver", "复核": "reviewer",
        "开票人": "issuer",
    },
    "mvs-invoice": {
        "发票代码": "code", "发票号码": "number", "开票日期": "issue_date", "机器编号": "machine_number",
        "购买方名称": "buyer_name", "纳税人识别号": "buyer_id", "车辆类型": "vehicle_type",
        "厂牌型号": "brand_model", "产地": "manufacturing_location", "发动机号码": "engine_number",
        "车辆识别代号": "vehicle_identification_number", "价税合计": "total", "销货单位名称": "seller_name",
        "不含税价": "tax_exclusive_price", "增值税税额": "tax",
    },
    "quota-invoice": {"发票代码": "code", "发票号码": "number", "金额": "amount", "地址": "location"},
    "taxi-invoice": {
        "发票代码": "code", "发票号码": "number", "车号": "taxi_number", "日期": "date", "上车": "boarding_time",
        "下车": "alighting_time", "单价": "unit_price", "里程": "distance", "金额": "fare", "实收金额": "total",
    },
    "toll-invoice": {
        "发票代码": "code", "发票号码": "number", "入口": "entry", "出口": "exit", "金额": "amount",
        "收费员": "cashier", "车型": "vehicle_type", "日期": "date", "时间": "time",
    },
    "train-ticket": {
        "车次": "train_number", "始发站": "departure_station", "终点站": "destination_station",
        "开车时间": "departure_time", "座位号": "seat_number", "票价": "ticket_price", "姓名": "name",
        "身份证号": "id_number",
    },
    "flight-itinerary": {
        "旅客姓名": "passenger_name", "有效身份证件号码": "id_number", "票价": "fare", "合计": "total",
        "电子客票号码": "e_ticket_number", "验证码": "check_code", "填开日期": "issue_date",
    },
    "id-card": {
        "姓名": "name", "性别": "sex", "民族": "ethnicity", "出生": "birth", "住址": "address",
        "公民身份号码": "number", "签发机关": "issue",
    },
    "driver-license": {
        "证号": "number", "姓名": "name", "性别": "sex", "国籍": "nationality", "住址": "address",
        "出生日期": "birth", "初次领证日期": "issue_date", "准驾车型": "class",
    },
    "vehicle-license": {
        "号牌号码": "number", "车辆类型": "vehicle_type", "所有人": "name", "住址": "address",
        "使用性质": "use_character", "品牌型号": "model", "车辆识别代号": "vin", "发动机号码": "engine_no",
        "注册日期": "register_date", "发证日期": "issue_date",
    },
    "business-license": {
        "统一社会信用代码": "registration_number", "名称": "name", "类型": "type", "住所": "address",
        "法定代表人": "legal_representative", "注册资本": "registered_capital", "成立日期": "found_date",
        "营业期限": "business_term", "经营范围": "business_scope",
    },
    "bankcard": {"卡号": "card_number", "银行": "bank_name", "有效期": "expiry_date", "类型": "type"},
    "acceptance-bill": {"出票日期": "issue_date", "汇票到期日": "due_date", "票据号码": "bill_number"},
    "insurance-policy": {},
}  # fmt: skip

#: A VAT invoice's title -> its documented ``type``.
VAT_TYPES = (
    ("电子发票（增值税专用发票）", "fully_digitalized_special_electronic"),
    ("电子发票（普通发票）", "fully_digitalized_normal_electronic"),
    ("增值税电子专用发票", "special_electronic"),
    ("增值税电子普通发票", "electronic"),
    ("增值税专用发票", "special"),
    ("增值税普通发票", "normal"),
)


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
