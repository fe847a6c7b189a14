"""The lease: one run at a time sends images of one output prefix, API and shard.

Airflow runs two DAG runs of the same task at once whenever their run ids differ (a manual
run during a backfill, a backfill over a scheduled day, ``max_active_runs > 1``). Without a
lease, both would decide from the same index and bill the same images twice.

The lease is one small JSON object next to the index
(:attr:`~airflow_provider_hwocr.runtime.store.ResultStore.lease_key`): its **owner** (dag id,
task id, run id, map index; not the try number, so a retry of the same task takes its own
lease back), a random **token** and an **expiry** (wall clock, UTC). OBS has no
compare-and-swap, so taking it is last-writer-wins made safe by OBS's read-after-write
consistency: write our token, wait :data:`SETTLE_SECONDS` (1 s), read it back; whoever reads their
own token holds it. While the batch sends, a heartbeat thread renews it every ``ttl / 6``
and checks the token is still ours. The send stage asks :attr:`Lease.held` before each call:
an attribute, not a request. A lease lost (overwritten, or not renewed within its TTL)
stops the batch before its next call; the images left are ``not_attempted``.

A run takes the lease only when it has something to send: a re-run of finished work stays at
its listings and three requests. Under the lease it decides again (one more GET of the index
and listing of the results), so what another run finished meanwhile is skipped.

Limits (documented in the backfill guide): the workers' clocks must agree to well within the
TTL; a run stalled for longer than :data:`SETTLE_SECONDS` between reading and writing the
lease could take it at the same moment as another, which the next heartbeat (at most
``ttl / 6`` later) detects.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_hwocr.errors import HuaweiOcrOverlapError
from airflow_provider_hwocr.hooks.obs_lease import is_live, read_lease

LEASE_FORMAT = "hwocr-lease/1"
#: Between writing our token and reading it back (``HWOCR_LEASE_SETTLE`` overrides it).
SETTLE_SECONDS = 1.0
SETTLE_ENV = "HWOCR_LEASE_SETTLE"
#: How often a waiting run looks at the lease again (at most, and at most ``ttl / 6``).
POLL_SECONDS = 15.0


def settle_seconds() -> float:
    """:data:`SETTLE_SECONDS`, or ``HWOCR_LEASE_SETTLE`` (seconds, 0.01 to 60; anything else is an error)."""
    raw = os.environ.get(SETTLE_ENV)
    if raw is None or raw.strip() == "":
        return SETTLE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0.01 <= value <= 60:  # also NaN
        raise HuaweiOcrOverlapError(f"{SETTLE_ENV}: seconds between 0.01 and 60, got {raw!r}")
    return value


def owner_of(context: Any) -> dict[str, Any]:
    """Who a run is: dag id, task id, run id and map index (not the try: a retry is the same owner)."""
    get = context.get if hasattr(context, "get") else (lambda _name: None)
    ti = get("ti")
    map_index = getattr(ti, "map_index", None) if ti is not None else None
    return {
        "dag_id": getattr(ti, "dag_id", None) or getattr(get("dag"), "dag_id", None),
        "task_id": getattr(ti, "task_id", None) or getattr(get("task"), "task_id", None),
        "run_id": get("run_id"),
        "map_index": map_index if isinstance(map_index, int) and map_index >= 0 else None,
    }


def describe(owner: dict[str, Any] | None) -> str:
    if not isinstance(owner, dict):
        return "an unknown run"
    where = f"dag {owner.get('dag_id')!r}, task {owner.get('task_id')!r}, run {owner.get('run_id')!r}"
    return where + (f", map index {owner['map_index']}" if owner.get("map_index") is not None else "")


#: What ``on_overlap="defer"`` calls with the other run's lease and the seconds waited so far; it
#: raises Airflow's deferral (the operator's ``defer``), so it never returns.
DeferOverlap = Callable[[dict[str, Any], float], None]


@dataclass
class LeaseRecord:
    """What the lease says: to the manifest as ``overlap``."""

    #: The lease's key; ``None`` for a run that took none (it waited, then had nothing to send).
    key: str | None
    owner: dict[str, Any]
    waited: bool = False
    waited_seconds: float = 0.0
    #: Whether the waiting was deferred (in the triggerer, holding no worker slot).
    deferred: bool = False
    #: The other runs that held it while this one waited (or that took it over).
    held_by: list[dict[str, Any] | None] = field(default_factory=list)
    lost: str | None = None

    def as_manifest(self) -> dict[str, Any]:
        return {
            "lease": self.key,
            "owner": self.owner,
            "waited": self.waited,
            "waited_seconds": round(self.waited_seconds, 3),
            "deferred": self.deferred,
            "held_by": self.held_by,
            "lost": self.lost,
        }


class Lease:
    """A lease taken (or being taken) by one run; see the module docstring."""

    def __init__(
        self,
        obs: Any,
        bucket: str,
        key: str,
        owner: dict[str, Any],
        *,
        ttl: float,
        log: Any,
    ) -> None:
        self.obs, self.bucket, self.key, self.log = obs, bucket, key, log
        self.owner = owner
        self.ttl = ttl
        self.token = uuid.uuid4().hex
        self.settle = settle_seconds()
        self.record = LeaseRecord(key, owner)
        self._deadline = 0.0  # monotonic: past it, without a renewal, the lease is not held
        self._verdict = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the object ---------------------------------------------------------------------

    def _read(self) -> dict[str, Any] | None:
        return read_lease(self.obs, self.bucket, self.key)

    def _write(self) -> None:
        expires = time.time() + self.ttl
        doc = {
            "format": LEASE_FORMAT,
            "owner": self.owner,
            "token": self.token,
            "host": socket.gethostname(),
            "expires": expires,
            "expires_at": datetime.fromtimestamp(expires, timezone.utc).isoformat(timespec="seconds"),
        }
        sent = time.monotonic()
        self.obs.put_bytes(self.bucket, self.key, json.dumps(doc).encode(), content_type="application/json")
        self._deadline = sent + self.ttl - self.ttl / 6  # stop before another run may take it over

    def _foreign(self, doc: dict[str, Any] | None) -> dict[str, Any] | None:
        """The live lease of another run in ``doc``, else ``None`` (free, expired, or ours)."""
        if doc is None or doc.get("owner") == self.owner or doc.get("token") == self.token:
            return None
        return doc if is_live(doc) else None

    # --- taking it ----------------------------------------------------------------------

    def try_take(self) -> dict[str, Any] | None:
        """Take the lease if it is free; ``None`` if taken, else the other run's lease."""
        other = self._foreign(self._read())
        if other is not None:
            return other
        self._write()
        time.sleep(self.settle)
        doc = self._read()
        if doc is not None and doc.get("token") == self.token:
            self._verdict = True
            return None
        return doc or {"owner": None, "expires": time.time() + self.settle}

    def take(
        self,
        on_overlap: str,
        timeout: float | None,
        *,
        defer: DeferOverlap | None = None,
        waited_before: float = 0.0,
        held_by: dict[str, Any] | None = None,
    ) -> None:
        """Take the lease while another run holds it: wait (``on_overlap="wait"``, or ``"defer"``
        without ``defer``), fail (``"fail"``), or call ``defer`` (``"defer"``), which raises Airflow's
        deferral before anything is written. ``waited_before``: seconds already waited deferred, for
        ``held_by`` (the run that held it then)."""
        began = time.monotonic() - waited_before
        if waited_before > 0:
            self.record.waited = self.record.deferred = True
            self.record.held_by.append(held_by)
        while True:
            other = self.try_take()
            if other is None:
                self.record.waited_seconds = time.monotonic() - began if self.record.waited else 0.0
                self._start_heartbeat()
                return
            self._wait_for(other, on_overlap, timeout, defer, waited=time.monotonic() - began)

    def _wait_for(
        self,
        other: dict[str, Any],
        on_overlap: str,
        timeout: float | None,
        defer: DeferOverlap | None,
        *,
        waited: float,
    ) -> None:
        """Another run holds the lease: fail, defer, or sleep until it is worth trying again."""
        owner = other.get("owner")
        if owner not in self.record.held_by:
            self.record.held_by.append(owner)
        left = max(float(other.get("expires") or 0) - time.time(), 0.0)
        if on_overlap == "fail" or (timeout is not None and waited >= timeout):
            raise self._overlap_error(owner, left, on_overlap, timeout, waited)
        if on_overlap == "defer" and defer is not None:
            self.log.info(
                "Deferring until %s, which holds %s, finishes (on_overlap='defer': no worker slot held)",
                describe(owner),
                self.key,
            )
            defer(other, waited)  # raises TaskDeferred
        if not self.record.waited:
            self.log.info(
                "Waiting for %s, which holds %s, to finish (on_overlap=%r)",
                describe(owner),
                self.key,
                on_overlap,
            )
        self.record.waited = True
        poll = min(POLL_SECONDS, self.ttl / 6)
        pause = min(poll, left + 0.05, *((timeout - waited,) if timeout is not None else ()))
        time.sleep(max(pause, 0.05))

    def _overlap_error(
        self, owner: Any, left: float, on_overlap: str, timeout: float | None, waited: float
    ) -> HuaweiOcrOverlapError:
        return HuaweiOcrOverlapError(
            f"another run is sending images of this batch: {describe(owner)} holds {self.key} "
            f"(its lease expires in {left:.0f}s unless renewed); nothing was called. "
            + (
                f"Waited {waited:.0f}s (overlap_timeout={timeout:g})."
                if on_overlap != "fail"
                else "With on_overlap='wait' this run waits for it and then skips what it finished."
            )
        )

    # --- holding it ---------------------------------------------------------------------

    @property
    def held(self) -> bool:
        """The heartbeat's last verdict (no request): whether this run may make its next call."""
        return self._verdict and time.monotonic() < self._deadline

    def _start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._beat, name="hwocr-lease", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 6):
            try:
                doc = self._read()
                if doc is None or doc.get("token") != self.token:
                    self._lose(doc)
                    return
                self._write()
            except Exception as exc:  # noqa: BLE001 - a renewal that fails is retried until the deadline
                self.log.warning("Could not renew the lease %s (%s); retrying", self.key, type(exc).__name__)
            if not self.held:
                self._lose(None, why="not renewed within its TTL")
                return

    def _lose(self, doc: dict[str, Any] | None, why: str | None = None) -> None:
        self._verdict = False
        owner = doc.get("owner") if doc else None
        if owner is not None and owner not in self.record.held_by:
            self.record.held_by.append(owner)
        self.record.lost = why or (f"taken over by {describe(owner)}" if doc else "deleted")
        self.log.warning("Lost the lease %s (%s): no further image is sent", self.key, self.record.lost)

    def release(self) -> None:
        """Stop the heartbeat and delete the lease if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self._verdict:
            return
        self._verdict = False
        try:
            doc = self._read()
            if doc is not None and doc.get("token") == self.token:
                self.obs.delete(self.bucket, self.key)
        except Exception as exc:  # noqa: BLE001 - an undeleted lease expires by itself
            self.log.warning(
                "Could not release the lease %s (%s); it expires by itself", self.key, type(exc).__name__
            )

    def lost_error(self) -> HuaweiOcrOverlapError:
        return HuaweiOcrOverlapError(
            f"the lease {self.key} was lost ({self.record.lost}); the images left were not attempted. "
            "A retry waits for the other run and skips what it finished."
        )
