"""Stage 4, record: what the run did, in OBS and in XCom, and whether the task fails.

A real run writes the index if it changed, then one record per run and try (history, sent in
chunks from a temporary file) and the latest manifest (the same bytes, copied by OBS), prunes old history
if it wrote results, and deletes the progress parts it covers. A run that changes nothing writes
two records of about a kilobyte each. A dry run writes nothing and reports what would be called,
skipped and rejected, and what it would cost.

Pages are the unit of work: ``total``, ``done``, ``skipped``, ``failed`` and ``not_attempted``
count pages (an image is one page), ``images_possibly_billed_twice`` counts pages, and a
manifest entry names a document's ``page`` and ``pages``. A run that selected a PDF or OFD
document (or refused one) also counts ``documents``, the ``pages`` of documents among the
units and the documents ``rejected`` before any call; a run of images has the totals it always had.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from airflow_provider_hwocr.client.documents import parse_pages
from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError, HuaweiOcrBatchFailedError
from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsError
from airflow_provider_hwocr.runtime.batch.decide import Plan
from airflow_provider_hwocr.runtime.batch.entries import REVIEW_STATES, STATES, Item
from airflow_provider_hwocr.runtime.batch.entrylog import RECOVERED, TWICE, EntryLog
from airflow_provider_hwocr.runtime.batch.lease import LeaseRecord, owner_of
from airflow_provider_hwocr.runtime.batch.run import BatchRun
from airflow_provider_hwocr.runtime.batch.send import Sent
from airflow_provider_hwocr.runtime.batch.state import (
    MANIFEST_FORMAT,
    Index,
    SpooledBody,
    manifest_opening,
    next_index,
    now_utc,
    prune_history,
)
from airflow_provider_hwocr.runtime.contract import RunLocations
from airflow_provider_hwocr.runtime.costs import estimate_cost
from airflow_provider_hwocr.runtime.store import ResultStore
from airflow_provider_hwocr.runtime.task import locations, price_of

#: Most rejected images whose reasons a dry run puts in XCom (all are in the log count).
MAX_REASONS_IN_XCOM = 100
_JSON = "application/json"


class ResultUris(Sequence[str]):
    """The result URIs of a run (done and skipped images and pages), made when read, not held.

    A re-run of 100,000 finished images would otherwise hold 100,000 more strings for
    lineage and the asset event, which keep only a few of them. A document skipped whole
    names its pages' results (from its stem and page count), made when read too.
    """

    def __init__(
        self, store: ResultStore, items: list[Item], done: Sequence[str], also: list[str], pages: Any = None
    ) -> None:
        self._store = store
        self._done = done  # this run's results
        self._keys = _SkippedKeys(store, [i for i in items if i.action == "skip"], pages)  # done before
        self._also = also  # what else the run wrote (the manifest)

    def __len__(self) -> int:
        return len(self._done) + len(self._keys) + len(self._also)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if index < len(self._done):
            return self._done[index]
        index -= len(self._done)
        if index < len(self._keys):
            return self._store.uri(self._keys[index])
        return self._also[index - len(self._keys)]

    def __iter__(self) -> Iterator[str]:
        yield from self._done
        for key in self._keys:
            yield self._store.uri(key)
        yield from self._also


class _SkippedKeys(Sequence[str]):
    """The result keys of skipped items: an image's key, or every chosen page's key of a document
    skipped whole (made when read)."""

    def __init__(self, store: ResultStore, items: list[Item], pages: Any) -> None:
        self._store = store
        self._spec = pages
        self._images = [i.key for i in items if i.key and not i.is_document]
        self._documents = [(i.stem, i.count, i.done) for i in items if i.is_document and i.stem and i.count]
        self._pages = sum(done for _, _, done in self._documents)

    def __len__(self) -> int:
        return len(self._images) + self._pages

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < len(self._images):
            return self._images[index]
        index -= len(self._images)
        for key in self._document_keys():
            if index == 0:
                return key
            index -= 1
        raise IndexError(index)

    def __iter__(self) -> Iterator[str]:
        yield from self._images
        yield from self._document_keys()

    def _document_keys(self) -> Iterator[str]:
        """The keys of the chosen pages (``pages=``) of each document skipped whole."""
        for stem, count, _ in self._documents:
            for page in parse_pages(self._spec, count):
                yield self._store.page_key(stem, page, count)


@dataclass
class Report:
    """What the record stage wrote; ``xcom`` is the task's return value."""

    manifest_uri: str
    history_uri: str
    totals: dict[str, Any]
    billing: dict[str, Any]
    #: What the run read and wrote, for lineage, links and the asset event.
    locations: RunLocations
    #: With ``review_below``: the held pages' descriptors (the XCom's ``held``); else ``None``.
    held: list[dict[str, Any]] | None = None

    @property
    def sources(self) -> Sequence[Any]:
        return self.locations.sources

    @property
    def results(self) -> Sequence[str | None]:
        return self.locations.results

    @property
    def xcom(self) -> dict[str, Any]:
        return {
            "manifest_uri": self.manifest_uri,
            "history_uri": self.history_uri,
            "totals": self.totals,
            "billing": self.billing,
            "this_run": this_run(self.billing),
            **({"held": self.held} if self.held is not None else {}),
        }


