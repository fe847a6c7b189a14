"""What invoice verification accepts, as data: the ten invoice kinds and what each needs.

invoice-verification takes no image: its request is an invoice's fields (``code``,
``number``, ``issue_date``, ``check_code``, ``subtotal_amount``). The vendor's page
(``ocr_03_0134``, updated 2025-12-03, and the same text in the official SDK's
``InvoiceVerificationRequestBody``) says which of the optional fields each of the ten
kinds of invoice needs, and which invoices the tax authority can check at all. This
module holds those statements; the client checks a request against them before a call
(:mod:`airflow_provider_hwocr.client.invoice`), and the emulator may mirror them.

How to read :class:`InvoiceKind`:

* ``code``: ``"printed"`` (the request's ``code`` is the invoice code, digits) or
  ``"empty"`` (a fully digital invoice has none: the request sends ``""``);
* ``check_code``: ``None`` if the kind does not need a check code, else the regular
  expression its check code matches in full (six digits, or a blockchain invoice's five
  letters and digits); a kind that does not need one ignores one that is sent;
* ``amount``: ``None`` if the kind does not need ``subtotal_amount``, else a key of
  :data:`AMOUNT_MEANINGS` (which total of the invoice it is).

A request does not say its kind. The vendor tells two kinds apart by what the request
carries (:attr:`InvoiceKind.told_by`): an empty code is a fully digital invoice, a check
code of five letters or digits is a blockchain invoice. The other eight kinds all carry
a code and look alike; the vendor's page does not say how to tell them apart from the
code's digits, so neither does this table. A request is acceptable when at least one kind
it may be has everything that kind needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The forms of check_code and subtotal_amount (the parameter table reads them from there too).
from airflow_provider_hwocr.catalog.invoice_patterns import (
    AMOUNT_PATTERN,
    BLOCKCHAIN_CHECK_CODE,
    CHECK_CODE_PATTERN,
    LAST_SIX_DIGITS,
)

#: The API these rules are for.
API = "invoice-verification"

#: Where the vendor states the rules (quoted in :data:`SOURCES`).
PAGE = "https://support.huaweicloud.com/api-ocr/ocr_03_0134.html"
SDK_MODEL = "huaweicloudsdkocr 3.1.219, v1/model/invoice_verification_request_body.py"
VAT_PAGE = "https://support.huaweicloud.com/api-ocr/ocr_03_0019.html"
#: The API Explorer's page of the API (an earlier wording of the amount rule).
EXPLORER = "https://apiexplorer.developer.huaweicloud.com/apiexplorer/doc?api=RecognizeInvoiceVerification&product=OCR"


#: What ``check_code`` holds, per form.
CHECK_CODE_MEANINGS: dict[str, str] = {
    LAST_SIX_DIGITS: "the last six digits of the check code",
    BLOCKCHAIN_CHECK_CODE: "the whole check code, five letters or digits",
}

AmountKey = Literal["excl_tax", "car_price", "total"]

#: What ``subtotal_amount`` holds, per kind of amount.
AMOUNT_MEANINGS: dict[str, str] = {
    "excl_tax": "the total before tax (合计金额, 不含税)",
    "car_price": "the car price total (车价合计)",
    "total": "the total with tax (价税合计); for a railway e-ticket, the fare or the refund fee",
}


@dataclass(frozen=True)
class InvoiceKind:
    """One of the ten kinds of invoice the tax authority checks, and what its request needs."""

    key: str
    title: str
    title_zh: str
    code: Literal["printed", "empty"] = "printed"
    check_code: str | None = None
    amount: AmountKey | None = None
    #: How a request shows it is this kind, as the vendor states it (``None``: it does not).
    told_by: str | None = None

    @property
    def needs(self) -> tuple[str, ...]:
        """The optional parameters this kind cannot be checked without, in the API's order."""
        return tuple(
            name for name, need in (("check_code", self.check_code), ("subtotal_amount", self.amount)) if need
        )


def _ordinary(key: str, title: str, title_zh: str) -> InvoiceKind:
    return InvoiceKind(key, title, title_zh, check_code=LAST_SIX_DIGITS)


def _before_tax(key: str, title: str, title_zh: str) -> InvoiceKind:
    return InvoiceKind(key, title, title_zh, amount="excl_tax")


