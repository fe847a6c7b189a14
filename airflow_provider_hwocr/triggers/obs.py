"""Trigger that waits, in the triggerer, for OBS objects to appear.

Used by :class:`~airflow_provider_hwocr.sensors.obs.HuaweiObsKeySensor` in
deferrable mode. The OBS SDK is blocking, so every lookup runs in a worker
thread (:func:`asyncio.to_thread`) and the triggerer's event loop stays free.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_hwocr.client.flags import parse_flag
from airflow_provider_hwocr.hooks.obs_match import ObsKeyQuery, build_query, describe_objects, find_matches
from airflow_provider_hwocr.triggers.common import ObsTriggerMixin


class HuaweiObsKeyTrigger(ObsTriggerMixin, BaseTrigger):
    """Fires once every target of the query matches at least one object, or on timeout or error.

    All arguments are plain JSON data; :meth:`serialize` returns them all, so
    the trigger rebuilt in the triggerer is the same trigger.

    :param bucket: the bucket (``None`` when every key is an ``obs://`` URI).
    :param key: the keys, patterns or prefixes (see :mod:`airflow_provider_hwocr.hooks.obs_match`).
    :param huaweicloud_ocr_conn_id: the connection for the OBS hook.
    :param region: overrides the connection's region.
    :param use_regex: read keys as regular expressions.
    :param prefix: read keys as prefixes.
    :param wildcard_match: ``None``: keys with ``*?[`` are wildcards; ``True``/``False`` force it.
    :param min_size: ignore objects smaller than this many bytes.
    :param metadata_keys: fields reported per matched object.
    :param poke_interval: seconds between two checks.
    :param timeout: seconds to wait in all (``None``: no limit); turned into ``deadline``.
    :param deadline: when to give up, as a Unix time; set from ``timeout`` when not given.
    :param first_poke_delay: seconds to wait before the first check (the sensor has just checked).
    :param max_matches: most objects listed in the event (``None``: all); ``count`` always
        gives how many matched, so a large drop never makes a large event.
    :param first_only: stop each key at its first match (a sensor returning a selection only
        needs to know that something is there); the event then lists one object per key.

    Events: ``{"status": "success", "matches": [obs:// URIs], "files": [dicts], "count": n, "deadline": ...,
    "first_only": bool}``,
    ``{"status": "timeout", "message": ...}`` or
    ``{"status": "error", "message": ..., "error_type": <exception class name>}``.
    """

    def __init__(
        self,
        *,
        bucket: str | None,
        key: str | Sequence[str],
        huaweicloud_ocr_conn_id: str = "huaweicloud_ocr_default",
        region: str | None = None,
        use_regex: bool = False,
        prefix: bool = False,
        wildcard_match: bool | None = None,
        min_size: int = 0,
        metadata_keys: Sequence[str] | None = None,
        poke_interval: float = 60.0,
        timeout: float | None = None,
        deadline: float | None = None,
        first_poke_delay: float = 0.0,
        max_matches: int | None = None,
        first_only: bool = False,
    ) -> None:
        super().__init__()
        self.bucket = bucket
        self.key = [key] if isinstance(key, str) else list(key)
        self.huaweicloud_ocr_conn_id = huaweicloud_ocr_conn_id
        self.region = region
        self.use_regex = parse_flag(use_regex)
        self.prefix = parse_flag(prefix)
        self.first_only = parse_flag(first_only)
        self.wildcard_match = wildcard_match
        self.min_size = int(min_size)
        self.query: ObsKeyQuery = build_query(
            bucket,
            self.key,
            use_regex=self.use_regex,
            prefix=self.prefix,
            wildcard_match=wildcard_match,
            min_size=self.min_size,
            metadata_keys=metadata_keys,
        )
        self.metadata_keys = list(self.query.metadata_keys)
        if poke_interval is None or float(poke_interval) < 0:
            raise ValueError(f"poke_interval must be a non-negative number of seconds, got {poke_interval!r}")
        self.poke_interval = float(poke_interval)
        self.timeout = None if timeout is None else float(timeout)
        if deadline is None and self.timeout is not None:
            deadline = time.time() + self.timeout
        self.deadline = None if deadline is None else float(deadline)
        self.first_poke_delay = max(0.0, float(first_poke_delay or 0.0))
        self.max_matches = None if max_matches is None else max(0, int(max_matches))

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "bucket": self.bucket,
                "key": list(self.key),
                "huaweicloud_ocr_conn_id": self.huaweicloud_ocr_conn_id,
                "region": self.region,
                "use_regex": self.use_regex,
                "prefix": self.prefix,
                "wildcard_match": self.wildcard_match,
                "min_size": self.min_size,
                "metadata_keys": list(self.metadata_keys),
                "poke_interval": self.poke_interval,
                "timeout": self.timeout,
                "deadline": self.deadline,
                "first_poke_delay": self.first_poke_delay,
                "max_matches": self.max_matches,
                "first_only": self.first_only,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await self._ahook()
        try:
            await hook.aload_settings()  # async connection lookup; the SDK calls below go to threads
            if self.first_poke_delay:
                await asyncio.sleep(self._wait(self.first_poke_delay))
            while True:
                result = await asyncio.to_thread(find_matches, hook, self.query, first_only=self.first_only)
                if result.done:
                    self.log.info("Found %d object(s) for %s", len(result.objects), self.query.describe())
                    shown = result.objects if self.max_matches is None else result.objects[: self.max_matches]
                    yield TriggerEvent(
                        {
                            "status": "success",
                            "matches": [o.uri for o in shown],
                            "files": describe_objects(shown, self.query.metadata_keys),
                            "count": len(result.objects),
                            "deadline": self.deadline,
                            "first_only": self.first_only,
                        }
                    )
                    return
                if self.deadline is not None and time.time() >= self.deadline:
                    yield TriggerEvent(
                        {
                            "status": "timeout",
                            "message": f"Timed out waiting for {', '.join(result.missing)}",
                            "deadline": self.deadline,
                        }
                    )
                    return
                self.log.info("Waiting for %s", ", ".join(result.missing))
                await asyncio.sleep(self._wait(self.poke_interval))
        except Exception as exc:  # noqa: BLE001 - reported to the task, which raises it there
            yield TriggerEvent({"status": "error", "message": str(exc), "error_type": type(exc).__name__})
        finally:
            await asyncio.to_thread(hook.close)

    def _wait(self, seconds: float) -> float:
        """``seconds``, but not past the deadline (so the last check happens right at it)."""
        if self.deadline is None:
            return seconds
        return max(0.0, min(seconds, self.deadline - time.time()))
