"""How fast the emulated service is (``emulator/timing.py``): added latency and jitter, per-API QPS limits."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from airflow_provider_hwocr.emulator import EmulatorConfig
from airflow_provider_hwocr.emulator.errors import EmulatorError
from airflow_provider_hwocr.emulator.timing import Latency, RateLimiter, TokenBucket
from tests.helpers.b_service import code_of, service

# --- latency ----------------------------------------------------------------------------


def test_latency_is_added_to_each_request():
    with service(latency_ms=250) as s:
        started = time.monotonic()
        assert s.ocr("passport").status_code == 200
        elapsed = time.monotonic() - started
        assert 0.25 <= elapsed < 1.5
        (start, end, status) = s.emu.stats()["timestamps"]["passport"][0]
        assert status == 200 and end - start >= 0.25


def test_jitter_stays_within_its_bound():
    with service(latency_ms=50, latency_jitter_ms=100, seed=3) as s:
        s.ocr("passport")
        s.ocr("passport")
        for start, end, _ in s.emu.stats()["timestamps"]["passport"]:
            assert 0.05 <= end - start < 0.5


def test_latency_does_not_serialise_requests():
    """32 requests of 1 s each, sent together, finish in about 1 s, not 32 s (a second gives a loaded
    machine time to start all 32 before the first answers)."""
    with service(latency_ms=1000) as s:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(lambda _: s.ocr("passport").status_code, range(32)))
        elapsed = time.monotonic() - started
        assert statuses == [200] * 32
        assert elapsed < 4.0
        assert s.emu.stats()["peak_concurrency"] >= 24


# --- QPS limit --------------------------------------------------------------------------


def test_qps_limit_throttles_then_recovers():
    with service(qps_limit=3, qps_limits={"passport": 1}) as s:
        statuses = [s.ocr("general-text").status_code for _ in range(6)]
        assert statuses[:3] == [200, 200, 200] and statuses[3:].count(429) >= 2
        throttled = s.ocr("general-text")
        assert code_of(throttled) == (429, "APIG.0308")
        assert throttled.json()["error_msg"] == (
            "The throttling threshold has been reached: policy user over ratelimit,limit:3,time:1 second."
        )
        assert "X-Request-Id" in throttled.headers
        # per API: passport has its own (smaller) bucket
        assert [s.ocr("passport").status_code for _ in range(2)] == [200, 429]
        time.sleep(1.05)
        assert s.ocr("general-text").status_code == 200
        assert s.emu.stats()["by_error_code"]["APIG.0308"] >= 4


def test_throttled_calls_are_not_billable_and_not_delayed():
    with service(qps_limit=1, latency_ms=300) as s:
        assert s.ocr("passport").status_code == 200
        started = time.monotonic()
        assert s.ocr("passport").status_code == 429
        assert time.monotonic() - started < 0.25  # the gateway answers at once
        assert s.emu.stats()["billable"] == 1


# --- the bucket, the limiter and the delay, without a server ---------------------------------


def test_a_token_bucket_allows_one_seconds_burst_then_refills_at_its_rate():
    bucket = TokenBucket(2)
    now = time.monotonic()
    assert [bucket.take(now) for _ in range(3)] == [True, True, False]
    assert [bucket.take(now + 0.6), bucket.take(now + 0.6)] == [True, False]  # 1.2 tokens in 0.6 s
    assert [bucket.take(now + 10) for _ in range(3)] == [True, True, False]  # saved up: never more than 2
    slow = TokenBucket(0.5)
    later = time.monotonic()
    assert slow.capacity == 1.0  # a burst is at least one request
    assert [slow.take(later), slow.take(later + 1), slow.take(later + 2.1)] == [True, False, True]


def test_the_limiter_keeps_a_bucket_per_api_and_a_new_one_when_the_limit_changes():
    config = EmulatorConfig(qps_limits={"passport": 1})
    limiter = RateLimiter()
    limiter.check(config, "passport")
    with pytest.raises(EmulatorError) as caught:
        limiter.check(config, "passport")
    assert (caught.value.status, caught.value.code) == (429, "APIG.0308")
    assert "limit:1,time:1 second" in caught.value.message
    for _ in range(20):
        limiter.check(config, "general-text")  # no limit for it
    config.qps_limits["passport"] = 3
    limiter.check(config, "passport")  # a new bucket, full
    limiter.clear()
    config.qps_limits["passport"] = 1
    limiter.check(config, "passport")


def test_latency_is_fixed_plus_seeded_jitter():
    config = EmulatorConfig(latency_ms=100)
    assert Latency(seed=1).seconds(config) == 0.1
    config.latency_jitter_ms = 50
    latency = Latency(seed=1)
    draws = [latency.seconds(config) for _ in range(20)]
    assert all(0.1 <= d <= 0.15 for d in draws) and len(set(draws)) > 1
    assert Latency(seed=1).seconds(config) == draws[0]  # the same seed, the same delays
    latency.reseed(1)
    assert latency.seconds(config) == draws[0]
