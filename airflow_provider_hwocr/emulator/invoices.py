"""invoice-verification as the service answers it: the vendor's rules, and the tax authority's daily count.

The rules are the catalog's (:mod:`airflow_provider_hwocr.catalog.invoice_rules`, read here and
nowhere else of the provider): an issue date in the future, today (an invoice can be checked 24
hours after issue) or more than five years ago, by China's calendar; a request no kind of invoice
can be checked with (neither ``check_code`` nor ``subtotal_amount``; a fully digital invoice,
``code=""``, or a blockchain invoice, a five-character check code, without ``subtotal_amount``).
The forms of the fields (an amount with its two decimals, six digits or a blockchain invoice's five
letters and digits, a ``YYYY-MM-DD`` date) are the parameters' patterns, checked with every other
parameter (:mod:`.validation`).

Every refusal is 400 ``AIS.0101``, the code the vendor's error table gives a parameter that "does
not meet the requirements" (its only example for invoice verification, in the SDK's description of
``subtotal_amount``, is ``"result_code": "1010", "Parameter error."`` for ``88`` instead of
``88.00``, which it says *may* happen). The page says an invoice can be checked five times a day
but documents no error code for a sixth check; the emulator answers that with ``AIS.0101`` too,
its ``X-Emulator-Detail`` saying why. The day is China's (the catalog's zone), as the tax
authority counts.
"""

from __future__ import annotations

import datetime
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_hwocr.catalog.invoice_rules import InvoiceKind, InvoiceRules, IssueDateRules
from airflow_provider_hwocr.emulator.errors import EmulatorError

__all__ = ["InvoiceCounter", "check_invoice", "china_today"]


def _bad(detail: str) -> EmulatorError:
    return EmulatorError(400, "AIS.0101", detail=detail)


def china_today(dates: IssueDateRules, now: float | None = None) -> datetime.date:
    """Today in the tax authority's calendar (``now``: seconds since the epoch)."""
    china = datetime.timezone(datetime.timedelta(hours=dates.utc_offset_hours))
    moment = (
        datetime.datetime.now(datetime.timezone.utc)
        if now is None
        else (datetime.datetime.fromtimestamp(now, datetime.timezone.utc))
    )
    return moment.astimezone(china).date()


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _check_date(value: Any, dates: IssueDateRules, today: datetime.date) -> None:
    try:
        issued = datetime.date.fromisoformat(str(value))
    except ValueError:
        raise _bad(f"issue_date {str(value)[:32]!r} is not a date") from None
    if issued > today:
        raise _bad(f"issue_date {issued} is in the future (today is {today} in China)")
    if issued == today:
        raise _bad(
            f"issue_date {issued} is today: an invoice can be checked {dates.hours_after_issue} h after issue"
        )
    if issued < _years_before(today, dates.max_age_years):
        raise _bad(f"issue_date {issued} is more than {dates.max_age_years} years ago")


def _given(body: Mapping[str, Any], name: str) -> bool:
    return body.get(name) not in (None, "")


def _may_be(kind: InvoiceKind, body: Mapping[str, Any]) -> bool:
    """Whether a request may be of ``kind``: by its code (empty or printed) and its check code's form."""
    if (body.get("code") == "") != (kind.code == "empty"):
        return False
    check_code = body.get("check_code")
    if not _given(body, "check_code") or kind.check_code is None:
        return True
    return re.fullmatch(kind.check_code, str(check_code)) is not None


def _has_what_it_needs(kind: InvoiceKind, body: Mapping[str, Any]) -> bool:
    return all(_given(body, name) for name in kind.needs)


def check_invoice(body: Mapping[str, Any], rules: InvoiceRules, today: datetime.date) -> None:
    """Refuse (400 AIS.0101) what the vendor says the tax authority cannot check."""
    _check_date(body.get("issue_date"), rules.dates, today)
    _check_kinds(body, rules)


def _check_kinds(body: Mapping[str, Any], rules: InvoiceRules) -> None:
    """At least one kind the request may be has everything that kind needs."""
    kinds = [kind for kind in rules.kinds if _may_be(kind, body)]
    if kinds and not any(_has_what_it_needs(kind, body) for kind in kinds):
        raise _kinds_refusal(body, kinds)


def _kinds_refusal(body: Mapping[str, Any], kinds: list[InvoiceKind]) -> EmulatorError:
    if not _given(body, "check_code") and not _given(body, "subtotal_amount"):
        return _bad("neither check_code nor subtotal_amount: no kind of invoice is checked with neither")
    titles = ", ".join(kind.title for kind in kinds)
    missing = sorted({name for kind in kinds for name in kind.needs if not _given(body, name)})
    return _bad(f"{' and '.join(missing)} needed by every kind this invoice may be ({titles})")


class InvoiceCounter:
    """The tax authority's count: checks of one invoice (code, number, date as sent) per China day."""

    def __init__(self, dates: IssueDateRules, clock: Callable[[], float]) -> None:
        self._dates = dates
        self._clock = clock
        self._checks: dict[tuple[str, str, str, str], int] = {}
        self._lock = threading.Lock()

    def count(self, body: Mapping[str, Any], limit: int) -> int:
        """Count one more check of the invoice in ``body``; the one past ``limit`` today is refused."""
        day = china_today(self._dates, self._clock()).isoformat()
        key = (str(body.get("code")), str(body.get("number")), str(body.get("issue_date")), day)
        with self._lock:
            done = self._checks.get(key, 0)
            if done >= limit:
                raise _bad(
                    f"invoice checked more than {limit} times today ({day}, China time); the vendor "
                    "documents the limit but no error code for it"
                )
            self._checks[key] = done + 1
            return done + 1

    def clear(self) -> None:
        with self._lock:
            self._checks.clear()
