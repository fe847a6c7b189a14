"""Stage 2, decide, before touching any source: which images are done already.

One GET of the index and one paged listing of the output prefix tell which images are done,
with the same parameters, from an unchanged source
(:mod:`~airflow_provider_hwocr.runtime.batch.state`). Done images cost nothing more: no HEAD,
no signing, no download, and no manifest entry. Results listed but not vouched for by the
index are verified (one HEAD each, in the send stage); the rest are sent.

A PDF or OFD document is decided page by page, still without reading it: the listing names its
pages' keys, and so its page count (:attr:`PriorState.page_counts`); each chosen page of that
count is ``skip``, ``verify`` or ``send`` like an image. A document whose every chosen page is
done is skipped whole (no download, no entry); one whose count is not known yet is opened in
the send stage.

Then :func:`guard`: a run with something to send takes the lease of its output prefix, API and
shard (:mod:`~airflow_provider_hwocr.runtime.batch.lease`) and decides again under it; a run
with nothing to send takes none.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_hwocr.client.documents import parse_pages
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.runtime.batch.entries import Item
from airflow_provider_hwocr.runtime.batch.lease import DeferOverlap, Lease, owner_of
from airflow_provider_hwocr.runtime.batch.run import BatchRun
from airflow_provider_hwocr.runtime.batch.select import Selection
from airflow_provider_hwocr.runtime.batch.state import (
    KeySet,
    PriorState,
    key_hash,
    load_prior_state,
    made_hash,
)
from airflow_provider_hwocr.runtime.store import ResultStore


@dataclass
class Plan:
    items: list[Item]
    prior: PriorState
    duplicates: int
    #: The key hash of each item's result, by position (0 for items without a key).
    hashes: array[int]
    #: The lease this plan was made under (:func:`guard`); ``None`` for a run that took none.
    lease: Lease | None = None

    @property
    def skipped(self) -> int:
        return sum(1 for i in self.items if i.action == "skip")


def decide(run: BatchRun, selection: Selection, *, again: bool = False) -> Plan:
    """Mark each item ``skip``, ``verify`` or ``send`` (rejected items stay rejected).

    ``again``: the second decision, under the lease; a damaged index is warned about by it (the first
    only notes it), and the batch's header line was logged by the first (once per batch).
    """
    hashes = array("Q", (key_hash(item.key) if item.key else 0 for item in selection.items))
    wanted = KeySet(h for h in hashes if h)
    stems = KeySet(key_hash(item.stem) for item in selection.items if item.stem)
    # A first look that needs the lease is read again under it: only the decision that stands warns.
    final = again or run.dry
    prior = load_prior_state(run.obs, run.store, wanted, log=run.log, stems=stems, final=final)
    if run.pipeline.skip_existing:
        _mark_all(run, selection.items, hashes, prior)
    plan = Plan(selection.items, prior, selection.duplicates, hashes)
    if not again:  # the header once per batch; under the lease, only what changed
        _log_plan(run, selection, plan)
    return plan


def _mark_all(run: BatchRun, items: list[Item], hashes: array[int], prior: PriorState) -> None:
    """Each image's action (:func:`_mark`) and each document's (:func:`_mark_document`)."""
    digest, pages = run.pipeline.digest, run.pipeline.pages
    for item in items:
        if item.is_document:
            _mark_document(item, prior, run.store, digest, pages)
        else:
            _mark(item, hashes[item.pos], prior, digest)


def _mark(item: Item, kh: int, prior: PriorState, digest: str) -> None:
    """``skip`` a result made from this source with these parameters, ``verify`` one listed but not
    vouched for by the index; anything else is sent (rejected items stay rejected)."""
    if item.action == "reject" or not item.key or item.src is None:
        return
    made = prior.made_of(kh)
    if made is not None:
        if made == made_hash(digest, item.src.etag):
            item.action = "skip"
            item.src = None  # nothing more is done with it: its source, size and ETag are not kept
        # else: made with other parameters, or from a source replaced since: send again
    elif kh in prior.others:
        item.action = "verify"  # listed, but not by us, or rewritten since: HEAD it once
    # else: no result yet: send


def page_action(prior: PriorState, kh: int, made: int) -> str:
    """What a page (or an image) with key hash ``kh`` needs: ``skip`` (made from this source with
    these parameters, as the index or a killed run's parts say), ``verify`` (listed, not vouched
    for) or ``send``."""
    found = prior.made_of(kh)
    if found is not None:
        return "skip" if found == made else "send"
    return "verify" if kh in prior.others else "send"


def page_actions(
    prior: PriorState, store: ResultStore, stem: str, count: int, chosen: list[int], made: int
) -> list[tuple[int, str]]:
    """``(page, action)`` of each chosen page of a ``count``-page document (:func:`page_action`)."""
    return [(page, page_action(prior, key_hash(store.page_key(stem, page, count)), made)) for page in chosen]


def _mark_document(item: Item, prior: PriorState, store: ResultStore, digest: str, pages: Any) -> None:
    """A document: its page count from its listed pages' keys, vouched for when one of those pages
    was made from this source with these parameters (else only a guess, checked by HEADs); then
    each chosen page's action. Every chosen page done: ``skip`` (nothing is read)."""
    if item.action == "reject" or item.src is None or item.stem is None:
        return
    found = _known_count(prior, store, item.stem, pages, made_hash(digest, item.src.etag))
    if found is None:
        item.count, item.pages, item.done, item.sure = None, (), 0, False
        return
    item.count, actions, item.sure = found
    item.pages = tuple((page, action) for page, action in actions if action != "skip")
    item.done = len(actions) - len(item.pages)
    if not item.pages:
        item.action = "skip"
        item.src = None  # nothing more is done with it


