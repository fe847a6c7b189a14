"""How fast the emulated service is (``emulator/timing.py``): added latency and jitter, per-API QPS limits."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

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
    """32 requests of 400 ms each, sent together, finish in about 400 ms, not 13 s."""
    with service(latency_ms=400) as s:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(lambda _: s.ocr("passport").status_code, range(32)))
        elapsed = time.monotonic() - started
        assert statuses == [200] * 32
        assert elapsed < 2.0
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
