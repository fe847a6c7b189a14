"""Stage 3, send: OCR the images that are not done, ``max_concurrency`` calls at a time.

Calls are paced by the OCR hook's rate limiter, counted against ``max_calls`` before they are made and
stopped by an error that would fail every image (authentication, not subscribed,
configuration, budget). Each image costs its OCR call and one PUT of its result; the PUT is
the writer stage's (:mod:`~airflow_provider_hwocr.runtime.batch.write`), so an OCR slot takes
its next image as soon as it has handed its answer over. Finished images are checkpointed to
OBS as the batch goes (:class:`~airflow_provider_hwocr.runtime.batch.state.ProgressJournal`),
each once its result is stored, so a killed task loses nothing. A dry run goes through the
same stage and only checks.

Pages are the unit of work. A PDF or OFD document is opened here, one at a time, just ahead of
the OCR slots (:meth:`_Sender.work`, a generator the slots are fed from): downloaded once if its
page count is not known from its pages' keys or its pages need its bytes, counted, its chosen
pages checked against ``max_pages`` before any call (else it ends ``rejected``), the pages
stored already skipped, and one :class:`~airflow_provider_hwocr.runtime.batch.entries.PageItem`
made per page to send; a slot prepares its page (a one-page PDF, a rendered PNG) right before
the call. So a task holds the bytes of the few documents whose pages are in flight, not a day's.
Once the batch stops or the budget is spent, no document is opened any more.
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
    HuaweiOcrValidationError,
)
from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError
from airflow_provider_hwocr.runtime.batch.aftercare import after_send
from airflow_provider_hwocr.runtime.batch.decide import Plan, page_actions
from airflow_provider_hwocr.runtime.batch.entries import (
    STATES,
    Item,
    PageItem,
    failed,
    not_attempted,
    rejected,
    with_page,
)
from airflow_provider_hwocr.runtime.batch.entrylog import EntryLog
from airflow_provider_hwocr.runtime.batch.review import Holder
from airflow_provider_hwocr.runtime.batch.run import BatchRun
from airflow_provider_hwocr.runtime.batch.state import ProgressJournal, etag_hash, key_hash, made_hash
from airflow_provider_hwocr.runtime.batch.tables import RunRows
from airflow_provider_hwocr.runtime.batch.write import ResultWriter
from airflow_provider_hwocr.runtime.costs import estimate_cost
from airflow_provider_hwocr.runtime.documents import Document, check_image_pages
from airflow_provider_hwocr.runtime.task import price_of

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

    #: An :class:`~airflow_provider_hwocr.runtime.batch.entrylog.EntryLog` (spooled, read as a list of
    #: dicts), or a list of entry dicts.
    entries: EntryLog | list[dict[str, Any]]
    counts: dict[str, int]
    #: Results found valid by a HEAD (``verify``), for the index: key hash -> (result hash, made hash).
    verified: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: The first error that stopped the batch, if any.
    fatal: list[BaseException] = field(default_factory=list)
    journal: ProgressJournal | None = None
    #: PDF and OFD documents selected, and the units of work of their pages (each also counted
    #: in ``counts``); 0 and 0 for a batch of images.
    documents: int = 0
    pages: int = 0
    #: With ``review_below``: the held pages' descriptors and the keys the tables leave out
    #: (:func:`~airflow_provider_hwocr.runtime.batch.review.settle`); ``None`` without.
    review: Any = None
    #: With ``table_uri``: the rows of the results this run stored, made by the writers as they stored
    #: them (:func:`~airflow_provider_hwocr.runtime.batch.tables.write_tables` takes them); else ``None``.
    tables: RunRows | None = None


class _Sender:
    def __init__(self, run: BatchRun, plan: Plan) -> None:
        self.run = run
        self.settings = run.settings
        self.plan = plan
        self.pipeline = run.pipeline
        self.counts = dict.fromkeys(STATES, 0)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        #: The final entries, in selection order, a document's by page (its own entry, if any, first).
        self.entries = EntryLog()
        self.sent = Sent(entries=self.entries, counts=self.counts)
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
            log=run.log,
            finished=self.entries.finished_since,  # the log keeps them, not the journal
        )
        self.sent.journal = self.journal
        self.writer: ResultWriter | None = None
        self.billed = 0  # retries after tries that may have been billed, so far
        #: Pages handed to the slots and not finished yet, per document (its position): once its last
        #: page is finished, what its source holds to send it goes, as an image's does.
        self.pages_left: dict[int, int] = {}
        #: What the progress line counts to: an image is one, a document its chosen pages once they
        #: are known (from its pages' keys, or once it is read), one until then.
        self.units = 0
        self.has_documents = False
        self.start = ProgressStart(time.monotonic(), 0)

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
        """An image's or a page's final entry (from a slot or a writer): recorded, checkpointed, counted.
        A page's names its page and the document's page count; a document's entries are listed together."""
        page = None
        if isinstance(item, PageItem):
            entry = with_page(entry, item.page, item.count or item.page)
            page = item.page
            with self.lock:
                self.sent.pages += 1
                left = self.pages_left.pop(item.pos, 1) - 1
                if left:
                    self.pages_left[item.pos] = left
            if not left:  # the document's last page: its signed URL or bytes go
                _let_go(item)
        self.entries.add(entry, item.pos, page)  # spooled: the dict is not kept (see entrylog)
        if page is None and not item.is_document:
            _let_go(item)
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
        """One image or page: skipped if its listed result is valid, checked (a dry run), else sent and
        its answer handed to the writers; returns its entry, or a marker of those two outcomes. A
        document not opened (the batch stopped, the budget was spent) is not attempted."""
        if item.is_document:
            self.ensure_may_send()  # raises NotAttempted: why it was not opened
            return not_attempted(item.source, "the batch stopped before it was opened")
        if item.action == "verify" and item.key is not None and self.verify(item):
            return _SKIPPED
        if self.run.dry:
            return self.dry_check(item)
        if self.stop.is_set():
            return not_attempted(item.source)
        return self.call_and_hand_over(item)

    def call_and_hand_over(self, item: Item) -> dict[str, Any]:
        """Send one image and hand its answer to the writers; an image refused before its call
        (the batch stopping, the budget spent) is not attempted. An answer an earlier run paid for and
        kept (its result not stored) is stored instead, without a call."""
        kept = self.plan.prior.kept.take(item, self.pipeline.digest, self.run.store)
        try:
            response, summary = kept or self.recognise(item)
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
        """A dry run's image: what the service would refuse raises; else it would be called. A page
        was checked when its document was opened (its pages are not prepared)."""
        assert item.src is not None
        if item.src.kind != "obs" and not isinstance(item, PageItem):
            self.pipeline.check(item.src)
        return {"source": item.source, "status": "would_call", "key": item.key}

    def recognise(self, item: Item) -> tuple[Any, dict[str, Any]]:
        """The OCR call of one image or page (its source attached first, a page's body prepared);
        warns when it may have been billed twice."""
        assert item.src is not None
        src, params, what = item.src, None, item.source
        if isinstance(item, PageItem):
            doc, item.doc = item.doc, None  # its bytes go with the document's last page
            body = doc.body(item.page)
            src, params, what = body.source, body.params, f"{item.source} page {item.page}"
        self.pipeline.attach(src)
        response, summary = self.pipeline.recognise(
            src, ensure_may_send=self.ensure_may_send, page_params=params
        )
        billed = int(getattr(response, "billed_retries", 0) or 0)
        if billed:
            with self.lock:
                self.billed += billed
            self.run.log.warning(
                "%s may have been billed %d times (%d retr%s after a try the service may have billed)",
                what,
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
        except NotAttempted as why:  # a document not opened
            entry = not_attempted(item.source, str(why))
        except Exception as exc:  # noqa: BLE001 - recorded per image in the manifest
            if isinstance(exc, FATAL):
                self.halt(exc)
            called = isinstance(exc, HuaweiOcrError) and bool(getattr(exc, "attempts", None))
            if self.run.dry:
                entry = {"source": item.source, "status": "rejected", "reason": str(exc)[:500]}
            else:
                entry = failed(item.source, exc, called=called)
        finally:
            if isinstance(item, PageItem):
                item.doc = None
        if entry is _SKIPPED:
            self.count("skipped")
        elif entry is not _HANDED_OVER:
            self.finish(item, entry)

    def record_decided(self) -> list[Item]:
        """Record the items decided before sending (skipped, rejected); returns the items to send."""
        todo: list[Item] = []
        for item in self.plan.items:
            self.units += _units(item)
            if item.is_document:  # its chosen pages done before, known from their keys
                self.has_documents = True
                self.sent.documents += 1
                self.count_skipped(item.done, pages=True)
            if item.action == "skip":
                if not item.is_document:
                    self.count_skipped(1)
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

    def recount(self, delta: int) -> None:
        """A document's pages now known: what the progress line counts to changes by ``delta``."""
        if delta:
            with self.lock:
                self.units += delta

    def count_skipped(self, n: int, *, pages: bool = False) -> None:
        """``n`` images or pages done before (counted, not listed)."""
        with self.lock:
            self.counts["skipped"] = self.counts.get("skipped", 0) + n
            if pages:
                self.sent.pages += n

    # --- documents, opened one at a time ahead of the slots -------------------------------------

    def work(self, todo: list[Item]) -> Iterator[Item]:
        """The images of ``todo`` and the pages to send of its documents, a document opened when the
        slots come to it; once the batch stops or the budget is spent, documents are not opened
        (each ends not attempted)."""
        for item in todo:
            spent = not self.run.dry and self.run.budget.exhausted  # a dry run calls nothing
            if not item.is_document or self.stop.is_set() or spent:
                yield item
            else:
                yield from self.open(item)

    def open(self, item: Item) -> Iterator[Item]:
        """One document's pages to send; a refused document (``max_pages``, ``pages``, unreadable)
        ends ``rejected`` here, before any call."""
        estimate = _units(item)
        try:
            found = self.pages_of(item)
        except Exception as exc:  # noqa: BLE001 - recorded per document in the manifest
            if isinstance(exc, FATAL):
                self.halt(exc)
            refused = self.run.dry or isinstance(exc, HuaweiOcrValidationError)
            self.recount(item.done + 1 - estimate)  # its pages done before, and its own entry
            self.finish(
                item, rejected(item.source, exc) if refused else failed(item.source, exc, called=False)
            )
            return
        if found is None:  # not a PDF or OFD after all: an image
            self.recount(1 - estimate)
            yield item
            return
        doc, count, pages = found
        self.recount((len(doc.pages) if doc is not None else estimate) - estimate)  # its chosen pages
        if pages:
            with self.lock:
                self.pages_left[item.pos] = len(pages)
        for page in pages:
            key = self.run.store.page_key(item.stem or "", page, count)
            yield PageItem(item, page, count, key, doc)

    def pages_of(self, item: Item) -> tuple[Document | None, int, list[int]] | None:
        """(the document, its page count, its chosen pages to send): from what the keys say when the
        count is known and holds, else read once; ``None`` when its bytes are not a PDF or OFD."""
        if item.count is not None:
            found = self.known_pages(item)
            if found is not None:
                return found
        assert item.src is not None
        doc = self.pipeline.open_document(item.src)
        if doc is None:
            item.kind, item.stem = None, None
            check_image_pages(self.settings.ocr.pages, item.source)
            item.key = self.pipeline.result_key(item.src)
            return None
        if not self.pipeline.skip_existing:  # skip_existing=False: every chosen page is sent again
            return doc, doc.count, list(doc.pages)
        made = made_hash(self.pipeline.digest, item.src.etag)
        actions = page_actions(self.plan.prior, self.run.store, item.stem or "", doc.count, doc.pages, made)
        todo, _ = self.settle(item, doc.count, actions)
        return doc, doc.count, todo

    def known_pages(self, item: Item) -> tuple[Document | None, int, list[int]] | None:
        """The pages to send when the keys say the page count: ``None`` when that count is only a
        guess no stored page confirms (then the document is read)."""
        assert item.src is not None and item.kind is not None and item.count is not None
        todo, confirmed = self.settle(item, item.count, list(item.pages))
        if not (confirmed or item.sure):
            return None
        if not todo:
            return None, item.count, []
        doc = self.pipeline.known_document(item.src, item.kind, item.count)
        if doc.needs_data(inline=self.pipeline.inline) and not self.run.dry:
            doc = self.pipeline.open_document(item.src) or doc
            if doc.count != item.count:
                return None
        return doc, item.count, todo

    def settle(self, item: Item, count: int, actions: list[tuple[int, str]]) -> tuple[list[int], bool]:
        """(the pages to send, whether a page's stored result was found valid): each page listed but
        not vouched for is HEADed once (valid: skipped); the pages done before are counted skipped."""
        assert item.src is not None and item.stem is not None
        todo: list[int] = []
        confirmed = False
        for page, action in actions:
            if action == "skip":
                self.count_skipped(1, pages=True)
                continue
            if action == "verify" and self.verify_page(item, page, count):
                confirmed = True
                self.count_skipped(1, pages=True)
                continue
            todo.append(page)
        return todo, confirmed

    def verify_page(self, item: Item, page: int, count: int) -> bool:
        """HEAD a listed page result the index does not vouch for; True if it is valid."""
        assert item.src is not None and item.stem is not None
        key = self.run.store.page_key(item.stem, page, count)
        if self.pipeline.existing(key, item.src) is None:
            return False
        kh = key_hash(key)
        with self.lock:
            self.sent.verified[kh] = (
                etag_hash(self.plan.prior.others.get(kh)),
                made_hash(self.pipeline.digest, item.src.etag),
            )
        return True

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
                journal=self.journal,  # keeps an answer whose result cannot be stored
                **self.review_gate(),  # review_below: an uncertain page ends held
                **self.table_rows(),  # table_uri: each stored page's rows, from the envelope written
            )
        queue: Iterator[Item] = self.work(todo)
        try:
            last_report = self.run_slots(queue, concurrency)
            self.drain_writers(last_report)
        finally:
            if self.writer is not None:
                self.writer.close()
        for item in queue:  # left over after a stop
            self.finish(item, not_attempted(item.source))

    def review_gate(self) -> dict[str, Any]:
        """With ``review_below``: what marks a page that waits for a person before its result is
        stored (``mark``) and makes its entry ``held`` after (``hold``); nothing without it."""
        rule = self.settings.ocr.review
        if rule is None:
            return {}
        holder = Holder(self.run, rule)
        return {"mark": holder.mark, "hold": holder.hold}

    def table_rows(self) -> dict[str, Any]:
        """With ``table_uri``: what makes the rows of each result as the writers store it; nothing without."""
        if self.settings.table is None:
            return {}
        self.sent.tables = RunRows(self.run)
        return {"tabled": self.sent.tables.add}

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
        with self.lock:
            self.start.note(self.counts, now)
        if now - last_report >= self.settings.progress_interval or done:
            self.log_progress(now)
            return now
        return last_report

    def log_progress(self, now: float) -> None:
        """One progress line: this run's pace and ETA, its calls and estimated cost so far."""
        hook = self.pipeline.ocr_hook
        price = price_of(self.settings.ocr, hook)
        with self.lock:
            counts, billed = dict(self.counts), self.billed
        cost = estimate_cost(counts.get("done", 0) + billed, price)
        message, args = progress_line(
            counts,
            self.units,
            self.start,
            now,
            calls=int(getattr(hook, "requests_sent", 0) or 0),
            cost="unknown (no price_per_call)" if cost is None else f"{cost:g}",
            unit="images and pages" if self.has_documents else "images",
        )
        self.run.log.info(message, *args)