def _known_count(
    prior: PriorState, store: ResultStore, stem: str, pages: Any, made: int
) -> tuple[int, list[tuple[int, str]], bool] | None:
    """(page count, each chosen page's action, whether the count is vouched for) from the counts the
    listed pages' keys name: vouched for when one of its pages was made from this source with these
    parameters; else a count with pages to verify (a guess the HEADs check); else ``None``."""
    guess: tuple[int, list[tuple[int, str]], bool] | None = None
    for count in prior.page_counts.get(key_hash(stem), ()):
        try:
            chosen = parse_pages(pages, count)
        except HuaweiOcrValidationError:
            continue  # pages past the end of that count: not this document's (or pages= is wrong)
        actions = page_actions(prior, store, stem, count, chosen, made)
        if any(action == "skip" for _, action in actions):
            return count, actions, True
        if guess is None and any(action == "verify" for _, action in actions):
            guess = (count, actions, False)
    return guess


def needs_lease(plan: Plan) -> bool:
    """Whether a run must hold the lease: it has images to send or verify, or the index to write
    (results recovered from a killed run's parts, records dropped, an old or damaged index)."""
    prior = plan.prior
    if prior.parts or prior.recovered or prior.dropped or prior.origin in ("manifest/2", "damaged"):
        return True
    return any(item.action in ("send", "verify") and item.entry is None for item in plan.items)


def guard(
    run: BatchRun,
    selection: Selection,
    plan: Plan,
    *,
    defer: DeferOverlap | None = None,
) -> Plan:
    """Stage 2b: with something to send, take the lease (deferring, waiting or failing by
    ``on_overlap``), then decide again under it, so that what another run finished meanwhile is
    skipped; the plan made under it holds the lease. ``defer`` raises Airflow's deferral (the
    operator passes it; the runtime knows no trigger)."""
    if run.dry or not needs_lease(plan):
        return plan
    settings = run.settings
    lease = Lease(
        run.obs,
        run.store.bucket,
        run.store.lease_key,
        owner_of(run.context),
        ttl=settings.lease_ttl,
        log=run.log,
    )
    waited = run.resumed  # resumed from the lease trigger: the wait so far
    lease.take(
        settings.on_overlap,
        settings.overlap_timeout,
        defer=defer,
        waited_before=waited.seconds,
        held_by=waited.held_by,
    )
    try:
        for item in plan.items:
            if item.action == "verify":
                item.action = "send"  # decided again below
        return replace(decide(run, selection, again=True), lease=lease)
    except BaseException:
        lease.release()
        raise


def _log_plan(run: BatchRun, selection: Selection, plan: Plan) -> None:
    settings, prior = run.settings, plan.prior
    shard_note = f", shard {run.shard} of {settings.shard_count}" if run.shard is not None else ""
    pace = (
        f"at most {run.qps:g} call(s)/s{' (adaptive)' if settings.adaptive_rate else ''}"
        if run.qps
        else "no rate limit"
    )
    run.log.info(
        "Batch OCR %s: %d image(s)%s (%d duplicate(s) dropped), concurrency %d, %s, results under %s; "
        "%d already done, %d result(s) listed and an index of %d read in %d request(s)",
        run.pipeline.api.slug,
        len(selection.items),
        shard_note,
        selection.duplicates,
        settings.max_concurrency,
        pace,
        run.store.root_uri,
        plan.skipped,
        prior.listed_results,
        len(prior.index),
        prior.requests,
    )
