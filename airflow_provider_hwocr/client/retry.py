"""When and how long to wait before trying an OCR call again.

Only :class:`~airflow_provider_hwocr.client.errors.HuaweiOcrThrottledError` and
:class:`~airflow_provider_hwocr.client.errors.HuaweiOcrTransientError` are
retried. Bad input, auth problems, a missing subscription or a failed
recognition fail at once: trying again would cost money and change nothing.

Delays use exponential backoff with "full jitter" (a uniform draw between 0
and the exponential cap), so parallel tasks that fail together do not come
back together. After throttling (APIG.0308, ModelArts.4401, HTTP 429) the
delay is at least ``throttle_min_delay``, because the vendor advises waiting
2-5 s. A ``Retry-After`` header from the server replaces the computed delay.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from airflow_provider_hwocr.client.errors import (
    HuaweiOcrError,
    HuaweiOcrThrottledError,
    HuaweiOcrTransientError,
    parse_retry_after,
)

__all__ = ["RetryPolicy", "parse_retry_after", "run_with_retry"]

logger = logging.getLogger("airflow_provider_hwocr.client")

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How an :class:`~airflow_provider_hwocr.client.OcrClient` retries a failed call.

    :param max_attempts: total tries, the first one included (values below 1 mean 1).
    :param base_delay: cap of the first backoff, in seconds; doubled for every further retry.
    :param max_delay: largest computed backoff, in seconds.
    :param max_elapsed: budget for one call, retries and waits included. No retry starts
        if its wait would end after this many seconds from the first try.
    :param throttle_min_delay: smallest wait after a throttling error.
    :param jitter: draw each delay uniformly in ``[0, cap]`` (full jitter). Turn off only
        for tests or strictly sequential use.
    :param retry_on_read_timeout: also retry when the server accepted the connection but did
        not answer in time. **Such a call may have been processed, and billed, already**;
        set to ``False`` if a duplicate charge is worse than a failed task.
    :param sleep: how to wait (``time.sleep``); tests pass a recorder or a shorter sleep.
    :param clock: monotonic clock used for the elapsed budget.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_elapsed: float = 120.0
    throttle_min_delay: float = 2.0
    jitter: bool = True
    retry_on_read_timeout: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    rng: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("base_delay", "max_delay", "max_elapsed", "throttle_min_delay"):
            if getattr(self, name) < 0:
                raise ValueError(f"RetryPolicy.{name} must not be negative")
        if self.max_attempts < 1:
            object.__setattr__(self, "max_attempts", 1)

    @classmethod
    def no_retry(cls) -> RetryPolicy:
        """A policy that tries once."""
        return cls(max_attempts=1)

    def should_retry(self, error: BaseException) -> bool:
        """Whether ``error`` is of a kind this policy retries (ignoring the attempt count)."""
        if isinstance(error, HuaweiOcrThrottledError):
            return True
        if isinstance(error, HuaweiOcrTransientError):
            return self.retry_on_read_timeout or not getattr(error, "read_timeout", False)
        return False

    def backoff(self, retry_number: int, error: BaseException | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (1 = the first retry)."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return max(0.0, float(retry_after))
        cap = min(self.max_delay, self.base_delay * (2 ** max(0, retry_number - 1)))
        delay = cap * self.rng() if self.jitter else cap
        if isinstance(error, HuaweiOcrThrottledError):
            # Keep the vendor's floor, spreading retries above it.
            delay = min(max(self.max_delay, self.throttle_min_delay), self.throttle_min_delay + delay)
        return delay


def _describe(error: BaseException) -> str:
    if isinstance(error, HuaweiOcrError):
        if error.error_code:
            return error.error_code
        if error.status_code is not None:
            return f"HTTP {error.status_code}"
    return type(error).__name__


def run_with_retry(
    policy: RetryPolicy,
    attempt: Callable[[int], T],
    *,
    api: str | None = None,
) -> tuple[T, int]:
    """Call ``attempt(n)`` for n = 1, 2, ... until it succeeds or the policy gives up.

    Returns ``(result, attempts)``. The last error is raised with an
    ``attempts`` attribute set to the number of tries made.
    """
    started = policy.clock()
    number = 0
    while True:
        number += 1
        try:
            return attempt(number), number
        except HuaweiOcrError as error:
            error.attempts = number
            if not policy.should_retry(error) or number >= policy.max_attempts:
                raise
            delay = policy.backoff(number, error)
            spent = policy.clock() - started
            if spent + delay > policy.max_elapsed:
                logger.warning(
                    "OCR call %s failed with %s (attempt %d/%d); not retrying: a wait of %.2f s "
                    "would exceed the %.1f s budget",
                    api or "-",
                    _describe(error),
                    number,
                    policy.max_attempts,
                    delay,
                    policy.max_elapsed,
                )
                raise
            logger.warning(
                "OCR call %s failed with %s (attempt %d/%d); retrying in %.2f s",
                api or "-",
                _describe(error),
                number,
                policy.max_attempts,
                delay,
            )
            policy.sleep(delay)
