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

A failed try that the service may have billed (read timeout, truncated 2xx
body, connection lost after the request was sent) is retried only when
``retry_possibly_billed`` is on; every such retry is logged at WARNING and
counted in ``billed_retries`` on the response or on the final error.

A *budget* (``OcrClient.call(..., budget=...)``, e.g. a task's ``max_calls``) is
consulted before **every** try that may be billed, retries included: the try takes
one unit before it is sent, and gives it back when it surely was not billed (the
service answered with an error status, or the request never left this machine). A
try the budget refuses is not made: :class:`HuaweiOcrBudgetExceededError`.

The class was called ``RetryPolicy``; it is ``OcrRetryPolicy`` now, so it is
not confused with Airflow's task-level ``airflow.sdk.RetryPolicy``. The old
name stays as an alias.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from airflow_provider_hwocr.client.errors import (
    HuaweiOcrError,
    HuaweiOcrThrottledError,
    HuaweiOcrTransientError,
    parse_retry_after,
)
from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError

__all__ = [
    "HuaweiOcrBudgetExceededError",
    "OcrRetryPolicy",
    "RetryOutcome",
    "RetryPolicy",
    "TryBudget",
    "parse_retry_after",
    "possibly_billed",
    "run_with_retry",
]

logger = logging.getLogger("airflow_provider_hwocr.client")

T = TypeVar("T")


@dataclass(frozen=True)
class OcrRetryPolicy:
    """How an :class:`~airflow_provider_hwocr.client.OcrClient` retries a failed call.

    :param max_attempts: total tries, the first one included (values below 1 mean 1).
    :param base_delay: cap of the first backoff, in seconds; doubled for every further retry.
    :param max_delay: largest computed backoff, in seconds.
    :param max_elapsed: budget for one call, retries and waits included. No retry starts
        if its wait would end after this many seconds from the first try.
    :param throttle_min_delay: smallest wait after a throttling error.
    :param jitter: draw each delay uniformly in ``[0, cap]`` (full jitter). Turn off only
        for tests or strictly sequential use.
    :param retry_possibly_billed: also retry a try the service may have processed, and
        billed, already: a read timeout, a truncated 2xx body, a connection lost after the
        request was sent. On by default (see the README, "Billing and retries"): such a
        failure leaves no result, so giving up means paying again when the image is re-run.
        Set to ``False`` when a duplicate charge is worse than a failed image.
    :param retry_on_read_timeout: the former name of ``retry_possibly_billed``; when given,
        it wins (it used to cover read timeouts only; now it covers every billable failure).
    :param sleep: how to wait (``time.sleep``); tests pass a recorder or a shorter sleep.
    :param clock: monotonic clock used for the elapsed budget.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_elapsed: float = 120.0
    throttle_min_delay: float = 2.0
    jitter: bool = True
    retry_possibly_billed: bool = True
    retry_on_read_timeout: bool | None = None
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    rng: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("base_delay", "max_delay", "max_elapsed", "throttle_min_delay"):
            if getattr(self, name) < 0:
                raise ValueError(f"OcrRetryPolicy.{name} must not be negative")
        if self.max_attempts < 1:
            object.__setattr__(self, "max_attempts", 1)
        if self.retry_on_read_timeout is not None:
            object.__setattr__(self, "retry_possibly_billed", bool(self.retry_on_read_timeout))

    @classmethod
    def no_retry(cls) -> OcrRetryPolicy:
        """A policy that tries once."""
        return cls(max_attempts=1)

    def should_retry(self, error: BaseException) -> bool:
        """Whether ``error`` is of a kind this policy retries (ignoring the attempt count)."""
        if isinstance(error, HuaweiOcrThrottledError):
            return True
        if isinstance(error, HuaweiOcrTransientError):
            return self.retry_possibly_billed or error.billing_risk is None
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


class TryBudget(Protocol):
    """What :func:`run_with_retry` needs of a budget (``runtime.costs.CallBudget`` is one)."""

    limit: int | None

    def take(self) -> bool: ...

    def give_back(self) -> None: ...


class HuaweiOcrBudgetExceededError(HuaweiOcrError, HuaweiCloudBudgetExceededError):
    """A try was not sent: the budget of billable tries (``max_calls``) is spent.

    ``attempts`` is the tries made before (0: the call was not made at all); each of them
    may have been billed. Never retried: the same budget refuses the same try again.
    """

    category = "budget"


def possibly_billed(error: BaseException | None) -> bool:
    """Whether a try that ended with ``error`` (``None``: it succeeded) may have been billed.

    Surely not billed: an error status from the service (4xx/5xx: throttling, a refused
    input, a backend failure), or a request that never left (connection refused, connect
    timeout, a local check). Possibly billed: a 2xx answer, even one cut short or unusable,
    and a failure after the request was sent (``billing_risk``), or anything unexpected.
    """
    if error is None or not isinstance(error, HuaweiOcrError):
        return True
    if getattr(error, "billing_risk", None) is not None:
        return True
    status = error.status_code
    return status is not None and status < 300


@dataclass
class RetryOutcome:
    """What the retry loop did for one call: tries made and billable retries among them."""

    attempts: int = 0
    billed_retries: int = 0


def run_with_retry(
    policy: OcrRetryPolicy,
    attempt: Callable[[int], T],
    *,
    api: str | None = None,
    outcome: RetryOutcome | None = None,
    paced: bool = False,
    budget: TryBudget | None = None,
) -> tuple[T, int]:
    """Call ``attempt(n)`` for n = 1, 2, ... until it succeeds or the policy gives up.

    Returns ``(result, attempts)``. The last error is raised with ``attempts``
    (tries made) and ``billed_retries`` set. ``outcome``, when given, is
    filled in as the loop goes, for callers that want the billed retries of
    a successful call. ``paced``: a rate limiter spaces the tries and honours
    ``Retry-After``, so a throttled try is retried without a wait of its own.
    ``budget``: every try takes one unit before it is sent and gives it back when it surely
    was not billed (:func:`possibly_billed`); a refused try raises
    :class:`HuaweiOcrBudgetExceededError` (chained to the last error, if any).
    """
    loop = _RetryLoop(policy, api, outcome if outcome is not None else RetryOutcome(), paced, budget)
    return loop.run(attempt)


class _RetryLoop:
    """The tries of one call: when to give up, what to take from the budget, what to log."""

    def __init__(
        self,
        policy: OcrRetryPolicy,
        api: str | None,
        outcome: RetryOutcome,
        paced: bool,
        budget: TryBudget | None,
    ) -> None:
        self.policy, self.api, self.outcome, self.paced, self.budget = policy, api, outcome, paced, budget
        self.started = policy.clock()

    def run(self, attempt: Callable[[int], T]) -> tuple[T, int]:
        if self.budget is not None and not self.budget.take():  # the first try; each retry takes below
            raise _refused(self.budget, 0, self.outcome, None, self.api)
        number = 0
        while True:
            number += 1
            self.outcome.attempts = number
            try:
                return attempt(number), number
            except HuaweiOcrError as error:
                self._record(error, number)
                delay = self._delay(error, number)
                if delay is None:
                    raise
                self._retry(error, number, delay)

    def _record(self, error: HuaweiOcrError, number: int) -> None:
        """Give back the budget of a try surely not billed; note the tries on the error."""
        if self.budget is not None and not possibly_billed(error):
            self.budget.give_back()
        error.attempts = number
        error.billed_retries = self.outcome.billed_retries

    def _paced_throttle(self, error: HuaweiOcrError) -> bool:
        """A throttled try under a rate limiter: retried at the limiter's pace, without a wait of its own."""
        return self.paced and isinstance(error, HuaweiOcrThrottledError)

    def _delay(self, error: HuaweiOcrError, number: int) -> float | None:
        """How long to wait before the next try; ``None``: give up (said in the log where it matters)."""
        policy = self.policy
        if not policy.should_retry(error) or number >= policy.max_attempts:
            risk = getattr(error, "billing_risk", None)
            if risk is not None and not policy.retry_possibly_billed:
                logger.warning(
                    "OCR call %s failed with %s after the request was sent (%s): the service may "
                    "have billed it; not retried because retry_possibly_billed is off",
                    self.api or "-", _describe(error), risk,
                )  # fmt: skip
            return None
        delay = 0.0 if self._paced_throttle(error) else policy.backoff(number, error)
        if policy.clock() - self.started + delay > policy.max_elapsed:
            logger.warning(
                "OCR call %s failed with %s (attempt %d/%d); not retrying: a wait of %.2f s "
                "would exceed the %.1f s budget",
                self.api or "-", _describe(error), number, policy.max_attempts, delay, policy.max_elapsed,
            )  # fmt: skip
            return None
        return delay

    def _retry(self, error: HuaweiOcrError, number: int, delay: float) -> None:
        """Take the next try from the budget, count it if it may be billed twice, log it and wait."""
        if (
            self.budget is not None and not self.budget.take()
        ):  # before the wait: a refused retry waits for nothing
            raise _refused(self.budget, number, self.outcome, error, self.api) from error
        risk = getattr(error, "billing_risk", None)
        attempts = self.policy.max_attempts
        if risk is not None:
            self.outcome.billed_retries += 1
            logger.warning(
                "OCR call %s: attempt %d/%d failed after the request was sent (%s); the service "
                "may have billed it, so this retry may be billed twice (billed retries of this "
                "call so far: %d)",
                self.api or "-", number, attempts, risk, self.outcome.billed_retries,
            )  # fmt: skip
        if self._paced_throttle(error):
            logger.info(
                "OCR call %s throttled (%s, attempt %d/%d); retrying at the limiter's new rate",
                self.api or "-", _describe(error), number, attempts,
            )  # fmt: skip
            return
        logger.warning(
            "OCR call %s failed with %s (attempt %d/%d); retrying in %.2f s",
            self.api or "-", _describe(error), number, attempts, delay,
        )  # fmt: skip
        self.policy.sleep(delay)


def _refused(
    budget: TryBudget, made: int, outcome: RetryOutcome, last: HuaweiOcrError | None, api: str | None
) -> HuaweiOcrBudgetExceededError:
    limit = getattr(budget, "limit", None)
    spent = f"max_calls: the budget of {limit} billable tr{'y' if limit == 1 else 'ies'} is spent"
    if last is None:
        text = f"{spent}; this call was not made."
    else:
        text = (
            f"{spent}; the retry after {_describe(last)} (attempt {made}) was not made. "
            "The tries so far may have been billed."
        )
    error = HuaweiOcrBudgetExceededError(
        text, request_id=getattr(last, "request_id", None), api=api, region=getattr(last, "region", None)
    )
    error.attempts = made
    error.billed_retries = outcome.billed_retries
    if last is not None:
        logger.warning("OCR call %s: %s", api or "-", text)
    return error


#: The former name, kept so existing code keeps working.
RetryPolicy = OcrRetryPolicy
