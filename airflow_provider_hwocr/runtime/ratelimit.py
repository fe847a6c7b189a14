"""Client-side pacing of OCR calls.

:class:`TokenBucket`: a fixed rate. :class:`AdaptiveRateLimiter`: starts at a
rate and adapts to the service's throttling (multiplicative decrease,
additive increase). Both are a :class:`RateLimiter`: the OCR client calls
``acquire()`` before every try and reports each answer, so a batch's pace, fixed or
adaptive, goes one way (:func:`pace_for`). Both are thread-safe; nothing here imports
Airflow.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["AdaptiveRateLimiter", "RateLimiter", "TokenBucket", "pace_for"]


class RateLimiter(Protocol):
    """What the OCR client calls on its rate limiter (``OcrClient(rate_limiter=...)``), per try."""

    def acquire(self) -> float:
        """Wait for this try's turn; returns the seconds waited."""
        ...

    def on_throttled(self, retry_after: float | None = None) -> None:
        """The try was throttled (``Retry-After``: seconds the service asked to wait)."""
        ...

    def on_success(self) -> None:
        """The try was answered, not throttled."""
        ...


def pace_for(qps: float | None, *, adaptive: bool, log: Any = None) -> RateLimiter | None:
    """The pace of a task's calls: adaptive from ``qps`` down, fixed at ``qps``, or none."""
    if not qps:
        return None
    return AdaptiveRateLimiter(qps, log=log) if adaptive else TokenBucket(qps)


