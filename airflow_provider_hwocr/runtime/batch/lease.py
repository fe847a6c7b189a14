"""The lease: one run at a time sends images of one output prefix, API and shard.

Airflow runs two DAG runs of the same task at once whenever their run ids differ (a manual
run during a backfill, a backfill over a scheduled day, ``max_active_runs > 1``), and a retry
while the try it replaces may still be running (a zombie). Without a lease, both would decide
from the same index and bill the same images twice.

The lease is one small JSON object next to the index
(:attr:`~airflow_provider_hwocr.runtime.store.ResultStore.lease_key`): its **owner** (dag id,
task id, run id, map index and try number: a retry does not take the lease from a try that may
still be sending; it waits until that try's heartbeat has expired), a random **token**, when it
was taken and written, and an **expiry** (wall clock, UTC).

**Taking it.** Read it; if another run holds it alive, wait (or defer, or fail). Else write ours
conditionally (``If-None-Match: *`` when there was none, ``If-Match`` the ETag read when it had
expired): on a store that honours conditional writes two runs can never both write it. Whether
it does is not assumed but checked on every take: right after our conditional write succeeded,
the same write is sent once more on the same condition, which a store that checks it must refuse
(412: the lease now exists, or its ETag is now ours). When it is refused, the take holds the lease
at once: nothing is slept, nothing read back (a run that writes its expired lease later, or that
read it as free and writes after ours, gets 412 too). When it is accepted (the store ignores the
condition: what it wrote is ours again), or the write carried no condition (a store that answered
conditions 501, a reader that gave no ETag), or the check failed on the store, the write is
checked by reading it back, as on a store without them (last writer wins, made safe by
read-after-write consistency):

1. the read-back comes :data:`SETTLE_SECONDS` after the write *returned* (not after it began:
   a write that OBS throttled and the SDK retried lands late, and its own read-back must not
   come before a run it overwrote has had its own);
2. a take whose read and write together took longer than the settle (its write may have landed
   after another run had read the lease back and begun to send) waits longer before that:
   twice as long as it took, plus a settle (at most ``ttl / 6`` plus what it took). A run that holds
   the lease looks at it early and often (one settle after taking it, then twice as long each
   time), so the run such a write replaced has seen the new token and stopped first;
3. it is read again once the settle has passed again. Both looks come before the run decides
   again and calls: a run that finds another's token there goes back to waiting.

**Holding it.** A heartbeat thread reads it early and often at first (after one settle, then
twice as long each time, up to ``ttl / 6``), then every ``ttl / 6``, and renews it every
``ttl / 6`` (conditionally, on the ETag it read). The send stage asks :attr:`Lease.held` before
each call: the heartbeat's last verdict, no request, unless that verdict is older than a quarter
of the TTL (a worker paused, a heartbeat that could not read): then the lease is read (and
renewed) first, and the call waits for that, retried until the lease's own deadline.

**Losing it** (overwritten, deleted, or not renewed within its TTL) stops the batch before its
next call; the images left are ``not_attempted``. It is also **fenced**: every image this run
finished after the last moment it knew it held the lease (the latest of its last confirming
read and the other run's taking, less a second for the clocks) may have been called by the
other run too, which decided after that moment. They are named in this run's manifest
(``overlap.possibly_billed_twice``, and ``possibly_billed_twice`` on their entries), and a note
next to the lease tells the other run, whose manifest names them too when it reads the note
before it records.

A run takes the lease only when it has something to send: a re-run of finished work stays at
its listings and three requests. Under the lease it decides again (one more GET of the index
and listing of the results), so what another run finished meanwhile is skipped.

Limits (measured, in the backfill guide): the workers' clocks must agree to well within a
sixth of the TTL; without conditional writes, a write still in flight for longer than the
take's wait (a write the client gave up on but the store applied later) can overwrite a holder,
which stops at its next read (at most a quarter of the TTL later) and names what it finished
after its last look.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_hwocr.errors import HuaweiOcrOverlapError
from airflow_provider_hwocr.hooks.obs_errors import (
    HuaweiObsError,
    HuaweiObsNotFoundError,
    HuaweiObsPreconditionFailedError,
    HuaweiObsTransientError,
)
from airflow_provider_hwocr.hooks.obs_lease import is_live

LEASE_FORMAT = "hwocr-lease/2"
OVERLAP_FORMAT = "hwocr-lease-overlap/1"
#: Between a write of the lease returning and reading it back (``HWOCR_LEASE_SETTLE`` overrides it).
SETTLE_SECONDS = 1.0
SETTLE_ENV = "HWOCR_LEASE_SETTLE"
#: How often a waiting run looks at the lease again (at most, and at most ``ttl / 6``).
POLL_SECONDS = 15.0
#: Past ``ttl * VERDICT_FRACTION`` since the heartbeat's last look, a call reads the lease first.
VERDICT_FRACTION = 0.25
#: What another worker's clock may be off by, for the fence (seconds).
CLOCK_MARGIN = 1.0
#: Between two tries of a look at the lease that failed, before a call (seconds, doubled each time).
RECHECK_PAUSE = 0.2
#: Tries of taking the lease when the store fails (after the OBS client's own retries).
TAKE_TRIES = 5

#: Buckets whose store refused a conditional write as not implemented (this process asks no more).
_NO_CONDITIONAL: set[str] = set()


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
    """Who a run is: dag id, task id, run id, map index and try number (a retry is another owner)."""
    get = context.get if hasattr(context, "get") else (lambda _name: None)
    ti = get("ti")
    map_index = getattr(ti, "map_index", None) if ti is not None else None
    try_number = getattr(ti, "try_number", None) if ti is not None else None
    return {
        "dag_id": getattr(ti, "dag_id", None) or getattr(get("dag"), "dag_id", None),
        "task_id": getattr(ti, "task_id", None) or getattr(get("task"), "task_id", None),
        "run_id": get("run_id"),
        "map_index": map_index if isinstance(map_index, int) and map_index >= 0 else None,
        "try_number": try_number if isinstance(try_number, int) else None,
    }


def same_task(a: Any, b: Any) -> bool:
    """Whether two owners are tries of one task instance (dag, task, run id and map index)."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return False
    return all(a.get(name) == b.get(name) for name in ("dag_id", "task_id", "run_id", "map_index"))


