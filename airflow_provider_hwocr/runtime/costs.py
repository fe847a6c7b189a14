"""Knowing the bill before paying it: dry runs, call budgets and cost estimates.

* **Dry run**: an operator with ``dry_run=True`` (or any operator, when the
  provider-wide switch is on) resolves, lists, validates and decides skips,
  but makes no OCR call and writes nothing. The switch is the environment
  variable ``HWOCR_DRY_RUN=1`` or the Airflow option ``[huaweicloud_ocr] dry_run``
  (``AIRFLOW__HUAWEICLOUD_OCR__DRY_RUN=True``); either forces dry runs for a whole
  deployment or one run of ``airflow dags test``. Both are read strictly
  (:func:`~airflow_provider_hwocr.client.flags.parse_flag`): a value that is not
  true/false, 1/0, yes/no or on/off fails the task before any call, since a switch
  that guards money must not turn itself off by being misspelt.
* **Budget**: :class:`CallBudget` hands out at most ``max_calls`` *billable tries* per
  task, across threads: every try that may be billed takes one before it is sent
  (the first try of a call and every retry), and gives it back when the try surely
  was not billed (an error answer such as throttling, or a request that never left).
  The try that would exceed it is not made and the task fails with
  :class:`~airflow_provider_hwocr.errors.HuaweiCloudBudgetExceededError`.
* **Estimate**: :func:`estimate_cost` multiplies calls by a price per call given
  as an operator argument or the connection's ``price_per_call`` extra.

Runs at task time only (it reads the Airflow configuration).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from airflow_provider_hwocr._compat import conf
from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError, HuaweiOcrValidationError
from airflow_provider_hwocr.client.flags import parse_flag

__all__ = [
    "DRY_RUN_ENV",
    "CallBudget",
    "dry_run_forced",
    "estimate_cost",
    "resolve_dry_run",
]

#: Environment variable forcing dry runs for every OCR operator of the provider.
DRY_RUN_ENV = "HWOCR_DRY_RUN"
#: The provider's section in the Airflow configuration, and its option.
CONFIG_SECTION = "huaweicloud_ocr"
CONFIG_OPTION = "dry_run"


def _switch(raw: str, where: str) -> bool:
    try:
        return parse_flag(raw) if raw.strip() else False  # set but empty: off, like unset
    except ValueError as exc:
        raise HuaweiOcrConfigurationError(
            f"{where}: the provider-wide dry-run switch {exc}; it guards money, so the task stops "
            "here with no OCR call made. Fix the value or remove it.",
            field=where,
        ) from None


def dry_run_forced() -> bool:
    """Whether the provider-wide switch forces dry runs: the env var or the Airflow option.

    The switch guards money, so it fails closed: either setting turns dry runs on, and neither
    can turn the other off. Both are read every time; a value that cannot be read raises
    :class:`HuaweiOcrConfigurationError` naming it, even when the other one says "on".
    """
    raw = os.environ.get(DRY_RUN_ENV)
    forced = _switch(raw, DRY_RUN_ENV) if raw is not None else False
    value = conf.get(CONFIG_SECTION, CONFIG_OPTION, fallback=None)
    if value is not None:
        forced = _switch(str(value), f"[{CONFIG_SECTION}] {CONFIG_OPTION}") or forced
    return forced


def resolve_dry_run(requested: Any) -> tuple[bool, str | None]:
    """(dry run or not, why) from an operator's ``dry_run`` and the provider-wide switch."""
    if requested not in (True, False, None):
        raise HuaweiOcrValidationError(
            f"dry_run: must be True or False, got {requested!r}", parameter="dry_run"
        )
    if dry_run_forced():
        return True, f"forced by {DRY_RUN_ENV} / [{CONFIG_SECTION}] {CONFIG_OPTION}"
    if requested:
        return True, "dry_run=True"
    return False, None


def estimate_cost(calls: int, price_per_call: float | None) -> float | None:
    """Calls times price, rounded to 6 decimals; None without a price."""
    if price_per_call is None:
        return None
    return round(calls * price_per_call, 6)


class CallBudget:
    """At most ``limit`` billable tries, shared by every thread of a task (``None``: no limit).

    A *billable try* is any request the service may charge for: the first try of a
    call and every retry of it. The OCR client takes one with :meth:`take` right
    before each try is sent (``OcrClient.call(..., budget=...)``) and hands it back with
    :meth:`give_back` when the try surely was not billed: the service answered with an
    error (throttling, 5xx, a refused input), or the request never left (connection
    refused, connect timeout). A try that ended in a read timeout, a truncated answer
    or a connection lost after sending keeps its share: it may have been billed. So
    ``used`` never falls below the billed calls, and never exceeds ``limit``.

    ``refused`` counts the tries not made because the budget was spent (a new image or
    a retry); ``given_back`` the tries returned.
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0
        self.refused = 0
        self.given_back = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Reserve one billable try; ``False`` (and counted in ``refused``) when none is left."""
        with self._lock:
            if self.limit is not None and self.used >= self.limit:
                self.refused += 1
                return False
            self.used += 1
            return True

    def refuse_if_spent(self) -> bool:
        """``True`` (counted in ``refused``) when nothing is left: a cheap early stop, reserving nothing."""
        with self._lock:
            if self.limit is not None and self.used >= self.limit:
                self.refused += 1
                return True
            return False

    def give_back(self) -> None:
        """Return the share of a try that surely was not billed."""
        with self._lock:
            if self.used > 0:
                self.used -= 1
                self.given_back += 1

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.used >= self.limit
