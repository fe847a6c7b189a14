"""Trigger that waits, in the triggerer, for another run's batch lease to end.

Used by :class:`~airflow_provider_hwocr.operators.batch.HuaweiOcrBatchOperator` with
``on_overlap="defer"``: the second of two overlapping runs holds no worker slot while the
first sends. Each look is one GET of the lease object, in a worker thread
(:func:`asyncio.to_thread`), so the triggerer's event loop stays free.

A look that fails (OBS throttling, a 5xx, no answer) is tried again after 1 s, 2 s, 4 s ... (at
most ``poll_interval`` apart): the trigger gives up only past its deadline, or once looks have
failed for ``error_timeout`` seconds in a row. An error that trying again cannot mend (access
denied, configuration, TLS) ends it at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_hwocr.errors import HuaweiCloudNonRetryableError
from airflow_provider_hwocr.triggers.common import ObsTriggerMixin

#: The first pause after a failed look (seconds; doubled after each, up to the poll interval).
ERROR_PAUSE = 1.0


class HuaweiObsLeaseReleasedTrigger(ObsTriggerMixin, BaseTrigger):
    """Fires when the lease ``key`` no longer holds ``token`` alive: deleted (released), expired,
    or replaced by another token (the resumed task then decides again, and may defer again).

    :param bucket: the bucket of the lease.
    :param key: the lease object's key.
    :param token: the other run's token, as read when the task deferred.
    :param owner: who held it (for the log and a timeout's message).
    :param huaweicloud_ocr_conn_id: the connection for the OBS hook.
    :param region: overrides the connection's region.
    :param poll_interval: seconds between two looks (at most; never past the lease's expiry
        or the deadline).
    :param deadline: when to give up, as a Unix time (``None``: no limit).
    :param since: when the task began to wait, as a Unix time (for ``waited`` in the event).
    :param error_timeout: seconds of failed looks in a row after which the trigger gives up
        (``None``: only the deadline ends it).

    Events (all with ``waited``, seconds since ``since``):
    ``{"status": "released", "why": "released" | "expired" | "replaced"}``,
    ``{"status": "timeout", "owner": ..., "message": ...}`` or
    ``{"status": "error", "message": ..., "error_type": <exception class name>}``.
    """

    def __init__(
        self,
        *,
        bucket: str,
        key: str,
        token: str | None,
        owner: dict[str, Any] | None = None,
        huaweicloud_ocr_conn_id: str = "huaweicloud_ocr_default",
        region: str | None = None,
        poll_interval: float = 15.0,
        deadline: float | None = None,
        since: float | None = None,
        error_timeout: float | None = 600.0,
    ) -> None:
        super().__init__()
        self.bucket = bucket
        self.key = key
        self.token = token
        self.owner = owner
        self.huaweicloud_ocr_conn_id = huaweicloud_ocr_conn_id
        self.region = region
        if poll_interval is None or not float(poll_interval) > 0:
            raise ValueError(f"poll_interval must be a positive number of seconds, got {poll_interval!r}")
        self.poll_interval = float(poll_interval)
        self.deadline = None if deadline is None else float(deadline)
        self.since = None if since is None else float(since)
        self.error_timeout = None if error_timeout is None else float(error_timeout)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "bucket": self.bucket,
                "key": self.key,
                "token": self.token,
                "owner": self.owner,
                "huaweicloud_ocr_conn_id": self.huaweicloud_ocr_conn_id,
                "region": self.region,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "since": self.since,
                "error_timeout": self.error_timeout,
            },
        )

    def _read(self, hook: Any) -> dict[str, Any] | None:
        """The lease object (``None``: gone, or damaged, which names no live owner); one GET."""
        from airflow_provider_hwocr.hooks.obs_lease import read_lease

        return read_lease(hook, self.bucket, self.key)

    def _ended(self, doc: dict[str, Any] | None) -> str | None:
        """Why the lease no longer holds us back, or ``None`` while it does."""
        if doc is None:
            return "released"
        if doc.get("token") != self.token:
            return "replaced"
        from airflow_provider_hwocr.hooks.obs_lease import is_live

        return None if is_live(doc) else "expired"

    def _waited(self) -> float:
        return 0.0 if self.since is None else max(time.time() - self.since, 0.0)

    def _describe(self) -> str:
        owner = self.owner or {}
        return f"run {owner.get('run_id')!r} (dag {owner.get('dag_id')!r}, task {owner.get('task_id')!r})"

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await self._ahook()
        try:
            await hook.aload_settings()
            async for event in self._watch(hook):
                yield event
                return
        except Exception as exc:  # noqa: BLE001 - reported to the task, which raises it there
            yield self._error_event(exc)
        finally:
            await asyncio.to_thread(hook.close)

    async def _watch(self, hook: Any) -> AsyncIterator[TriggerEvent]:
        """Look at the lease until it ends or the deadline passes; failed looks are tried again."""
        failing_since: float | None = None
        pause = ERROR_PAUSE
        while True:
            try:
                doc = await asyncio.to_thread(self._read, hook)
            except Exception as exc:  # noqa: BLE001 - tried again unless it cannot help (then raised)
                failing_since = failing_since or time.monotonic()
                self._give_up_on(exc, time.monotonic() - failing_since, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.poll_interval)
                continue
            failing_since, pause = None, ERROR_PAUSE
            event = self._event_for(doc)
            if event is not None:
                yield event
                return
            await asyncio.sleep(self._pause(doc))

    def _give_up_on(self, exc: Exception, failing: float, pause: float) -> None:
        """Raise ``exc`` when a failed look is not worth trying again: an error that trying again cannot
        mend, or past the deadline or the error timeout; else log it."""
        past_deadline = self.deadline is not None and time.time() + pause >= self.deadline
        past_patience = self.error_timeout is not None and failing + pause > self.error_timeout
        if isinstance(exc, HuaweiCloudNonRetryableError) or past_deadline or past_patience:
            raise exc
        self.log.warning(
            "Could not read the lease %s (%s: %s); trying again in %.0fs",
            self.key,
            type(exc).__name__,
            exc,
            pause,
        )

    def _event_for(self, doc: dict[str, Any] | None) -> TriggerEvent | None:
        """The event a look at the lease calls for: released, timed out, or none yet."""
        why = self._ended(doc)
        if why is not None:
            self.log.info("The lease %s of %s ended (%s)", self.key, self._describe(), why)
            return TriggerEvent(
                {"status": "released", "why": why, "owner": self.owner, "waited": self._waited()}
            )
        if self.deadline is not None and time.time() >= self.deadline:
            return TriggerEvent(
                {
                    "status": "timeout",
                    "owner": self.owner,
                    "message": f"{self._describe()} still holds {self.key}",
                    "waited": self._waited(),
                }
            )
        return None

    def _pause(self, doc: dict[str, Any] | None) -> float:
        """Until the next look: the poll interval, never past the lease's expiry or the deadline."""
        now = time.time()
        pause = min(self.poll_interval, float((doc or {}).get("expires") or now) - now + 0.05)
        if self.deadline is not None:
            pause = min(pause, self.deadline - now)
        return max(pause, 0.05)

    def _error_event(self, exc: Exception) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": "error",
                "message": str(exc),
                "error_type": type(exc).__name__,
                "waited": self._waited(),
            }
        )