def _units(item: Item) -> int:
    """What an item counts for in the progress line: a document its chosen pages when its page count
    is known (those done before and those left), else one; an image one."""
    if item.is_document and item.count is not None:
        return item.done + len(item.pages)
    return 1


def _let_go(item: Item) -> None:
    """An image whose entry is final: what was fetched or signed to send it (an OBS source's bytes or
    signed URL, made again if ever needed) is not kept until the batch ends. Its ETag and identity stay
    (kept answers are matched by them). A page shares its document's source: it is let go with the
    document's last page."""
    src = item.src
    if src is not None and src.kind == "obs" and src.location is not None:
        src.url = None
        src.data = None


def send(run: BatchRun, plan: Plan) -> Sent:
    """Send every item not decided yet; returns one entry per image with one, in selection order."""
    sender = _Sender(run, plan)
    todo = sender.record_decided()
    with sender.lock:  # this run's pace counts from here, not the images done before
        finished = sum(sender.counts.values()) - sender.counts.get("skipped", 0)
    sender.start = ProgressStart(time.monotonic(), finished)
    sender.send_all(todo)
    sender.sent.documents = sum(1 for item in plan.items if item.is_document)
    after_send(run, plan, sender.sent)  # a lost lease fenced, kept answers not used kept
    return sender.sent


