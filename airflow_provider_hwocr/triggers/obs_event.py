"""Event-driven DAG runs from OBS: one event per new object under a prefix (for ``AssetWatcher``).

::

    trigger = HuaweiObsNewObjectTrigger(bucket="scans", prefix="incoming/", pattern="*.png")
    asset = Asset("obs://scans/incoming/", watchers=[AssetWatcher(name="new_scans", trigger=trigger)])

    @dag(schedule=[asset])
    def ocr_new_scans(): ...

**How new objects are found.** OBS has no change feed a trigger can read, so
the trigger lists the prefix every ``poke_interval`` seconds (one LIST per
1,000 keys) in a worker thread, and compares it with a *watermark*: the
newest ``last_modified`` seen (``time``), plus the keys and ETags of the
objects seen within ``grace_seconds`` before it (``recent``). An object is
new when it is not older than ``time - grace_seconds`` and its key/ETag is
not in ``recent``, so an object that shows up in a listing a little late
(clock skew, listing lag) still fires, and one overwritten with new content
fires again. Objects older than the grace window that were never seen are
taken as old.

**Where the watermark lives.** In an OBS object, by default
``obs://{bucket}/.hwocr-watermarks/{digest}.json`` (``digest`` from bucket,
prefix and pattern), or wherever ``watermark_uri`` says (e.g. another
bucket, when the watched one is read-only for this connection). It is written
after the events of a poll were handed to the triggerer, and read back when
the trigger starts, so a triggerer restart (or a move to another triggerer)
resumes where it stopped. The watermark object itself is never reported.

**Delivery is at least once.** A triggerer that dies after handing over
events but before the watermark is written will report those objects again
when it starts. Make the DAG idempotent: the OCR operators with
``output_uri`` (and ``skip_existing``, the default) cost zero calls for an
image already done.

``start_from="now"`` (default): on the very first start (no watermark yet),
what is already there is recorded as seen and nothing fires;
``"beginning"``: every object already there fires once.

All arguments are JSON data and :meth:`serialize` returns every one of them
(the hook's ``huaweicloud_ocr_conn_id`` and ``region`` included), so the
trigger rebuilt by the triggerer is the same trigger.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsTransientError

WATERMARK_FORMAT = "hwocr-watermark/1"
WATERMARK_FOLDER = ".hwocr-watermarks/"
START_FROM = ("now", "beginning")


@dataclass
class Watermark:
    """What the trigger has already reported."""

    time: datetime | None = None
    recent: dict[str, str] = field(default_factory=dict)  # key -> etag, within the grace window
    recent_times: dict[str, str] = field(default_factory=dict)  # key -> ISO last_modified

    def to_json(self) -> dict[str, Any]:
        return {
            "format": WATERMARK_FORMAT,
            "time": self.time.isoformat() if self.time else None,
            "recent": {
                k: {"etag": v, "last_modified": self.recent_times.get(k)} for k, v in self.recent.items()
            },
        }

    @classmethod
    def from_json(cls, doc: Any) -> Watermark:
        if not isinstance(doc, dict) or doc.get("format") != WATERMARK_FORMAT:
            raise ValueError(f"not a {WATERMARK_FORMAT} document")
        time = datetime.fromisoformat(doc["time"]) if doc.get("time") else None
        recent: dict[str, str] = {}
        times: dict[str, str] = {}
        for key, entry in (doc.get("recent") or {}).items():
            recent[key] = str(entry.get("etag") or "")
            if entry.get("last_modified"):
                times[key] = str(entry["last_modified"])
        return cls(time=time, recent=recent, recent_times=times)

    def seen(self, obj: Any) -> None:
        """Record one object as reported."""
        self.recent[obj.key] = obj.etag
        self.recent_times[obj.key] = obj.last_modified.isoformat()
        if self.time is None or obj.last_modified > self.time:
            self.time = obj.last_modified

    def prune(self, grace: timedelta) -> None:
        """Forget keys older than the grace window (they can no longer count as new)."""
        if self.time is None:
            return
        floor = self.time - grace
        for key in [k for k, t in self.recent_times.items() if datetime.fromisoformat(t) < floor]:
            self.recent.pop(key, None)
            self.recent_times.pop(key, None)


def new_objects(objects: Iterable[Any], mark: Watermark, grace: timedelta) -> list[Any]:
    """The objects not reported yet, oldest first (pure: the watermark is not changed)."""
    floor = None if mark.time is None else mark.time - grace
    fresh = [
        o for o in objects if (floor is None or o.last_modified >= floor) and mark.recent.get(o.key) != o.etag
    ]
    return sorted(fresh, key=lambda o: (o.last_modified, o.key))


def default_watermark_uri(bucket: str, prefix: str, pattern: str | None) -> str:
    digest = hashlib.sha256(f"{bucket}\n{prefix}\n{pattern or ''}".encode()).hexdigest()[:16]
    return f"obs://{bucket}/{WATERMARK_FOLDER}{digest}.json"


class HuaweiObsNewObjectTrigger(BaseEventTrigger):
    """Fires one event per new object under ``obs://bucket/prefix`` (see the module doc).

    :param bucket: the bucket to watch.
    :param prefix: only keys under this prefix (``""``: the whole bucket).
    :param pattern: only keys whose part after ``prefix`` matches this glob (``*.png``, ``**/*.jpg``).
    :param huaweicloud_ocr_conn_id: the ``huaweicloud_ocr`` connection (AK/SK) for the OBS hook.
    :param region: overrides the connection's region.
    :param poke_interval: seconds between two listings.
    :param watermark_uri: ``obs://bucket/key`` of the watermark object; default in the watched bucket.
    :param start_from: ``now`` or ``beginning`` (only matters on the very first start).
    :param min_size: ignore objects smaller than this many bytes (0-byte folder markers always are).
    :param grace_seconds: how late an object may show up in a listing and still count as new.

    Event payload (the asset event's ``extra["payload"]``): ``{"uri", "bucket", "key",
    "size", "etag", "last_modified"}``.
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
    ) -> None:
        super().__init__()
        if not isinstance(bucket, str) or not bucket.strip():
            raise ValueError(f"bucket must be a non-empty string, got {bucket!r}")
        if start_from not in START_FROM:
            raise ValueError(f"start_from must be one of {', '.join(START_FROM)}, got {start_from!r}")
        if float(poke_interval) <= 0:
            raise ValueError(f"poke_interval must be > 0 seconds, got {poke_interval!r}")
        if float(grace_seconds) < 0:
            raise ValueError(f"grace_seconds must be >= 0, got {grace_seconds!r}")
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
            },
        )

    # --- pieces (blocking; run in threads) ------------------------------------------------

    def _hook(self) -> Any:
        from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

        return HuaweiObsHook(self.huaweicloud_ocr_conn_id, region=self.region)

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

    def candidates(self, hook: Any) -> list[Any]:
        """The objects under the prefix that this trigger reports on (the watermark excluded)."""
        wm_bucket, wm_key = self._watermark_location()
        out = []
        for obj in hook.list_objects(self.bucket, self.prefix):
            if obj.key.endswith("/") or obj.size < max(self.min_size, 1):
                continue
            if obj.bucket == wm_bucket and (obj.key == wm_key or obj.key.startswith(WATERMARK_FOLDER)):
                continue
            if self.pattern and not fnmatch.fnmatchcase(obj.key[len(self.prefix) :], self.pattern):
                continue
            out.append(obj)
        return out

    # --- the loop -------------------------------------------------------------------------

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self._hook()
        grace = timedelta(seconds=self.grace_seconds)
        try:
            await hook.aload_settings()
            mark = await asyncio.to_thread(self.load_watermark, hook)
            if mark is None:
                mark = Watermark()
                if self.start_from == "now":
                    for obj in await asyncio.to_thread(self.candidates, hook):
                        mark.seen(obj)
                    mark.prune(grace)
                    await asyncio.to_thread(self.save_watermark, hook, mark)
                    self.log.info(
                        "Watching obs://%s/%s: %d object(s) already there are taken as seen; watermark %s",
                        self.bucket,
                        self.prefix,
                        len(mark.recent),
                        self.watermark_uri,
                    )
            while True:
                try:
                    found = new_objects(await asyncio.to_thread(self.candidates, hook), mark, grace)
                except HuaweiObsTransientError as exc:  # the next poll may well work
                    self.log.warning(
                        "Listing obs://%s/%s failed, retrying: %s", self.bucket, self.prefix, exc
                    )
                    found = []
                for obj in found:
                    yield TriggerEvent(
                        {
                            "uri": obj.uri,
                            "bucket": obj.bucket,
                            "key": obj.key,
                            "size": obj.size,
                            "etag": obj.etag,
                            "last_modified": obj.last_modified.astimezone(timezone.utc).isoformat(),
                        }
                    )
                    mark.seen(obj)
                if found:
                    mark.prune(grace)
                    await asyncio.to_thread(self.save_watermark, hook, mark)
                    self.log.info("Reported %d new object(s); watermark %s", len(found), mark.time)
                await asyncio.sleep(self.poke_interval)
        finally:
            await asyncio.to_thread(hook.close)
