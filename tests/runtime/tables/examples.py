"""Stored envelopes as the runtime writes them (``runtime/envelopes.py``), with realistic results.

Each result starts from the emulator's answer for the API (every documented field, fitted to the
request's flags) and takes the values of the emulator's demo documents: the VAT invoice and its
sales list (``emulator/samples.py``, read through the emulator's label table), a bank receipt's
key-value pairs, a train ticket, and general-text's documented example.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.emulator.examples import example_response
from airflow_provider_hwocr.emulator.mainland import LABELS
from airflow_provider_hwocr.emulator.samples import VAT_INVOICE_FIELDS, VAT_SALES_LIST
from airflow_provider_hwocr.emulator.shape import fit, model_example
from airflow_provider_hwocr.runtime.envelopes import envelope, summarize

CREATED_AT = "2026-11-30T08:15:00+00:00"


def _blank(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: "" if isinstance(v, str) and v.startswith("<") else v for k, v in obj.items()}


def answer(slug: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The emulator's answer made from the response model, fitted to request ``body``, its
    placeholder texts (``<name>``) blank, as fields the service found nothing for (the one item
    of a list result)."""
    result = fit(slug, body or {}, model_example(slug), (1100, 860))["result"]
    return _blank(result[0] if isinstance(result, list) else result)


def stored(
    slug: str,
    result: Any,
    *,
    uri: str = "obs://scans/2026-11-30/a.png",
    parameters: dict[str, Any] | None = None,
    request_id: str = "req-0001",
    **extra: Any,
) -> dict[str, Any]:
    """The envelope the runtime stores for ``result`` of an OBS image at ``uri``."""
    api = get_api(slug)
    source = {"kind": "obs", "uri": uri, "etag": '"5d41402abc4b2a76b9719d911017c592"', "size": 48213}
    doc = envelope(
        api=api,
        parameters=parameters or {},
        source={**source, "mode": "inline"},
        request_id=request_id,
        region="cn-north-4",
        result=result,
        summary=summarize(api, result),
    )
    doc["created_at"] = CREATED_AT
    doc.update(extra)
    return doc


def _item(name: str, quantity: str, amount: str) -> dict[str, Any]:
    price = Decimal(amount) / Decimal(quantity)
    return {
        "name": name,
        "specification": "",
        "unit": "个",
        "quantity": quantity,
        "unit_price": f"{price:.8f}".rstrip("0").rstrip("."),
        "license_plate_number": "",
        "amount": amount,
        "tax_rate": "13%",
        "tax": f"{Decimal(amount) * Decimal('0.13'):.2f}",
        "end_date": "",
        "start_date": "",
        "vehicle_type": "",
    }


#: The demo invoice's goods: the rows of its sales list (销货清单), both pages.
ITEMS = tuple(item for page in VAT_SALES_LIST for item in page)


def vat_invoice_result(number: str = "12345678", scale: int = 1) -> dict[str, Any]:
    """The demo VAT invoice (advanced mode: with confidences), its amounts multiplied by ``scale``."""
    result = answer("vat-invoice", {"advanced_mode": True})
    printed = {LABELS["vat-invoice"][label]: value for label, value in VAT_INVOICE_FIELDS.items()}
    items = [_item(name, qty, f"{Decimal(amount) * scale:.2f}") for name, qty, amount in ITEMS]
    subtotal = sum(Decimal(i["amount"]) for i in items)
    tax = sum(Decimal(i["tax"]) for i in items)
    result.update(printed)
    result.update(
        title="增值税专用发票",
        type="special",
        number=number,
        subtotal_amount=f"{subtotal:.2f}",
        subtotal_tax=f"{tax:.2f}",
        total=f"¥{subtotal + tax:,.2f}",
        total_in_words="壹仟壹佰叁拾圆整" if scale == 1 else "",
        item_list=items,
        belong_item_list=[],
        passenger_travel_item_list=[],
        sales_mark=False,
        supervision_seal=["全国统一发票监制章", "国家税务总局北京市税务局"],
        confidence={"code": 0.9987, "number": 0.9991, "issue_date": 0.9876, "total": 0.9932},
    )
    return result


def vat_invoice(number: str = "12345678", scale: int = 1, **extra: Any) -> dict[str, Any]:
    uri = f"obs://scans/2026-11-30/invoice-{number}.pdf"
    return stored(
        "vat-invoice", vat_invoice_result(number, scale), uri=uri, parameters={"advanced_mode": True}, **extra
    )


def bank_receipt() -> dict[str, Any]:
    pairs = [
        ("回单编号", "2026113000012345"),
        ("付款人户名", "北京示例科技有限公司"),
        ("收款人户名", "上海样例贸易有限公司"),
        ("金额", "¥1,130.00"),
        ("币别", "人民币"),
    ]
    receipt = {
        "kv_pair_count": len(pairs),
        "bank_receipt_location": [[20, 20], [1080, 20], [1080, 600], [20, 600]],
        "kv_pair_list": [{"key": k, "value": v} for k, v in pairs],
    }
    second = copy.deepcopy(receipt)
    second["kv_pair_list"] = second["kv_pair_list"][:2]
    second["kv_pair_count"] = 2
    result = {"bank_receipt_count": 2, "bank_receipt_list": [receipt, second]}
    return stored("bank-receipt", result, uri="obs://scans/2026-11-30/receipt.png")


def train_ticket() -> dict[str, Any]:
    result = answer("train-ticket")
    result.update(
        ticket_id="E012345678",
        train_number="G101",
        departure_station="北京南",
        destination_station="上海虹桥",
        departure_station_en="Beijingnan",
        destination_station_en="Shanghaihongqiao",
        departure_time="2026年11月30日07:00开",
        seat_number="05车12F号",
        ticket_price="￥553.00",
        seat_category="二等座",
        name="张三",
        id_number="1101011990****1234",
        issue_date="2026年11月28日",
        tax_amount="45.66",
        tax_rate="9%",
        total_amount_excluding_tax="507.34",
        seal_mark=False,
        confidence={"train_number": 0.9999, "ticket_price": 0.9954, "issue_date": 0.9871},
    )
    return stored("train-ticket", result, uri="obs://scans/2026-11-30/ticket.jpg")


def general_text() -> dict[str, Any]:
    result = example_response("general-text")["result"]
    second = copy.deepcopy(result["words_block_list"][0])
    second.update(words="第二行", confidence=0.5)
    result["words_block_list"].append(second)
    result["words_block_count"] = 2
    return stored(
        "general-text", result, uri="obs://scans/2026-11-30/page.png", parameters={"character_mode": True}
    )
