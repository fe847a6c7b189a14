"""Invoice verification before the call: what the vendor's page says the tax authority refuses.

A check of an invoice is billed, and the tax authority allows only five a day per
invoice, so a request it would certainly refuse is refused here, naming the parameter
(:func:`check_request`, called by :func:`~airflow_provider_hwocr.client.request.prepare_request`):

* an issue date in the future, today (an invoice can be checked 24 hours after issue),
  or more than five years ago, all by the calendar of China (Asia/Shanghai);
* a request no kind of invoice can be checked with: each of the ten kinds needs
  ``check_code``, ``subtotal_amount`` or both, a fully digital invoice (empty ``code``)
  needs ``subtotal_amount``, and so does a blockchain invoice (a five-character check code).

The forms of the fields (a date ``YYYY-MM-DD``, six digits or a blockchain invoice's five
letters and digits, an amount with its two decimals) are the parameters' patterns, checked
with every other parameter. The rules are the catalog's
(:mod:`airflow_provider_hwocr.catalog.invoice_rules`).

:func:`normalise_invoice` gives an invoice's identity, the same however it is written
(spaces, lost leading zeros, ``20261130`` or ``2026年11月30日``): what the tax authority's
daily count is per.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, NamedTuple

from airflow_provider_hwocr.catalog import Api
from airflow_provider_hwocr.catalog.invoice_rules import (
    AMOUNT_MEANINGS,
    CHECK_CODE_MEANINGS,
    INVOICE_VERIFICATION,
    InvoiceKind,
    InvoiceRules,
    IssueDateRules,
    invoice_rules,
)
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

__all__ = [
    "InvoiceIdentity",
    "check_invoice",
    "check_issue_date",
    "check_kind",
    "check_request",
    "china_today",
    "fitting_kinds",
    "normalise_date",
    "normalise_invoice",
]

#: The optional fields a kind may need, in the API's order.
_NEEDED = ("check_code", "subtotal_amount")


def _fail(parameter: str, message: str) -> HuaweiOcrValidationError:
    return HuaweiOcrValidationError(f"{parameter}: {message}", parameter=parameter)


def check_request(api: Api, body: Mapping[str, Any]) -> None:
    """Refuse, before a call, a request of ``api`` its invoice rules refuse (no-op for other APIs).

    ``body`` is the validated body (every field in its documented form).
    """
    rules = invoice_rules(api.slug)
    if rules is not None:
        check_invoice(body, rules=rules)


def check_invoice(
    fields: Mapping[str, Any],
    *,
    today: datetime.date | None = None,
    rules: InvoiceRules = INVOICE_VERIFICATION,
) -> None:
    """Refuse an invoice the tax authority cannot check: by its date, or for what its kind lacks."""
    issue_date = fields.get("issue_date")
    if isinstance(issue_date, str):
        check_issue_date(issue_date, today=today, rules=rules.dates)
    check_kind(fields, rules=rules)


# --- the date of issue -----------------------------------------------------------------------


def china_today(
    rules: IssueDateRules = INVOICE_VERIFICATION.dates, *, now: datetime.datetime | None = None
) -> datetime.date:
    """Today in the tax authority's calendar (China time: UTC+8 all year); ``now``: an aware instant."""
    china = datetime.timezone(datetime.timedelta(hours=rules.utc_offset_hours), rules.timezone)
    return (now or datetime.datetime.now(datetime.timezone.utc)).astimezone(china).date()


