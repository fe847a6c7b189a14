"""Stage 3b, write: results go to OBS from writer threads, so an OCR slot never waits on a PUT.

An OCR slot of the send stage hands each answer to :class:`ResultWriter` and takes its next
image; writer threads PUT the result (and its text pages, with ``export_text``). An image
counts as done (in the counts, the manifest and the progress parts) only once its PUT has
returned. The queue between the two is bounded: when the writers fall behind, an OCR slot
waits to hand its answer over (back-pressure), so memory stays bounded whatever OBS does.

**A paid answer is never thrown away.** A write that fails (after the OBS client's own
retries) is tried :data:`TRIES_PER_KEY` times in all. If it still fails, the writer keeps the
answer in a progress part of its own, another key (:mod:`~airflow_provider_hwocr.runtime.batch.spool`),
and that write tells what failed:

* it goes through: OBS takes writes. The result is tried once more (writes may have come back just
  then, as an outage ends: then the image is done and the part deleted); if that fails too, this
  result's key is refused. The image fails, marked
  ``called``, its entry names where its answer is kept (``kept``), and the next attempt or run
  stores that answer without a new call. The batch goes on, unless
  :data:`MAX_FAILED_WRITES_IN_A_ROW` answers in a row could not be stored (every result refused:
  paying for answers that cannot be stored is what must not go on);
* it fails too, as a server or network failure: OBS takes no write at all (an outage). The
  writers **pause** and try again after 0.5 s, 1 s, 2 s ... (at most 15 s apart) for up to
  :data:`OUTAGE_SECONDS` from the start of the outage; OCR slots wait meanwhile to hand their
  answers over, so no new call is made. Once a write goes through, the writers go on. Past the
  limit, or for an error that will fail every write (access denied to both keys, a missing
  bucket, TLS, configuration), the answer goes to a local spool file named in the log (the next
  attempt on this worker stores it) and the batch stops.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError
from airflow_provider_hwocr.errors import HuaweiCloudTransientError
from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsTlsError
from airflow_provider_hwocr.runtime.batch.entries import Item, done, failed
from airflow_provider_hwocr.runtime.batch.spool import kept_entry, write_local
from airflow_provider_hwocr.runtime.batch.state import ProgressJournal
from airflow_provider_hwocr.runtime.pipeline import OcrPipeline

#: Write errors that will fail every write: the batch stops at the first (its answer is kept).
FATAL_WRITE_ERRORS = (HuaweiObsTlsError, HuaweiOcrConfigurationError)
#: Answers in a row that could not be stored while OBS took other writes: the batch stops.
MAX_FAILED_WRITES_IN_A_ROW = 5
#: Tries of one result's write (each after the OBS client's own retries) before its answer is kept.
TRIES_PER_KEY = 3
#: Between two of those tries (seconds; doubled each time).
RETRY_PAUSE = 0.25
#: Longest the writers wait for OBS to take writes again before the batch stops (seconds).
OUTAGE_SECONDS = 120.0
#: The pauses of an outage: the first, and the longest (doubled in between).
OUTAGE_PAUSES = (0.5, 15.0)

_STOP = object()


class _Kept:
    """What became of an answer that could not be stored at first."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = entry
        self.outcome: Any = None  # stored after all (an outage ended)
        self.where: str | None = None  # where it is kept
        self.fatal: BaseException | None = None  # what stops the batch