def this_run(billing: dict[str, Any]) -> dict[str, Any]:
    """This run's calls, billed retries and estimated cost (``None`` without a price), from its billing."""
    return {
        "calls": billing["requests_sent"],
        "billed_retries": billing["billed_retries"],
        "estimated_cost": billing["estimated_cost"],
    }


def totals_of(sent: Sent, duplicates: int) -> tuple[dict[str, Any], int]:
    """The manifest's ``totals`` and the number of retries after tries that may have been billed.

    The counts are of pages (an image is one); with documents (or a document refused), also
    ``documents``, the ``pages`` of documents among them and the documents ``rejected``.
    """
    entries = EntryLog.of(sent.entries)
    billed_retries = entries.billed_retries
    # With review_below (settled), the review states too: a page ends in exactly one state.
    counts = {s: sent.counts.get(s, 0) for s in (*STATES, *REVIEW_STATES) if s in STATES or s in sent.counts}
    totals: dict[str, Any] = {
        "total": sum(counts.values()) + sent.counts.get("rejected", 0),
        **counts,
        "duplicates": duplicates,
        "billed_retries": billed_retries,
        # Retried after a billed try, or finished once another run may have called it too (a lost lease).
        "images_possibly_billed_twice": entries.count(TWICE),
    }
    recovered = entries.count(RECOVERED)
    if recovered:  # answers an earlier run paid for and kept, stored by this run without a call
        totals["recovered"] = recovered
    totals.update(page_totals(sent))
    return totals, billed_retries


def paid_held(sent: Sent) -> int:
    """Pages this run called and stored that wait for review: paid like ``done`` ones (not those held again)."""
    return EntryLog.of(sent.entries).paid_held()


def page_totals(sent: Sent) -> dict[str, int]:
    """With documents (or a document refused): the documents ``rejected`` before any call, the
    ``documents`` selected and the ``pages`` of documents among the units; else nothing (a batch of
    images has the totals it always had)."""
    refused = sent.counts.get("rejected", 0)
    if not (sent.documents or refused):
        return {}
    return {"rejected": refused, "documents": sent.documents, "pages": sent.pages}


def billing_of(run: BatchRun, totals: dict[str, Any], billed_retries: int, held: int = 0) -> dict[str, Any]:
    """The manifest's ``billing``: requests sent, billed retries, and what it cost at the price per call."""
    hook = run.pipeline.ocr_hook
    price = price_of(run.settings.ocr, hook)
    return {
        "requests_sent": hook.requests_sent,
        "billed_retries": billed_retries,
        "price_per_call": price,
        # Billed: every image sent successfully, held for review or not (not those recovered: an
        # earlier run paid for them), plus every retry after a try that may have been billed.
        "estimated_cost": estimate_cost(
            totals["done"] + held - totals.get("recovered", 0) + billed_retries, price
        ),
    }


