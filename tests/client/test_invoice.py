"""Invoice verification before the call (``client/invoice.py``): every rule the vendor's page states
refuses the request in ``prepare_request`` (nothing is sent), naming the parameter; a valid request
of each of the ten invoice kinds passes; one invoice written six ways has one identity."""

from __future__ import annotations

import datetime

import pytest

from airflow_provider_hwocr.catalog.invoice_rules import (
    BLOCKCHAIN_CHECK_CODE,
    INVOICE_KINDS,
    LAST_SIX_DIGITS,
    InvoiceKind,
)
from airflow_provider_hwocr.client import invoice
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.invoice import (
    InvoiceIdentity,
    check_issue_date,
    china_today,
    fitting_kinds,
    normalise_date,
    normalise_invoice,
)
from airflow_provider_hwocr.client.request import prepare_request
from airflow_provider_hwocr.operators import ocr

API = "invoice-verification"
#: The day the tests run on, in China.
TODAY = datetime.date(2026, 12, 7)
CODE = "011002100111"
INVOICE = {"code": CODE, "number": "12345678", "issue_date": "2026-11-20"}


@pytest.fixture(autouse=True)
def today(monkeypatch):
    """The tax authority's today is :data:`TODAY` (whatever the machine's clock says)."""
    monkeypatch.setattr(invoice, "china_today", lambda *args, **kwargs: TODAY)
    return TODAY


def prepare(fields):
    return prepare_request(API, params=fields)


def refused(fields) -> HuaweiOcrValidationError:
    with pytest.raises(HuaweiOcrValidationError) as info:
        prepare(fields)
    assert "Nothing was sent" in str(info.value) or "documented form" in str(info.value)
    return info.value


# --- each rule, refused before a call, naming the parameter -----------------------------------------


@pytest.mark.parametrize(
    ("fields", "parameter", "text"),
    [
        ({**INVOICE, "check_code": "123456", "issue_date": "2026-12-08"}, "issue_date", "in the future"),
        ({**INVOICE, "check_code": "123456", "issue_date": "2027-01-01"}, "issue_date", "in the future"),
        ({**INVOICE, "check_code": "123456", "issue_date": "2026-12-07"}, "issue_date", "24 hours after"),
        ({**INVOICE, "check_code": "123456", "issue_date": "2021-12-06"}, "issue_date", "more than 5 years"),
        ({**INVOICE, "check_code": "123456", "issue_date": "2019-03-01"}, "issue_date", "from 2021-12-07"),
        ({**INVOICE, "subtotal_amount": "88"}, "subtotal_amount", "two decimals"),
        ({**INVOICE, "subtotal_amount": "88.0"}, "subtotal_amount", "two decimals"),
        ({**INVOICE, "subtotal_amount": "88.000"}, "subtotal_amount", "two decimals"),
        (INVOICE, "check_code", "no kind of invoice is checked with neither"),
        ({**INVOICE, "code": ""}, "subtotal_amount", "an empty code is a fully digital invoice"),
        ({**INVOICE, "code": "", "check_code": "123456"}, "subtotal_amount", "fully digital invoice (全电发票)"),
        ({**INVOICE, "check_code": "1c83A"}, "subtotal_amount", "five letters or digits is a blockchain"),
        ({**INVOICE, "check_code": "12345"}, "subtotal_amount", "blockchain electronic invoice"),
        ({**INVOICE, "check_code": "12345A"}, "check_code", "documented form"),
        ({**INVOICE, "check_code": "1234567"}, "check_code", "documented form"),
        ({**INVOICE, "check_code": "1c83"}, "check_code", "documented form"),
        ({**INVOICE, "check_code": "1c-83"}, "check_code", "documented form"),
        ({**INVOICE, "check_code": "00000000000000123456"}, "check_code", "Last six digits"),
    ],
    ids=[
        "tomorrow", "next-year", "today", "five-years-and-a-day", "long-ago", "amount-88", "amount-88.0",
        "amount-three-decimals", "neither-check-code-nor-amount", "fully-digital-without-amount",
        "fully-digital-with-check-code-only", "blockchain-without-amount", "blockchain-digits-without-amount",
        "six-with-a-letter", "seven-digits", "four-characters", "punctuation", "whole-check-code",
    ],
)  # fmt: skip
def test_each_rule_is_refused_before_a_call(fields, parameter, text):
    error = refused(fields)
    assert error.parameter == parameter and text in str(error)


def test_the_refusal_names_what_each_kind_needs():
    text = str(refused(INVOICE))
    for kind in INVOICE_KINDS:
        if kind.code == "printed":
            assert kind.title_zh in text, kind.key
    assert "subtotal_amount = the car price total (车价合计)" in text
    assert "check_code = the last six digits of the check code" in text


def test_a_refusal_makes_no_call(emulator, ocr_conn):
    for fields in (INVOICE, {**INVOICE, "code": "", "subtotal_amount": "88.00", "issue_date": "2026-12-07"}):
        with pytest.raises(HuaweiOcrValidationError):
            ocr.HuaweiOcrOperator(task_id="t", api=API, parameters=fields).execute({})
    assert emulator.count() == 0


# --- what passes ---------------------------------------------------------------------------------


def _valid(kind: InvoiceKind) -> dict[str, str]:
    """The fields of an invoice of ``kind`` with exactly what the kind needs."""
    fields = {"code": CODE, "number": "12345678", "issue_date": "2026-11-20"}
    if kind.code == "empty":
        fields.update(code="", number="24112000000016430745")
    if kind.check_code == LAST_SIX_DIGITS:
        fields["check_code"] = "654321"
    elif kind.check_code == BLOCKCHAIN_CHECK_CODE:
        fields["check_code"] = "1c83A"
    if kind.amount is not None:
        fields["subtotal_amount"] = "1000.00"
    return fields


