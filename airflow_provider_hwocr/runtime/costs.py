"""Knowing the bill before paying it: dry runs, call budgets and cost estimates.

* **Dry run**: an operator with ``dry_run=True`` (or any operator, when the
  provider-wide switch is on) resolves, lists, validates and decides skips,
  but makes no OCR call and writes nothing. The switch is the environment
  variable ``HWOCR_DRY_RUN=1`` or the Airflow option ``[huaweicloud_ocr] dry_run``
  (``AIRFLOW__HUAWEICLOUD_OCR__DRY_RUN=True``); either forces dry runs for a whole
  deployment or one run of ``airflow dags test``.
* **Budget**: :class:`CallBudget` hands out at most ``max_calls`` OCR calls per
  task, across threads; the call that would exceed it is not made and the task
  fails with :class:`~airflow_provider_hwocr.errors.HuaweiCloudBudgetExceededError`.
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

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def _config_flag() -> bool:
    try:
        return bool(conf.getboolean(CONFIG_SECTION, CONFIG_OPTION, fallback=False))
    except Exception:  # noqa: BLE001 - a malformed value must not break every task; the env var is checked strictly
        return False


def dry_run_forced() -> bool:
    """Whether the provider-wide switch forces dry runs (env var, then Airflow config)."""
    raw = os.environ.get(DRY_RUN_ENV)
    if raw is not None:
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise HuaweiOcrConfigurationError(
            f"{DRY_RUN_ENV} must be 1/true or 0/false, got {raw!r}", field=DRY_RUN_ENV
        )
    return _config_flag()


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
    """At most ``limit`` OCR calls, shared by every thread of a task (``None``: no limit).

    :meth:`take` reserves one call before it is made and says whether it may be.
    Retries inside one call (throttling, transient errors) are not counted: the
    budget is about images sent, and a retried call is billed at most as
    reported in ``billed_retries``.
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0
        self.refused = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.limit is not None and self.used >= self.limit:
                self.refused += 1
                return False
            self.used += 1
            return True

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.used >= self.limit
