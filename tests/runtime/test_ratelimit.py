"""Pacing of OCR calls: the fixed-rate token bucket and the adaptive rate limiter, on a fake clock,
then the adaptive limiter against the emulator's QPS limit."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from airflow_provider_hwocr.client import OcrRetryPolicy
from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator
from airflow_provider_hwocr.runtime.ratelimit import AdaptiveRateLimiter, TokenBucket
from tests.helpers.client_support import BODY, SLUG, aksk_client
from tests.helpers.constants import AK, PROJECT_ID, REGION, SK


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(qps: float = 10.0, **kwargs) -> tuple[AdaptiveRateLimiter, FakeTime]:
    t = FakeTime()
    return AdaptiveRateLimiter(qps, clock=t.clock, sleep=t.sleep, **kwargs), t


def test_starts_at_qps_and_spaces_calls_evenly():
    lim, t = limiter(10.0)
    for _ in range(5):
        lim.acquire()
    assert lim.rate == 10.0
    assert t.slept == pytest.approx([0.1] * 4)


def test_throttling_lowers_the_rate_and_quiet_raises_it_back_to_qps_not_beyond(caplog):
    lim, t = limiter(10.0, step=1.0, quiet=1.0)
    caplog.set_level("INFO", logger="airflow_provider_hwocr.runtime.ratelimit")
    lim.acquire()
    lim.on_throttled()
    assert lim.rate == pytest.approx(9.0)  # a lone throttled answer: the gentle decrease
    assert "lowered: 10.00 -> 9.00" in caplog.text
    t.now += 1.0
    lim.acquire()
    assert lim.rate == pytest.approx(10.0)
    assert "raised: 9.00 -> 10.00" in caplog.text
    t.now += 5.0
    lim.acquire()
    assert lim.rate == 10.0  # the configured qps is the ceiling
    assert lim.changes == 2


def test_mostly_throttled_answers_lower_the_rate_in_one_step():
    lim, t = limiter(40.0)
    for _ in range(10):  # what the service took recently ...
        lim.acquire()
        lim.on_success()
    for _ in range(9):  # ... and then half of the answers throttled
        lim.acquire()
        lim.on_success()
        lim.acquire()
        if _ < 8:
            lim._note(t.now, True)  # throttled answers to calls sent before the decrease
    lim.acquire()
    lim.on_throttled()
    assert lim.rate < 40.0 * 0.8


def test_throttled_answers_to_calls_paced_at_an_old_rate_lower_it_once():
    lim = AdaptiveRateLimiter(1000.0)
    sent = threading.Barrier(8)
    first_reported = threading.Event()

    def worker(i: int) -> None:
        lim.acquire()  # eight calls go out at the same rate ...
        sent.wait()
        if i == 0:
            lim.on_throttled()  # ... the first throttled answer lowers it ...
            first_reported.set()
        else:
            first_reported.wait()
            lim.on_throttled()  # ... the others were paced at the old rate: counted, not acted on

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    assert lim.throttled == 8 and lim.changes == 1 and lim.rate == pytest.approx(900.0)


def test_retry_after_pauses_every_caller():
    lim, t = limiter(10.0)
    lim.acquire()
    lim.on_throttled(retry_after=3.0)
    start = t.now
    lim.acquire()
    assert t.now - start == pytest.approx(3.0)


def test_shared_by_threads_without_losing_calls():
    lim = AdaptiveRateLimiter(200.0)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: lim.acquire(), range(100)))
    assert lim.calls == 100


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "5", True])
def test_rejects_a_rate_that_cannot_work(bad):
    with pytest.raises(ValueError, match="qps"):
        AdaptiveRateLimiter(bad)


@pytest.mark.timing
def test_against_the_emulator_limit_below_the_configured_qps():
    """Emulator at 20/s, limiter starting at 40/s, 8 threads: <5% throttled, >=85% of the limit."""
    limit, calls = 20.0, 300
    config = EmulatorConfig(
        credentials={AK: SK}, project_id=PROJECT_ID, region=REGION, results="documented", qps_limit=limit
    )
    with OcrEmulator(config) as emulator:
        lim = AdaptiveRateLimiter(2 * limit)
        client = aksk_client(
            emulator, rate_limiter=lim, retry=OcrRetryPolicy(max_attempts=20, max_elapsed=120), pool_size=8
        )
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda _: client.call(SLUG, BODY), range(calls)))
        elapsed = time.monotonic() - started
        stats = emulator.stats()
    assert len(responses) == calls
    throttled = stats["by_status"].get(429, stats["by_status"].get("429", 0))
    assert throttled > 0  # the limit was really hit: the limiter had something to adapt to
    assert stats["total"] == calls + throttled
    assert throttled / stats["total"] < 0.05, (throttled, stats["total"])
    assert calls / elapsed >= 0.85 * limit, calls / elapsed
    assert lim.rate < 2 * limit and lim.changes >= 1


# --- the fixed-rate token bucket -----------------------------------------------------------


def bucket(rate: float, burst: int = 1) -> tuple[TokenBucket, FakeTime]:
    t = FakeTime()
    return TokenBucket(rate, burst, clock=t.clock, sleep=t.sleep), t


def test_token_bucket_spaces_calls_at_its_rate():
    tb, t = bucket(4.0)
    waited = [tb.acquire() for _ in range(5)]
    assert waited == pytest.approx([0.0, 0.25, 0.25, 0.25, 0.25])
    assert t.now - 100.0 == pytest.approx(1.0)


def test_token_bucket_lets_a_burst_through_after_a_quiet_period():
    tb, t = bucket(2.0, burst=3)
    assert [tb.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]  # the initial burst
    assert tb.acquire() == pytest.approx(0.5)
    t.now += 10.0  # quiet: the bucket refills, but never above its burst
    assert [tb.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert tb.acquire() == pytest.approx(0.5)


def test_token_bucket_shared_by_threads_keeps_the_rate():
    tb = TokenBucket(200.0)
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: tb.acquire(), range(41)))
    assert time.monotonic() - started >= 40 / 200.0 * 0.95  # 40 spacings of 5 ms at least


@pytest.mark.parametrize(("rate", "burst", "word"), [(0, 1, "rate"), (-2, 1, "rate"), (1, 0, "burst")])
def test_token_bucket_rejects_settings_that_cannot_work(rate, burst, word):
    with pytest.raises(ValueError, match=word):
        TokenBucket(rate, burst)


def test_token_bucket_is_a_rate_limiter_the_client_can_report_to():
    """The fixed pace goes the same way as the adaptive one: the client calls it per try."""
    tb, _ = bucket(4.0)
    assert tb.acquire() == 0.0
    tb.on_success()
    tb.on_throttled(None)  # no Retry-After: the rate stays what the user asked
    assert tb.acquire() == pytest.approx(0.25) and tb.rate == 4.0
    tb.on_throttled(2.0)  # Retry-After: every caller waits until it has passed, then the rate again
    assert tb.acquire() == pytest.approx(2.0)
    assert tb.acquire() == pytest.approx(0.25)


def test_pace_for_picks_the_adaptive_limiter_the_fixed_bucket_or_none():
    from airflow_provider_hwocr.runtime.ratelimit import pace_for

    assert pace_for(None, adaptive=True) is None and pace_for(0.0, adaptive=False) is None
    assert isinstance(pace_for(5.0, adaptive=True), AdaptiveRateLimiter)
    fixed = pace_for(5.0, adaptive=False)
    assert isinstance(fixed, TokenBucket) and fixed.rate == 5.0
