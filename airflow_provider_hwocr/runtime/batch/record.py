"""Stage 4, record: what the run did, in OBS and in XCom, and whether the task fails.

A real run writes one manifest per run and try (history), then the latest manifest with the
index (what the next run reads), and deletes the progress parts it covers. A dry run writes
nothing and reports what would be called, skipped and rejected, and what it would cost.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from airflow_provider_hwocr.client.sources import parse_obs_uri
from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError, HuaweiOcrBatchFailedError
from airflow_provider_hwocr.runtime.batch.decide import Plan
from airflow_provider_hwocr.runtime.batch.entries import STATES
from airflow_provider_hwocr.runtime.batch.run import BatchRun
from airflow_provider_hwocr.runtime.batch.send import Sent
from airflow_provider_hwocr.runtime.batch.state import MANIFEST_FORMAT, build_index, now_utc
from airflow_provider_hwocr.runtime.costs import estimate_cost
from airflow_provider_hwocr.runtime.task import price_of

#: Most rejected images whose reasons a dry run puts in XCom (all are in the log count).
MAX_REASONS_IN_XCOM = 100


@dataclass
class Report:
    """What the record stage wrote; ``xcom`` is the task's return value."""

    manifest_uri: str
    history_uri: str
    totals: dict[str, Any]
    billing: dict[str, Any]
    #: What the run read and wrote, for lineage, links and the asset event.
    sources: list[Any]
    results: list[str]

    @property
    def xcom(self) -> dict[str, Any]:
        return {
            "manifest_uri": self.manifest_uri,
            "history_uri": self.history_uri,
            "totals": self.totals,
            "billing": self.billing,
        }


def totals_of(sent: Sent, duplicates: int) -> tuple[dict[str, Any], int]:
    """The manifest's ``totals`` and the number of retries after tries that may have been billed."""
    entries = sent.entries
    billed_retries = sum(int(e.get("billed_retries") or 0) for e in entries)
    totals = {
        "total": len(entries),
        **{s: sent.counts.get(s, 0) for s in STATES},
        "duplicates": duplicates,
        "billed_retries": billed_retries,
        "images_possibly_billed_twice": sum(1 for e in entries if e.get("billed_retries")),
    }
    return totals, billed_retries


def record(run: BatchRun, plan: Plan, sent: Sent) -> Report:
    """Write the history manifest and the latest one (with the index); delete covered progress parts."""
    pipeline, store, obs = run.pipeline, run.store, run.obs
    totals, billed_retries = totals_of(sent, plan.duplicates)
    price = price_of(run.task, pipeline.ocr_hook)
    billing = {
        "requests_sent": pipeline.ocr_hook.requests_sent,
        "billed_retries": billed_retries,
        "price_per_call": price,
        # Billed: every image sent successfully, plus every retry after a try that may have been billed.
        "estimated_cost": estimate_cost(totals["done"] + billed_retries, price),
    }
    when = now_utc()
    manifest = {
        "format": MANIFEST_FORMAT,
        "api": pipeline.api.slug,
        "parameters": pipeline.params,
        "params_digest": pipeline.digest,
        "output_uri": store.root_uri,
        "run_id": run.run_id,
        "try_number": run.try_number,
        "shard": {"index": run.shard, "count": run.task.shard_count} if run.shard is not None else None,
        "created_at": when.isoformat(timespec="seconds"),
        "elapsed_seconds": round(time.monotonic() - run.started, 3),
        "totals": totals,
        "billing": billing,
        "images": sent.entries,
    }
    history_key = store.history_key(run.run_id, run.try_number, when)
    obs.put_json(store.bucket, history_key, manifest)
    index = build_index(plan.prior, sent.entries, sent.verified)
    obs.put_json(
        store.bucket, store.latest_key, {**manifest, "history_uri": store.uri(history_key), "index": index}
    )
    if run.task.manifest_uri:
        extra = parse_obs_uri(str(run.task.manifest_uri), parameter="manifest_uri")
        obs.put_json(extra.bucket, extra.key, manifest)
    journal = sent.journal
    leftovers = [*plan.prior.parts, *(journal.written if journal is not None else [])]
    if leftovers:  # everything in them is in the manifest now
        obs.delete_many(store.bucket, leftovers)
    report = Report(
        manifest_uri=store.uri(store.latest_key),
        history_uri=store.uri(history_key),
        totals=totals,
        billing=billing,
        sources=[e["source"] for e in sent.entries],
        results=[e["result_uri"] for e in sent.entries if e.get("result_uri")]
        + [store.uri(store.latest_key)],
    )
    _log_report(run, report, billed_retries)
    return report


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


def raise_for_failures(run: BatchRun, sent: Sent, report: Report) -> None:
    """Fail the task (after the manifest is written) on a fatal error, a spent budget or too many failures."""
    task, totals = run.task, report.totals
    if sent.fatal:
        raise sent.fatal[0]
    if run.budget.refused:
        raise HuaweiCloudBudgetExceededError(
            f"max_calls: this task may make {run.budget.limit} OCR call(s); {totals['not_attempted']} image(s) "
            f"were not attempted (see {report.manifest_uri}). A re-run skips the finished images and continues."
        )
    failed, total = totals["failed"], totals["total"]
    if task.max_failures is None and task.max_failure_ratio is None:
        too_many = failed > 0
    else:
        too_many = (task.max_failures is not None and failed > task.max_failures) or (
            task.max_failure_ratio is not None and total > 0 and failed / total > task.max_failure_ratio
        )
    if too_many:
        raise HuaweiOcrBatchFailedError(
            f"{failed} of {total} image(s) failed ({failed / max(total, 1):.1%}), over the policy "
            f"(max_failures={task.max_failures}, max_failure_ratio={task.max_failure_ratio}); "
            f"see {report.manifest_uri}"
        )


def dry_report(run: BatchRun, plan: Plan, sent: Sent) -> dict[str, Any]:
    """A dry run's XCom value: what would be called, skipped and rejected, and the estimated cost."""
    entries = sent.entries
    price = price_of(run.task, run.pipeline.ocr_hook)
    would = sum(1 for e in entries if e["status"] == "would_call")
    skipped = sum(1 for e in entries if e["status"] == "skipped")
    rejected = [e for e in entries if e["status"] == "rejected"]
    report = {
        "dry_run": True,
        "reason": run.dry_why,
        "total": len(entries),
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
