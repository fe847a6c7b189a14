"""One image per task (the per-API operators and ``HuaweiOcrOperator``): dry run, budget, call, report.

``max_calls`` caps the billable tries of the task: the OCR client takes one from the
task's :class:`~airflow_provider_hwocr.runtime.costs.CallBudget` before each try (the first
and every retry) and gives it back when the try surely was not billed, so ``max_calls=1``
means at most one billable call whatever the faults.

A PDF or OFD document is read page by page (:mod:`airflow_provider_hwocr.runtime.documents`):
one call per chosen page, each page's result stored under its own key (with ``output_uri``);
a document whose pages need more calls than ``max_calls`` allows is refused before any. Its
XCom value lists every page: ``{"pages": [{"page": 1, "result": ...}, ...], "page_count": n}``,
or with ``output_uri`` a list of references ``{"uri", "summary", "page"}``. An image's is as it
always was. A re-run with ``output_uri`` lists the document's stored pages (one listing) and
HEADs them: when every chosen page is stored, nothing is downloaded or called.

With ``review_below`` an image's answer may be held (:func:`held_image`): it is paid and, with
``output_uri``, stored first; the operator then parks the task as its own review, and
:func:`resume_review` writes the decision (``runtime/review/apply.py``) and returns the corrected
value, without an OCR call. A stored result that carries a review record is not held again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_hwocr.catalog.apis import ID_DOCUMENTS
from airflow_provider_hwocr.catalog.pages import DocumentKind
from airflow_provider_hwocr.client.documents import parse_pages
from airflow_provider_hwocr.client.errors import HuaweiOcrError, HuaweiOcrValidationError
from airflow_provider_hwocr.client.sources import ImageSource, describe
from airflow_provider_hwocr.errors import (
    HuaweiCloudBudgetExceededError,
    HuaweiOcrReviewRejectedError,
    HuaweiOcrXComSizeError,
)
from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook
from airflow_provider_hwocr.runtime.contract import Collaborators, OcrTaskSettings, RunLocations
from airflow_provider_hwocr.runtime.costs import CallBudget, estimate_cost, resolve_dry_run
from airflow_provider_hwocr.runtime.documents import Document, check_image_pages
from airflow_provider_hwocr.runtime.envelopes import summarize
from airflow_provider_hwocr.runtime.pipeline import ImageOutcome, OcrPipeline
from airflow_provider_hwocr.runtime.review.apply import apply_decision, decision_of
from airflow_provider_hwocr.runtime.review.decision import apply_review, review_of
from airflow_provider_hwocr.runtime.review.gate import HeldField, held_fields
from airflow_provider_hwocr.runtime.task import locations, pipeline_for, price_of


def run(
    settings: OcrTaskSettings,
    context: Any,
    parts: Collaborators,
    *,
    after_run: Callable[[RunLocations], None],
    on_held: Callable[[HeldImage], Any] | None = None,
) -> Any:
    """Run a task with these settings on its image; returns its XCom value.

    ``after_run`` gets what the run read and wrote once the image is done (not for a dry run).
    ``on_held``: with ``review_below``, called with the image once its answer is paid (and stored)
    when a gating field is uncertain; what it returns is the task's value (the operator parks the
    task for the review there).
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
        src = pipeline.resolve(image)
        plan = plan_of(pipeline, src)
        if plan is not None:
            refuse_document_review(settings, src.display)
            return run_document(settings, pipeline, plan, context, log, after_run=after_run)
        check_image_pages(settings.pages, src.display)
        outcome = pipeline.run_source(src)
    except HuaweiOcrError:
        report_billing(settings, hook, context, log, failed=True)
        raise
    value = finish_image(settings, hook, outcome, context, log, after_run=after_run)
    held = held_image(settings, pipeline, outcome, log) if settings.review is not None else None
    return value if held is None or on_held is None else on_held(held)


def finish_image(
    settings: OcrTaskSettings,
    hook: HuaweiOcrHook,
    outcome: ImageOutcome,
    context: Any,
    log: Any,
    *,
    after_run: Callable[[RunLocations], None],
) -> Any:
    """An image done (or skipped): what the run read and wrote, its report; returns its XCom value."""
    image = settings.image
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
    log_read(settings, outcome, log)
    report_billing(settings, hook, context, log, failed=False)
    if outcome.result_uri is None:
        check_xcom_size(settings, outcome)


