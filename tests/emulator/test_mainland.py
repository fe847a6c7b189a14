"""The answers of the APIs added with the vendor's whole surface (``emulator/mainland.py``): labelled
Chinese fields, plates, VINs, business cards, screenshots, bank receipts, financial statements and
invoice verification, each checked against the response model."""

from __future__ import annotations

import os

import pytest

from airflow_provider_hwocr.catalog.responses import check
from airflow_provider_hwocr.emulator import mainland, samples, shape
from airflow_provider_hwocr.emulator.ocr import Line, TextReader, Word, rapidocr_problem
from airflow_provider_hwocr.emulator.validation import CheckedImage
from tests.helpers.b_images import render

IMAGE = CheckedImage(b"", "PNG", (1000, 800))


def lines(*texts: str) -> list[Line]:
    return [
        Line((Word(t, 0.97, (20, 30 + 40 * i, 20 + 14 * len(t), 60 + 40 * i)),)) for i, t in enumerate(texts)
    ]


def _answer(slug, result, body=None):
    return shape.fit(slug, body or {}, {"result": result}, IMAGE.size)


def test_labelled_chinese_fields_of_a_vat_invoice():
    read = lines("增值税专用发票", "发票代码：011002100111", "发票号码: 12345678", "购买方名称：北京示例科技有限公司",
                 "价税合计：1130.00", "随便：不是字段")  # fmt: skip
    result = mainland.labelled("vat-invoice", read, {}, IMAGE)
    assert result is not None
    assert (result["code"], result["number"], result["buyer_name"], result["total"]) == (
        "011002100111", "12345678", "北京示例科技有限公司", "1130.00",
    )  # fmt: skip
    assert (result["title"], result["type"]) == ("增值税专用发票", "special")
    assert (
        set(result["confidence"]) == set(result["text_location"]) == {"code", "number", "buyer_name", "total"}
    )
    body = {"advanced_mode": True, "return_text_location": True}
    assert check("vat-invoice", body, _answer("vat-invoice", result, body)) == []
    assert mainland.labelled("vat-invoice", lines("no labels here"), {}, IMAGE) is None


def test_vat_types_follow_the_title():
    for title, kind in (
        ("电子发票（普通发票）", "fully_digitalized_normal_electronic"),
        ("增值税普通发票", "normal"),
    ):
        result = mainland.labelled("vat-invoice", lines(title, "发票号码：1"), {}, IMAGE)
        assert result is not None and result["type"] == kind


def test_id_card_labels():
    result = mainland.labelled(
        "id-card", lines("姓名：张三", "性别：男", "公民身份号码：110101199003078888"), {}, IMAGE
    )
    assert result is not None and (result["name"], result["number"]) == ("张三", "110101199003078888")
    assert check("id-card", {}, _answer("id-card", result)) == []


def test_plates_vins_and_cards_are_found_by_their_form():
    plates = mainland.license_plate(lines("京A·12345", "粤B D12345", "hello"), {}, IMAGE)
    assert [(p["plate_number"], p["plate_color"]) for p in plates] == [
        ("京A12345", "blue"),
        ("粤BD12345", "green"),
    ]
    assert check("license-plate", {}, shape.fit("license-plate", {}, {"result": plates}, IMAGE.size)) == []
    assert mainland.license_plate(lines("no plate"), {}, IMAGE) is None
    assert mainland.vin(lines("VIN: LSVAU2180N2183294"), {}, IMAGE) == {"vin": "LSVAU2180N2183294"}
    assert mainland.vin(lines("LSVAU2180N218329I"), {}, IMAGE) is None  # I is never in a VIN
    card = mainland.business_card(
        lines("Li Wei", "Data Engineer", "Example Co", "+86 10 1234 5678", "li.wei@example.com", "www.example.com"),
        {}, IMAGE,
    )  # fmt: skip
    assert card is not None and card["name"] == ["Li Wei"] and card["email"] == ["li.wei@example.com"]
    assert card["phone"] == ["+86 10 1234 5678"] and card["website"] == ["www.example.com"]
    assert check("business-card", {}, _answer("business-card", card)) == []


def test_layouts_screenshots_and_receipts():
    shot = mainland.screenshot(lines("健康码", "绿码"), {}, IMAGE)
    assert shot is not None and shot["words_block_count"] == 2
    assert check("health-code", {}, _answer("health-code", shot)) == []
    assert mainland.screenshot([], {}, IMAGE) is None
    receipt = mainland.bank_receipt(lines("币别：人民币", "金额: 100.00", "no pair"), {}, IMAGE)
    assert receipt is not None
    assert receipt["bank_receipt_list"][0]["kv_pair_list"] == [
        {"key": "币别", "value": "人民币"}, {"key": "金额", "value": "100.00"},
    ]  # fmt: skip
    assert check("bank-receipt", {}, _answer("bank-receipt", receipt)) == []


def test_financial_statement_regions():
    rows = [("text", [{"words": "资产负债表", "confidence": 0.9, "location": [[0, 0], [1, 0], [1, 1], [0, 1]]}]),
            ("table", [{"words": "货币资金", "confidence": 0.9, "rows": [0], "columns": [0],
                        "location": [[0, 0], [1, 0], [1, 1], [0, 1]]}])]  # fmt: skip
    for flag in (False, True):
        body = {"return_text_location": flag}
        result = mainland.financial_statement(rows, body, IMAGE)
        assert result["words_region_count"] == 2
        assert check("financial-statement", body, _answer("financial-statement", result, body)) == []


def test_invoice_verification_echoes_the_invoice_only():
    body = {"code": "", "number": "24112000000016430745", "issue_date": "2026-11-20", "extra": 1}
    assert mainland.invoice_verification(body) == {
        "code": "",
        "number": "24112000000016430745",
        "issue_date": "2026-11-20",
    }


@pytest.fixture
def chinese_reader() -> TextReader:
    """RapidOCR comes with the test extra; a machine without it (a stale venv) skips, CI never does."""
    problem = rapidocr_problem()
    if problem is not None:
        if os.environ.get("CI"):
            raise AssertionError(f"the Chinese reader must come with the test extra: {problem}")
        pytest.skip(problem)
    return TextReader("auto")


def test_the_chinese_reader_reads_the_sample_vat_invoice(chinese_reader):
    if samples.cjk_font_path() is None:
        pytest.skip("no CJK font to render the invoice")
    sample = samples.vat_invoice()
    read, engine = chinese_reader.read(sample.png, "PNG", (1100, 860), chinese=True)
    assert engine == "rapidocr"
    labels = mainland.chinese_labels(read)
    assert {k: labels[k][0] for k in samples.VAT_INVOICE_FIELDS} == samples.VAT_INVOICE_FIELDS
    english, used = chinese_reader.read(render(["Not Chinese"], size=(300, 80)), "PNG", (300, 80))
    assert used == "tesserocr" and english[0].text == "Not Chinese"  # other APIs keep Tesseract
