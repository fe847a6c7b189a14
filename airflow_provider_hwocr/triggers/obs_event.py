"""Event-driven DAG runs from OBS: one event per poll that found new objects, naming them all.

::

    trigger = HuaweiObsNewObjectTrigger(bucket="scans", prefix="incoming/", pattern="*.png")
    asset = Asset("obs://scans/incoming/", watchers=[AssetWatcher(name="new_scans", trigger=trigger)])

    @dag(schedule=[asset])
    def ocr_new_scans():
        @task
        def uploaded(**context):
            return event_uris(context["triggering_asset_events"][asset])
        HuaweiOcrBatchOperator(task_id="ocr", api="general-text", images=uploaded(), output_uri=...)

**One event per poll, every new object in it.** Airflow (3.3.2 measured) puts into one DAG run
only the asset events up to the first one's queue time, so events fired together in one poll
would start one run for the first and leave the others waiting for an unrelated later event.
This trigger yields at most one event per poll; its payload (the asset event's
``extra["payload"]``) names every new object::

    {"bucket", "prefix", "count", "uris": [obs:// URIs], "pending": n,
     "objects": [{"key", "size", "etag", "last_modified"}, ...]}

oldest first, at most ``max_keys_per_event`` of them; ``pending`` more are reported by the next
polls (one event each). :func:`event_uris` reads the URIs out of a run's triggering events.

**At least once, across a kill at any moment.** The triggerer persists a yielded event up to
about two seconds later (its loop and its supervisor each flush once a second), so a
watermark written right after the yield could outlive an event that never reached the
database. Here the watermark is written only ``commit_delay`` seconds (default 30) after the
events it covers were yielded, at a later poll; a triggerer killed before that reports them
again when it starts. Duplicates are harmless when the DAG is idempotent: OCR operators with
``output_uri`` (and ``skip_existing``, the default) cost zero calls for an image already done.

**What a poll costs.** OBS has no change feed a trigger can read and lists keys in key order,
not by time. With ``key_order="name"`` (default) or ``"folder"`` a poll lists only the keys
after a marker, so it costs one request per 1,000 *recent* objects whatever the size of the
prefix, plus, as a safety net for keys that break the order (reported late, never lost, and
logged), a sweep of the whole prefix a page at a time: one request every other poll, a sweep
starting at most every ``full_listing_interval`` seconds. So a poll costs at most 1.5 listing
requests on average at any size of prefix (a sweep of 50,000 objects takes 100 polls).
``key_order="none"`` lists the whole prefix every poll. The rules, and what each order assumes, are in
:mod:`airflow_provider_hwocr.triggers.obs_watermark`.

**Where the watermark lives.** In an OBS object, by default
``obs://{bucket}/.hwocr-watermarks/{digest}.json`` (``digest`` from bucket, prefix and
pattern), or wherever ``watermark_uri`` says. Its size follows the upload rate within the
grace window (about 30 bytes per recent object, pruned against the clock) and is capped at
64 KB; the watermark object itself is never reported.

``start_from="now"`` (default): on the very first start (no watermark yet), what is already
there is recorded as seen and nothing fires; ``"beginning"``: every object already there fires
(``max_keys_per_event`` per poll).

All arguments are JSON data and :meth:`serialize` returns every one of them (the hook's
``huaweicloud_ocr_conn_id`` and ``region`` included), so the trigger rebuilt by the triggerer
is the same trigger.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import time
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsTransientError
from airflow_provider_hwocr.triggers.common import ObsTriggerMixin
from airflow_provider_hwocr.triggers.obs_watermark import KEY_ORDERS, Poll, Scan, Sweep, Watermark

__all__ = ["HuaweiObsNewObjectTrigger", "Watermark", "default_watermark_uri", "event_uris"]

WATERMARK_FOLDER = ".hwocr-watermarks/"
START_FROM = ("now", "beginning")


def default_watermark_uri(bucket: str, prefix: str, pattern: str | None) -> str:
    digest = hashlib.sha256(f"{bucket}\n{prefix}\n{pattern or ''}".encode()).hexdigest()[:16]
    return f"obs://{bucket}/{WATERMARK_FOLDER}{digest}.json"


def event_uris(events: Iterable[Any]) -> list[str]:
    """The ``obs://`` URIs named by asset events of this trigger, each once, in order.

    Takes what ``context["triggering_asset_events"][asset]`` holds (events may repeat: delivery is
    at least once). Reads this trigger's payload and the one-object payload of releases before it.
    """
    out: list[str] = []
    for event in events:
        extra = getattr(event, "extra", None)
        if extra is None and isinstance(event, dict):
            extra = event
        payload = (extra or {}).get("payload") or {}
        uris = payload.get("uris")
        if uris is None:
            uris = [payload["uri"]] if payload.get("uri") else []
        for uri in uris:
            if uri not in out:
                out.append(uri)
    return out


class HuaweiObsNewObjectTrigger(ObsTriggerMixin, BaseEventTrigger):
    """Fires one event per poll that found new objects under ``obs://bucket/prefix`` (see the module doc).

    :param bucket: the bucket to watch.
    :param prefix: only keys under this prefix (``""``: the whole bucket).
    :param pattern: only keys whose part after ``prefix`` matches this glob (``*.png``, ``**/*.jpg``).
    :param huaweicloud_ocr_conn_id: the ``huaweicloud_ocr`` connection (AK/SK) for the OBS hook.
    :param region: overrides the connection's region.
    :param poke_interval: seconds between two polls.
    :param watermark_uri: ``obs://bucket/key`` of the watermark object; default in the watched bucket.
    :param start_from: ``now`` or ``beginning`` (only matters on the very first start).
    :param min_size: ignore objects smaller than this many bytes (0-byte folder markers always are).
    :param grace_seconds: how late an object may show up in a listing (or how far the clocks of
        this machine and OBS may differ) and still count as new.
    :param key_order: what sorts your keys by upload time, so a poll lists only what is recent:
        ``"name"`` (timestamped or numbered names), ``"folder"`` (date folders, any names inside)
        or ``"none"`` (every poll lists the whole prefix). See
        :mod:`~airflow_provider_hwocr.triggers.obs_watermark`.
    :param full_listing_interval: with an order, seconds from the start of one sweep of the
        whole prefix (the safety net for keys that break the order, listed a page every other
        poll) to the start of the next, at the earliest; ``None``: never (trust the order).
    :param max_keys_per_event: most objects in one event; more wait for the next polls.
    :param commit_delay: seconds between yielding an event and writing the watermark that
        covers it (the triggerer persists events about 2 s after they are yielded).
    """

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        pattern: str | None = None,
        huaweicloud_ocr_conn_id: str = "huaweicloud_ocr_default",
        region: str | None = None,
        poke_interval: float = 60.0,
        watermark_uri: str | None = None,
        start_from: str = "now",
        min_size: int = 0,
        grace_seconds: float = 300.0,
        key_order: str = "name",
        full_listing_interval: float | None = 600.0,
        max_keys_per_event: int = 500,
        commit_delay: float = 30.0,
    ) -> None:
        super().__init__()
        _check_what_to_watch(bucket, start_from, key_order)
        _check_timing(poke_interval, grace_seconds, full_listing_interval, max_keys_per_event, commit_delay)
        self.bucket = bucket.strip()
        self.prefix = prefix or ""
        self.pattern = pattern
        self.huaweicloud_ocr_conn_id = huaweicloud_ocr_conn_id
        self.region = region
        self.poke_interval = float(poke_interval)
        self.watermark_uri = watermark_uri or default_watermark_uri(self.bucket, self.prefix, pattern)
        if not self.watermark_uri.lower().startswith("obs://"):
            raise ValueError(f"watermark_uri must be obs://bucket/key, got {watermark_uri!r}")
        self.start_from = start_from
        self.min_size = int(min_size)
        self.grace_seconds = float(grace_seconds)
        self.key_order = key_order
        self.full_listing_interval = None if full_listing_interval is None else float(full_listing_interval)
        self.max_keys_per_event = max_keys_per_event
        self.commit_delay = float(commit_delay)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "bucket": self.bucket,
                "prefix": self.prefix,
                "pattern": self.pattern,
                "huaweicloud_ocr_conn_id": self.huaweicloud_ocr_conn_id,
                "region": self.region,
                "poke_interval": self.poke_interval,
                "watermark_uri": self.watermark_uri,
                "start_from": self.start_from,
                "min_size": self.min_size,
                "grace_seconds": self.grace_seconds,
                "key_order": self.key_order,
                "full_listing_interval": self.full_listing_interval,
                "max_keys_per_event": self.max_keys_per_event,
                "commit_delay": self.commit_delay,
            },
        )

    # --- pieces (blocking ones run in threads) ---------------------------------------------

    def scan(self) -> Scan:
        """The poll-by-poll decisions of this trigger (pure; see ``obs_watermark``)."""
        return Scan(
            prefix=self.prefix,
            grace=timedelta(seconds=self.grace_seconds),
            key_order=self.key_order,
            full_interval=self.full_listing_interval,
            max_report=self.max_keys_per_event,
        )

    def _watermark_location(self) -> tuple[str, str]:
        bucket, _, key = self.watermark_uri[len("obs://") :].partition("/")
        return bucket, key

    def load_watermark(self, hook: Any) -> Watermark | None:
        bucket, key = self._watermark_location()
        if not hook.exists(bucket, key):
            return None
        return Watermark.from_json(hook.get_json(bucket, key))

    def save_watermark(self, hook: Any, mark: Watermark) -> None:
        bucket, key = self._watermark_location()
        hook.put_json(bucket, key, mark.to_json())

    def listing(self, hook: Any, marker: str | None = None) -> list[Any]:
        """Every object under the prefix, or only the keys after ``marker``."""
        return hook.list_objects(self.bucket, self.prefix, marker=marker or None)

    def sweep(self) -> Sweep:
        """The safety net's rolling listing (in memory: a restarted trigger begins it again)."""
        return Sweep(None if self.key_order == "none" else self.full_listing_interval)

    def _poll_listings(
        self, hook: Any, state: Watermark, sweep: Sweep, full: bool, now: datetime
    ) -> tuple[list[Any], datetime | None]:
        """What one poll lists: the whole prefix (``full``), or the keys after the marker plus, when
        due, the next page of the sweep; and when the sweep started if this page completed it."""
        if full:
            return self.listing(hook, None), None
        listed = self.listing(hook, state.marker)
        if not sweep.due(state, now):
            return listed, None
        page = hook.list_objects(self.bucket, self.prefix, max_items=sweep.page, marker=sweep.marker or None)
        covered = sweep.advance(page)
        recent = {o.key for o in listed}
        return [*listed, *(o for o in page if o.key not in recent)], covered

    def candidates(self, objects: Iterable[Any]) -> list[Any]:
        """The listed objects this trigger reports on (folders, small objects and the watermark left out)."""
        wm_bucket, wm_key = self._watermark_location()
        out = []
        for obj in objects:
            if obj.key.endswith("/") or obj.size < max(self.min_size, 1):
                continue
            if obj.bucket == wm_bucket and (obj.key == wm_key or obj.key.startswith(WATERMARK_FOLDER)):
                continue
            if self.pattern and not fnmatch.fnmatchcase(obj.key[len(self.prefix) :], self.pattern):
                continue
            out.append(obj)
        return out

    def payload(self, poll: Poll) -> dict[str, Any]:
        """The event of one poll: every object it reports (JSON: it becomes the asset event's extra)."""
        return {
            "bucket": self.bucket,
            "prefix": self.prefix,
            "count": len(poll.report),
            "uris": [o.uri for o in poll.report],
            "objects": [
                {
                    "key": o.key,
                    "size": o.size,
                    "etag": o.etag,
                    "last_modified": o.last_modified.astimezone(timezone.utc).isoformat(),
                }
                for o in poll.report
            ],
            "pending": poll.deferred,
        }

    # --- the loop -------------------------------------------------------------------------

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await self._ahook()
        scan = self.scan()
        try:
            await hook.aload_settings()
            state = await asyncio.to_thread(self.load_watermark, hook)
            if state is None:
                state = await self._first_watermark(hook, scan)
            commits = _Commits(self.commit_delay, timedelta(seconds=self.grace_seconds), saved=state)
            sweep = self.sweep()
            while True:
                now = datetime.now(timezone.utc)
                full = scan.is_full(state)
                try:
                    listed, covered = await asyncio.to_thread(
                        self._poll_listings, hook, state, sweep, full, now
                    )
                except HuaweiObsTransientError as exc:  # the next poll may well work
                    self.log.warning(
                        "Listing obs://%s/%s failed, retrying: %s", self.bucket, self.prefix, exc
                    )
                else:
                    poll = scan.take(
                        state,
                        self.candidates(listed),
                        now,
                        full=full or covered is not None,
                        listed=listed,
                        covered_from=covered,
                    )
                    state = poll.state
                    self._report_anomalies(poll)
                    if poll.report:
                        yield TriggerEvent(self.payload(poll))
                        commits.hold(state)  # durable only once the triggerer surely has the event
                        self.log.info(
                            "Reported %d new object(s) in one event (%d more at the next polls); the "
                            "watermark covers them in %.0f s",
                            len(poll.report),
                            poll.deferred,
                            self.commit_delay,
                        )
                    else:
                        commits.update(state)
                await self._write_due(hook, commits)
                await asyncio.sleep(self.poke_interval)
        finally:
            await asyncio.to_thread(hook.close)

    async def _first_watermark(self, hook: Any, scan: Scan) -> Watermark:
        if self.start_from == "beginning":
            return Watermark()  # everything there is new; written once its events are committed
        now = datetime.now(timezone.utc)
        listed = await asyncio.to_thread(self.listing, hook, None)
        state = scan.start(self.candidates(listed), now, listed=listed)
        await asyncio.to_thread(self.save_watermark, hook, state)
        self.log.info(
            "Watching obs://%s/%s: what is already there is taken as seen; watermark %s (%d bytes)",
            self.bucket,
            self.prefix,
            self.watermark_uri,
            state.size(),
        )
        return state

    async def _write_due(self, hook: Any, commits: _Commits) -> None:
        due = commits.due()
        if due is None:
            return
        try:
            await asyncio.to_thread(self.save_watermark, hook, due)
        except HuaweiObsTransientError as exc:
            commits.retry(due)
            self.log.warning(
                "Writing the watermark %s failed, retrying at the next poll: %s", self.watermark_uri, exc
            )
            return
        commits.saved = due

    def _report_anomalies(self, poll: Poll) -> None:
        if poll.late:
            self.log.warning(
                "%d new object(s) under obs://%s/%s were found only by the safety-net sweep: their keys sort "
                "before older ones, which key_order=%r assumes they do not (e.g. %s). They are reported now, "
                "late. Name uploads so they sort by time, or set key_order='folder' or 'none'.",
                len(poll.late),
                self.bucket,
                self.prefix,
                self.key_order,
                poll.late[0].key,
            )
        if poll.capped:
            self.log.warning(
                "More objects arrived within grace_seconds=%s than the watermark's 64 KB holds; objects "
                "older than %s count as old now (a listing later than that would miss them)",
                self.grace_seconds,
                poll.state.floor,
            )


class _Commits:
    """Watermark snapshots waiting until the events they cover are surely persisted by the triggerer."""

    def __init__(self, delay: float, grace: timedelta, *, saved: Watermark) -> None:
        self.delay = delay
        self.every = max(grace / 2, timedelta(seconds=30))  # how stale a stored horizon may get
        self.saved = saved
        self.pending: list[tuple[float, Watermark]] = []  # (monotonic time it may be written, snapshot)

    def hold(self, state: Watermark) -> None:
        """A poll yielded an event: its snapshot waits ``delay`` seconds."""
        self.pending.append((time.monotonic() + self.delay, state.copy()))

    def update(self, state: Watermark) -> None:
        """A poll without events: its snapshot waits behind the last held one (or is due now)."""
        ready = self.pending[-1][0] if self.pending else time.monotonic()
        if self.pending:
            self.pending[-1] = (ready, state.copy())
        else:
            self.pending.append((ready, state.copy()))

    def retry(self, state: Watermark) -> None:
        self.pending.insert(0, (time.monotonic(), state))

    def due(self) -> Watermark | None:
        """The newest snapshot that may be written now, if it differs enough from the stored one."""
        now = time.monotonic()
        ready = [s for t, s in self.pending if t <= now]
        self.pending = [(t, s) for t, s in self.pending if t > now]
        if not ready:
            return None
        latest = ready[-1]
        return latest if self._worth_writing(latest) else None

    def _worth_writing(self, latest: Watermark) -> bool:
        """Whether ``latest`` differs from the stored watermark in what it remembers, or its horizon
        moved on by :attr:`every`."""
        saved = self.saved
        if latest.seen != saved.seen or latest.marker != saved.marker or latest.floor != saved.floor:
            return True
        return latest.horizon is not None and (
            saved.horizon is None or latest.horizon - saved.horizon >= self.every
        )


def _check_what_to_watch(bucket: Any, start_from: Any, key_order: Any) -> None:
    if not isinstance(bucket, str) or not bucket.strip():
        raise ValueError(f"bucket must be a non-empty string, got {bucket!r}")
    if start_from not in START_FROM:
        raise ValueError(f"start_from must be one of {', '.join(START_FROM)}, got {start_from!r}")
    if key_order not in KEY_ORDERS:
        raise ValueError(f"key_order must be one of {', '.join(KEY_ORDERS)}, got {key_order!r}")


def _check_timing(
    poke_interval: Any,
    grace_seconds: Any,
    full_listing_interval: Any,
    max_keys_per_event: Any,
    commit_delay: Any,
) -> None:
    if float(poke_interval) <= 0:
        raise ValueError(f"poke_interval must be > 0 seconds, got {poke_interval!r}")
    if float(grace_seconds) < 0:
        raise ValueError(f"grace_seconds must be >= 0, got {grace_seconds!r}")
    if full_listing_interval is not None and float(full_listing_interval) <= 0:
        raise ValueError(f"full_listing_interval must be > 0 seconds or None, got {full_listing_interval!r}")
    if (
        isinstance(max_keys_per_event, bool)
        or not isinstance(max_keys_per_event, int)
        or max_keys_per_event < 1
    ):
        raise ValueError(f"max_keys_per_event must be a whole number >= 1, got {max_keys_per_event!r}")
    if float(commit_delay) < 0:
        raise ValueError(f"commit_delay must be >= 0 seconds, got {commit_delay!r}")
