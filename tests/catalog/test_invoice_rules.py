"""The invoice-verification rules (``catalog/invoice_rules.py``): ten kinds as data, held against the
vendor's words (the official SDK's field descriptions carry the reference page's request table),
and usable without the client (plain data: the emulator mirrors them)."""

from __future__ import annotations

import re

import pytest
from huaweicloudsdkocr.v1 import InvoiceVerificationRequestBody

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.invoice_rules import (
    AMOUNT_MEANINGS,
    AMOUNT_PATTERN,
    CHECK_CODE_MEANINGS,
    CHECK_CODE_PATTERN,
    INVOICE_KINDS,
    INVOICE_VERIFICATION,
    SOURCES,
    invoice_rules,
)


def _sdk_field(name: str) -> str:
    """The SDK's description of body field ``name``, its HTML escapes undone, spaces collapsed."""
    doc = InvoiceVerificationRequestBody.__init__.__doc__ or ""
    (text,) = re.findall(rf":param {name}: (.*)", doc)
    return " ".join(text.replace("\\&quot;", '"').split())


def _listed(text: str, after: str) -> set[str]:
    """The kinds the vendor lists after ``after`` (up to the sentence's end)."""
    return set(text.split(after, 1)[1].split("。", 1)[0].strip().split("、"))


def _kinds(predicate) -> set[str]:
    return {kind.title_zh for kind in INVOICE_KINDS if predicate(kind)}


def test_ten_kinds_as_the_page_lists_them():
    assert len(INVOICE_KINDS) == 10 == len({k.key for k in INVOICE_KINDS})
    listed = SOURCES["kinds"][1].split("：", 1)[1].split("、")
    assert [k.title_zh for k in INVOICE_KINDS] == listed


def test_which_kinds_need_a_check_code_as_the_vendor_says():
    text = _sdk_field("check_code")
    assert _listed(text, "参数不可为空") == _kinds(lambda k: k.check_code is not None)
    assert "区块链电子发票需要填写5位校验码" in text
    assert INVOICE_VERIFICATION.kind("blockchain").check_code == r"[0-9A-Za-z]{5}"
    ordinary = {k.check_code for k in INVOICE_KINDS if k.check_code and k.key != "blockchain"}
    assert ordinary == {r"\d{6}"} and text.startswith("校验码后六位")


def test_which_kinds_need_an_amount_and_which_amount_as_the_vendor_says():
    text = _sdk_field("subtotal_amount")
    assert _listed(text, "参数不可为空") == _kinds(lambda k: k.amount is not None)
    assert _listed(text, "填写发票合计金额（不含税）") == _kinds(lambda k: k.amount == "excl_tax")
    assert INVOICE_VERIFICATION.kind("used_vehicle").amount == "car_price" and "车价合计 二手车发票" in text
    assert INVOICE_VERIFICATION.kind("fully_digital").amount == "total" and "合计金额 全电发票" in text
    assert set(AMOUNT_MEANINGS) == {k.amount for k in INVOICE_KINDS if k.amount}


def test_no_kind_is_checked_with_neither_check_code_nor_amount():
    assert all(kind.needs for kind in INVOICE_KINDS)
    assert {kind.needs for kind in INVOICE_KINDS} == {
        ("check_code",), ("subtotal_amount",), ("check_code", "subtotal_amount"),
    }  # fmt: skip


def test_a_fully_digital_invoice_is_told_by_its_empty_code():
    assert "发票种类为全电发票时，该参数须为空字符串" in _sdk_field("code")
    (digital,) = [k for k in INVOICE_KINDS if k.code == "empty"]
    assert digital.key == "fully_digital" and digital.amount and digital.told_by == "an empty code"


def test_the_quotes_are_the_vendors_words():
    for rule, field in (
        ("code", "code"),
        ("check_code", "check_code"),
        ("subtotal_amount", "subtotal_amount"),
    ):
        where, quote = SOURCES[rule]
        assert "huaweicloudsdkocr" in where
        assert " ".join(quote.split()) == f"{field}: {_sdk_field(field)}", rule
    for where, _quote in SOURCES.values():
        assert where.startswith(("https://", "huaweicloudsdkocr ")), where


def test_the_amount_has_two_decimals_as_printed():
    assert "“88”或“88.0”可能会产生" in _sdk_field("subtotal_amount")
    for good in ("88.00", "0.50", "-88.00", "44339.62"):
        assert re.fullmatch(AMOUNT_PATTERN, good), good
    for bad in ("88", "88.0", "88.000", "88,00", "¥88.00", ".50", ""):
        assert not re.fullmatch(AMOUNT_PATTERN, bad), bad


def test_the_check_code_forms():
    for good in ("123456", "1c83A", "12345", "ABCDE"):
        assert re.fullmatch(CHECK_CODE_PATTERN, good), good
    for bad in ("1234", "1234567", "12345A", "1c-83", "12 3456", ""):
        assert not re.fullmatch(CHECK_CODE_PATTERN, bad), bad
    assert set(CHECK_CODE_MEANINGS) == {k.check_code for k in INVOICE_KINDS if k.check_code}


def test_the_parameters_patterns_are_the_rules():
    api = get_api("invoice-verification")
    assert invoice_rules(api.slug) is INVOICE_VERIFICATION and invoice_rules("vat-invoice") is None
    assert api.param("check_code").pattern == INVOICE_VERIFICATION.check_code_pattern
    assert api.param("subtotal_amount").pattern == INVOICE_VERIFICATION.amount_pattern


def test_the_dates():
    dates = INVOICE_VERIFICATION.dates
    assert (dates.timezone, dates.utc_offset_hours) == ("Asia/Shanghai", 8)
    assert (dates.max_age_years, dates.hours_after_issue, dates.checks_per_invoice_per_day) == (5, 24, 5)
    quote = SOURCES["dates"][1]
    assert "每天最多可查验5次" in quote and "最近5年内" in quote and "24小时后查询" in quote


def test_an_unknown_kind_lists_the_known_ones():
    with pytest.raises(KeyError, match="fully_digital"):
        INVOICE_VERIFICATION.kind("paper")
