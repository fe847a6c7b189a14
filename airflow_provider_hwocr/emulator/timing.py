"""How fast the emulated service is allowed to be: per-API rate limits and added latency."""

from __future__ import annotations

import random
import threading
import time

from airflow_provider_hwocr.emulator.config import EmulatorConfig
from airflow_provider_hwocr.emulator.errors import EmulatorError

#: The gateway's throttling message, with the limit and the window filled in.
THROTTLED_MESSAGE = (
    "The throttling threshold has been reached: policy user over ratelimit,limit:{limit},time:1 second."
)


class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` saved up; one request costs one token."""

    __slots__ = ("_stamp", "_tokens", "capacity", "rate")

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)
        self.capacity = max(1.0, self.rate)
        self._tokens = self.capacity
        self._stamp = time.monotonic()

    def take(self, now: float) -> bool:
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class RateLimiter:
    """One token bucket per API, created on first use with the limit the config gives."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}

    def check(self, config: EmulatorConfig, slug: str) -> None:
        """Raise 429 APIG.0308 if API ``slug`` has used up its rate."""
        limit = config.qps_for(slug)
        if limit is None:
            return
        with self._lock:
            bucket = self._buckets.get(slug)
            if bucket is None or bucket.rate != float(limit):  # new API, or the limit was changed
                bucket = self._buckets[slug] = TokenBucket(limit)
            allowed = bucket.take(time.monotonic())
        if not allowed:
            raise EmulatorError(
                429,
                "APIG.0308",
                THROTTLED_MESSAGE.format(limit=f"{limit:g}"),
                detail=f"more than {limit:g} requests per second to {slug}",
            )

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


class Latency:
    """Draws the delay of one request: fixed part plus uniform jitter, from a seedable RNG."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def seconds(self, config: EmulatorConfig) -> float:
        delay = config.latency_ms
        if config.latency_jitter_ms:
            with self._lock:
                delay += self._rng.uniform(0.0, config.latency_jitter_ms)
        return delay / 1000.0