def log_read(settings: OcrTaskSettings, outcome: ImageOutcome, log: Any) -> None:
    """What was read: the word or field count (the result's summary) and, with ``log_text`` (``None``:
    on, except for ID documents, whose text is personal data), the first line of text."""
    value = outcome.value
    stored = isinstance(value, dict) and outcome.result_uri is not None
    summary = value.get("summary") if stored else summarize(settings.api, value)
    if not isinstance(summary, dict):
        return
    count = f"{summary['words']} word(s)" if "words" in summary else f"{summary.get('fields', 0)} field(s)"
    show = settings.log_text if settings.log_text is not None else settings.api.slug not in ID_DOCUMENTS
    line = first_line(value) if show and not stored else None
    log.info("Read %s%s", count, f"; first line: {line!r}" if line else "")


def first_line(result: Any) -> str | None:
    """The first line of text of a result: its first text block, else its first text field."""
    if isinstance(result, list):  # a list-shaped result: its first item
        result = result[0] if result else None
    text = next((t.strip() for t in _texts(result) if t.strip()), None)
    return None if text is None else text.splitlines()[0][:200]


def _texts(result: Any) -> list[str]:
    """A result's text blocks, else its text fields."""
    if not isinstance(result, dict):
        return []
    blocks = result.get("words_block_list") or result.get("words_region_list")
    if isinstance(blocks, list):
        return [str(b.get("words") or "") for b in blocks if isinstance(b, dict)]
    return [v for v in result.values() if isinstance(v, str)]


def dry_run(settings: OcrTaskSettings, pipeline: OcrPipeline, why: str | None, log: Any) -> dict[str, Any]:
    """Resolve and check the image and decide the skip, with no OCR call and no write.

    A document is counted (downloaded if its page count is not known from its stored pages): the
    report's ``would_call`` is the number of page calls the task would make.
    """
    status, reason, plan = "would_call", None, None
    image = settings.image
    try:
        src = pipeline.resolve(image)
        plan = plan_of(pipeline, src)
        status = _dry_image(settings, pipeline, src) if plan is None else _dry_document(plan)
    except (HuaweiOcrError, ValueError) as exc:
        status, reason = "rejected", str(exc)[:500]
    report = _dry_report(settings, pipeline, why, status, reason, plan)
    pages = f" ({report['would_call']} page call(s) of {len(plan.pages)} chosen)" if plan is not None else ""
    log.info(
        "DRY RUN (%s): %s %s%s%s; no OCR call and no write was made",
        why,
        describe(image),
        {"would_call": "would be sent to OCR", "skipped": "is done already", "rejected": "would be rejected"}[
            status
        ],
        pages,
        f": {reason}" if reason else "",
    )
    return report


def _dry_report(
    settings: OcrTaskSettings,
    pipeline: OcrPipeline,
    why: str | None,
    status: str,
    reason: str | None,
    plan: DocumentPlan | None,
) -> dict[str, Any]:
    """A dry run's XCom value: an image is one call, a document its pages not stored yet."""
    calls = int(status == "would_call") if plan is None else len(plan.todo)
    price = price_of(settings, pipeline.ocr_hook)
    report: dict[str, Any] = {
        "dry_run": True,
        "reason": why,
        "total": 1 if plan is None else len(plan.pages),
        "would_call": calls,
        "skipped": int(status == "skipped") if plan is None else len(plan.done),
        "rejected": int(status == "rejected"),
        "rejections": [{"source": describe(settings.image), "reason": reason}] if reason else [],
        "price_per_call": price,
        "estimated_cost": estimate_cost(calls, price),
    }
    if plan is not None:
        report.update(documents=1, pages=len(plan.pages), page_count=plan.count)
    return report


def _dry_document(plan: DocumentPlan) -> str:
    return "would_call" if plan.todo else "skipped"


def _dry_image(settings: OcrTaskSettings, pipeline: OcrPipeline, src: ImageSource) -> str:
    """A dry run's image: ``skipped`` (stored already) or ``would_call`` once every check passed."""
    check_image_pages(settings.pages, src.display)
    key = pipeline.result_key(src)
    if key and pipeline.skip_existing and pipeline.existing(key, src) is not None:
        return "skipped"
    pipeline.check(src)
    return "would_call"