class _Outage:
    """What the writers know of OBS taking no write: since when, and whether they gave up."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.given_up = False
        self.lock = threading.Lock()

    def begin(self) -> tuple[float, bool]:
        """(the outage's deadline (monotonic), counted from its first failure; whether this began it)."""
        with self.lock:
            first = self.since is None
            if self.since is None:
                self.since = time.monotonic()
            return self.since + OUTAGE_SECONDS, first

    def end(self) -> bool:
        """A write went through; returns whether an outage was on."""
        with self.lock:
            was = self.since is not None
            self.since, self.given_up = None, False
            return was


class ResultWriter:
    """Writer threads behind a bounded queue (see the module).

    :param pipeline: stores each answer (``store_result``) and names the parameters (``digest``).
    :param log: the task's log.
    :param finished: called with ``(item, entry)`` once an image's write is over, done or failed.
    :param stop: called with the error when writing must stop the batch.
    :param journal: keeps the answers that cannot be stored (``None``: they are not kept).
    :param hold: with ``review_below``, called with ``(item, response, entry)`` once a result is stored:
        it makes the ``done`` entry ``held`` when the answer is uncertain.
    :param mark: with ``review_below``, called with ``(item, response)`` before a result is stored: it
        writes a held page's marker first, and an error there fails the write like the result's own.
    :param tabled: with ``table_uri``, called with ``(result key, envelope)`` once a result is stored and
        its page is a row of the batch's tables (``done``, not held for review): the tables are made from
        the envelopes the writers already hold, not read back.
    """

    def __init__(
        self,
        pipeline: OcrPipeline,
        log: Any,
        *,
        threads: int,
        capacity: int,
        finished: Callable[[Item, dict[str, Any]], None],
        stop: Callable[[BaseException], None],
        journal: ProgressJournal | None = None,
        hold: Callable[[Item, Any, dict[str, Any]], None] | None = None,
        mark: Callable[[Item, Any], None] | None = None,
        tabled: Callable[[str, dict[str, Any] | None], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.hold = hold
        self.mark = mark
        self.tabled = tabled
        self.log = log
        self.finished = finished
        self.stop = stop
        self.journal = journal
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, capacity))
        self._lock = threading.Lock()
        self._failed_in_a_row = 0
        self._outage = _Outage()
        self._open = 0  # handed over, not finished yet
        self._idle = threading.Condition(self._lock)
        self._threads = [
            threading.Thread(target=self._work, name=f"hwocr-write-{i}", daemon=True)
            for i in range(max(1, threads))
        ]
        for thread in self._threads:
            thread.start()

    def put(self, item: Item, response: Any, summary: dict[str, Any]) -> None:
        """Hand one answer over; blocks while the queue is full (the writers set the pace)."""
        with self._lock:
            self._open += 1
        self._queue.put((item, response, summary))

    @property
    def pending(self) -> int:
        with self._lock:
            return self._open

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every answer handed over to be written; True when none is left."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._open:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        """Write what is queued, then stop the threads."""
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            item, response, summary = job
            try:
                self._write(item, response, summary)
            finally:
                with self._idle:
                    self._open -= 1
                    self._idle.notify_all()

    # --- one answer -----------------------------------------------------------------------

    def _write(self, item: Item, response: Any, summary: dict[str, Any]) -> None:
        try:
            outcome = self._put(item, response, summary, tries=TRIES_PER_KEY)
        except Exception as exc:  # noqa: BLE001 - the answer is kept; some errors stop the batch
            self._not_stored(item, response, summary, exc)
            return
        self._stored(item, response, outcome)

    def _put(self, item: Item, response: Any, summary: dict[str, Any], *, tries: int) -> Any:
        """A held page's marker (``review_below``), then the result: a result waiting for a person
        always has its marker. Raises the first error."""
        if self.mark is not None:
            self.mark(item, response)
        return self._store(item, response, summary, tries=tries)

    def _store(self, item: Item, response: Any, summary: dict[str, Any], *, tries: int) -> Any:
        """``tries`` tries of the result's write; raises the last error."""
        src, key = item.src, item.key
        assert src is not None and key is not None
        for attempt in range(tries):
            try:
                return self.pipeline.store_result(key, src, response, summary)
            except FATAL_WRITE_ERRORS:
                raise
            except Exception:
                if attempt + 1 >= tries or self._outage.given_up:
                    raise
                time.sleep(RETRY_PAUSE * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _stored(self, item: Item, response: Any, outcome: Any) -> None:
        assert item.src is not None and item.key is not None
        with self._lock:
            self._failed_in_a_row = 0
        if self._outage.end():
            self.log.warning("OBS takes writes again: the writers go on")
        entry = done(
            item.source, item.key, outcome, params_digest=self.pipeline.digest, source_etag=item.src.etag
        )
        recovered = getattr(response, "recovered", None)
        if recovered:
            entry["recovered"] = recovered
        if self.hold is not None:
            self._gate(item, response, entry)
        if self.tabled is not None and entry["status"] == "done":  # a held page's rows are its review's
            self.tabled(item.key, getattr(outcome, "envelope", None))
        self.finished(item, entry)

    def _gate(self, item: Item, response: Any, entry: dict[str, Any]) -> None:
        """``review_below``: the page may be held. A gate that fails holds it (a control never
        silently switches off)."""
        assert self.hold is not None
        try:
            self.hold(item, response, entry)
        except Exception as exc:  # noqa: BLE001 - the page waits for a person instead
            entry.setdefault("held_fields", [])
            entry["status"] = "held"
            self.log.error("%s: the review gate failed (%s); the page is held for review", item.source, exc)

    def _not_stored(self, item: Item, response: Any, summary: dict[str, Any], exc: BaseException) -> None:
        """The result could not be stored: keep the answer, ride out an outage, or stop the batch."""
        entry = failed(item.source, exc, called=True)
        entry["attempts"] = response.attempts
        entry["billed_retries"] = int(getattr(response, "billed_retries", 0) or 0)
        if getattr(response, "recovered", None):
            entry["recovered_from"] = response.recovered
        kept = _Kept(kept_entry(entry, item, response, summary, self.pipeline.digest))
        self._keep(kept, exc, (item, response, summary))
        if kept.outcome is not None:  # stored once an outage ended
            self._stored(item, response, kept.outcome)
            return
        entry["kept"] = kept.where
        with self._lock:
            self._failed_in_a_row += 1
            in_a_row = self._failed_in_a_row
        if kept.fatal is not None or in_a_row >= MAX_FAILED_WRITES_IN_A_ROW:
            self.stop(kept.fatal or exc)
        self.log.error(
            "%s: the OCR answer could not be stored (%s); the call was billed, and the answer is kept in %s",
            item.source,
            exc,
            kept.where or "no place: it is lost",
        )
        self.finished(item, entry)

    def _keep(self, kept: _Kept, exc: BaseException, job: tuple[Item, Any, dict[str, Any]]) -> None:
        """Keep an answer in a progress part of its own; if OBS takes no write, ride the outage out."""
        if self.journal is None:
            kept.fatal = exc if isinstance(exc, FATAL_WRITE_ERRORS) else None
            return
        if isinstance(exc, FATAL_WRITE_ERRORS) or self._outage.given_up:
            kept.where, kept.fatal = self._keep_locally(kept.entry), exc
            return
        try:
            self._keep_in_obs(kept, job)  # OBS takes writes: this key is refused
            return
        except Exception as keep_exc:  # noqa: BLE001 - OBS takes no write either
            if not isinstance(keep_exc, (HuaweiCloudTransientError, OSError)):  # refused, not down
                kept.where, kept.fatal = self._keep_locally(kept.entry), keep_exc
                return
        self._ride_out(kept, exc, job)

    def _keep_in_obs(self, kept: _Kept, job: tuple[Item, Any, dict[str, Any]]) -> None:
        """Keep the answer in a part of its own (raises if OBS does not take it). OBS took a write, so the
        result is tried once more before the image is called failed: writes may have come back between
        the two (an outage's end). If it goes through, the part, of no use then, is deleted."""
        assert self.journal is not None
        part = self.journal.keep(kept.entry)
        kept.where = self.journal.store.uri(part)
        try:
            kept.outcome = self._put(*job, tries=1)
        except Exception as exc:  # noqa: BLE001 - this key is refused: the answer stays kept
            self.log.debug("%s: the result still cannot be stored (%s)", job[0].source, exc)
            return
        try:
            self.journal.unkeep(part)
        except Exception as exc:  # noqa: BLE001 - the next run deletes it: its image is done
            self.log.debug("Could not delete the kept part %s (%s)", part, exc)

    def _ride_out(self, kept: _Kept, exc: BaseException, job: tuple[Item, Any, dict[str, Any]]) -> None:
        """An outage: pause, then try the result (and keeping the answer) again, until the outage's deadline."""
        assert self.journal is not None
        deadline, first = self._outage.begin()
        if first:
            self.log.warning(
                "OBS takes no write (%s): the writers pause and try again for up to %.0fs; no new OCR call "
                "meanwhile",
                exc,
                OUTAGE_SECONDS,
            )
        pause = OUTAGE_PAUSES[0]
        while time.monotonic() < deadline and not self._outage.given_up:
            time.sleep(min(pause, max(deadline - time.monotonic(), 0.0)))
            pause = min(pause * 2, OUTAGE_PAUSES[1])
            if self._try_once(kept, job):
                return
        self._outage.given_up = True
        kept.where, kept.fatal = self._keep_locally(kept.entry), exc

    def _try_once(self, kept: _Kept, job: tuple[Item, Any, dict[str, Any]]) -> bool:
        """During an outage: the result once, else keeping the answer once; True once either went through."""
        assert self.journal is not None
        try:
            kept.outcome = self._put(*job, tries=1)
            return True
        except Exception as exc:  # noqa: BLE001 - still down, or this key refused
            self.log.debug("%s: the result still cannot be stored (%s)", job[0].source, exc)
        try:
            self._keep_in_obs(kept, job)
            return True
        except Exception as exc:  # noqa: BLE001 - still down
            self.log.debug("%s: the answer cannot be kept in OBS yet (%s)", job[0].source, exc)
        return False

    def _keep_locally(self, kept: dict[str, Any]) -> str | None:
        """OBS takes no write: the answer goes to a local spool file (its path, or ``None`` if even that failed)."""
        assert self.journal is not None
        name, part = self.journal.kept_part(kept)
        try:
            path = write_local(self.journal.store, name, part)
        except OSError as exc:
            self.log.error(
                "Could not keep the answer of %s in a local spool file either (%s)", kept["source"], exc
            )
            return None
        self.log.error(
            "OBS takes no write: the answer of %s is kept in the local spool file %s; the next attempt on this "
            "worker stores it without a new call",
            kept["source"],
            path,
        )
        return path
