"""Stage 3, send: OCR the images that are not done, ``max_concurrency`` at a time.

Calls are paced by the rate limiter, counted against ``max_calls`` before they are made and
stopped by an error that would fail every image (authentication, not subscribed,
configuration, budget). Each image costs its OCR call and one PUT of its result. Finished
images are checkpointed to OBS as the batch goes (:class:`~airflow_provider_hwocr.runtime.batch.state.ProgressJournal`),
so a killed task loses nothing. A dry run goes through the same stage and only checks.
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
from airflow_provider_hwocr.runtime.batch.entries import STATES, Item, failed, not_attempted, skipped
from airflow_provider_hwocr.runtime.batch.run import BatchRun
from airflow_provider_hwocr.runtime.batch.state import ProgressJournal

#: Errors that will fail every image: the batch stops at the first.
FATAL = (
    HuaweiOcrAuthError,
    HuaweiOcrConfigurationError,
    HuaweiOcrNotFoundError,
    HuaweiCloudBudgetExceededError,
)


class NotAttempted(Exception):
    """Raised by the pre-call hook when an image must not be sent (budget spent, batch stopping)."""


@dataclass
class Sent:
    """What the send stage did: one entry per item, in selection order."""

    entries: list[dict[str, Any]]
    counts: dict[str, int]
    #: Results found valid by a HEAD (``verify``), for the index.
    verified: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The first error that stopped the batch, if any.
    fatal: list[BaseException] = field(default_factory=list)
    journal: ProgressJournal | None = None


class _Sender:
    def __init__(self, run: BatchRun, plan: Plan) -> None:
        self.run = run
        self.plan = plan
        self.pipeline = run.pipeline
        self.counts = dict.fromkeys(STATES, 0)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sent = Sent(entries=[], counts=self.counts)
        self.journal = ProgressJournal(
            run.obs,
            run.store,
            header={
                "api": self.pipeline.api.slug,
                "params_digest": self.pipeline.digest,
                "run_id": run.run_id,
                "shard": run.store.shard or None,
            },
            every=run.task.checkpoint_every,
            interval=run.task.checkpoint_interval,
            enabled=not run.dry,
        )
        self.sent.journal = self.journal
        self.pipeline.before_call = self.before_call
        if not run.dry:
            # max_calls counts billable tries: the OCR client takes one before each try
            # (retries included) and gives back those surely not billed.
            self.pipeline.ocr_hook.budget = run.budget

    def count(self, status: str) -> None:
        with self.lock:
            self.counts[status] = self.counts.get(status, 0) + 1

    def before_call(self) -> None:
        if self.stop.is_set():
            raise NotAttempted("the batch stopped after an error that fails every image")
        budget = self.run.budget
        if budget.refuse_if_spent():  # the client takes from it per try; this only stops early
            raise NotAttempted(f"max_calls={budget.limit} reached")
        if self.run.pace is not None:
            self.run.pace()

    def verify(self, item: Item) -> dict[str, Any] | None:
        """HEAD a listed result the index does not vouch for; its entry if it is valid."""
        assert item.key is not None and item.src is not None
        existing = self.pipeline.existing(item.key, item.src)
        if existing is None:
            return None
        self.sent.verified[item.key] = {
            "p": self.pipeline.digest,
            "s": item.src.etag,
            "e": self.plan.prior.listed.get(item.key),
            "summary": existing.get("summary"),
        }
        return skipped(item.source, item.key, existing["uri"], existing.get("summary"))

    def one(self, item: Item) -> dict[str, Any]:
        src, key, pipeline = item.src, item.key, self.pipeline
        assert src is not None
        if item.action == "verify" and key is not None:
            entry = self.verify(item)
            if entry is not None:
                return entry
        if self.run.dry:
            if src.kind != "obs":
                pipeline.check(src)  # raises on what the service would refuse
            return {"source": item.source, "status": "would_call", "key": key}
        if self.stop.is_set():
            return not_attempted(item.source)
        try:
            pipeline.attach(src)
            outcome = pipeline.send(src, key)
        except NotAttempted as why:
            return not_attempted(item.source, str(why))
        except HuaweiCloudBudgetExceededError as why:
            if getattr(why, "attempts", None):
                raise  # tried, then a retry was refused: failed (and possibly billed)
            return not_attempted(item.source, str(why))
        if outcome.billed_retries:
            self.run.log.warning(
                "%s may have been billed %d times (%d retr%s after a try the service may have billed)",
                item.source,
                outcome.billed_retries + 1,
                outcome.billed_retries,
                "y" if outcome.billed_retries == 1 else "ies",
            )
        return {
            "source": item.source,
            "status": "done",
            "key": key,
            "result_uri": outcome.result_uri,
            "request_id": outcome.request_id,
            "attempts": outcome.attempts,
            "billed_retries": outcome.billed_retries,
            "params_digest": pipeline.digest,
            "source_etag": src.etag,
            "result_etag": outcome.result_etag,
            "summary": outcome.value.get("summary") if isinstance(outcome.value, dict) else None,
        }

    def guarded(self, item: Item) -> dict[str, Any]:
        try:
            entry = self.one(item)
        except Exception as exc:  # noqa: BLE001 - recorded per image in the manifest
            if isinstance(exc, FATAL):
                self.stop.set()
                self.sent.fatal.append(exc)
            called = isinstance(exc, HuaweiOcrError) and bool(getattr(exc, "attempts", None))
            if self.run.dry:
                entry = {"source": item.source, "status": "rejected", "reason": str(exc)[:500]}
            else:
                entry = failed(item.source, exc, called=called)
        if not self.run.dry:
            self.journal.add(entry)
        self.count(entry["status"])
        return entry

    def decided(self) -> tuple[list[dict[str, Any] | None], list[Item]]:
        """Entries of items decided before sending (skipped, rejected), and the items to send."""
        entries: list[dict[str, Any] | None] = [None] * len(self.plan.items)
        todo: list[Item] = []
        for item in self.plan.items:
            if item.entry is None:
                todo.append(item)
                continue
            if self.run.dry and item.action == "reject":
                item.entry = {
                    "source": item.source,
                    "status": "rejected",
                    "reason": item.entry["error_message"],
                }
            entries[item.pos] = item.entry
            self.count(item.entry["status"])
        return entries, todo

    def pool(self, entries: list[dict[str, Any] | None], todo: list[Item]) -> None:
        """Send ``todo`` through a pool fed lazily, so a stop leaves the rest untouched."""
        task, concurrency = self.run.task, self.run.task.max_concurrency
        queue: Iterator[Item] = iter(todo)
        last_report = time.monotonic()
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="hwocr-batch") as pool:
            pending: dict[Future[dict[str, Any]], int] = {}
            for item in [i for _, i in zip(range(concurrency * 2), queue)]:
                pending[pool.submit(self.guarded, item)] = item.pos
            tick = min(task.progress_interval, task.checkpoint_interval)
            while pending:
                done, _ = wait(pending, timeout=tick, return_when=FIRST_COMPLETED)
                for fut in done:
                    entries[pending.pop(fut)] = fut.result()
                    nxt = next(queue, None)
                    if nxt is not None and not self.stop.is_set():
                        pending[pool.submit(self.guarded, nxt)] = nxt.pos
                    elif nxt is not None:
                        entries[nxt.pos] = not_attempted(nxt.source)
                        self.count("not_attempted")
                self.journal.maybe_flush()
                now = time.monotonic()
                if now - last_report >= task.progress_interval or not pending:
                    log_progress(self.run, self.counts, len(entries))
                    last_report = now
        for item in queue:  # left over after a stop
            entries[item.pos] = not_attempted(item.source)
            self.count("not_attempted")


def send(run: BatchRun, plan: Plan) -> Sent:
    """Send every item not decided yet; returns one entry per item, in selection order."""
    sender = _Sender(run, plan)
    entries, todo = sender.decided()
    sender.pool(entries, todo)
    sender.sent.entries = [e for e in entries if e is not None]
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