# --- a document, page by page ---------------------------------------------------------------------


@dataclass
class DocumentPlan:
    """A document's chosen pages, those stored already (their references) and those to send."""

    src: ImageSource
    count: int
    pages: list[int]
    #: Page -> the reference of its stored result (``{"uri", "summary", "page"}``).
    done: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: How its pages are sent; ``None`` when every chosen page is stored (nothing was downloaded).
    doc: Document | None = None

    @property
    def todo(self) -> list[int]:
        return [p for p in self.pages if p not in self.done]


def plan_of(pipeline: OcrPipeline, src: ImageSource) -> DocumentPlan | None:
    """The plan of a document source, ``None`` for an image (told without a request)."""
    kind = pipeline.document_kind(src)
    return None if kind is None else plan_document(pipeline, src, kind)


def plan_document(pipeline: OcrPipeline, src: ImageSource, kind: DocumentKind) -> DocumentPlan | None:
    """The pages of a document to send, before any call; ``None`` when its bytes are not a PDF or OFD.

    With ``output_uri`` (and ``skip_existing``), one listing of the document's page keys tells its
    page count, and a HEAD of each stored page whether it was made from this source with these
    parameters: every chosen page stored means nothing is downloaded. Else the document is read
    (once) to count its pages; ``pages`` past the end and ``max_pages`` are refused here.
    """
    stored = pipeline.stored_pages(src) if pipeline.skip_existing else {}
    for count, have in sorted(stored.items(), key=lambda kv: -len(kv[1])):
        plan = _from_stored(pipeline, src, kind, count, have)
        if plan is not None:
            return plan
    doc = pipeline.open_document(src)
    if doc is None:
        return None
    return DocumentPlan(src, doc.count, doc.pages, doc=doc)


def _from_stored(
    pipeline: OcrPipeline, src: ImageSource, kind: DocumentKind, count: int, have: set[int]
) -> DocumentPlan | None:
    """The plan when ``count`` (from stored keys) is the document's: some chosen page of it is stored,
    made from this source with these parameters; else ``None``."""
    try:
        chosen = parse_pages(pipeline.pages, count)
    except HuaweiOcrValidationError:
        return None  # chosen pages past the end of that count: not this document's (the read says)
    done = _stored_references(pipeline, src, count, [p for p in chosen if p in have])
    if not done:
        return None
    plan = DocumentPlan(src, count, chosen, done)
    if plan.todo:
        plan.doc = _document_of(pipeline, src, kind, count)
        if plan.doc is None:
            return None
    return plan


def _stored_references(
    pipeline: OcrPipeline, src: ImageSource, count: int, pages: list[int]
) -> dict[int, dict[str, Any]]:
    """Page -> its stored result's reference, for each of ``pages`` made from this source with these
    parameters (a HEAD each)."""
    done: dict[int, dict[str, Any]] = {}
    for page in pages:
        key = pipeline.result_key(src, page, count)
        reference = None if key is None else pipeline.existing(key, src)
        if reference is not None:
            done[page] = reference
    return done


def _document_of(pipeline: OcrPipeline, src: ImageSource, kind: DocumentKind, count: int) -> Document | None:
    """The document of ``count`` pages (known): read only when its pages need its bytes; ``None`` when
    what is read is not that document."""
    doc: Document | None = pipeline.known_document(src, kind, count)
    if doc is not None and doc.needs_data(inline=pipeline.inline):
        doc = pipeline.open_document(src)  # split or rendered pages: read once
    return doc if doc is not None and doc.count == count else None


