"""The root of every error this provider raises, split by what to do about it.

OCR errors (:mod:`airflow_provider_hwocr.client.errors`), OBS errors
(:mod:`airflow_provider_hwocr.hooks.obs_errors`), checks made before any
call and the XCom size guard all derive from :class:`HuaweiCloudError`, and
each of them from exactly one of two branches:

===========================================  ================================================
branch                                       what it means
===========================================  ================================================
:class:`HuaweiCloudNonRetryableError`        trying again cannot help, and may cost money:
                                             invalid input, auth, not subscribed, no such
                                             API, configuration, TLS, XCom size, recognition
                                             failure, budget exhausted
:class:`HuaweiCloudRetryableError`           trying again later may succeed
  :class:`HuaweiCloudThrottledError`         rate or concurrency limit: retry after a delay
  :class:`HuaweiCloudTransientError`         5xx, dropped connection, timeout: retry
===========================================  ================================================

So one ``except HuaweiCloudError`` catches everything the provider raises,
and one rule per branch decides retries (see
:mod:`airflow_provider_hwocr.retry_policy` for a ready-made Airflow policy).
An error that is only a :class:`HuaweiCloudError` (neither branch) is one
whose nature is unknown; Airflow's ordinary task retries apply to it.

This module imports nothing, so operators can use it at DAG parse time.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "HuaweiCloudBudgetExceededError",
    "HuaweiCloudError",
    "HuaweiCloudNonRetryableError",
    "HuaweiCloudRetryableError",
    "HuaweiCloudThrottledError",
    "HuaweiCloudTransientError",
    "HuaweiOcrBatchEmptyError",
    "HuaweiOcrBatchFailedError",
    "HuaweiOcrDailyLimitError",
    "HuaweiOcrOverlapError",
    "HuaweiOcrReviewRejectedError",
    "HuaweiOcrXComSizeError",
]


class HuaweiCloudError(Exception):
    """Base class of every error raised by airflow-provider-hwocr."""

    #: Whether trying the same thing again later may succeed.
    retryable: ClassVar[bool] = False


class HuaweiCloudNonRetryableError(HuaweiCloudError):
    """Trying again cannot succeed: fix the input, the settings or the account first."""

    retryable = False


class HuaweiCloudRetryableError(HuaweiCloudError):
    """Trying again later may succeed."""

    retryable = True


class HuaweiCloudThrottledError(HuaweiCloudRetryableError):
    """A rate or concurrency limit was hit; retry after a delay."""


class HuaweiCloudTransientError(HuaweiCloudRetryableError):
    """A failure that may go away by itself (5xx, dropped connection, timeout)."""


class HuaweiCloudBudgetExceededError(HuaweiCloudNonRetryableError):
    """The task reached its ``max_calls``: the call that would exceed it was not made.

    The images left are recorded as ``not_attempted``; a re-run (with results in
    OBS, finished images are skipped) continues where this one stopped.
    """


# --- what an OCR task itself decides (raised at task time, importable at parse time) -----------


class HuaweiOcrXComSizeError(HuaweiCloudNonRetryableError, ValueError):
    """A result too large for XCom, with no ``output_uri`` to store it in.

    Raised after the (billed) call; never retry it: a retry bills again and
    fails the same way. ``parameter`` is ``max_xcom_bytes``.
    """

    parameter = "max_xcom_bytes"


class HuaweiOcrBatchFailedError(HuaweiCloudError, RuntimeError):
    """More images failed than the failure policy allows (see the manifest).

    Neither retryable nor not: a task retry re-sends only the failed images.
    """


class HuaweiOcrBatchEmptyError(HuaweiCloudNonRetryableError, ValueError):
    """The selection matched no image (pass ``allow_empty=True`` if that is expected)."""

    parameter = "source_uri"


class HuaweiOcrOverlapError(HuaweiCloudRetryableError, RuntimeError):
    """Another run holds the lease of this batch (same output prefix, API and shard).

    Raised before any call with ``on_overlap="fail"`` (or when ``overlap_timeout`` ran out),
    or after the manifest when this run lost its lease: a retry waits for the other run and
    skips what it finished. ``parameter`` is ``on_overlap``.
    """

    parameter = "on_overlap"


class HuaweiOcrReviewRejectedError(HuaweiCloudNonRetryableError):
    """A person rejected the answer of a page held for review (or a review timed out with
    ``on_timeout="reject"``). The decision is recorded (in the stored result's ``review`` record and
    the review ledger) before this is raised; a retry does not ask again. ``result_uri`` names the
    stored result, when there is one."""

    def __init__(self, message: str, *, result_uri: str | None = None, by: str | None = None) -> None:
        super().__init__(message)
        self.result_uri = result_uri
        self.by = by


class HuaweiOcrDailyLimitError(HuaweiCloudNonRetryableError, ValueError):
    """A check the service allows a few times a day was refused before the call: the day's are used.

    Invoice verification: the tax authority checks one invoice at most ``limit`` times a day
    (China's calendar). The ledger of checks (``runtime/ledger.py``) refuses the next one before
    it is sent, so nothing is billed; the message names the limit and when the count starts
    again. Not retryable today: a retry is refused the same way until ``resets_at`` (an aware UTC
    ``datetime``, midnight in China); the next day's run checks the invoice.
    """

    def __init__(
        self, message: str, *, limit: int, day: str, resets_at: Any, where: str | None = None
    ) -> None:
        super().__init__(message)
        #: The checks allowed per day, the day they were used on (``YYYY-MM-DD``, China time),
        #: when the count starts again, and where the checks are counted.
        self.limit = limit
        self.day = day
        self.resets_at = resets_at
        self.where = where