class TokenBucket:
    """Blocks callers so that, over any window, calls stay within ``rate`` per second.

    ``burst`` tokens may be spent at once after a quiet period; the default
    of 1 spaces calls evenly, which is what a per-second service quota wants.
    The rate never changes; a ``Retry-After`` from the service pauses every caller
    until it has passed (:meth:`on_throttled`).
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate!r}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        self.rate = float(rate)
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._last = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting if needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                if now < self._paused_until:  # Retry-After: no token before it has passed
                    delay = self._paused_until - now
                else:
                    self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                    self._last = now
                    if self._tokens >= 1:
                        self._tokens -= 1
                        return waited
                    delay = (1 - self._tokens) / self.rate
            self._sleep(delay)
            waited += delay

    def on_throttled(self, retry_after: float | None = None) -> None:
        """A throttled answer: the rate stays; a ``Retry-After`` pauses every caller until it has passed."""
        if retry_after is None or retry_after <= 0:
            return
        with self._lock:
            until = self._clock() + float(retry_after)
            if until > self._paused_until:
                self._paused_until = until
                self._tokens, self._last = 0.0, until - 1.0 / self.rate  # one token when it ends

    def on_success(self) -> None:
        """An answer that was not throttled: nothing changes at a fixed rate."""


class AdaptiveRateLimiter:
    """Paces calls at a rate that adapts to throttling; one instance is shared by all threads of a task.

    Huawei Cloud publishes no OCR rate quota ("adjusted dynamically"); throttling
    shows up as APIG.0308 or HTTP 429. So the rate is learned:

    * it starts at ``qps``, which is also the ceiling (the user's cap is never exceeded);
    * on a throttled answer it is multiplied by a factor between ``floor`` and
      ``decrease``: the share of answers that were *not* throttled over the last
      ``window`` seconds, less a 5% margin. Sending 40/s to a service that takes 20/s
      gets half the answers throttled, so the rate drops to about 19/s in one step;
      creeping just above the limit gets a gentle ``decrease``. Only a call started
      at the current rate can lower it again: throttled answers to calls paced at an
      older, higher rate are counted but not acted on (one decrease per round trip,
      as TCP does), so a burst of them from many threads counts once.
      A ``Retry-After`` from the server pauses every caller until it has passed;
    * after ``quiet`` seconds without throttling it grows by ``step`` requests per second.

    Calls are spaced evenly: :meth:`acquire` hands out start times ``1/rate`` apart; a
    slot missed because every thread was busy may be made up later, at most two slots
    (0.1 s) back, so a batch whose threads are sometimes all busy still averages ``rate``.
    Every change of rate is logged at INFO.
    """

    def __init__(
        self,
        qps: float,
        *,
        min_qps: float | None = None,
        decrease: float = 0.9,
        floor: float = 0.5,
        step: float | None = None,
        quiet: float = 1.0,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        log: Any = None,
    ) -> None:
        if isinstance(qps, bool) or not isinstance(qps, (int, float)) or not math.isfinite(qps) or qps <= 0:
            raise ValueError(f"qps must be a finite number > 0, got {qps!r}")
        if not 0 < floor <= decrease < 1:
            raise ValueError(f"need 0 < floor <= decrease < 1, got floor={floor!r}, decrease={decrease!r}")
        self.max_qps = float(qps)
        self.min_qps = float(min_qps) if min_qps is not None else min(self.max_qps, 0.1)
        self.decrease = float(decrease)
        self.floor = float(floor)
        self.window = float(window)
        self._recent: deque[tuple[float, bool]] = deque()  # (time, throttled) of recent answers
        self.step = float(step) if step is not None else max(0.05, self.max_qps / 50)
        self.quiet = float(quiet)
        self._epoch = 0  # bumped on every decrease
        self._local = threading.local()
        self._clock = clock
        self._sleep = sleep
        self.log = log or logging.getLogger("airflow_provider_hwocr.runtime.ratelimit")
        self._lock = threading.Lock()
        self._rate = self.max_qps
        self._next = clock()
        self._last_change = self._next
        #: Counters: calls paced, throttled answers seen, rate changes made.
        self.calls = 0
        self.throttled = 0
        self.changes = 0

    @property
    def rate(self) -> float:
        """The current rate, requests per second."""
        return self._rate

    def _set_rate(self, rate: float, now: float, why: str) -> None:
        old, self._rate = self._rate, rate
        self._last_change = now
        self.changes += 1
        self.log.info(
            "OCR rate %s: %.2f -> %.2f requests/s (%s)", "lowered" if rate < old else "raised", old, rate, why
        )

    def acquire(self) -> float:
        """Wait for this caller's turn; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            if self._rate < self.max_qps and now - self._last_change >= self.quiet:
                self._set_rate(
                    min(self.max_qps, self._rate + self.step), now, f"{self.quiet:g} s without throttling"
                )
            interval = 1.0 / self._rate
            if self.calls == 0:
                self._next = now  # the schedule starts with the first call, with nothing to make up
            if now >= self._next:
                # Late: every thread was busy when the slot came. The schedule may trail the
                # clock by up to two slots (0.1 s at most), so a short gap is made up by at
                # most two calls back to back instead of being lost for good.
                start = now
                self._next = max(self._next, now - min(0.1, 2 * interval)) + interval
            else:
                start = self._next
                self._next = start + interval
            self.calls += 1
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        # The call goes out now: it tests the rate in force now.
        self._local.epoch = self._epoch
        return max(0.0, wait)

    def _note(self, now: float, throttled: bool) -> tuple[float, float]:
        """Record an answer; return (throttled share, accepted answers per second) over the last window."""
        recent = self._recent
        recent.append((now, throttled))
        span = max(self.window, 2.0 / self._rate)
        while recent and recent[0][0] < now - span:
            recent.popleft()
        throttled_n = sum(1 for _, t in recent if t)
        if len(recent) < 10:  # too few answers to tell a share: treat as a lone throttled answer
            return 0.0, math.inf
        return throttled_n / len(recent), (len(recent) - throttled_n) / span

    def on_throttled(self, retry_after: float | None = None) -> None:
        """Report a throttled answer (APIG.0308, ModelArts.4401, HTTP 429)."""
        with self._lock:
            now = self._clock()
            self.throttled += 1
            share, accepted = self._note(now, True)
            current = getattr(self._local, "epoch", self._epoch) >= self._epoch
            if current and self._rate > self.min_qps:
                self._epoch += 1
                # Lower by the throttled share, but not below what the service was
                # seen to accept lately, and always by at least ``decrease``.
                by_share = self._rate * max(self.floor, 1.0 - share - 0.05)
                most = self.decrease if share < 0.1 else self.decrease - 0.1
                new = min(self._rate * most, max(by_share, accepted * 0.95))
                seen = (
                    f"{share:.0%} of recent answers throttled"
                    if math.isfinite(accepted)
                    else "few answers yet"
                )
                self._set_rate(max(self.min_qps, new), now, f"throttled by the service; {seen}")
            else:
                self._last_change = now  # keep quiet: no increase while throttling goes on
            if retry_after is not None and retry_after > 0:
                until = now + float(retry_after)
                if until > self._next:
                    self._next = until
                    self.log.info("OCR calls paused for %.2f s (Retry-After)", retry_after)

    def on_success(self) -> None:
        """Report an answer that was not throttled (the rate grows with time, not with answers)."""
        with self._lock:
            self._note(self._clock(), False)  # the share feeds the next decrease