def run_document(
    settings: OcrTaskSettings,
    pipeline: OcrPipeline,
    plan: DocumentPlan,
    context: Any,
    log: Any,
    *,
    after_run: Callable[[RunLocations], None],
) -> Any:
    """Send each chosen page not stored yet, one call each, and store it; returns the XCom value."""
    todo = plan.todo
    limit = settings.max_calls
    if limit is not None and len(todo) > limit:
        raise HuaweiCloudBudgetExceededError(
            f"max_calls: {plan.src.display} needs {len(todo)} page call(s), over max_calls={limit}; "
            "nothing was called (choose pages with pages=..., or raise max_calls)"
        )
    log.info(
        "%s: %d of its %d page(s) chosen, %d stored already, %d to send",
        plan.src.display,
        len(plan.pages),
        plan.count,
        len(plan.done),
        len(todo),
    )
    outcomes = {page: _send_page(pipeline, plan, page) for page in todo}
    hook = pipeline.ocr_hook
    uris = [plan.done[p]["uri"] if p in plan.done else outcomes[p].result_uri for p in plan.pages]
    after_run(locations(settings, hook, sources=[settings.image], results=uris))
    if todo:
        report_billing(settings, hook, context, log, failed=False)
    return document_value(settings, plan, outcomes, stored=pipeline.store is not None)


def document_value(
    settings: OcrTaskSettings, plan: DocumentPlan, outcomes: dict[int, ImageOutcome], *, stored: bool
) -> Any:
    """A document's XCom value: every chosen page's reference (stored), else every page's result."""
    if stored:
        return [plan.done[p] if p in plan.done else {**outcomes[p].value, "page": p} for p in plan.pages]
    value = {
        "pages": [{"page": p, "result": outcomes[p].value} for p in plan.pages],
        "page_count": plan.count,
    }
    check_xcom_size(settings, ImageOutcome(plan.src.display, "done", value))
    return value


def _send_page(pipeline: OcrPipeline, plan: DocumentPlan, page: int) -> ImageOutcome:
    """One page: its body prepared (the page field, a one-page PDF or a rendered page), sent, stored."""
    assert plan.doc is not None  # a plan with pages to send has its document
    body = plan.doc.body(page)
    pipeline.attach(body.source)
    response, summary = pipeline.recognise(body.source, page_params=body.params)
    key = pipeline.result_key(plan.src, page, plan.count)
    if key is not None:
        outcome = pipeline.store_result(key, plan.src, response, summary)
    else:
        outcome = ImageOutcome(
            plan.src.display,
            "done",
            response.result,
            response.request_id,
            response.attempts,
            billed_retries=getattr(response, "billed_retries", 0) or 0,
            page=page,
            pages=plan.count,
        )
    pipeline.log.info(
        "OCR %s page %d of %d: request id %s%s",
        pipeline.api.slug,
        page,
        plan.count,
        outcome.request_id,
        f"; stored in {outcome.result_uri}" if outcome.result_uri else "",
    )
    return outcome


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


# --- review_below: the image's answer held for a person ------------------------------------------------


@dataclass(frozen=True)
class HeldImage:
    """An image whose paid answer waits for a person: what the review asks, and what resumes it."""

    #: The held descriptor (``source``, ``page``, ``pages``, ``result_uri``, ``api``, ``fields``).
    descriptor: dict[str, Any]
    held: list[HeldField]
    #: The task's value had nothing been held (a stored result's reference, else the result).
    value: Any

    @property
    def resume(self) -> dict[str, Any]:
        """What travels to the resumed task (small): the descriptor, and the result itself only when it
        was not stored (it is under ``max_xcom_bytes``, checked before)."""
        stored = self.descriptor.get("result_uri") is not None
        return {"descriptor": self.descriptor, "value": self.value, "stored": stored}


def refuse_document_review(settings: OcrTaskSettings, display: str) -> None:
    """``review_below`` reviews an image; a document's pages are reviewed by the batch and its review
    operator. Refused before any call."""
    if settings.review is not None:
        raise HuaweiOcrValidationError(
            f"review_below: {display} is a PDF or OFD document; this operator reviews images only. Read "
            "its pages with HuaweiOcrBatchOperator(review_below=...) and review them with "
            "HuaweiOcrReviewOperator; nothing was called",
            parameter="review_below",
        )


