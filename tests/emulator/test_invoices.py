"""invoice-verification in the emulator (``emulator/invoices.py``): the vendor's rules, read from the
catalog, answered with the service's parameter error (400 AIS.0101, not billed); the tax authority's
count of checks per invoice per China day."""

from __future__ import annotations

import datetime

import pytest

from airflow_provider_hwocr.catalog import ERROR_CODES
from airflow_provider_hwocr.catalog.invoice_rules import INVOICE_VERIFICATION, ISSUE_DATES
from airflow_provider_hwocr.emulator import invoices
from airflow_provider_hwocr.emulator.errors import EmulatorError
from tests.helpers.b_service import service
from tests.helpers.b_signed import call, error_of

SLUG = "invoice-verification"
CHINA = datetime.timezone(datetime.timedelta(hours=8))
TODAY = datetime.datetime.now(CHINA).date()
#: An ordinary VAT invoice (a printed code, the last six digits of its check code).
ORDINARY = {"code": "011002100111", "number": "12345678", "issue_date": "2024-05-20", "check_code": "123456"}
SPECIAL = {
    "code": "011002100111",
    "number": "12345678",
    "issue_date": "2024-05-20",
    "subtotal_amount": "88.00",
}


def _years_ago(years: int, days: int = 0) -> str:
    day = (
        TODAY.replace(year=TODAY.year - years)
        if (TODAY.month, TODAY.day) != (2, 29)
        else TODAY.replace(year=TODAY.year - years, day=28)
    )
    return (day - datetime.timedelta(days=days)).isoformat()


REFUSED = [
    ("future", {**ORDINARY, "issue_date": (TODAY + datetime.timedelta(days=1)).isoformat()}, "in the future"),
    ("today", {**ORDINARY, "issue_date": TODAY.isoformat()}, "is today"),
    ("over-5-years", {**ORDINARY, "issue_date": _years_ago(5, days=1)}, "more than 5 years ago"),
    ("not-a-date", {**ORDINARY, "issue_date": "2024-02-30"}, "invalid value"),
    ("date-slashes", {**ORDINARY, "issue_date": "2024/05/20"}, "invalid value"),
    ("amount-no-decimals", {**SPECIAL, "subtotal_amount": "88"}, "invalid value"),
    ("amount-one-decimal", {**SPECIAL, "subtotal_amount": "88.0"}, "invalid value"),
    ("check-code-7-digits", {**ORDINARY, "check_code": "1234567"}, "invalid value"),
    ("check-code-6-with-letters", {**ORDINARY, "check_code": "12345A"}, "invalid value"),
    ("code-letters", {**ORDINARY, "code": "01100210011X"}, "invalid value"),
    (
        "neither",
        {k: v for k, v in ORDINARY.items() if k != "check_code"},
        "neither check_code nor subtotal_amount",
    ),
    ("fully-digital-no-amount", {**ORDINARY, "code": ""}, "subtotal_amount needed by every kind"),
    ("blockchain-no-amount", {**ORDINARY, "check_code": "A1b2C"}, "subtotal_amount needed by every kind"),
]
ACCEPTED = [
    ("ordinary", ORDINARY),
    ("special", SPECIAL),
    ("red-letter", {**SPECIAL, "subtotal_amount": "-88.00"}),
    ("yesterday", {**ORDINARY, "issue_date": (TODAY - datetime.timedelta(days=1)).isoformat()}),
    ("exactly-5-years", {**ORDINARY, "issue_date": _years_ago(5)}),
    ("fully-digital", {**SPECIAL, "code": "", "number": "24112000000016430745"}),
    ("blockchain", {**SPECIAL, "check_code": "A1b2C"}),
    ("blockchain-digits", {**SPECIAL, "check_code": "12345"}),
    ("both", {**ORDINARY, "subtotal_amount": "88.00"}),
]


@pytest.mark.parametrize(("body", "detail"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_what_the_tax_authority_cannot_check_is_a_parameter_error(emulator, body, detail):
    response = call(emulator, SLUG, body)
    assert (response.status_code, error_of(response)) == (400, "AIS.0101")
    assert response.json()["error_msg"] == ERROR_CODES["AIS.0101"].message
    assert detail in response.headers["X-Emulator-Detail"]
    assert emulator.stats()["billable"] == 0


@pytest.mark.parametrize("body", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_what_it_can_check_is_answered(emulator, body):
    response = call(emulator, SLUG, body)
    assert response.status_code == 200, response.headers.get("X-Emulator-Detail")
    assert emulator.count(SLUG, 200) == 1


def test_the_rules_are_the_catalogs_and_today_is_chinas():
    midnight_utc = datetime.datetime(2026, 12, 7, 16, 0, tzinfo=datetime.timezone.utc).timestamp()
    assert invoices.china_today(ISSUE_DATES, midnight_utc - 1) == datetime.date(2026, 12, 7)
    assert invoices.china_today(ISSUE_DATES, midnight_utc) == datetime.date(2026, 12, 8)
    today = datetime.date(2026, 12, 8)
    invoices.check_invoice({**ORDINARY, "issue_date": "2026-12-07"}, INVOICE_VERIFICATION, today)
    with pytest.raises(EmulatorError) as info:
        invoices.check_invoice({**ORDINARY, "issue_date": "2026-12-08"}, INVOICE_VERIFICATION, today)
    assert (info.value.status, info.value.code) == (400, "AIS.0101") and "is today" in info.value.detail
    invoices.check_invoice({**ORDINARY, "issue_date": "2021-12-08"}, INVOICE_VERIFICATION, today)
    with pytest.raises(EmulatorError) as info:
        invoices.check_invoice({**ORDINARY, "issue_date": "2021-12-07"}, INVOICE_VERIFICATION, today)
    assert "more than 5 years ago" in info.value.detail


def test_five_checks_of_an_invoice_a_china_day_then_the_parameter_error():
    before_midnight = datetime.datetime(2026, 12, 7, 15, 59, tzinfo=datetime.timezone.utc).timestamp()
    with service() as s:
        s.emu.clock = lambda: before_midnight  # 23:59 in China
        for _ in range(5):
            assert s.ocr(SLUG, ORDINARY).status_code == 200
        sixth = s.ocr(SLUG, ORDINARY)
        assert (sixth.status_code, sixth.json()["error_code"]) == (400, "AIS.0101")
        detail = sixth.headers["X-Emulator-Detail"]
        assert "more than 5 times today (2026-12-07, China time)" in detail and "no error code" in detail
        assert s.ocr(SLUG, {**ORDINARY, "number": "87654321"}).status_code == 200  # another invoice
        s.emu.clock = lambda: before_midnight + 60  # 00:00 on the 8th in China
        assert s.ocr(SLUG, ORDINARY).status_code == 200
        assert s.emu.stats()["billable"] == 7
        s.emu.reset()
        s.emu.clock = lambda: before_midnight
        assert s.ocr(SLUG, ORDINARY).status_code == 200  # reset forgets the counts


def test_the_limit_is_a_setting_counted_per_invoice_as_sent():
    counter = invoices.InvoiceCounter(ISSUE_DATES, lambda: 0.0)
    assert [counter.count(ORDINARY, 2) for _ in range(2)] == [1, 2]
    with pytest.raises(EmulatorError):
        counter.count(ORDINARY, 2)
    assert counter.count({**ORDINARY, "code": "11002100111"}, 2) == 1  # another code, as sent