def _years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day ``years`` earlier (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def check_issue_date(
    value: str,
    *,
    today: datetime.date | None = None,
    rules: IssueDateRules = INVOICE_VERIFICATION.dates,
) -> None:
    """Refuse an issue date in the future, today, or more than ``rules.max_age_years`` ago."""
    try:
        issued = datetime.date.fromisoformat(value)
    except ValueError:
        return  # the parameter's own check names a malformed date
    today = today or china_today(rules)
    where = f"today is {today.isoformat()} in China, {rules.timezone} time"
    if issued > today:
        raise _fail("issue_date", f"{value} is in the future ({where}). Nothing was sent.")
    if issued == today:
        raise _fail(
            "issue_date",
            f"{value} is today ({where}): the tax authority's records lag, and an invoice can be checked "
            f"{rules.hours_after_issue} hours after it was issued, tomorrow at the earliest. Nothing was sent.",
        )
    earliest = _years_before(today, rules.max_age_years)
    if issued < earliest:
        raise _fail(
            "issue_date",
            f"{value} is more than {rules.max_age_years} years ago ({where}): the tax authority checks "
            f"invoices issued in the last {rules.max_age_years} years, from {earliest.isoformat()}. "
            "Nothing was sent.",
        )


# --- the kind of invoice -----------------------------------------------------------------------


def _given(fields: Mapping[str, Any], name: str) -> bool:
    return fields.get(name) not in (None, "")


def _fits(kind: InvoiceKind, fields: Mapping[str, Any]) -> bool:
    """Whether a request with ``fields`` may be of ``kind`` (by its code and its check code's form)."""
    if (fields.get("code") == "") != (kind.code == "empty"):
        return False
    check_code = fields.get("check_code")
    if not isinstance(check_code, str) or not check_code or kind.check_code is None:
        return True  # a kind without a check code ignores one
    return re.fullmatch(kind.check_code, check_code) is not None


def fitting_kinds(
    fields: Mapping[str, Any], rules: InvoiceRules = INVOICE_VERIFICATION
) -> tuple[InvoiceKind, ...]:
    """The kinds of invoice a request with ``fields`` may be, in the vendor's order."""
    return tuple(kind for kind in rules.kinds if _fits(kind, fields))


def _missing(kind: InvoiceKind, fields: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(name for name in kind.needs if not _given(fields, name))


def check_kind(fields: Mapping[str, Any], *, rules: InvoiceRules = INVOICE_VERIFICATION) -> None:
    """Refuse a request that no kind of invoice it may be can be checked with."""
    kinds = fitting_kinds(fields, rules)
    if not kinds or any(not _missing(kind, fields) for kind in kinds):
        return
    raise _kind_refusal(fields, kinds)


def _need(kind: InvoiceKind, name: str) -> str:
    if name == "subtotal_amount" and kind.amount is not None:
        return f"subtotal_amount = {AMOUNT_MEANINGS[kind.amount]}"
    return f"check_code = {CHECK_CODE_MEANINGS.get(kind.check_code or '', 'its check code')}"


def _shows(kind: InvoiceKind, fields: Mapping[str, Any]) -> bool:
    """Whether ``fields`` show they are of ``kind`` the way the vendor says (:attr:`InvoiceKind.told_by`)."""
    if kind.told_by is None:
        return False
    if kind.code == "empty":
        return fields.get("code") == ""
    check_code = fields.get("check_code")
    return (
        kind.check_code is not None
        and isinstance(check_code, str)
        and bool(re.fullmatch(kind.check_code, check_code))
    )


def _kind_refusal(fields: Mapping[str, Any], kinds: tuple[InvoiceKind, ...]) -> HuaweiOcrValidationError:
    """The error for a request none of its possible ``kinds`` can be checked with."""
    missing = [name for name in _NEEDED if any(name in _missing(kind, fields) for kind in kinds)]
    told = "; ".join(f"{kind.told_by} is a {kind.title}" for kind in kinds if _shows(kind, fields))
    if len(missing) > 1:
        head = "check_code or subtotal_amount is needed: no kind of invoice is checked with neither"
    else:
        head = "needed by every kind of invoice this request may be" + (f" ({told})" if told else "")
    return _fail(missing[0], f"{head}. What each kind needs: {_what_each_needs(kinds)}. Nothing was sent.")


def _what_each_needs(kinds: tuple[InvoiceKind, ...]) -> str:
    """``"a, b: check_code = ... c: subtotal_amount = ..."``: kinds that need the same listed together."""
    needs: dict[str, list[str]] = {}
    for kind in kinds:
        text = "; ".join(_need(kind, name) for name in kind.needs)
        needs.setdefault(text, []).append(f"{kind.title} ({kind.title_zh})")
    return ". ".join(f"{', '.join(titles)}: {text}" for text, titles in needs.items())


# --- an invoice's identity -----------------------------------------------------------------------


class InvoiceIdentity(NamedTuple):
    """Which invoice a request is about, however its fields are written.

    ``code`` and ``number`` are their digits without leading zeros (the fields are fixed-width
    digits: a spreadsheet that dropped a zero wrote the same invoice); ``code`` is ``""`` for a
    fully digital invoice. ``issue_date`` is ``YYYY-MM-DD``. The check code and the amount are
    not part of it: they are what a check asks about, and every check of the invoice counts.
    """

    code: str
    number: str
    issue_date: str


def normalise_invoice(fields: Mapping[str, Any]) -> InvoiceIdentity:
    """The identity of the invoice in ``fields`` (``code``, ``number``, ``issue_date``).

    Spaces (also full-width ones) and leading zeros of the code and number do not count, nor
    full-width digits; the date may be written ``2026-11-30``, ``20261130``, ``2026/11/30``,
    ``2026.11.30`` or ``2026年11月30日``, or be a ``date``. Raises
    ``HuaweiOcrValidationError`` naming the field that is missing or not such a value.
    """
    return InvoiceIdentity(
        code=_identifier(fields, "code"),
        number=_identifier(fields, "number"),
        issue_date=normalise_date(fields.get("issue_date")),
    )


def _identifier(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _fail(name, f"the invoice's {name} must be text or a whole number, got {value!r}")
    text = "".join(unicodedata.normalize("NFKC", str(value)).split())
    if text.isascii() and text.isdigit():
        return text.lstrip("0") or "0"
    if not text and name == "code":
        return ""  # a fully digital invoice
    if not text:
        raise _fail(name, "the invoice's number is empty")
    return text.upper()


_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SEPARATED_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def normalise_date(value: Any) -> str:
    """``YYYY-MM-DD`` of an issue date written one of the common ways (see :func:`normalise_invoice`)."""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = unicodedata.normalize("NFKC", str(value)).strip() if isinstance(value, (str, int)) else ""
    match = _COMPACT_DATE.fullmatch(text) or _SEPARATED_DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        return datetime.date(*(int(part) for part in match.groups())).isoformat()
    except ValueError:
        raise _fail(
            "issue_date", f"{value!r} is not a date (2026-11-30, 20261130, 2026/11/30 or 2026年11月30日)"
        ) from None