def describe(owner: dict[str, Any] | None) -> str:
    if not isinstance(owner, dict):
        return "an unknown run"
    where = f"dag {owner.get('dag_id')!r}, task {owner.get('task_id')!r}, run {owner.get('run_id')!r}"
    if owner.get("map_index") is not None:
        where += f", map index {owner['map_index']}"
    return where + (f", try {owner['try_number']}" if owner.get("try_number") is not None else "")


#: What ``on_overlap="defer"`` calls with the other run's lease and the seconds waited so far; it
#: raises Airflow's deferral (the operator's ``defer``), so it never returns.
DeferOverlap = Callable[[dict[str, Any], float], None]


def _iso(when: float | None) -> str | None:
    return (
        None
        if when is None
        else datetime.fromtimestamp(when, timezone.utc).isoformat(timespec="milliseconds")
    )


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
    #: A lost lease's fence: the images this run finished once another run may have decided
    #: without them (``since``: from when), which it may have called too.
    possibly_billed_twice: list[str] = field(default_factory=list)
    since: float | None = None
    #: Notes of runs that lost the lease to this one, naming what they finished meanwhile.
    reported_by: list[dict[str, Any]] = field(default_factory=list)

    def as_manifest(self) -> dict[str, Any]:
        return {
            "lease": self.key,
            "owner": self.owner,
            "waited": self.waited,
            "waited_seconds": round(self.waited_seconds, 3),
            "deferred": self.deferred,
            "held_by": self.held_by,
            "lost": self.lost,
            "possibly_billed_twice": (
                {
                    "since": _iso(self.since),
                    "count": len(self.possibly_billed_twice),
                    "images": self.possibly_billed_twice,
                }
                if self.since is not None
                else None
            ),
            "reported_by": self.reported_by,
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
        self._verdict_at = 0.0  # monotonic: when the read behind the verdict began
        self._confirmed_wall = 0.0  # wall clock: when the last read that found our token began
        self._written_at = 0.0  # monotonic: when our last write began
        self._taken_at: float | None = None  # wall clock: when our first write began
        self._etag: str | None = None
        self._conditional = False  # whether our last write carried a condition the store checked
        self._other: dict[str, Any] | None = None  # the lease that replaced ours
        self._may_have_overwritten = False  # a run that lost the lease to us may leave a note
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the object ---------------------------------------------------------------------

    @property
    def note_key(self) -> str:
        """Where a run that lost the lease to this one leaves its note (keyed by our token)."""
        return f"{self.key.removesuffix('.json')}.overlap-{self.token}.json"

    def _read(self) -> tuple[dict[str, Any] | None, str | None]:
        """(the lease, its ETag). The lease is ``None`` when there is none, or when it is damaged (it
        names no live owner): then the ETag is the damaged object's, which a conditional write replaces
        (``""`` from a store reader that gives none: written over unconditionally)."""
        reader = getattr(self.obs, "get_bytes_and_etag", None)
        try:
            if reader is not None:
                data, etag = reader(self.bucket, self.key)
            else:
                data, etag = self.obs.get_bytes(self.bucket, self.key), ""
        except HuaweiObsNotFoundError:
            return None, None
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        return (doc if isinstance(doc, dict) else None), (etag or "")

    def _doc(self, began: float) -> bytes:
        expires = began + self.ttl
        return json.dumps(
            {
                "format": LEASE_FORMAT,
                "owner": self.owner,
                "token": self.token,
                "host": socket.gethostname(),
                "taken_at": self._taken_at,
                "written_at": began,
                "expires": expires,
                "expires_at": _iso(expires),
            }
        ).encode()

    def _write(self, *, create: bool = False, etag: str | None = None) -> float:
        """Write our lease (conditionally: ``create``, or over ``etag``); returns when the write returned
        (monotonic). Raises :class:`HuaweiObsPreconditionFailedError` when the condition is not met."""
        began, sent = time.time(), time.monotonic()
        data = self._doc(began)
        conditional = self.bucket not in _NO_CONDITIONAL and (create or etag is not None)
        self._conditional = False
        try:
            self._etag = self._put(data, create=create and conditional, etag=etag if conditional else None)
            self._conditional = conditional
        except HuaweiObsPreconditionFailedError:
            raise
        except HuaweiObsError as exc:
            if not conditional or not _not_implemented(exc):
                raise
            self._no_conditional(exc)
            self._etag = self._put(data, create=False, etag=None)
        self._written_at = sent
        self._deadline = sent + self.ttl - self.ttl / 6  # stop before another run may take it over
        return time.monotonic()

    def _no_conditional(self, exc: HuaweiObsError) -> None:
        _NO_CONDITIONAL.add(self.bucket)
        self.log.info(
            "The object store does not implement conditional writes (%s); the lease %s relies on reading it back",
            exc.error_code or exc.status,
            self.key,
        )

    def condition_checked(self, *, create: bool, etag: str | None) -> bool:
        """Whether the store checks the condition our write just passed: the same write, sent again on
        the same condition (``create``: ``If-None-Match: *``; else ``If-Match: etag``), must now be
        refused with 412. Accepted, the store ignores it (what it wrote is our lease again); an error
        is ``False`` too: the take then reads its write back (fails closed)."""
        began = time.time()
        try:
            etag_now = self._put(self._doc(began), create=create, etag=etag)
        except HuaweiObsPreconditionFailedError:
            return True
        except HuaweiObsError as exc:
            self.log.info(
                "Could not check that the store refuses a failed condition on %s (%s); reading the lease back",
                self.key,
                type(exc).__name__,
            )
            return False
        self._etag = etag_now or self._etag
        self.log.info(
            "The object store accepted a conditional write whose condition had failed: the lease %s "
            "relies on reading it back",
            self.key,
        )
        return False

    def _put(self, data: bytes, *, create: bool, etag: str | None) -> str | None:
        """PUT ``data`` to the lease, with the conditions asked for; the new ETag."""
        conditions: dict[str, Any] = {}
        if create:
            conditions["if_none_match"] = True
        if etag is not None:
            conditions["if_match"] = etag
        return self.obs.put_bytes(self.bucket, self.key, data, content_type="application/json", **conditions)

    def _foreign(self, doc: dict[str, Any] | None) -> dict[str, Any] | None:
        """The live lease of another run in ``doc``, else ``None`` (free, expired, or ours)."""
        if doc is None or doc.get("owner") == self.owner or doc.get("token") == self.token:
            return None
        return doc if is_live(doc) else None

    # --- taking it ----------------------------------------------------------------------

    def try_take(self) -> dict[str, Any] | None:
        """Take the lease if it is free; ``None`` if taken, else the other run's lease."""
        began = time.monotonic()
        doc, etag = self._read()
        other = self._foreign(doc)
        if other is not None:
            return other
        self._taken_at = wall = time.time()
        create, over = etag is None, etag or None
        try:  # conditionally: over what was read, or where nothing was
            returned = self._write(create=create, etag=over)
        except HuaweiObsPreconditionFailedError:  # another run wrote it since we read it
            return self._refused()
        self._may_have_overwritten = doc is not None
        if self._conditional and self.condition_checked(create=create, etag=over):
            # Our write landed on exactly what we read (none, or that expired lease): no other run's
            # write came between, and any later one is refused. Held from when the write began. (A
            # holder paused past its expiry may still leave a note: wrap_up reads it.)
            self._verdict, self._verdict_at, self._confirmed_wall = True, self._written_at, wall
            return None
        # Our token already there: a write of an earlier try that seemed to fail landed late, over
        # whoever held it then, who stops at its next look (at most ttl / 6 away).
        late = doc is not None and doc.get("token") == self.token
        extra = self.ttl / 6 + self.settle if late else self.slow_take_wait(returned - began)
        if extra > 0:
            self._may_have_overwritten = True
            self.log.info(
                "Writing the lease %s took %.1fs%s; reading it back in %.1fs, once any run it may have "
                "replaced has looked at its lease",
                self.key,
                returned - began,
                " (an earlier write of it landed late)" if late else "",
                self.settle + extra,
            )
        time.sleep(max(returned + self.settle + extra - time.monotonic(), 0.0))
        return self._look_back()

    def slow_take_wait(self, span: float) -> float:
        """How much longer than the settle to wait before reading back a take whose read and write
        took ``span`` seconds: none when that is within the settle; else long enough for a run that
        took the lease meanwhile, and that this write may have replaced, to have looked at its lease
        again (its heartbeat looks within its time held plus one settle, and at least every
        ``ttl / 6``), with as much again for that look's own latency."""
        if span <= self.settle:
            return 0.0
        return min(2 * span + self.settle, self.ttl / 6 + span)

    def _refused(self) -> dict[str, Any] | None:
        """Our conditional write was refused: whose lease is there now (ours if a retried write of
        ours had landed)."""
        doc, etag = self._read()
        if doc is not None and doc.get("token") == self.token:
            self._etag = etag
            self._written_at = time.monotonic()
            self._deadline = self._written_at + self.ttl - self.ttl / 6
            return self._look_back()
        return doc or {"owner": None, "expires": time.time() + self.settle}

    def _look_back(self) -> dict[str, Any] | None:
        """Read the lease back, and once the settle has passed again read it again: ``None`` if it is
        ours both times (then it is held), else the lease found there. Both looks come before this
        run decides again and calls, so a run that loses here goes back to waiting."""
        for look in range(2):
            if look:
                time.sleep(self.settle)
            began, wall = time.monotonic(), time.time()
            doc, etag = self._read()
            if doc is None or doc.get("token") != self.token:
                self._verdict = False
                return doc or {"owner": None, "expires": time.time() + self.settle}
            self._etag = etag or self._etag
            self._verdict, self._verdict_at, self._confirmed_wall = True, began, wall
        return None

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
        seen: dict[str, float] = {}
        failed = 0
        while True:
            try:
                other = self.try_take()
            except HuaweiObsTransientError as exc:  # throttled, 5xx, no answer: after the client's retries
                failed += 1
                self._pause_after(exc, failed)
                continue
            if other is None:
                self.record.waited_seconds = time.monotonic() - began if self.record.waited else 0.0
                self._start_heartbeat()
                return
            mode = self._mode_for(other, on_overlap, seen)
            self._wait_for(other, mode, timeout, defer, waited=time.monotonic() - began)

    def _pause_after(self, exc: HuaweiObsTransientError, failed: int) -> None:
        """A take that failed on the store: raise once :data:`TAKE_TRIES` have, else pause (a write that
        seemed to fail may have landed: the next try reads it as ours and takes it over)."""
        if failed >= TAKE_TRIES:
            raise exc
        pause = min(self.settle * 2**failed, self.ttl / 6)
        self.log.warning("Could not take the lease %s (%s); trying again in %.1fs", self.key, exc, pause)
        time.sleep(pause)

    def _mode_for(self, other: dict[str, Any], on_overlap: str, seen: dict[str, float]) -> str:
        """``on_overlap``, except that with ``"fail"`` a retry waits for an earlier try of its own task
        whose lease is not renewed any more (it may have died): it fails only once that try renews it."""
        token, expires = str(other.get("token")), float(other.get("expires") or 0)
        first = seen.setdefault(token, expires)
        if on_overlap == "fail" and same_task(other.get("owner"), self.owner) and expires <= first:
            return "wait"
        return on_overlap

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
            why = self._why_wait(owner, on_overlap)
            self.log.info("Waiting for %s, which holds %s, to finish (%s)", describe(owner), self.key, why)
        self.record.waited = True
        poll = min(POLL_SECONDS, self.ttl / 6)
        pause = min(poll, left + 0.05, *((timeout - waited,) if timeout is not None else ()))
        time.sleep(max(pause, 0.05))

    def _why_wait(self, owner: Any, on_overlap: str) -> str:
        if same_task(owner, self.owner):
            return (
                "an earlier try of this task: a retry does not take the lease from a try that may still be "
                "sending before its heartbeat expires"
            )
        return f"on_overlap={on_overlap!r}"

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
    def max_verdict_age(self) -> float:
        return self.ttl * VERDICT_FRACTION

    @property
    def held(self) -> bool:
        """Whether this run may make its next call: the heartbeat's last verdict (no request), unless
        it is stale (older than :attr:`max_verdict_age`); then the lease is read first."""
        if not self._verdict:
            return False
        now = time.monotonic()
        if now - self._verdict_at < self.max_verdict_age and now < self._deadline:
            return True
        return self._look_now()

    def _look_now(self) -> bool:
        """Read (and if due renew) the lease before a call, retried until its deadline."""
        with self._lock:
            pause = RECHECK_PAUSE
            while self._verdict:
                now = time.monotonic()
                if now - self._verdict_at < self.max_verdict_age and now < self._deadline:
                    return True  # another thread looked meanwhile
                try:
                    return self._verify()
                except Exception as exc:  # noqa: BLE001 - retried until the deadline
                    if time.monotonic() + pause >= self._deadline:
                        self._lose(None, why=f"not renewed within its TTL ({type(exc).__name__})")
                        return False
                    self.log.warning(
                        "Could not read the lease %s (%s); retrying", self.key, type(exc).__name__
                    )
                    time.sleep(pause)
                    pause = min(pause * 2, self.ttl / 12)
            return False

    def _verify(self) -> bool:
        """One look: the lease is still ours (renewed if due), or it is lost."""
        began, wall = time.monotonic(), time.time()
        doc, etag = self._read()
        if doc is None or doc.get("token") != self.token:
            self._lose(doc)
            return False
        if not is_live(doc):
            self._lose(None, why="not renewed within its TTL (this run was paused)")
            return False
        self._verdict_at, self._confirmed_wall = began, wall
        if time.monotonic() - self._written_at >= self.ttl / 6 or time.monotonic() >= self._deadline:
            self._renew(etag)
        return self._verdict

    def _renew(self, etag: str | None) -> None:
        try:
            self._write(etag=etag or self._etag)
        except HuaweiObsPreconditionFailedError:  # another run wrote it since our look
            self._lose(self._read()[0])

    def _start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._beat, name="hwocr-lease", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        """Look early and often at first (one settle, then twice as long each time, up to ``ttl / 6``),
        renewing every ``ttl / 6``; stop once the lease is lost or released."""
        interval = min(self.settle, self.ttl / 6)
        while not self._stop.wait(interval) and self._verdict:
            interval = min(interval * 2, self.ttl / 6)
            with self._lock:
                try:
                    if not self._verify():
                        return
                except Exception as exc:  # noqa: BLE001 - a look that fails is retried until the deadline
                    self.log.warning(
                        "Could not renew the lease %s (%s); retrying", self.key, type(exc).__name__
                    )
                if time.monotonic() >= self._deadline:
                    self._lose(None, why="not renewed within its TTL")
                    return

    def _lose(self, doc: dict[str, Any] | None, why: str | None = None) -> None:
        if not self._verdict:
            return
        self._verdict = False
        self._other = doc
        owner = doc.get("owner") if doc else None
        if owner is not None and owner not in self.record.held_by:
            self.record.held_by.append(owner)
        self.record.lost = why or (f"taken over by {describe(owner)}" if doc else "deleted")
        self.log.warning("Lost the lease %s (%s): no further image is sent", self.key, self.record.lost)

    # --- after sending ------------------------------------------------------------------

    def fence_from(self) -> float:
        """Wall clock: from when another run may have decided without what this run finished."""
        since = self._confirmed_wall
        taken = (self._other or {}).get("taken_at")
        if isinstance(taken, (int, float)):
            since = max(since, float(taken) - CLOCK_MARGIN)
        return since

    def wrap_up(self, finished: Callable[[float], Iterable[dict[str, Any]]]) -> None:
        """After the send stage: one more look at a lease still held; a lost one fenced (the images
        ``finished(since)`` gives are named, their entries marked, a note left for the other run);
        a held one reads the note a run that lost it to this one may have left."""
        if self._verdict:
            with self._lock:
                try:
                    self._verify()
                except Exception as exc:  # noqa: BLE001 - release() looks once more
                    self.log.warning("Could not read the lease %s (%s)", self.key, type(exc).__name__)
        if not self._verdict and self.record.lost is not None:
            self._fence(finished)
        elif self._may_have_overwritten:
            self._read_note(finished)

    def _fence(self, finished: Callable[[float], Iterable[dict[str, Any]]]) -> None:
        since = self.fence_from()
        named = [entry for entry in finished(since) if _was_called(entry)]
        for entry in named:
            entry["possibly_billed_twice"] = "lease lost"
        self.record.since = since
        self.record.possibly_billed_twice = [str(entry.get("source")) for entry in named]
        if named:
            self.log.warning(
                "%d image(s) finished after %s, when %s may have decided without them: they may have been "
                "billed twice and are named in the manifest (overlap.possibly_billed_twice)",
                len(named),
                _iso(since),
                describe((self._other or {}).get("owner")),
            )
        self._leave_note()

    def _leave_note(self) -> None:
        """A note for the run that holds the lease now, naming what this run finished after the fence."""
        token = (self._other or {}).get("token")
        if not isinstance(token, str) or not self.record.possibly_billed_twice:
            return
        note = {
            "format": OVERLAP_FORMAT,
            "lost_by": self.owner,
            "since": _iso(self.record.since),
            "images": self.record.possibly_billed_twice,
        }
        key = f"{self.key.removesuffix('.json')}.overlap-{token}.json"
        try:
            self.obs.put_bytes(self.bucket, key, json.dumps(note).encode(), content_type="application/json")
        except Exception as exc:  # noqa: BLE001 - this run's manifest names them anyway
            self.log.warning("Could not leave the overlap note %s (%s)", key, type(exc).__name__)

    def _read_note(self, finished: Callable[[float], Iterable[dict[str, Any]]]) -> None:
        """The note of a run that lost the lease to this one: recorded, and the images it names marked
        on this run's entries too."""
        try:
            note = json.loads(self.obs.get_bytes(self.bucket, self.note_key))
        except (HuaweiObsNotFoundError, ValueError):
            return
        except Exception as exc:  # noqa: BLE001 - best effort: the other run's manifest names them
            self.log.warning("Could not read the overlap note %s (%s)", self.note_key, type(exc).__name__)
            return
        if not isinstance(note, dict):
            return
        listed = note.get("images")
        images: list[Any] = listed if isinstance(listed, list) else []
        self.record.reported_by.append(
            {"owner": note.get("lost_by"), "since": note.get("since"), "images": images}
        )
        for entry in finished(0.0):
            if entry.get("source") in images and _was_called(entry):
                entry["possibly_billed_twice"] = "reported by the run that lost the lease"
        self.log.warning(
            "%s lost the lease to this run and reports %d image(s) it finished after %s, which this "
            "run may have called too (overlap.reported_by in the manifest)",
            describe(note.get("lost_by")),
            len(images),
            note.get("since"),
        )

    def release(self) -> None:
        """Stop the heartbeat and delete the lease (and a note read) if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self._verdict:
            return
        self._verdict = False
        try:
            doc, _ = self._read()
            if doc is not None and doc.get("token") == self.token:
                self.obs.delete(self.bucket, self.key)
            if self.record.reported_by:
                self.obs.delete(self.bucket, self.note_key)
        except Exception as exc:  # noqa: BLE001 - an undeleted lease expires by itself
            self.log.warning(
                "Could not release the lease %s (%s); it expires by itself", self.key, type(exc).__name__
            )

    def lost_error(self) -> HuaweiOcrOverlapError:
        named = len(self.record.possibly_billed_twice)
        return HuaweiOcrOverlapError(
            f"the lease {self.key} was lost ({self.record.lost}); the images left were not attempted"
            + (
                f", and {named} image(s) that may have been billed twice are named in the manifest"
                if named
                else ""
            )
            + ". A retry waits for the other run and skips what it finished."
        )


def _was_called(entry: dict[str, Any]) -> bool:
    """Whether this run called the OCR service for an entry (not one recovered without a call)."""
    if entry.get("recovered"):
        return False
    return entry.get("status") == "done" or bool(entry.get("called"))


def _not_implemented(exc: HuaweiObsError) -> bool:
    """Whether a store refused a conditional write because it does not implement the headers."""
    return exc.status == 501 or exc.error_code == "NotImplemented"
