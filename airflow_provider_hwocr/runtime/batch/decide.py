"""Stage 2, decide, before touching any source: which images are done already.

One paged listing of the output prefix and one GET of the latest manifest (its index) tell
which images are done, with the same parameters, from an unchanged source
(:mod:`~airflow_provider_hwocr.runtime.batch.state`). Done images cost nothing more: no HEAD,
no signing, no download. Results listed but unknown to the index are verified (one HEAD each,
in the send stage); the rest are sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_hwocr.runtime.batch.entries import Item, skipped
from airflow_provider_hwocr.runtime.batch.run import BatchRun
from airflow_provider_hwocr.runtime.batch.select import Selection
from airflow_provider_hwocr.runtime.batch.state import PriorState, load_prior_state


@dataclass
class Plan:
    items: list[Item]
    prior: PriorState
    duplicates: int


def decide(run: BatchRun, selection: Selection) -> Plan:
    """Mark each item ``skip``, ``verify`` or ``send`` (rejected items stay rejected)."""
    prior = load_prior_state(run.obs, run.store)
    pipeline = run.pipeline
    for item in selection.items:
        if item.action == "reject" or not item.key or not pipeline.skip_existing or item.src is None:
            continue
        listed = prior.listed.get(item.key)
        if listed is None:
            continue  # no result yet: send
        known = prior.index.get(item.key)
        if known is None or (known.get("e") and known.get("e") != listed):
            item.action = "verify"  # listed, but not by us, or rewritten since: HEAD it once
        elif known.get("p") == pipeline.digest and (item.src.etag or None) == (known.get("s") or None):
            item.action = "skip"
            item.entry = skipped(item.source, item.key, run.store.uri(item.key), known.get("summary"))
        # else: made with other parameters, or from a source replaced since: send again
    _log_plan(run, selection, prior)
    return Plan(selection.items, prior, selection.duplicates)


def _log_plan(run: BatchRun, selection: Selection, prior: PriorState) -> None:
    task = run.task
    shard_note = f", shard {run.shard} of {task.shard_count}" if run.shard is not None else ""
    pace = (
        f"at most {run.qps:g} call(s)/s{' (adaptive)' if task.adaptive_rate else ''}"
        if run.qps
        else "no rate limit"
    )
    run.log.info(
        "Batch OCR %s: %d image(s)%s (%d duplicate(s) dropped), concurrency %d, %s, results under %s; "
        "%d already done, %d listed object(s) read in %d request(s)",
        run.pipeline.api.slug,
        len(selection.items),
        shard_note,
        selection.duplicates,
        task.max_concurrency,
        pace,
        run.store.root_uri,
        sum(1 for i in selection.items if i.action == "skip"),
        len(prior.listed),
        prior.requests,
    )