def record(run: BatchRun, plan: Plan, sent: Sent) -> Report:
    """The index (if it changed), the run's record in the history and as the latest manifest; old parts go."""
    store = run.store
    sent.entries = entries = EntryLog.of(sent.entries)  # a list given (a test's) is spooled too
    totals, billed_retries = totals_of(sent, plan.duplicates)
    billing = billing_of(run, totals, billed_retries, paid_held(sent))
    when = now_utc()
    unique = sent.journal.token[:8] if sent.journal is not None else uuid.uuid4().hex[:8]
    history_key = store.history_key(run.run_id, run.try_number, when, map_index=run.map_index, unique=unique)
    latest_key = store.manifest_key(run.map_index)
    index, changed = next_index(plan.prior, sent.entries, sent.verified)
    # Without the lease (nothing to send) another run may be writing: its index and parts are left alone.
    if changed and plan.lease is not None:  # before the manifests: a run killed in between leaves its parts
        _write_index(run, index)
    manifest = {
        **_manifest_head(run, when),
        "totals": totals,
        "billing": billing,
        "history_uri": store.uri(history_key),
        "index_uri": store.uri(store.index_key),
        "index_entries": len(index),
        "map_index": run.map_index,
        "overlap": overlap_record(run, plan),
        # Images skipped as done are counted in totals, not listed: they are in the index.
    }
    with entries.manifest_file(manifest_opening(manifest)) as body:  # never held whole
        _write_records(run, body, history_key, latest_key)
    _clean_up(run, plan, sent, pruned=changed or bool(totals["done"]))
    # This run's results (a page settled from the review ledger was done before: among the skipped).
    done_uris = entries.result_uris()  # read from the log when asked for
    report = Report(
        manifest_uri=store.uri(latest_key),
        history_uri=store.uri(history_key),
        totals=totals,
        billing=billing,
        held=None if sent.review is None else sent.review.held,
        locations=locations(
            run.settings.ocr,
            run.pipeline.ocr_hook,
            sources=[item.source for item in plan.items],
            results=ResultUris(store, plan.items, done_uris, [store.uri(latest_key)], run.pipeline.pages),
            results_prefix=store.root_uri,
            source_prefix=run.settings.source.folder_uri if run.settings.source is not None else None,
        ),
    )
    _log_report(run, report, billed_retries)
    return report


def _write_index(run: BatchRun, index: Index) -> None:
    store, pipeline = run.store, run.pipeline
    header = {
        "api": pipeline.api.slug,
        "prefix": store.prefix,
        "shard": store.shard or None,
        "run_id": run.run_id,
    }
    run.obs.put_bytes(
        store.bucket, store.index_key, index.to_bytes(header), content_type="application/octet-stream"
    )


def _manifest_head(run: BatchRun, when: datetime) -> dict[str, Any]:
    """The manifest's first members: what was run, by whom, when."""
    pipeline, settings = run.pipeline, run.settings
    return {
        "format": MANIFEST_FORMAT,
        "api": pipeline.api.slug,
        "parameters": pipeline.params,
        "params_digest": pipeline.digest,
        "output_uri": run.store.root_uri,
        "run_id": run.run_id,
        "try_number": run.try_number,
        "shard": {"index": run.shard, "count": settings.shard_count} if run.shard is not None else None,
        "created_at": when.isoformat(timespec="seconds"),
        "elapsed_seconds": round(time.monotonic() - run.started, 3),
    }


def _write_records(run: BatchRun, body: SpooledBody, history_key: str, latest_key: str) -> None:
    """The run's record in the history, sent once (in chunks from the spooled file); then the same
    bytes as the latest manifest and at ``manifest_uri``, each copied by OBS from the history record
    (nothing sent again). A copy OBS refuses (another region's bucket, a store without copies) is sent."""
    obs, store = run.obs, run.store

    def send(bucket: str, key: str) -> None:
        obs.put_file(bucket, key, body.file, size=body.size, md5=body.md5, content_type=_JSON)

    send(store.bucket, history_key)
    targets = [(store.bucket, latest_key)]
    extra = run.settings.manifest
    if extra is not None:
        targets.append((extra.bucket, extra.key))
    for bucket, key in targets:
        try:
            obs.copy(store.bucket, history_key, bucket, key)
        except HuaweiObsError as exc:  # the bytes are sent instead; an error there is raised
            run.log.info(
                "OBS did not copy the run's record to obs://%s/%s (%s): it is sent", bucket, key, exc
            )
            send(bucket, key)


def _clean_up(run: BatchRun, plan: Plan, sent: Sent, *, pruned: bool) -> None:
    """Old history (``pruned``: a run that changed something), and the progress parts now recorded."""
    obs, store = run.obs, run.store
    if pruned:
        prune_history(obs, store)
    journal = sent.journal
    owned = plan.prior.parts if plan.lease is not None else []
    leftovers = [*owned, *(journal.written if journal is not None else [])]
    if leftovers:  # everything in them is in the index and the manifest now
        obs.delete_many(store.bucket, leftovers)


def overlap_record(run: BatchRun, plan: Plan) -> dict[str, Any]:
    """The manifest's ``overlap``: the lease's record; without a lease (nothing to send), the wait
    of a run that resumed after waiting deferred and found everything done by the other run."""
    if plan.lease is not None:
        return plan.lease.record.as_manifest()
    resumed = run.resumed
    if not resumed.seconds:
        return {"lease": None}
    return LeaseRecord(
        None,
        owner_of(run.context),
        waited=True,
        waited_seconds=resumed.seconds,
        deferred=True,
        held_by=[resumed.held_by],
    ).as_manifest()


