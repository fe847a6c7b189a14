"""The review form (``runtime/review/form.py``): what the UI renders of its Markdown, and params
Airflow reads back as its own ``Param``."""

from __future__ import annotations

import re

import pytest
from airflow.sdk.definitions.param import Param
from markdown_it import MarkdownIt

from airflow_provider_hwocr.runtime.review.form import review_form
from airflow_provider_hwocr.runtime.review.gate import HeldField, held_fields
from airflow_provider_hwocr.runtime.review.rule import ReviewRule

VAT = "vat-invoice"
DESCRIPTOR = {
    "source": "obs://b/in/2026-12-07/x.pdf",
    "page": 2,
    "pages": 3,
    "result_uri": "obs://b/ocr/x.p0002of0003.vat-invoice.json",
    "api": VAT,
    "fields": ["total", "number"],
}


def crops(i: int) -> str:
    return f"/hwocr/review/d/r/review/0/crop/{i}.png"


def _held(result, **confidences) -> list[HeldField]:
    result["confidence"].update(confidences)
    rule = ReviewRule.parse({"total": 0.95, "*": 0.8}, ["total", "number"], slug=VAT)
    assert rule is not None
    return held_fields(VAT, result, rule)


def _html(body: str) -> str:
    """The body as a CommonMark renderer with tables (the UI's Markdown) renders it, raw HTML off."""
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(body)


def test_a_chinese_invoices_form(invoice_result):
    held = _held(invoice_result, total=0.41, number=0.6)
    form = review_form(
        VAT,
        DESCRIPTOR,
        held,
        crops,
        "/hwocr/review/d/r/review/0/page.png",
        on_timeout="reject",
        language=None,
    )
    assert "x.pdf" in form.subject and "第 2/3 页" in form.subject and form.subject.startswith("复核")
    html = _html(form.body)
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.DOTALL)
    assert len(rows) == 3  # the header and one row per held field
    assert "价税合计" in rows[1] and "1130.00" in rows[1] and "0.41" in rows[1] and "0.95" in rows[1]
    assert "发票号码" in rows[2] and "12345678" in rows[2]
    images = re.findall(r'<img src="([^"]+)" alt="([^"]*)"', html)
    assert images == [(crops(0), "价税合计"), (crops(1), "发票号码")]
    assert '<a href="/hwocr/review/d/r/review/0/page.png">查看整页</a>' in html
    assert "自动拒绝" in form.body
    assert (form.options, form.defaults) == (["Approve", "Reject"], ["Reject"])
    assert list(form.params) == ["total", "number"]
    assert form.params["total"] == {
        "value": "1130.00",
        "description": "置信度 0.41 < 0.95",
        "schema": {"type": "string", "title": "价税合计"},
        "source": "task",
    }


def test_the_params_are_airflows_serialized_params(invoice_result):
    held = _held(invoice_result, total=0.41)
    form = review_form(VAT, DESCRIPTOR, held, crops, None, on_timeout="fail", language="en")
    for serialized in form.params.values():
        param = Param.deserialize(serialized, Param.__version__)
        again = param.serialize()
        # Airflow 3.1 serializes a param without its "source" (the form writes it, for 3.2+)
        assert again == {k: v for k, v in serialized.items() if k in again or k != "source"}
        assert param.resolve() == serialized["value"]  # valid against its own schema
        assert param.resolve("1180.00") == "1180.00"
    assert form.defaults is None


def test_an_english_form_and_what_is_missing(invoice_result):
    invoice_result["confidence"]["total"] = 0.2
    rule = ReviewRule.parse(0.5, ["total", "remarks"], slug=VAT)
    assert rule is not None
    held = held_fields(VAT, invoice_result, rule, language="en")
    form = review_form(VAT, DESCRIPTOR, held, lambda i: None, None, on_timeout="approve", language="en")
    assert form.subject == "Review x.pdf page 2 of 3 (VAT Invoice)"
    html = _html(form.body)
    assert "<img" not in html and html.count("no crop") == 2
    assert "No image of the page" in html and "machine's values are approved" in html
    assert (
        form.params["remarks"]["value"] == ""
        and form.params["remarks"]["description"] == "missing (threshold 0.5)"
    )
    assert form.params["total"]["description"] == "confidence 0.2 < 0.5"
    assert form.defaults == ["Approve"]


def test_an_image_has_no_page(invoice_result):
    held = _held(invoice_result, total=0.41)
    form = review_form(
        VAT, {**DESCRIPTOR, "page": None, "pages": None}, held, crops, None, on_timeout="fail", language=None
    )
    assert form.subject == "复核：x.pdf（增值税发票识别）"


def test_values_cannot_break_the_table_or_inject_markup(invoice_result):
    invoice_result["buyer_name"] = "A | B <img src=x onerror=alert(1)> ![x](https://evil/x.png)"
    invoice_result["confidence"]["buyer_name"] = 0.1
    rule = ReviewRule.parse({"buyer_name": 0.5}, slug=VAT)
    assert rule is not None
    held = held_fields(VAT, invoice_result, rule)
    html = _html(review_form(VAT, DESCRIPTOR, held, crops, None, on_timeout="fail", language=None).body)
    (row,) = re.findall(r"<tr>(.*?)</tr>", html, re.DOTALL)[1:]
    assert row.count("<td>") == 4 and "A | B" in row
    assert "evil" not in re.findall(r'<img src="([^"]+)"', html)[0] and len(re.findall("<img", html)) == 1


def test_only_urls_the_ui_renders(invoice_result):
    held = _held(invoice_result, total=0.41)
    for bad in ("data:image/png;base64,AAAA", "http://host/x.png", "javascript:alert(1)"):
        with pytest.raises(ValueError, match="relative or https"):
            review_form(VAT, DESCRIPTOR, held, lambda i, u=bad: u, None, on_timeout="fail", language=None)
    form = review_form(
        VAT,
        DESCRIPTOR,
        held,
        lambda i: "https://h/a (1).png",
        "crop/page.png",
        on_timeout="fail",
        language=None,
    )
    assert '<img src="https://h/a%20%281%29.png"' in _html(form.body)


def test_arguments_are_checked(invoice_result):
    held = _held(invoice_result, total=0.41)
    with pytest.raises(ValueError, match="on_timeout"):
        review_form(VAT, DESCRIPTOR, held, crops, None, on_timeout="later", language=None)
    with pytest.raises(ValueError, match="at least one"):
        review_form(VAT, DESCRIPTOR, [], crops, None, on_timeout="fail", language=None)