@dataclass
class ProgressStart:
    """Where this run's sending started: its clock, the items finished before it sent any, and when
    it first finished one by sending (its pace is measured from there, past its first call's setup)."""

    started: float
    #: Items finished, not as skipped, when sending started (rejected before any call).
    finished: int
    first_at: float | None = None
    first_sent: int = 0

    def sent(self, counts: dict[str, int]) -> int:
        """Items this run finished by sending (not skipped, not decided before it sent)."""
        return max(sum(counts.values()) - counts.get("skipped", 0) - self.finished, 0)

    def note(self, counts: dict[str, int], now: float) -> None:
        """After a completion: the first item this run finished by sending starts its pace."""
        if self.first_at is None:
            sent = self.sent(counts)
            if sent:
                self.first_at, self.first_sent = now, sent

    def rate(self, sent: int, now: float) -> float:
        """Items per second this run finishes by sending."""
        if self.first_at is not None and sent > self.first_sent and now > self.first_at:
            return (sent - self.first_sent) / (now - self.first_at)
        return sent / max(now - self.started, 1e-6)


def progress_line(
    counts: dict[str, int],
    total: int,
    start: ProgressStart,
    now: float,
    *,
    calls: int,
    cost: str,
    unit: str = "images",
) -> tuple[str, tuple[Any, ...]]:
    """The progress line: the rate and the ETA from what this run finished by sending since it
    started (images skipped as done before, at the start or by a HEAD, are not its pace). ``total``
    and the counts are in ``unit``: images, or images and pages (a document's, once known)."""
    finished = sum(counts.values())
    rate = start.rate(start.sent(counts), now)
    eta = (total - finished) / rate if rate > 0 else float("inf")
    message = (
        "Progress: %d/%d %s (%.0f%%), %.2f/s sent by this run, ETA %s, %d failed so far; "
        "%d call(s), estimated cost %s"
    )
    return (
        message,
        (
            finished,
            total,
            unit,
            100.0 * finished / max(total, 1),
            rate,
            "-" if eta == float("inf") else f"{eta:.1f}s" if eta < 60 else f"{eta:.0f}s",
            counts.get("failed", 0),
            calls,
            cost,
        ),
    )