def _log_report(run: BatchRun, report: Report, billed_retries: int) -> None:
    run.log.info(
        "Manifest written to %s (history %s): %s",
        report.manifest_uri,
        report.history_uri,
        json.dumps(report.totals),
    )
    if billed_retries:
        run.log.warning(
            "%d image(s) may have been billed twice or more (%d retr%s after tries the service may have "
            "billed); they are marked billed_retries in the manifest. Set retry_possibly_billed=False to "
            "fail such images instead of retrying them.",
            report.totals["images_possibly_billed_twice"],
            billed_retries,
            "y" if billed_retries == 1 else "ies",
        )
    run_ = this_run(report.billing)
    cost = run_["estimated_cost"]
    run.log.info(
        "this run: %d call(s), %d billed retr%s, estimated cost %s; manifest %s",
        run_["calls"],
        run_["billed_retries"],
        "y" if run_["billed_retries"] == 1 else "ies",
        "unknown (no price_per_call)" if cost is None else f"{cost:g}",
        report.manifest_uri,
    )


def raise_for_failures(run: BatchRun, plan: Plan, sent: Sent, report: Report) -> None:
    """Fail the task (after the manifest is written) on a lost lease, a fatal error, a spent budget or
    too many failures."""
    if plan.lease is not None and plan.lease.record.lost and not sent.fatal:
        raise plan.lease.lost_error()
    if sent.fatal:
        raise sent.fatal[0]
    if run.budget.refused:
        raise HuaweiCloudBudgetExceededError(
            f"max_calls: this task may make {run.budget.limit} OCR call(s); {report.totals['not_attempted']} "
            f"image(s) were not attempted (see {report.manifest_uri}). A re-run skips the finished images "
            "and continues."
        )
    settings, totals = run.settings, report.totals
    failed, total = totals["failed"] + totals.get("rejected", 0), totals["total"]
    if too_many_failures(failed, total, settings.max_failures, settings.max_failure_ratio):
        what = "image(s)" if "documents" not in totals else "page(s) or document(s)"
        raise HuaweiOcrBatchFailedError(
            f"{failed} of {total} {what} failed ({failed / max(total, 1):.1%}), over the policy "
            f"(max_failures={settings.max_failures}, max_failure_ratio={settings.max_failure_ratio}); "
            f"see {report.manifest_uri}"
        )


def too_many_failures(
    failed: int, total: int, max_failures: int | None, max_failure_ratio: float | None
) -> bool:
    """The failure policy: with neither limit any failure is too many; with both, exceeding either is."""
    if max_failures is None and max_failure_ratio is None:
        return failed > 0
    over_count = max_failures is not None and failed > max_failures
    over_ratio = max_failure_ratio is not None and total > 0 and failed / total > max_failure_ratio
    return over_count or over_ratio


def dry_report(run: BatchRun, plan: Plan, sent: Sent) -> dict[str, Any]:
    """A dry run's XCom value: what would be called, skipped and rejected, and the estimated cost."""
    entries = sent.entries
    price = price_of(run.settings.ocr, run.pipeline.ocr_hook)
    would = sum(1 for e in entries if e["status"] == "would_call")
    skipped = sent.counts.get("skipped", 0)
    rejected = [e for e in entries if e["status"] == "rejected"]
    report: dict[str, Any] = {
        "dry_run": True,
        "reason": run.dry_why,
        "total": len(entries) + skipped,
        "would_call": would,
        "skipped": skipped,
        "rejected": len(rejected),
        "duplicates": plan.duplicates,
        "rejections": [
            {"source": e["source"], "reason": e["reason"]} for e in rejected[:MAX_REASONS_IN_XCOM]
        ],
        "price_per_call": price,
        "estimated_cost": estimate_cost(would, price),
    }
    if sent.documents:
        report.update(documents=sent.documents, pages=sent.pages)
    run.log.info(
        "DRY RUN (%s): %d image(s) would be sent to OCR, %d skipped (already done), %d rejected, %d "
        "duplicate(s) dropped; estimated cost %s. No OCR call and no write was made.",
        run.dry_why,
        would,
        skipped,
        len(rejected),
        plan.duplicates,
        "unknown (no price_per_call)" if price is None else f"{report['estimated_cost']:g}",
    )
    for e in rejected[:20]:
        run.log.info("  would reject %s: %s", e["source"], e["reason"])
    return report