def held_image(
    settings: OcrTaskSettings, pipeline: OcrPipeline, outcome: ImageOutcome, log: Any
) -> HeldImage | None:
    """The image, when ``review_below`` holds its answer; ``None`` when it flows on (or was decided
    before: its stored result carries a review record)."""
    rule = settings.review
    assert rule is not None
    slug = settings.api.slug
    uri = outcome.result_uri
    if uri is None:
        result = outcome.value
    else:
        envelope = _stored_envelope(pipeline, uri)
        review = review_of(envelope)
        if review is not None:  # decided before: not asked again, and a rejection stays one
            log.info("%s was reviewed before: %s by %s", uri, review.get("outcome"), review.get("by"))
            if review.get("outcome") == "rejected":
                raise HuaweiOcrReviewRejectedError(
                    f"{describe(settings.image)}: the answer was rejected by {review.get('by')} (recorded in {uri})",
                    result_uri=uri,
                    by=review.get("by"),
                )
            return None
        result = envelope.get("result")
    held = held_fields(slug, result, rule)
    if not held:
        return None
    descriptor = {
        "source": describe(settings.image),
        "page": None,
        "pages": None,
        "result_uri": uri,
        "api": slug,
        "fields": [h.field for h in held],
    }
    log.info(
        "Held for review: %s (%s); the answer is paid%s",
        descriptor["source"],
        ", ".join(f"{h.field} {h.reason}" for h in held),
        f" and stored in {uri}" if uri else "",
    )
    return HeldImage(descriptor, held, outcome.value)


def _stored_envelope(pipeline: OcrPipeline, uri: str) -> dict[str, Any]:
    store = pipeline.store
    assert store is not None
    envelope = pipeline.obs.get_json(store.bucket, uri.removeprefix(f"obs://{store.bucket}/"))
    return envelope if isinstance(envelope, dict) else {}


def resume_review(
    settings: OcrTaskSettings,
    context: Any,
    parts: Collaborators,
    resume: dict[str, Any],
    event: dict[str, Any],
    *,
    on_timeout: str,
) -> Any:
    """The answer of an image's review: the decision written (a stored result gets a new version with
    its review record, and the ledger), the corrected value returned; "Reject" raises
    :class:`~airflow_provider_hwocr.errors.HuaweiOcrReviewRejectedError` once it is recorded. No OCR
    hook is built: resuming makes no call. Without ``output_uri`` the value is the corrected result and
    the review record goes to XCom key ``review``."""
    rule = settings.review
    assert rule is not None, "a review resumes only an operator with review_below"
    slug, log = settings.api.slug, parts.log
    descriptor, value = resume["descriptor"], resume.get("value")
    uri = descriptor.get("result_uri")
    if uri:
        obs = parts.obs_hook()
        bucket, _, key = str(uri).removeprefix("obs://").partition("/")
        envelope = obs.get_json(bucket, key)
        held = held_fields(slug, envelope.get("result"), rule)
        decision = decision_of(event, held, on_timeout=on_timeout)
        applied = apply_decision(obs, descriptor, decision, held=held, table=None, day=None, log=log)
        review = applied.review
        answer: Any = {**value, "review": _summary(review)} if isinstance(value, dict) else value
    else:
        envelope = {"api": slug, "result": value}
        held = held_fields(slug, value, rule)
        decision = decision_of(event, held, on_timeout=on_timeout)
        reviewed = apply_review(envelope, held, decision)
        review, answer = reviewed["review"], reviewed["result"]
        log.info("Review of %s: %s by %s", descriptor.get("source"), decision.outcome, decision.by)
        push_review(context, review)  # no stored result to keep it: XCom key "review"
    if decision.outcome == "rejected":
        raise HuaweiOcrReviewRejectedError(
            f"{descriptor.get('source')}: the answer was rejected by {decision.by}"
            f"{' (the review timed out)' if decision.timed_out else ''}"
            f"{f'; the decision is recorded in {uri}' if uri else ''}",
            result_uri=uri,
            by=decision.by,
        )
    return answer


def push_review(context: Any, review: dict[str, Any]) -> None:
    """The review record of a result that was not stored, under XCom key ``review`` (the value stays the
    API's result, corrected)."""
    ti = context.get("ti") if hasattr(context, "get") else None
    if ti is not None:
        ti.xcom_push(key="review", value=review)


def _summary(review: dict[str, Any]) -> dict[str, Any]:
    """What a stored result's XCom reference says of its review."""
    return {
        "outcome": review.get("outcome"),
        "by": review.get("by"),
        "timed_out": review.get("timed_out"),
        "changes": len(review.get("changes") or []),
    }
