"""Stage 3, send: OCR the images that are not done, ``max_concurrency`` calls at a time.

Calls are paced by the OCR hook's rate limiter, counted against ``max_calls`` before they are made and
stopped by an error that would fail every image (authentication, not subscribed,
configuration, budget). Each image costs its OCR call and one PUT of its result; the PUT is
the writer stage's (:mod:`~airflow_provider_hwocr.runtime.batch.write`), so an OCR slot takes
its next image as soon as it has handed its answer over. Finished images are checkpointed to
OBS as the batch goes (:class:`~airflow_provider_hwocr.runtime.batch.state.ProgressJournal`),
each once its result is stored, so a killed task loses nothing. A dry run goes through the
same stage and only checks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_hwocr.client.errors import (
    HuaweiOcrAuthError,
    HuaweiOcrConfigurationError,
    HuaweiOcrError,
    HuaweiOcrNotFoundError,
)
from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError
from airflow_provider_hwocr.runtime.batch.decide import Plan
from airflow_provider_hwocr.runtime.batch.entries import STATES, Item, failed, not_attempted
from airflow_provider_hwocr.runtime.batch.run import BatchRun
from airflow_provider_hwocr.runtime.batch.state import ProgressJournal, etag_hash, made_hash
from airflow_provider_hwocr.runtime.batch.write import ResultWriter

#: Errors that will fail every image: the batch stops at the first.
FATAL = (
    HuaweiOcrAuthError,
    HuaweiOcrConfigurationError,
    HuaweiOcrNotFoundError,
    HuaweiCloudBudgetExceededError,
)

#: What an OCR slot returns for an image that ends without an entry of its own.
_SKIPPED = {"status": "skipped"}  # verified by a HEAD: done before
_HANDED_OVER = {"status": "writing"}  # answered; the writer stage records it


class NotAttempted(Exception):
    """Raised right before a call when the image must not be sent (budget spent, batch stopping)."""


@dataclass
class Sent:
    """What the send stage did: one entry per image it did something with, in selection order.

    Skipped images (done before) have no entry; ``counts["skipped"]`` counts them.
    """

    entries: list[dict[str, Any]]
    counts: dict[str, int]
    #: Results found valid by a HEAD (``verify``), for the index: key hash -> (result hash, made hash).
    verified: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: The first error that stopped the batch, if any.
    fatal: list[BaseException] = field(default_factory=list)
    journal: ProgressJournal | None = None


class _Sender:
    def __init__(self, run: BatchRun, plan: Plan) -> None:
        self.run = run
        self.settings = run.settings
        self.plan = plan
        self.pipeline = run.pipeline
        self.counts = dict.fromkeys(STATES, 0)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sent = Sent(entries=[], counts=self.counts)
        self.entries: list[dict[str, Any] | None] = [None] * len(plan.items)
        self.journal = ProgressJournal(
            run.obs,
            run.store,
            header={
                "api": self.pipeline.api.slug,
                "params_digest": self.pipeline.digest,
                "run_id": run.run_id,
                "shard": run.store.shard or None,
            },
            every=self.settings.checkpoint_every,
            interval=self.settings.checkpoint_interval,
            enabled=not run.dry,
        )
        self.sent.journal = self.journal
        self.writer: ResultWriter | None = None

    def count(self, status: str) -> None:
        with self.lock:
            self.counts[status] = self.counts.get(status, 0) + 1

    def halt(self, exc: BaseException) -> None:
        """Stop the batch: no new call is made (what is queued for writing is still written)."""
        with self.lock:
            if not self.stop.is_set():
                self.sent.fatal.append(exc)
            self.stop.set()

    def finish(self, item: Item, entry: dict[str, Any]) -> None:
        """An image's final entry (from a slot or a writer): recorded, checkpointed, counted."""
        self.entries[item.pos] = entry
        if not self.run.dry:
            self.journal.add(entry)
        self.count(entry["status"])

    def ensure_may_send(self) -> None:
        """Right before each call: raise :class:`NotAttempted` once the batch stops, loses its lease
        (the heartbeat's last verdict: no request) or spends its budget. The hook's rate limiter
        paces the call itself."""
        if self.stop.is_set():
            raise NotAttempted("the batch stopped after an error that fails every image")
        lease = self.plan.lease
        if lease is not None and not lease.held:
            self.halt(lease.lost_error())
            raise NotAttempted("the lease was lost to another run")
        budget = self.run.budget
        if budget.refuse_if_spent():  # the client takes from it per try; this only stops early
            raise NotAttempted(f"max_calls={budget.limit} reached")

    def verify(self, item: Item) -> bool:
        """HEAD a listed result the index does not vouch for; True if it is valid (then it is skipped)."""
        assert item.key is not None and item.src is not None
        if self.pipeline.existing(item.key, item.src) is None:
            return False
        kh = self.plan.hashes[item.pos]
        listed = self.plan.prior.others.get(kh)
        with self.lock:
            self.sent.verified[kh] = (etag_hash(listed), made_hash(self.pipeline.digest, item.src.etag))
        return True

    def send_item(self, item: Item) -> dict[str, Any]:
        """One image: skipped if its listed result is valid, checked (a dry run), else sent and its
        answer handed to the writers; returns its entry, or a marker of those two outcomes."""
        if item.action == "verify" and item.key is not None and self.verify(item):
            return _SKIPPED
        if self.run.dry:
            return self.dry_check(item)
        if self.stop.is_set():
            return not_attempted(item.source)
        return self.call_and_hand_over(item)

    def call_and_hand_over(self, item: Item) -> dict[str, Any]:
        """Send one image and hand its answer to the writers; an image refused before its call
        (the batch stopping, the budget spent) is not attempted."""
        try:
            response, summary = self.recognise(item)
        except NotAttempted as why:
            return not_attempted(item.source, str(why))
        except HuaweiCloudBudgetExceededError as why:
            if getattr(why, "attempts", None):
                raise  # tried, then a retry was refused: failed (and possibly billed)
            return not_attempted(item.source, str(why))
        if item.key is None:  # the operator requires output_uri; an image without a key cannot be stored
            raise RuntimeError(f"{item.source}: no result key")
        assert self.writer is not None
        self.writer.put(item, response, summary)  # waits while the writers are behind
        return _HANDED_OVER

    def dry_check(self, item: Item) -> dict[str, Any]:
        """A dry run's image: what the service would refuse raises; else it would be called."""
        assert item.src is not None
        if item.src.kind != "obs":
            self.pipeline.check(item.src)
        return {"source": item.source, "status": "would_call", "key": item.key}

    def recognise(self, item: Item) -> tuple[Any, dict[str, Any]]:
        """The OCR call of one image (its source attached first); warns when it may have been billed twice."""
        assert item.src is not None
        self.pipeline.attach(item.src)
        response, summary = self.pipeline.recognise(item.src, ensure_may_send=self.ensure_may_send)
        billed = int(getattr(response, "billed_retries", 0) or 0)
        if billed:
            self.run.log.warning(
                "%s may have been billed %d times (%d retr%s after a try the service may have billed)",
                item.source,
                billed + 1,
                billed,
                "y" if billed == 1 else "ies",
            )
        return response, summary

    def send_and_record(self, item: Item) -> None:
        """:meth:`send_item`, its error recorded as the image's entry (one that fails every image
        stops the batch)."""
        try:
            entry = self.send_item(item)
        except Exception as exc:  # noqa: BLE001 - recorded per image in the manifest
            if isinstance(exc, FATAL):
                self.halt(exc)
            called = isinstance(exc, HuaweiOcrError) and bool(getattr(exc, "attempts", None))
            if self.run.dry:
                entry = {"source": item.source, "status": "rejected", "reason": str(exc)[:500]}
            else:
                entry = failed(item.source, exc, called=called)
        if entry is _SKIPPED:
            self.count("skipped")
        elif entry is not _HANDED_OVER:
            self.finish(item, entry)

    def record_decided(self) -> list[Item]:
        """Record the items decided before sending (skipped, rejected); returns the items to send."""
        todo: list[Item] = []
        for item in self.plan.items:
            if item.action == "skip":
                self.count("skipped")
                continue
            if item.entry is None:
                todo.append(item)
                continue
            if self.run.dry and item.action == "reject":
                item.entry = {
                    "source": item.source,
                    "status": "rejected",
                    "reason": item.entry["error_message"],
                }
            self.finish(item, item.entry)
        return todo

    def send_all(self, todo: list[Item]) -> None:
        """Send ``todo`` through the OCR slots, fed lazily so a stop leaves the rest untouched."""
        concurrency = self.settings.max_concurrency
        if not self.run.dry and todo:
            # As many writers as OCR slots, and one answer waiting between them: a killed task
            # loses at most its calls in flight plus about as many answers not stored yet.
            self.writer = ResultWriter(
                self.pipeline,
                self.run.log,
                threads=concurrency,
                capacity=1,
                finished=self.finish,
                stop=self.halt,
            )
        queue: Iterator[Item] = iter(todo)
        try:
            last_report = self.run_slots(queue, concurrency)
            self.drain_writers(last_report)
        finally:
            if self.writer is not None:
                self.writer.close()
        for item in queue:  # left over after a stop
            self.finish(item, not_attempted(item.source))

    @property
    def tick(self) -> float:
        """Seconds between two looks at the progress (checkpoints and progress lines)."""
        return min(self.settings.progress_interval, self.settings.checkpoint_interval)

    def run_slots(self, queue: Iterator[Item], concurrency: int) -> float:
        """``concurrency`` OCR slots take the images of ``queue`` until it is empty or the batch
        stops; returns when the last progress line was logged."""
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="hwocr-batch") as pool:
            pending: set[Future[None]] = {
                pool.submit(self.send_and_record, item) for _, item in zip(range(concurrency * 2), queue)
            }
            last_report = time.monotonic()
            while pending:
                done, pending = wait(pending, timeout=self.tick, return_when=FIRST_COMPLETED)
                for fut in done:
                    fut.result()
                    self.feed_one(pool, pending, queue)
                last_report = self.checkpoint_and_report(
                    last_report, done=not pending and self.writer is None
                )
        return last_report

    def feed_one(self, pool: ThreadPoolExecutor, pending: set[Future[None]], queue: Iterator[Item]) -> None:
        """The next image to a free slot; once the batch stops, it is not attempted."""
        nxt = next(queue, None)
        if nxt is not None and not self.stop.is_set():
            pending.add(pool.submit(self.send_and_record, nxt))
        elif nxt is not None:
            self.finish(nxt, not_attempted(nxt.source))

    def drain_writers(self, last_report: float) -> None:
        """Wait for the answers still being written, checkpointing and reporting meanwhile."""
        if self.writer is None:
            return
        while not self.writer.wait(self.tick):
            last_report = self.checkpoint_and_report(last_report)
        self.checkpoint_and_report(last_report, done=True)

    def checkpoint_and_report(self, last_report: float, *, done: bool = False) -> float:
        """Between completions: checkpoint what is stored, log progress now and then."""
        self.journal.maybe_flush()
        now = time.monotonic()
        if now - last_report >= self.settings.progress_interval or done:
            log_progress(self.run, self.counts, len(self.plan.items))
            return now
        return last_report


def send(run: BatchRun, plan: Plan) -> Sent:
    """Send every item not decided yet; returns one entry per image with one, in selection order."""
    sender = _Sender(run, plan)
    sender.send_all(sender.record_decided())
    sender.sent.entries = [e for e in sender.entries if e is not None]
    return sender.sent


def log_progress(run: BatchRun, counts: dict[str, int], total: int) -> None:
    finished = sum(counts.values())
    elapsed = max(time.monotonic() - run.started, 1e-6)
    rate = finished / elapsed
    eta = (total - finished) / rate if rate > 0 else float("inf")
    run.log.info(
        "Progress: %d/%d (%.0f%%), %.2f image(s)/s, ETA %s, %d failed so far",
        finished,
        total,
        100.0 * finished / max(total, 1),
        rate,
        "-" if eta == float("inf") else f"{eta:.0f}s",
        counts.get("failed", 0),
    )
