"""What the OBS new-object trigger remembers, and how one poll decides what is new (no I/O here).

OBS lists keys in lexicographic order and has no change feed a trigger can read, so "new" is
decided from two things a listing gives: the key and ``last_modified``.

The *watermark* (:class:`Watermark`, stored as JSON in OBS) holds:

``horizon``  a time such that every object under the prefix with ``last_modified`` before
             ``horizon - grace`` has been reported already (or was there before the trigger
             started, with ``start_from="now"``);
``seen``     a digest of (key, ETag) → ``last_modified`` of every object reported with
             ``last_modified`` at or after ``horizon - grace`` (so a late listing or an
             overwrite is told apart from a repeat); pruned as the horizon moves, so its size
             follows the upload rate, never the prefix;
``marker``   where the next listing starts (``key_order`` ``"name"``/``"folder"``): a poll
             lists only keys after it, so it costs one request per 1,000 *recent* objects;
``full_at``  when the whole prefix was last listed (the safety net, see below);
``floor``    only set when ``seen`` hit its size cap: objects older than it count as old.

An object is **new** when ``last_modified >= max(horizon - grace, floor)`` and its digest is
not in ``seen``.

**Listing from the marker assumes an order** (``key_order``):

``"name"``    each new key sorts after the keys of every object uploaded more than ``grace``
              before it: timestamped names (``20261121T101500Z-0042.png``), sequence numbers,
              or date folders whose files are named by time. The marker is the greatest key of
              the objects older than ``grace``.
``"folder"``  each new key's folder (up to its last ``/``) sorts after the folders of older
              objects, names inside a folder do not (``incoming/2026/11/21/IMG_0042.png``): the
              marker stops at that folder, so a poll lists the newest folder(s) whole.
``"none"``    no order: every poll lists the whole prefix (one request per 1,000 objects).

With an order, a *sweep* is the safety net (:class:`Sweep`): the whole prefix listed a page at a
time, one page every :data:`SWEEP_EVERY` polls beside the listing after the marker, a new sweep
starting at most every ``full_listing_interval`` seconds. It reports (late, never lost) what broke
the order, and logs it; ``horizon`` moves only when a sweep completes, to the time it started (a
key that broke the order behind the sweep is still new for the next one). A poll so costs at most
``1 + 1/SWEEP_EVERY`` listing requests whatever the size of the prefix; a sweep of ``n`` objects
takes ``SWEEP_EVERY * ceil(n / 1000)`` polls. ``full_listing_interval=None`` trusts the order (the
horizon moves at every poll; an object whose key breaks the order is never reported).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = [
    "KEY_ORDERS",
    "MAX_WATERMARK_BYTES",
    "SWEEP_EVERY",
    "SWEEP_PAGE",
    "WATERMARK_FORMAT",
    "Poll",
    "Scan",
    "Sweep",
    "Watermark",
    "digest",
]

WATERMARK_FORMAT = "hwocr-watermark/2"
_FORMAT_V1 = "hwocr-watermark/1"
KEY_ORDERS = ("name", "folder", "none")
#: The watermark object stays below this size: ``seen`` is cut to fit (oldest first).
MAX_WATERMARK_BYTES = 64 * 1024
#: Room kept for everything in the document but ``seen`` (the marker may be a 1,024-byte key).
_FIXED_BYTES = 4 * 1024
#: A sweep lists one page every this many polls (so it adds at most 1/SWEEP_EVERY request per poll).
SWEEP_EVERY = 2
#: Keys in one page of a sweep (one ListObjects request: the most OBS answers at once).
SWEEP_PAGE = 1000


def digest(key: str, etag: str) -> str:
    """A short, stable name for one version of one object (64 bits of SHA-256)."""
    return hashlib.sha256(f"{key}\0{etag}".encode()).hexdigest()[:16]


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat() if moment else None


def _time(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass
class Watermark:
    """What the trigger has reported (see the module doc); ``seen`` maps digests to Unix seconds."""

    horizon: datetime | None = None
    seen: dict[str, int] = field(default_factory=dict)
    marker: str = ""
    full_at: datetime | None = None
    floor: datetime | None = None

    def low(self, grace: timedelta) -> datetime | None:
        """Objects modified before this are old (``None``: nothing is old yet)."""
        bounds = [b for b in (self.horizon - grace if self.horizon else None, self.floor) if b]
        return max(bounds) if bounds else None

    def copy(self) -> Watermark:
        return replace(self, seen=dict(self.seen))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": WATERMARK_FORMAT,
            "horizon": _iso(self.horizon),
            "floor": _iso(self.floor),
            "marker": self.marker,
            "full_at": _iso(self.full_at),
            "seen": self.seen,
        }

    def size(self) -> int:
        """Bytes of the stored JSON document."""
        return len(json.dumps(self.to_json(), separators=(",", ":")).encode())

    @classmethod
    def from_json(cls, doc: Any) -> Watermark:
        """Read a stored watermark (this format, or the one-event-per-object format before it)."""
        if not isinstance(doc, dict) or doc.get("format") not in (WATERMARK_FORMAT, _FORMAT_V1):
            raise ValueError(f"not a {WATERMARK_FORMAT} document")
        if doc["format"] == _FORMAT_V1:
            return cls._from_v1(doc)
        return cls(
            horizon=_time(doc.get("horizon")),
            seen={str(k): int(v) for k, v in (doc.get("seen") or {}).items()},
            marker=str(doc.get("marker") or ""),
            full_at=_time(doc.get("full_at")),
            floor=_time(doc.get("floor")),
        )

    @classmethod
    def _from_v1(cls, doc: dict[str, Any]) -> Watermark:
        """The one-event-per-object format: "time" was the newest object; "recent" its neighbours."""
        seen = {}
        for key, entry in (doc.get("recent") or {}).items():
            modified = _time(entry.get("last_modified"))
            seen[digest(key, str(entry.get("etag") or ""))] = _stamp(modified) if modified else 0
        return cls(horizon=_time(doc.get("time")), seen=seen)


@dataclass(frozen=True)
class Poll:
    """What one poll found: the objects to report now, those left for the next polls, and the new state."""

    report: list[Any]
    deferred: int
    #: Reported by a full listing although their keys sort before the marker (they broke the order).
    late: list[Any]
    state: Watermark
    #: ``seen`` was cut to stay under the size cap (objects older than ``state.floor`` count as old).
    capped: bool = False


class Scan:
    """The decisions of the new-object trigger, poll by poll (pure: the caller lists and stores).

    :param prefix: the watched prefix (the marker never goes below it).
    :param grace: how late an object may show up in a listing and still be new.
    :param key_order: ``"name"``, ``"folder"`` or ``"none"`` (see the module doc).
    :param full_interval: seconds between full listings with an order; ``None``: never.
    :param max_report: most objects reported by one poll (the rest wait for the next polls).
    :param max_bytes: size cap of the stored watermark.
    """

    def __init__(
        self,
        *,
        prefix: str,
        grace: timedelta,
        key_order: str = "name",
        full_interval: float | None = 600.0,
        max_report: int = 500,
        max_bytes: int = MAX_WATERMARK_BYTES,
    ) -> None:
        if key_order not in KEY_ORDERS:
            raise ValueError(f"key_order must be one of {', '.join(KEY_ORDERS)}, got {key_order!r}")
        self.prefix = prefix
        self.grace = grace
        self.key_order = key_order
        self.full_interval = full_interval
        self.max_report = max_report
        self.max_bytes = max_bytes

    def is_full(self, state: Watermark) -> bool:
        """Whether this poll lists the whole prefix at once (no order, or no marker yet); else it
        lists the keys after ``state.marker``, and the safety net is a :class:`Sweep`."""
        return self.key_order == "none" or state.full_at is None or not state.marker

    def start(
        self, candidates: Iterable[Any], now: datetime, *, listed: Iterable[Any] | None = None
    ) -> Watermark:
        """The first watermark with ``start_from="now"``: what is there now is not new.

        ``listed``: every object the listing returned (for the marker; default: the candidates).
        """
        fresh = Watermark(horizon=now, full_at=now)
        low = fresh.low(self.grace)
        objects = list(candidates)
        for obj in objects:
            if low is None or obj.last_modified >= low:
                fresh.seen[digest(obj.key, obj.etag)] = _stamp(obj.last_modified)
        fresh.marker = self._marker("", objects if listed is None else list(listed), now, None)
        self._fit(fresh, None)
        return fresh

    def take(
        self,
        state: Watermark,
        candidates: Iterable[Any],
        now: datetime,
        *,
        full: bool,
        listed: Iterable[Any] | None = None,
        covered_from: datetime | None = None,
    ) -> Poll:
        """Decide one poll over the ``candidates`` its listings returned (``listed``: every object
        listed, candidates or not, for the marker; default: the candidates). ``full``: the listings
        saw every object there was at ``covered_from`` (a sweep that completed; default ``now``)."""
        objects = list(candidates)
        fresh = self._fresh(state, objects)
        report, rest = fresh[: self.max_report], fresh[self.max_report :]
        new = state.copy()
        for obj in report:
            new.seen[digest(obj.key, obj.etag)] = _stamp(obj.last_modified)
        covered = covered_from or now
        new.horizon = self._horizon(state, covered, rest, full=full)
        if full:
            new.full_at = covered
        everything = objects if listed is None else list(listed)
        new.marker = self._marker(state.marker, everything, now, min((o.key for o in rest), default=None))
        cut = self._prune(new, min((o.last_modified for o in rest), default=None))
        return Poll(report=report, deferred=len(rest), late=self._late(state, report), state=new, capped=cut)

    # --- pieces -------------------------------------------------------------------------------

    def _fresh(self, state: Watermark, objects: list[Any]) -> list[Any]:
        """The new objects (modified at or after the low line, not seen), oldest first."""
        low = state.low(self.grace)
        return sorted(
            (
                o
                for o in objects
                if (low is None or o.last_modified >= low) and digest(o.key, o.etag) not in state.seen
            ),
            key=lambda o: (o.last_modified, o.key),
        )

    def _late(self, state: Watermark, report: list[Any]) -> list[Any]:
        """Reported although their keys sort at or before the marker (they broke the order): only a
        full listing or a sweep finds them, the listing after the marker never does."""
        if self.key_order == "none" or not state.marker:
            return []
        return [o for o in report if o.key <= state.marker]

    def _horizon(self, state: Watermark, now: datetime, rest: list[Any], *, full: bool) -> datetime:
        """The new horizon: now, after a listing that saw everything (else where it was); never past
        what is left to report, never back."""
        if full or self.full_interval is None or self.key_order == "none":
            horizon = now
        else:
            horizon = state.horizon or now
        if rest:  # keep what is left above the line, so the next poll still finds it new
            horizon = min(horizon, min(o.last_modified for o in rest) + self.grace)
        return max(horizon, state.horizon) if state.horizon else horizon

    def _marker(self, marker: str, objects: list[Any], now: datetime, below: str | None) -> str:
        """The greatest key known to be older than ``grace`` (cut to its folder with ``"folder"``)."""
        if self.key_order == "none":
            return ""
        settled = now - self.grace
        keys = [o.key for o in objects if o.last_modified < settled and (below is None or o.key < below)]
        if not keys:
            return marker
        top = max(keys)
        if self.key_order == "folder":
            top = top[: top.rfind("/") + 1]
        if len(top) < len(self.prefix) or not top.startswith(self.prefix):
            top = self.prefix
        return max(marker, top)

    def _prune(self, state: Watermark, keep_from: datetime | None) -> bool:
        """Forget what is older than the new low line; cut ``seen`` to the size cap."""
        low = state.low(self.grace)
        if low is not None:
            line = _stamp(low) - 1  # whole seconds: keep the second the line falls in
            state.seen = {k: v for k, v in state.seen.items() if v >= line}
        return self._fit(state, keep_from)

    def _fit(self, state: Watermark, keep_from: datetime | None) -> bool:
        """Cut the oldest entries of ``seen`` until the document fits ``max_bytes``; raise ``floor``.

        Never above ``keep_from`` (objects still to be reported): correctness before size.
        """
        entry = 30  # '"<16 hex>":<10 digits>,' in JSON
        room = max(0, (self.max_bytes - _FIXED_BYTES - len(state.marker.encode())) // entry)
        if len(state.seen) <= room:
            return False
        ordered = sorted(state.seen.items(), key=lambda kv: kv[1])
        cut = len(ordered) - room
        if keep_from is not None:
            limit = _stamp(keep_from)
            while cut > 0 and ordered[cut - 1][1] >= limit:
                cut -= 1
        if cut <= 0:
            return False
        floor = datetime.fromtimestamp(ordered[cut - 1][1] + 1, timezone.utc)
        state.seen = dict(ordered[cut:])
        state.floor = max(state.floor, floor) if state.floor else floor
        return True


class Sweep:
    """The safety net of an ordered watch: the whole prefix listed a page at a time (in memory only).

    A sweep starts when ``interval`` seconds have passed since the last complete one
    (``Watermark.full_at``) and lists one page of :data:`SWEEP_PAGE` keys every ``every`` polls,
    from the start of the prefix to its end. A trigger that restarts begins its sweep again: only
    a complete sweep moves the horizon, so nothing is lost, a restart only makes it later.

    :param interval: seconds from the start of one complete sweep to the start of the next at the
        earliest (``full_listing_interval``); ``None``: never sweep (trust the order).
    """

    def __init__(self, interval: float | None, *, every: int = SWEEP_EVERY, page: int = SWEEP_PAGE) -> None:
        if every < 1 or page < 1:
            raise ValueError(f"every and page must be >= 1, got {every!r} and {page!r}")
        self.interval = interval
        self.every = every
        self.page = page
        #: Where the next page starts (``""``: the start of the prefix); ``None``: no sweep under way.
        self.marker: str | None = None
        #: When the sweep under way listed its first page: what a complete sweep covers from.
        self.started: datetime | None = None
        self._rest = 0  # polls to skip before the next page

    def due(self, state: Watermark, now: datetime) -> bool:
        """Whether this poll lists a page of the sweep (starting one if it is time)."""
        if self.interval is None:
            return False
        if self.marker is None:
            if state.full_at is not None and (now - state.full_at).total_seconds() < self.interval:
                return False
            self.marker, self.started, self._rest = "", now, 0
        if self._rest > 0:
            self._rest -= 1
            return False
        return True

    def advance(self, page: list[Any]) -> datetime | None:
        """After a page was listed (keys in order): when the sweep started if it is now complete
        (every object there was then has been listed), else ``None``."""
        self._rest = self.every - 1
        if len(page) < self.page:
            started, self.marker, self.started = self.started, None, None
            return started
        self.marker = page[-1].key
        return None