#: The ten kinds, in the order the vendor's page lists them.
INVOICE_KINDS: tuple[InvoiceKind, ...] = (
    _before_tax("vat_special", "special VAT invoice", "增值税专用发票"),
    _ordinary("vat_ordinary", "ordinary VAT invoice", "增值税普通发票"),
    _ordinary("vat_roll", "ordinary VAT invoice (roll)", "增值税普通发票（卷式）"),
    _before_tax("vat_electronic_special", "electronic special VAT invoice", "增值税电子专用发票"),
    _ordinary("vat_electronic_ordinary", "electronic ordinary VAT invoice", "增值税电子普通发票"),
    _ordinary("vat_toll", "electronic ordinary VAT invoice (toll)", "增值税电子普通发票（通行费）"),
    InvoiceKind("used_vehicle", "used-car sales invoice", "二手车销售统一发票", amount="car_price"),
    _before_tax("motor_vehicle", "motor vehicle sales invoice", "机动车销售统一发票"),
    InvoiceKind(
        "blockchain",
        "blockchain electronic invoice",
        "区块链电子发票",
        check_code=BLOCKCHAIN_CHECK_CODE,
        amount="excl_tax",
        told_by="a check code of five letters or digits",
    ),
    InvoiceKind(
        "fully_digital",
        "fully digital invoice",
        "全电发票",
        code="empty",
        amount="total",
        told_by="an empty code",
    ),
)


@dataclass(frozen=True)
class IssueDateRules:
    """Which invoices the tax authority can check, by their date of issue."""

    #: The tax authority's calendar: China time (no daylight saving since 1991).
    timezone: str = "Asia/Shanghai"
    utc_offset_hours: int = 8
    #: Invoices issued within this many years (the same calendar day that many years ago is in).
    max_age_years: int = 5
    #: A new invoice can be checked this long after issue: one issued today is refused.
    hours_after_issue: int = 24
    #: Checks of one invoice per day (the ledger of the runtime keeps count; not a request check).
    checks_per_invoice_per_day: int = 5


ISSUE_DATES = IssueDateRules()


@dataclass(frozen=True)
class InvoiceRules:
    """Everything checked about an invoice-verification request before it is sent."""

    api: str
    kinds: tuple[InvoiceKind, ...]
    dates: IssueDateRules
    check_code_pattern: str
    amount_pattern: str

    def kind(self, key: str) -> InvoiceKind:
        for kind in self.kinds:
            if kind.key == key:
                return kind
        raise KeyError(f"unknown invoice kind {key!r}; known: {', '.join(k.key for k in self.kinds)}")


INVOICE_VERIFICATION = InvoiceRules(
    api=API,
    kinds=INVOICE_KINDS,
    dates=ISSUE_DATES,
    check_code_pattern=CHECK_CODE_PATTERN,
    amount_pattern=AMOUNT_PATTERN,
)

#: The rules by API slug (only invoice-verification has any).
RULES: dict[str, InvoiceRules] = {API: INVOICE_VERIFICATION}


def invoice_rules(slug: str) -> InvoiceRules | None:
    """The invoice rules of the API ``slug``, or ``None`` for an API without any."""
    return RULES.get(slug)


#: Each rule and the vendor's words for it: rule -> (where, quote).
SOURCES: dict[str, tuple[str, str]] = {
    "kinds": (
        PAGE,
        (
            "支持10种增值税发票的信息核验：增值税专用发票、增值税普通发票、增值税普通发票（卷式）、增值税电子专用发票、"
            "增值税电子普通发票、增值税电子普通发票（通行费）、二手车销售统一发票、机动车销售统一发票、区块链电子发票、全电发票"
        ),
    ),
    "code": (SDK_MODEL, "code: 发票代码。发票种类为全电发票时，该参数须为空字符串。"),
    "check_code": (
        SDK_MODEL,
        (
            "check_code: 校验码后六位。 - 以下种类发票，参数不可为空 增值税普通发票、增值税电子普通发票、"
            "增值税普通发票（卷式）、增值税电子普通发票（通行费）、区块链电子发票。 - 区块链电子发票需要填写5位校验码。"
        ),
    ),
    "blockchain_check_code": (VAT_PAGE, "区块链发票校验码5位数字或英文字母与阿拉伯数字组合。"),
    "subtotal_amount": (
        SDK_MODEL,
        (
            "subtotal_amount: 合计金额。和票据上的金额的有效数字保持一致，例如票据上的金额为88.00，则需要输入字符串为"
            '“88.00”，才能验真成功。如果输入“88”或“88.0”可能会产生"result_code": "1010", " Parameter error."报错。'
            " - 以下种类发票，参数不可为空 增值税专用发票、增值税电子专用发票、机动车销售统一发票、二手车销售统一发票、"
            "区块链电子发票、全电发票。 - 填写发票合计金额（不含税） 增值税专用发票、增值税电子专用发票、机动车销售统一发票、"
            "区块链电子发票。 - 填写发票车价合计 二手车发票。 - 填写发票合计金额 全电发票。 - 填写票价或者退票费 "
            "全电发票（铁路电子客票）"
        ),
    ),
    "fully_digital_total": (
        EXPLORER,
        "发票种类为全电发票时，该参数须为价税合计金额，其他票种使用不含税合计金额。",
    ),
    "dates": (
        PAGE,
        (
            "每份发票每天最多可查验5次。可查验最近5年内（国家税务总局）增值税发票管理系统开具的发票。"
            "税务局数据同步有时延，建议当天新开的发票在24小时后查询。"
        ),
    ),
}
