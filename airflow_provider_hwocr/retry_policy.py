"""A ready-made Airflow task retry policy for this provider's errors (Airflow 3.3+).

Every error the provider raises derives from one branch of
:mod:`airflow_provider_hwocr.errors`. :data:`HWOCR_RETRY_POLICY` maps them:

====================================  ===========================================================
error                                 task-level decision
====================================  ===========================================================
``HuaweiCloudNonRetryableError``      fail now, whatever ``retries`` says: a bad image, bad
                                      credentials, a missing subscription, a result too big for
                                      XCom, a configuration or TLS error, an exhausted budget
                                      fail the same way next time, and a retry may be billed
``HuaweiCloudThrottledError``         retry after the server's ``Retry-After`` when it sent one,
                                      else after ``throttle_delay`` (default 60 s)
``HuaweiCloudTransientError``         retry after the task's own ``retry_delay``
other ``HuaweiCloudRetryableError``   a backend down for hours (AIS.0118, the tax authority's
                                      interface): retry after the error's ``retry_after``, else
                                      after ``long_delay`` (default 2 hours); the client never
                                      retries these at once
anything else                         Airflow's ordinary behaviour (``retries``/``retry_delay``)
====================================  ===========================================================

A retry still needs ``retries`` on the task: a policy can only fail a task
earlier, never retry it more often.

    from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY

    HuaweiOcrGeneralTextOperator(..., retries=3, retry_policy=HWOCR_RETRY_POLICY)

On Airflow 3.1 and 3.2, which have no retry policies, this module still
imports: :data:`HWOCR_RETRY_POLICY` is ``None`` (passing ``retry_policy=None``
is the same as passing nothing) and :func:`make_retry_policy` raises a
``RuntimeError`` that says why.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_hwocr.errors import (
    HuaweiCloudNonRetryableError,
    HuaweiCloudRetryableError,
    HuaweiCloudThrottledError,
    HuaweiCloudTransientError,
)

if TYPE_CHECKING:
    from airflow.sdk import ExceptionRetryPolicy  # type: ignore[attr-defined,unused-ignore]  # 3.3+

__all__ = ["HWOCR_RETRY_POLICY", "RETRY_POLICIES_AVAILABLE", "make_retry_policy"]

# None on Airflow 3.1 / 3.2 (see airflow_provider_hwocr._compat).
from airflow_provider_hwocr._compat import ExceptionRetryPolicy as _Base
from airflow_provider_hwocr._compat import RetryAction, RetryDecision, RetryRule

#: Whether this Airflow has task retry policies (3.3+).
RETRY_POLICIES_AVAILABLE: bool = _Base is not None

_DEFAULT_THROTTLE_DELAY = timedelta(seconds=60)
#: The docs' advice for AIS.0118 (the tax authority's interface is down): retry about 2 hours later.
_DEFAULT_LONG_DELAY = timedelta(hours=2)


def make_retry_policy(
    *,
    throttle_delay: timedelta = _DEFAULT_THROTTLE_DELAY,
    transient_delay: timedelta | None = None,
    long_delay: timedelta = _DEFAULT_LONG_DELAY,
) -> ExceptionRetryPolicy:
    """Build the provider's retry policy with other delays.

    :param throttle_delay: wait before retrying a throttled task when the
        server sent no ``Retry-After`` (when it did, that is the wait).
    :param transient_delay: wait before retrying after a transient error;
        ``None`` uses the task's ``retry_delay``.
    :param long_delay: wait before retrying after a backend outage the docs
        measure in hours (AIS.0118), when the error names no ``retry_after``.
    """
    if _Base is None:
        raise RuntimeError(
            "Task retry policies need Airflow 3.3 or newer (airflow.sdk.ExceptionRetryPolicy); "
            "on this Airflow use retries/retry_delay, and catch HuaweiCloudNonRetryableError if needed."
        )
    for name, delay in (("throttle_delay", throttle_delay), ("long_delay", long_delay)):
        if not isinstance(delay, timedelta) or delay.total_seconds() < 0:
            raise ValueError(f"{name} must be a timedelta >= 0, got {delay!r}")
    return HuaweiCloudRetryPolicy(
        rules=[
            RetryRule(
                exception=HuaweiCloudNonRetryableError,
                action=RetryAction.FAIL,
                reason="Huawei Cloud OCR: this error does not go away on retry (and a retry may be billed)",
            ),
            RetryRule(
                exception=HuaweiCloudThrottledError,
                action=RetryAction.RETRY,
                retry_delay=throttle_delay,
                reason="Huawei Cloud OCR: throttled; retrying after a delay",
            ),
            RetryRule(
                exception=HuaweiCloudTransientError,
                action=RetryAction.RETRY,
                retry_delay=transient_delay,
                reason="Huawei Cloud OCR: transient failure; retrying",
            ),
            RetryRule(
                exception=HuaweiCloudRetryableError,
                action=RetryAction.RETRY,
                retry_delay=long_delay,
                reason="Huawei Cloud OCR: a backend is down for a while (e.g. the tax authority's interface); "
                "retrying much later",
            ),
        ]
    )


if _Base is not None:

    class HuaweiCloudRetryPolicy(_Base):
        """The provider's rules, plus: a throttled or long-delay error's ``retry_after`` sets the wait."""

        def evaluate(
            self, exception: BaseException, try_number: int, max_tries: int, context: Any = None
        ) -> Any:
            decision = super().evaluate(exception, try_number, max_tries, context)
            retry_after = getattr(exception, "retry_after", None)
            delayed = isinstance(exception, HuaweiCloudThrottledError) or (
                isinstance(exception, HuaweiCloudRetryableError)
                and not isinstance(exception, HuaweiCloudTransientError)
            )
            if (
                delayed
                and decision.action == RetryAction.RETRY
                and isinstance(retry_after, (int, float))
                and retry_after > 0
            ):
                return RetryDecision(
                    action=decision.action,
                    retry_delay=timedelta(seconds=float(retry_after)),
                    reason=f"{decision.reason}; the server asked for {float(retry_after):g} s",
                )
            return decision


#: The provider's retry policy with the default delays; ``None`` before Airflow 3.3.
HWOCR_RETRY_POLICY: ExceptionRetryPolicy | None = make_retry_policy() if RETRY_POLICIES_AVAILABLE else None
