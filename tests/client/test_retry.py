"""Retries (``client/retry.py``): which errors, how many times, how long, and what gets logged."""

from __future__ import annotations

import logging
import time

import pytest

from airflow_provider_hwocr.client import (
    AkSkCredentials,
    HuaweiOcrAuthError,
    HuaweiOcrInvalidInputError,
    HuaweiOcrNotSubscribedError,
    HuaweiOcrRecognitionError,
    HuaweiOcrThrottledError,
    HuaweiOcrTransientError,
    OcrClient,
    RetryPolicy,
)
from airflow_provider_hwocr.client.retry import run_with_retry
from tests.helpers.client_support import BODY, SLUG, aksk_client, closed_port, fast_policy, silent_server
from tests.helpers.constants import AK, PROJECT_ID, REGION, SK

LOGGER = "airflow_provider_hwocr.client"


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def test_throttled_then_success(emulator, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    emulator.fail_next(SLUG, 429, "APIG.0308")
    response = aksk_client(emulator).call(SLUG, BODY)
    assert response.attempts == 2
    assert emulator.count(SLUG) == 2
    assert emulator.count(SLUG, status=429) == 1 and emulator.count(SLUG, status=200) == 1
    assert response.result["words_block_count"] >= 1
    retries = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert len(retries) == 1
    message = retries[0].getMessage()
    assert SLUG in message and "APIG.0308" in message and "attempt 1/5" in message
    assert "retrying in" in message


def test_server_errors_until_attempts_are_exhausted(emulator):
    emulator.fail_next(SLUG, 503, "ModelArts.4403", times=10)
    client = aksk_client(emulator, retry=fast_policy(max_attempts=4))
    with pytest.raises(HuaweiOcrTransientError) as info:
        client.call(SLUG, BODY)
    assert emulator.count(SLUG) == 4
    assert info.value.attempts == 4 and info.value.error_code == "ModelArts.4403"


@pytest.mark.parametrize(
    "status,code,cls",
    [
        (400, "AIS.0101", HuaweiOcrInvalidInputError),
        (400, "AIS.0105", HuaweiOcrRecognitionError),
        (401, "APIG.0301", HuaweiOcrAuthError),
        (403, "ModelArts.4204", HuaweiOcrNotSubscribedError),
    ],
)
def test_no_retry_on_permanent_errors(emulator, status, code, cls):
    emulator.fail_next(SLUG, status, code, times=5)
    with pytest.raises(cls) as info:
        aksk_client(emulator).call(SLUG, BODY)
    assert emulator.count(SLUG) == 1
    assert info.value.attempts == 1


def test_retry_after_is_honoured(emulator):
    emulator.fail_next(SLUG, 429, "APIG.0308", retry_after=0.4)
    client = aksk_client(emulator, retry=fast_policy(base_delay=0.001, throttle_min_delay=0.001))
    started = time.monotonic()
    response = client.call(SLUG, BODY)
    took = time.monotonic() - started
    assert response.attempts == 2
    assert took >= 0.4, took
    assert response.elapsed >= 0.4
    assert took < 2.0


def test_retry_after_replaces_computed_delay(emulator):
    sleeps = SleepRecorder()
    emulator.fail_next(SLUG, 503, "ModelArts.4403", retry_after=1.5)
    client = aksk_client(emulator, retry=fast_policy(sleep=sleeps))
    assert client.call(SLUG, BODY).attempts == 2
    assert sleeps.delays == [1.5]


def test_elapsed_budget_bounds_attempts(emulator):
    # Without jitter the waits are 0.1, 0.2, 0.4 ... ; the second one would end
    # after 0.3 s, beyond the 0.25 s budget, so only two tries are made.
    emulator.fail_next(SLUG, 500, "ModelArts.4505", times=50)
    policy = RetryPolicy(max_attempts=50, base_delay=0.1, max_delay=10, max_elapsed=0.25, jitter=False)
    started = time.monotonic()
    with pytest.raises(HuaweiOcrTransientError) as info:
        aksk_client(emulator, retry=policy).call(SLUG, BODY)
    assert emulator.count(SLUG) == 2
    assert info.value.attempts == 2
    assert time.monotonic() - started < 0.25


def test_retry_after_longer_than_budget_stops_at_once(emulator):
    sleeps = SleepRecorder()
    emulator.fail_next(SLUG, 429, "APIG.0308", retry_after=60)
    client = aksk_client(emulator, retry=fast_policy(max_elapsed=5, sleep=sleeps))
    with pytest.raises(HuaweiOcrThrottledError) as info:
        client.call(SLUG, BODY)
    assert info.value.retry_after == 60.0
    assert sleeps.delays == [] and emulator.count(SLUG) == 1


def test_connection_refused_is_transient_and_retried(caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    client = OcrClient(
        region=REGION, project_id=PROJECT_ID, credentials=AkSkCredentials(AK, SK),
        endpoint=f"http://127.0.0.1:{closed_port()}", retry=fast_policy(max_attempts=3),
    )  # fmt: skip
    with pytest.raises(HuaweiOcrTransientError) as info:
        client.call(SLUG, BODY)
    assert info.value.attempts == 3
    assert info.value.status_code is None and not info.value.read_timeout
    assert "connection to 127.0.0.1" in str(info.value)
    assert len([r for r in caplog.records if "attempt" in r.getMessage()]) == 2


def test_read_timeout_is_retried_by_default():
    with silent_server() as (url, accepted):
        client = OcrClient(
            region=REGION, project_id=PROJECT_ID, credentials=AkSkCredentials(AK, SK), endpoint=url,
            timeout=(1.0, 0.15), retry=fast_policy(max_attempts=2),
        )  # fmt: skip
        with pytest.raises(HuaweiOcrTransientError) as info:
            client.call(SLUG, BODY)
        assert info.value.read_timeout is True
        assert info.value.attempts == 2
        assert "billed" in str(info.value)
        assert len(accepted) >= 1


def test_read_timeout_not_retried_when_disabled():
    with silent_server() as (url, _accepted):
        client = OcrClient(
            region=REGION, project_id=PROJECT_ID, credentials=AkSkCredentials(AK, SK), endpoint=url,
            timeout=(1.0, 0.15), retry=fast_policy(max_attempts=5, retry_on_read_timeout=False),
        )  # fmt: skip
        with pytest.raises(HuaweiOcrTransientError) as info:
            client.call(SLUG, BODY)
        assert info.value.attempts == 1 and info.value.read_timeout


# --- the policy on its own --------------------------------------------------------------------


def test_backoff_doubles_and_is_capped_without_jitter():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=False)
    assert [policy.backoff(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_full_jitter_draws_below_the_cap():
    draws = iter([0.0, 0.5, 0.999])
    policy = RetryPolicy(base_delay=2.0, max_delay=30.0, rng=lambda: next(draws))
    assert [policy.backoff(3) for _ in range(3)] == [0.0, 4.0, pytest.approx(7.992)]


def test_throttling_waits_at_least_the_vendor_minimum():
    policy = RetryPolicy(base_delay=1.0, throttle_min_delay=2.0, rng=lambda: 0.0)
    throttled = HuaweiOcrThrottledError("t")
    assert policy.backoff(1, throttled) == 2.0
    assert RetryPolicy(base_delay=1.0, rng=lambda: 1.0).backoff(2, throttled) == 4.0
    assert policy.backoff(1, HuaweiOcrTransientError("t")) == 0.0


def test_only_throttled_and_transient_are_retryable():
    policy = RetryPolicy()
    assert policy.should_retry(HuaweiOcrThrottledError("x"))
    assert policy.should_retry(HuaweiOcrTransientError("x"))
    assert policy.should_retry(HuaweiOcrTransientError("x", read_timeout=True))
    assert not RetryPolicy(retry_on_read_timeout=False).should_retry(
        HuaweiOcrTransientError("x", read_timeout=True)
    )
    for err in (
        HuaweiOcrInvalidInputError("x"),
        HuaweiOcrAuthError("x"),
        HuaweiOcrRecognitionError("x"),
        ValueError("x"),
    ):
        assert not policy.should_retry(err)


def test_defaults_and_clamping():
    policy = RetryPolicy()
    assert (
        policy.max_attempts,
        policy.base_delay,
        policy.max_delay,
        policy.max_elapsed,
        policy.throttle_min_delay,
        policy.retry_possibly_billed,
    ) == (5, 1.0, 30.0, 120.0, 2.0, True)
    assert RetryPolicy(max_attempts=0).max_attempts == 1
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=-1)


def test_run_with_retry_uses_injected_sleep_and_clock():
    sleeps = SleepRecorder()
    now = [0.0]

    def clock() -> float:
        return now[0]

    def fake_sleep(seconds: float) -> None:
        sleeps(seconds)
        now[0] += seconds

    outcomes = [HuaweiOcrTransientError("a"), HuaweiOcrThrottledError("b"), "done"]

    def attempt(n: int):
        outcome = outcomes[n - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    policy = RetryPolicy(base_delay=1.0, throttle_min_delay=2.0, jitter=False, sleep=fake_sleep, clock=clock)
    assert run_with_retry(policy, attempt, api="x") == ("done", 3)
    assert sleeps.delays == [1.0, 4.0]  # transient 1 s; throttled 2 s floor + 2 s backoff


def test_non_ocr_exceptions_are_not_swallowed():
    def attempt(n: int):
        raise KeyError("boom")

    with pytest.raises(KeyError):
        run_with_retry(RetryPolicy(sleep=SleepRecorder()), attempt)


# --- the budget: consulted before every try that may be billed --------------------


class Ledger:
    """A budget that records what the retry loop asked of it."""

    def __init__(self, limit):
        self.limit, self.used, self.log = limit, 0, []

    def take(self):
        ok = self.used < self.limit
        self.used += ok
        self.log.append("take" if ok else "refused")
        return ok

    def give_back(self):
        self.used -= 1
        self.log.append("back")


def _failing(*errors):
    """An attempt function raising ``errors`` in turn, then succeeding."""
    queue = list(errors)

    def attempt(number):
        if queue:
            raise queue.pop(0)
        return "ok"

    return attempt


def test_tries_surely_not_billed_give_their_share_back_and_possibly_billed_ones_keep_it():
    from airflow_provider_hwocr.client.retry import possibly_billed

    throttled = HuaweiOcrThrottledError("slow down", status_code=429, error_code="APIG.0308")
    backend = HuaweiOcrTransientError("backend", status_code=503, error_code="ModelArts.4403")
    refused = HuaweiOcrTransientError("connection refused")  # never sent
    truncated = HuaweiOcrTransientError("cut", billing_risk="truncated", status_code=200)
    timeout = HuaweiOcrTransientError("no answer", billing_risk="read_timeout")
    assert [possibly_billed(e) for e in (throttled, backend, refused, truncated, timeout, None)] == [
        False, False, False, True, True, True,
    ]  # fmt: skip
    ledger = Ledger(10)
    result, attempts = run_with_retry(
        fast_policy(max_attempts=6), _failing(throttled, backend, refused, truncated, timeout), budget=ledger
    )
    assert (result, attempts) == ("ok", 6)
    assert ledger.log == ["take", "back", "take", "back", "take", "back", "take", "take", "take"]
    assert ledger.used == 3  # the truncated try, the timed-out try and the success


def test_a_retry_the_budget_refuses_is_not_made_and_fails_without_task_retries():
    from airflow_provider_hwocr.client.retry import HuaweiOcrBudgetExceededError
    from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError, HuaweiCloudNonRetryableError

    made = []
    truncated = HuaweiOcrTransientError("cut", billing_risk="truncated", status_code=200)

    def attempt(number):
        made.append(number)
        raise truncated

    ledger = Ledger(1)
    with pytest.raises(HuaweiOcrBudgetExceededError) as info:
        run_with_retry(fast_policy(max_attempts=5), attempt, api=SLUG, budget=ledger)
    err = info.value
    assert made == [1] and ledger.log == ["take", "refused"] and ledger.used == 1
    assert err.attempts == 1 and err.billed_retries == 0 and err.__cause__ is truncated
    assert isinstance(err, HuaweiCloudBudgetExceededError) and isinstance(err, HuaweiCloudNonRetryableError)
    assert "max_calls" in str(err) and "retry after" in str(err)


def test_a_spent_budget_refuses_the_first_try_before_anything_is_sent(emulator):
    from airflow_provider_hwocr.client.retry import HuaweiOcrBudgetExceededError

    ledger = Ledger(0)
    with pytest.raises(HuaweiOcrBudgetExceededError) as info:
        aksk_client(emulator).call(SLUG, BODY, budget=ledger)
    assert info.value.attempts == 0 and "this call was not made" in str(info.value)
    assert emulator.count() == 0


def test_the_budget_counts_exactly_the_tries_the_emulator_bills(emulator):
    """Throttling and 5xx answers give back; truncated 200s keep: used == the emulator's billable count."""
    emulator.config.truncate_rate = 0.3
    emulator.config.error_503_rate = 0.2
    emulator.reseed(20261202)  # unseeded, ten failed tries in a row would fail ~3 % of runs
    emulator.fail_next(SLUG, 429, "APIG.0308", times=3)
    ledger = Ledger(10_000)
    client = aksk_client(emulator, retry=fast_policy(max_attempts=10))
    for _ in range(30):
        client.call(SLUG, BODY, budget=ledger)
    stats = emulator.stats()["apis"][SLUG]
    assert stats["total"] > stats["billable"] > 30  # faults happened, some of them billed
    assert ledger.used == stats["billable"]
