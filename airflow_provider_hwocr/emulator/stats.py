"""What the emulator remembers about the OCR calls it answered: a log and counters."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

#: Key used in :meth:`CallLog.stats` for requests that matched no API.
UNKNOWN_API = "_unknown"


@dataclass(frozen=True)
class RecordedCall:
    """One request to an OCR path (IAM and ``/_emulator`` requests are not recorded)."""

    #: API slug, or None when the path matched no API.
    slug: str | None
    path: str
    #: Request headers with lowercase names (first value of repeated headers).
    headers: dict[str, str]
    #: The body parsed as JSON, or None when it was not JSON.
    body: Any
    status: int
    #: ``error_code`` of the answer; None for a 200.
    error_code: str | None
    #: ``aksk``, ``token`` or ``none``: the credential the caller presented.
    auth_mode: str
    #: ``time.time()`` when the answer was sent (for a dropped connection: when it was closed).
    timestamp: float
    #: ``time.time()`` when the request arrived (before its body was read).
    started: float | None = None
    #: The injected fault this call met (``FAULT_KINDS``), if any.
    fault: str | None = None
    #: Billed units: 1 for a 200, one per recognised document for auto-classification, else 0.
    units: int = 1

    @property
    def billable(self) -> bool:
        """A successful recognition, which the real service would charge for.

        Slow and truncated answers count: the service did the work, even if
        the caller never read the whole answer.
        """
        return self.status == 200 and self.slug is not None


class CallLog:
    """Thread-safe log of recent calls plus counters over all calls since the last reset."""

    def __init__(self, max_recorded: int | None = None, max_timestamps: int = 2_000) -> None:
        self._lock = threading.Lock()
        self._calls: deque[RecordedCall] = deque(maxlen=max_recorded)
        # (slug, status, error_code) -> count; survives the log's size cap.
        self._counts: Counter[tuple[str | None, int, str | None]] = Counter()
        self._faults: Counter[str] = Counter()
        # slug -> billed units of its billable calls
        self._units: Counter[str] = Counter()
        self._max_timestamps = max_timestamps
        # slug -> recent (start, end, status), oldest first
        self._timestamps: dict[str, deque[tuple[float, float, int]]] = {}

    def add(self, call: RecordedCall) -> None:
        key = call.slug or UNKNOWN_API
        started = call.started if call.started is not None else call.timestamp
        with self._lock:
            self._calls.append(call)
            self._counts[(call.slug, call.status, call.error_code)] += 1
            if call.fault is not None:
                self._faults[call.fault] += 1
            if call.billable and call.slug is not None:
                self._units[call.slug] += call.units
            stamps = self._timestamps.get(key)
            if stamps is None:
                stamps = self._timestamps[key] = deque(maxlen=self._max_timestamps)
            stamps.append((started, call.timestamp, call.status))

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._counts.clear()
            self._faults.clear()
            self._units.clear()
            self._timestamps.clear()

    def calls(self, slug: str | None = None) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self._calls if slug is None or c.slug == slug]

    def count(self, slug: str | None = None, status: int | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (s, st, _), n in self._counts.items()
                if (slug is None or s == slug) and (status is None or st == status)
            )

    def stats(self) -> dict[str, Any]:
        """Totals, and per API: counts by HTTP status and by error code, billable calls, billed units.

        ``billed_units`` is what the service would charge: one per billable call,
        except auto-classification, billed per document it recognised.

        Also ``faults`` (injected faults by kind), ``timestamps`` (per API, the
        recent calls as ``[start, end, status]``, wall-clock seconds, status 0
        for a dropped connection) and ``peak_concurrency`` (the most calls in
        progress at one time among those timestamps).
        """
        with self._lock:
            counts = list(self._counts.items())
            faults = dict(self._faults)
            units = dict(self._units)
            timestamps = {slug: [list(t) for t in stamps] for slug, stamps in self._timestamps.items()}

        totals = _empty_counts()
        apis: dict[str, dict[str, Any]] = {}
        for (slug, status, code), n in counts:
            for bucket in (totals, apis.setdefault(slug or UNKNOWN_API, _empty_counts())):
                _count_into(bucket, slug, status, code, n)
        for slug, n in units.items():
            totals["billed_units"] += n
            apis.setdefault(slug, _empty_counts())["billed_units"] += n
        return {
            **totals,
            "apis": apis,
            "faults": faults,
            "timestamps": timestamps,
            "peak_concurrency": peak_concurrency(t for stamps in timestamps.values() for t in stamps),
        }


def _empty_counts() -> dict[str, Any]:
    return {"total": 0, "billable": 0, "billed_units": 0, "by_status": {}, "by_error_code": {}}


def _count_into(bucket: dict[str, Any], slug: str | None, status: int, code: str | None, n: int) -> None:
    """Add ``n`` calls of one (API, status, error code) to the counters of ``bucket``."""
    bucket["total"] += n
    key = str(status)
    bucket["by_status"][key] = bucket["by_status"].get(key, 0) + n
    if code is not None:
        bucket["by_error_code"][code] = bucket["by_error_code"].get(code, 0) + n
    if status == 200 and slug is not None:
        bucket["billable"] += n


def peak_concurrency(intervals: Any) -> int:
    """The most intervals ``(start, end, ...)`` that overlap at one instant."""
    events = []
    for start, end, *_ in intervals:
        events.append((start, 1))
        events.append((end, -1))
    events.sort(key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    peak = running = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak
