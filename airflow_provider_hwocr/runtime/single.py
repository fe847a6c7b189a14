"""One image per task (the per-API operators and ``HuaweiOcrOperator``): dry run, budget, call, report.

``max_calls`` caps the billable tries of the task: the OCR client takes one from the
task's :class:`~airflow_provider_hwocr.runtime.costs.CallBudget` before each try (the first
and every retry) and gives it back when the try surely was not billed, so ``max_calls=1``
means at most one billable call whatever the faults.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from airflow_provider_hwocr.client.errors import HuaweiOcrError
from airflow_provider_hwocr.client.sources import describe
from airflow_provider_hwocr.errors import HuaweiOcrXComSizeError
from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook
from airflow_provider_hwocr.runtime.contract import Collaborators, OcrTaskSettings, RunLocations
from airflow_provider_hwocr.runtime.costs import CallBudget, estimate_cost, resolve_dry_run
from airflow_provider_hwocr.runtime.pipeline import ImageOutcome, OcrPipeline
from airflow_provider_hwocr.runtime.task import locations, pipeline_for, price_of


def run(
    settings: OcrTaskSettings,
    context: Any,
    parts: Collaborators,
    *,
    after_run: Callable[[RunLocations], None],
) -> Any:
    """Run a task with these settings on its image; returns its XCom value.

    ``after_run`` gets what the run read and wrote once the image is done (not for a dry run).
    """
    dry, why = resolve_dry_run(settings.dry_run)
    # Every try that may be billed draws from the budget, retries included (0: the call is refused).
    budget = None if dry or settings.max_calls is None else CallBudget(settings.max_calls)
    hook = parts.ocr_hook(rate_limiter=None, budget=budget)
    pipeline = pipeline_for(settings, hook, parts)
    log = parts.log
    if dry:
        return dry_run(settings, pipeline, why, log)
    # An API without image is called on its fields (the invoice it verifies), not on "None".
    image = settings.image
    subject = pipeline.params if image is None and pipeline.api.image_field is None else image
    log.info("OCR %s on %s", pipeline.api.slug, describe(subject))
    try:
        outcome = pipeline.run(image)
    except HuaweiOcrError:
        report_billing(settings, hook, context, log, failed=True)
        raise
    sources = [image] if image is not None else []
    after_run(locations(settings, hook, sources=sources, results=[outcome.result_uri]))
    if outcome.status == "skipped":
        log.info("Result already in %s: skipped, no OCR call", outcome.result_uri)
    else:
        report_done(settings, hook, outcome, context, log)
    return outcome.value


def report_done(
    settings: OcrTaskSettings, hook: HuaweiOcrHook, outcome: ImageOutcome, context: Any, log: Any
) -> None:
    """An image sent: its log line and billing report; a result for XCom is checked for size."""
    log.info(
        "OCR %s succeeded: request id %s, %d attempt(s)%s",
        settings.api.slug,
        outcome.request_id,
        outcome.attempts,
        f"; stored in {outcome.result_uri}" if outcome.result_uri else "",
    )
    report_billing(settings, hook, context, log, failed=False)
    if outcome.result_uri is None:
        check_xcom_size(settings, outcome)


def dry_run(settings: OcrTaskSettings, pipeline: OcrPipeline, why: str | None, log: Any) -> dict[str, Any]:
    """Resolve and check the image and decide the skip, with no OCR call and no write."""
    report: dict[str, Any] = {"dry_run": True, "reason": why, "total": 1}
    status, reason = "would_call", None
    image = settings.image
    try:
        src = pipeline.resolve(image)
        key = pipeline.result_key(src)
        if key and pipeline.skip_existing and pipeline.existing(key, src) is not None:
            status = "skipped"
        else:
            pipeline.check(src)
    except (HuaweiOcrError, ValueError) as exc:
        status, reason = "rejected", str(exc)[:500]
    price = price_of(settings, pipeline.ocr_hook)
    report.update(
        would_call=int(status == "would_call"),
        skipped=int(status == "skipped"),
        rejected=int(status == "rejected"),
        rejections=[{"source": describe(image), "reason": reason}] if reason else [],
        price_per_call=price,
        estimated_cost=estimate_cost(int(status == "would_call"), price),
    )
    log.info(
        "DRY RUN (%s): %s %s%s; no OCR call and no write was made",
        why,
        describe(image),
        {"would_call": "would be sent to OCR", "skipped": "is done already", "rejected": "would be rejected"}[
            status
        ],
        f": {reason}" if reason else "",
    )
    return report


def report_billing(
    settings: OcrTaskSettings, hook: HuaweiOcrHook, context: Any, log: Any, *, failed: bool
) -> None:
    """Log, and push to XCom under key ``billing``, the requests sent and billed retries."""
    billing: dict[str, Any] = {"requests_sent": hook.requests_sent, "billed_retries": hook.billed_retries}
    budget = hook.budget
    if isinstance(budget, CallBudget):  # tries that may have been billed, as max_calls counts them
        billing.update(max_calls=budget.limit, possibly_billed_tries=budget.used)
    if hook.billed_retries:
        log.warning(
            "OCR %s: %d retr%s followed a try the service may already have billed; this image may "
            "have been billed %d times%s",
            settings.api.slug,
            hook.billed_retries,
            "y" if hook.billed_retries == 1 else "ies",
            hook.billed_retries + 1,
            " (and still failed)" if failed else "",
        )
    ti = context.get("ti") if isinstance(context, dict) or hasattr(context, "get") else None
    if ti is not None and hook.requests_sent:
        ti.xcom_push(key="billing", value=billing)


def check_xcom_size(settings: OcrTaskSettings, outcome: ImageOutcome) -> None:
    size = len(json.dumps(outcome.value, ensure_ascii=False).encode("utf-8"))
    limit = settings.max_xcom_bytes
    if size > limit:
        raise HuaweiOcrXComSizeError(
            f"the {settings.api.slug} result is {size:,} bytes, over max_xcom_bytes={limit:,}; "
            "it is not pushed to XCom. Set output_uri='obs://bucket/prefix/' to store results in OBS "
            f"and push only a reference (request id {outcome.request_id})."
        )