@pytest.mark.parametrize("kind", INVOICE_KINDS, ids=[k.key for k in INVOICE_KINDS])
def test_a_valid_request_of_each_kind_passes(kind):
    fields = _valid(kind)
    assert set(fields) - {"code", "number", "issue_date"} == set(kind.needs)
    assert dict(prepare(fields).body) == fields
    assert kind in fitting_kinds(fields)


def test_a_blockchain_check_code_may_have_letters():
    for check_code in ("1c83A", "ab12z", "12345", "ABCDE"):
        fields = {**INVOICE, "check_code": check_code, "subtotal_amount": "88.00"}
        assert prepare(fields).body["check_code"] == check_code


def test_dates_inside_the_window_pass():
    for day in ("2026-12-06", "2024-02-29", "2021-12-07"):  # yesterday, a leap day, 5 years ago to the day
        assert prepare({**INVOICE, "check_code": "123456", "issue_date": day}).body["issue_date"] == day


def test_a_red_letter_invoice_keeps_its_minus_sign():
    assert prepare({**INVOICE, "subtotal_amount": "-88.00"}).body["subtotal_amount"] == "-88.00"


def test_which_kinds_a_request_may_be():
    def keys(fields):
        return {k.key for k in fitting_kinds(fields)}

    printed = {k.key for k in INVOICE_KINDS if k.code == "printed"}
    without_check_code = {k.key for k in INVOICE_KINDS if k.check_code is None and k.code == "printed"}
    assert keys({**INVOICE, "code": ""}) == {"fully_digital"}
    assert keys(INVOICE) == printed
    assert keys({**INVOICE, "check_code": "1c83A"}) == without_check_code | {"blockchain"}
    assert keys({**INVOICE, "check_code": "123456"}) == printed - {"blockchain"}


# --- the date: China's calendar, five years, leap days --------------------------------------------


def test_today_is_the_date_in_china(monkeypatch):
    monkeypatch.undo()  # the real china_today
    utc = datetime.timezone.utc
    assert china_today(now=datetime.datetime(2026, 12, 7, 15, 59, tzinfo=utc)) == datetime.date(2026, 12, 7)
    assert china_today(now=datetime.datetime(2026, 12, 7, 16, 0, tzinfo=utc)) == datetime.date(2026, 12, 8)
    assert isinstance(china_today(), datetime.date)


def test_five_years_back_from_a_leap_day():
    leap = datetime.date(2028, 2, 29)
    check_issue_date("2023-02-28", today=leap)
    with pytest.raises(HuaweiOcrValidationError, match="from 2023-02-28"):
        check_issue_date("2023-02-27", today=leap)


# --- an invoice's identity -------------------------------------------------------------------------

SIX_WAYS = [
    {"code": "011002100111", "number": "04532425", "issue_date": "2026-11-30"},
    {"code": " 0110 0210 0111 ", "number": "0453 2425", "issue_date": "20261130", "check_code": "123456"},
    {"code": "11002100111", "number": "4532425", "issue_date": "2026/11/30"},  # a spreadsheet lost the zeros
    {"code": 11002100111, "number": 4532425, "issue_date": "2026年11月30日", "subtotal_amount": "88.00"},
    {"code": "０１１００２１００１１１", "number": "04532425\t", "issue_date": "2026.11.30"},  # full-width
    {"code": "011002100111", "number": "004532425", "issue_date": datetime.date(2026, 11, 30)},
]


def test_one_invoice_written_six_ways_has_one_identity():
    identities = {normalise_invoice(fields) for fields in SIX_WAYS}
    assert identities == {InvoiceIdentity("11002100111", "4532425", "2026-11-30")}


def test_other_invoices_have_other_identities():
    one = normalise_invoice(SIX_WAYS[0])
    for other in (
        {**SIX_WAYS[0], "number": "04532426"},
        {**SIX_WAYS[0], "code": "011002100112"},
        {**SIX_WAYS[0], "issue_date": "2026-11-29"},
        {**SIX_WAYS[0], "code": ""},
    ):
        assert normalise_invoice(other) != one
    assert normalise_invoice({"code": "", "number": "24112000000016430745", "issue_date": "2024-03-29"}) == (
        "",
        "24112000000016430745",
        "2024-03-29",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-30", "2026-11-30"), ("20261130", "2026-11-30"), ("2026/11/30", "2026-11-30"),
        ("2026年11月30日", "2026-11-30"), ("2026年1月5日", "2026-01-05"), (" 2026 年 11 月 30 日 ", "2026-11-30"),
        ("2026.1.5", "2026-01-05"), (20261130, "2026-11-30"),
        (datetime.datetime(2026, 11, 30, 9, 30), "2026-11-30"),
    ],
)  # fmt: skip
def test_common_spellings_of_a_date(value, expected):
    assert normalise_date(value) == expected


@pytest.mark.parametrize("value", ["2026-02-30", "2026130", "30/11/2026", "", None, "yesterday"])
def test_what_is_not_a_date_is_named(value):
    with pytest.raises(HuaweiOcrValidationError) as info:
        normalise_date(value)
    assert info.value.parameter == "issue_date"


def test_a_missing_number_is_named():
    with pytest.raises(HuaweiOcrValidationError) as info:
        normalise_invoice({"code": CODE, "issue_date": "2026-11-30"})
    assert info.value.parameter == "number"
    with pytest.raises(HuaweiOcrValidationError) as info:
        normalise_invoice({"code": CODE, "number": " ", "issue_date": "2026-11-30"})
    assert info.value.parameter == "number"
