"""``HuaweiOcrBatchOperator``: OCR many images in one task, at the rate limit, with flat cost per
image and nothing paid twice. Meant for backfills and large drops.

The operator checks its arguments, builds the run's settings once from what its templates
rendered to, and reads as the four stages of a batch; the work is in
:mod:`airflow_provider_hwocr.runtime.batch` (select, decide, send, record), loaded when the
task runs. ``dry_run`` goes through select, decide and send's checks and reports what would be
called, skipped and rejected, and what it would cost; ``max_calls`` caps the calls of one task.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.errors import (
    HuaweiOcrBatchEmptyError,
    HuaweiOcrBatchFailedError,
    HuaweiOcrOverlapError,
)
from airflow_provider_hwocr.integration import lineage
from airflow_provider_hwocr.integration.assets import annotate_table_events, with_table_outlets
from airflow_provider_hwocr.integration.links import (
    HuaweiObsResultLink,
    HuaweiObsSourceLink,
    HuaweiObsTableLink,
    with_table_partition,
)
from airflow_provider_hwocr.integration.mixin import selection_label
from airflow_provider_hwocr.operators.arguments import (
    DEFAULT_LEASE_TTL,
    check_flag,
    check_images,
    check_lease_ttl,
    check_max_failures,
    check_number,
    check_obs_uri,
    check_optional_number,
    check_ratio,
    check_shard,
    check_whole,
    images_query,
    when_static,
)
from airflow_provider_hwocr.operators.base import HuaweiOcrOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_hwocr.runtime.batch.lease import DeferOverlap
    from airflow_provider_hwocr.runtime.contract import BatchSettings, ObsPrefix, OnOverlap, ResumedWait
    from airflow_provider_hwocr.runtime.store import ResultStore

__all__ = [
    "HuaweiOcrBatchEmptyError",
    "HuaweiOcrBatchFailedError",
    "HuaweiOcrBatchOperator",
    "latest_manifest_uri",
]


class HuaweiOcrBatchOperator(HuaweiOcrOperator):
    """Run one OCR API over many images; every result and a manifest go to OBS.

    :param api: the API's path slug, e.g. ``general-text``.
    :param output_uri: ``obs://bucket/prefix/`` for results (required). Templated.
    :param images: the images: ``obs://`` URIs, ``http(s)://`` URLs or paths; or the value
        of a :class:`~airflow_provider_hwocr.sensors.obs.HuaweiObsKeySensor` with
        ``return_selection=True`` (listed here, never pushed whole through XCom). Templated.
    :param source_uri: or every object under ``obs://bucket/prefix/``. Templated.
    :param pattern: with ``source_uri``, only keys (relative to the prefix)
        matching this glob, e.g. ``*.png`` or ``**/*.jpg``. Templated.
    :param allow_empty: succeed when the selection is empty (default: fail, naming the
        prefix and pattern, since an empty day is usually a wrong path).
    :param max_concurrency: OCR calls in flight at once (default 4); as many writer threads
        store the results, so a call never waits on the PUT of the previous result.
    :param qps: OCR calls per second at most for the **whole** batch; with shards, each
        shard takes ``qps / shard_count`` (default 2; ``None`` for no limit). Skipped images
        do not count. The rate starts there and is lowered when the service throttles.
    :param adaptive_rate: adapt the rate to throttling (APIG.0308, HTTP 429: lower it,
        honour Retry-After, raise it again after a quiet second); default on.
    :param shard_index: this task's shard, 0 .. ``shard_count``-1 (e.g. mapped with
        ``.expand(shard_index=range(n))``). Templated.
    :param shard_count: how many tasks share the selection (default 1). Every image
        belongs to exactly one shard, by a stable hash of its identity.
    :param max_failures: fail the task if more images than this fail.
    :param max_failure_ratio: fail the task if more than this fraction fails
        (e.g. 0.01). With neither set, any failure fails the task; with both,
        exceeding either does.
    :param manifest_uri: also write the latest manifest here (the history and the index
        are always kept next to the output prefix, see the README). A manifest lists the
        images the run did something with; images skipped as done are counted in its totals.
    :param progress_interval: seconds between progress lines in the log.
    :param checkpoint_every: write a progress part to OBS after this many finished images ...
    :param checkpoint_interval: ... or after this many seconds, whichever comes first.
    :param dry_run: list, validate and decide skips; no OCR call and no write. Also forced
        by ``HWOCR_DRY_RUN=1`` or ``[huaweicloud_ocr] dry_run``.
    :param max_calls: OCR calls this task may make; the rest is recorded as not attempted
        and the task fails (a re-run continues where it stopped).
    :param price_per_call: for cost estimates (else the connection's ``price_per_call``).
    :param on_overlap: what this run does when another run (another DAG run, a backfill, a
        manual trigger) is sending images of the same output prefix, API and shard:
        ``"defer"`` (default): wait in the triggerer (no worker slot held) until its lease is
        released or expires, then run again from the start and skip what it did; ``"wait"``:
        the same, sleeping in the worker (holding the slot); ``"fail"``: raise
        ``HuaweiOcrOverlapError`` naming the other run. Nothing is called before any of these.
        A run with nothing to send never waits.
    :param overlap_timeout: with ``"defer"`` or ``"wait"``, fail after waiting this many seconds
        (default ``None``: as long as the other run keeps its lease alive).
    :param lease_ttl: seconds a lease lives without a heartbeat (default 180; renewed every
        ``lease_ttl / 6``): after a lost worker, another run may take over after at most this.
    :param pages: the pages of each PDF or OFD document to read (``None``: every page; ``3``,
        ``"2-5"``, ``"1,3-4"``, ``[1, 4]``). Templated. See :class:`HuaweiOcrOperator`.
    :param max_pages: a document with more pages than this (counting those ``pages`` chooses;
        default 50) ends ``rejected`` before any of its pages is called, naming ``max_pages`` and
        its page count; the other documents go on. ``None``: no cap.
    :param table_uri: ``obs://bucket/prefix/``: after the record stage, write the day's tables of
        the API's results there (the run's logical date; one file per table, day and shard,
        replaced whole, not written when its rows are unchanged; see the tables guide). Needs the
        ``tables`` extra. Templated.
    :param table_format: ``"parquet"`` (default), ``"csv"`` or ``"xlsx"``.
    :param review_below: hold uncertain pages for a person: a threshold for every gating field, or a
        dict field -> threshold (key ``"*"``: the default). A page whose gating field is under its
        threshold, missing or without a confidence ends ``held``: called, paid and stored like any
        other, out of the batch's tables, and listed in the XCom's ``held`` (one small descriptor
        each: ``source``, ``page``, ``pages``, ``result_uri``, ``api``, ``fields``, ``day`` with
        ``table_uri``; ``thresholds`` of the held fields), one review each:
        ``HuaweiOcrReviewOperator.partial(...).expand(held=held_pages(batch))``.
        Everything else flows on at once. A re-run sends none of them again: with one listing of the
        review ledger, a decided page ends ``reviewed`` or ``review_rejected``, one still waiting is
        ``held`` again with the same descriptor. Checked when the DAG is parsed.
    :param review_fields: the fields that gate (see :class:`HuaweiOcrOperator`).

    **Pages are the unit of work.** A source whose key, URL or file name ends in ``.pdf`` or
    ``.ofd`` (any case) is a document, confirmed by its first bytes once read; anything else
    is an image, one page, handled as always (no request more). A document is read once, when
    its turn comes (one document at a time, just ahead of the OCR calls), to count its pages;
    then each chosen page is one call, sent the way the API reads it (its page field with the
    object's signed URL, a one-page PDF, or a rendered PNG), and stored under a key naming the
    page and the document's page count (``…-{hash}.p0002of0005.{api}.json``). A re-run knows
    from those keys which pages of which document are done: a finished document costs no call
    and no download, a failed page is sent again alone. ``max_calls`` counts page calls; a dry
    run's ``would_call`` is the number of page calls the run would make (it may download
    documents to count their pages). Manifest entries are per page (``source``, ``page``,
    ``pages``, ``status``, ``result_uri``); the totals count pages, and with documents also
    ``documents``, ``pages`` (of documents) and ``rejected`` (documents refused before any call).

    Errors that will fail every image (authentication, not subscribed, configuration) stop
    the batch at once. Returns ``{"manifest_uri", "history_uri", "totals", "billing", "this_run"}``,
    with ``table_uri`` also ``tables``, with ``review_below`` also ``held`` (and the totals count
    ``held``, ``reviewed`` and ``review_rejected``).
    """

    template_fields: Sequence[str] = (
        *HuaweiOcrOperator.template_fields,
        "images",
        "source_uri",
        "pattern",
        "manifest_uri",
        "shard_index",
        "qps",
        "max_failures",
        "max_failure_ratio",
        "table_uri",
    )
    # a class attribute: mapped tasks read their links from the class
    operator_extra_links = (HuaweiObsSourceLink(), HuaweiObsResultLink(), HuaweiObsTableLink())

    def __init__(
        self,
        *,
        api: str,
        output_uri: str,
        images: Any = None,
        source_uri: str | None = None,
        pattern: str | None = None,
        allow_empty: bool = False,
        max_concurrency: int = 4,
        qps: float | None = 2.0,
        adaptive_rate: bool = True,
        shard_index: int | str | None = None,
        shard_count: int = 1,
        max_failures: int | None = None,
        max_failure_ratio: float | None = None,
        manifest_uri: str | None = None,
        progress_interval: float = 10.0,
        checkpoint_every: int = 500,
        checkpoint_interval: float = 30.0,
        on_overlap: str = "defer",
        overlap_timeout: float | None = None,
        lease_ttl: float = DEFAULT_LEASE_TTL,
        table_uri: str | None = None,
        table_format: str = "parquet",
        **kwargs: Any,
    ) -> None:
        _check_selection(output_uri, images, source_uri)
        _check_no_inline_review(kwargs)
        self.max_concurrency = check_whole(max_concurrency, "max_concurrency", 1)
        self.qps = when_static(check_optional_number, qps, "qps", positive=True)
        self.shard_count = check_whole(shard_count, "shard_count", 1)
        check_shard(shard_index, self.shard_count)
        self.checkpoint_every = check_whole(checkpoint_every, "checkpoint_every", 1)
        self.checkpoint_interval = check_number(checkpoint_interval, "checkpoint_interval", positive=True)
        self.progress_interval = check_number(progress_interval, "progress_interval", positive=True)
        self.on_overlap = _check_on_overlap(on_overlap)
        self.overlap_timeout = check_optional_number(overlap_timeout, "overlap_timeout", positive=True)
        self.lease_ttl = check_lease_ttl(lease_ttl)
        allow_empty = check_flag(allow_empty, "allow_empty")
        super().__init__(api=api, output_uri=output_uri, **kwargs)
        if table_uri:  # each table of the API is an Asset (a fixed table_uri only: see assets.py)
            self.outlets = with_table_outlets(self.outlets, table_uri, _table_names(api))
        self.images = images
        self.source_uri = source_uri
        self.pattern = pattern
        self.allow_empty = allow_empty
        self.adaptive_rate = check_flag(adaptive_rate, "adaptive_rate")
        self.shard_index = shard_index
        self.max_failures = when_static(check_max_failures, max_failures)
        self.max_failure_ratio = when_static(check_ratio, max_failure_ratio)
        self.manifest_uri = manifest_uri
        self.table_uri = table_uri
        self.table_format = table_format

    @property
    def map_index_label(self) -> str:
        """What a mapped instance is called: its one image's name, its number of images, or its source."""
        return selection_label(self.images, self.source_uri)

    def _settings(self) -> BatchSettings:
        """The run's checked settings, from what the templates rendered to: every run-time check of
        the batch's arguments is here, once."""
        from airflow_provider_hwocr.runtime.batch.tables import check_table_format
        from airflow_provider_hwocr.runtime.contract import BatchSettings, SensorSelection

        ocr = self._ocr_settings(output_required=True)
        shard_index = check_shard(self.shard_index, self.shard_count, rendered=True)
        images = self.images
        query = images_query(images, rendered=True)
        source = self.source_uri
        return BatchSettings(
            ocr=ocr,
            images=None if images is None or query is not None else tuple(_as_list(images)),
            selection=None if query is None else SensorSelection(query, images.get("describe")),
            source=None if source is None else _prefix(source, "source_uri", allow_empty_key=True),
            pattern=str(self.pattern) if self.pattern else None,
            allow_empty=self.allow_empty,
            max_concurrency=self.max_concurrency,
            qps=check_optional_number(self.qps, "qps", positive=True),
            adaptive_rate=self.adaptive_rate,
            shard_index=shard_index,
            shard_count=self.shard_count,
            max_failures=check_max_failures(self.max_failures),
            max_failure_ratio=check_ratio(self.max_failure_ratio),
            manifest=_prefix(self.manifest_uri, "manifest_uri") if self.manifest_uri else None,
            progress_interval=self.progress_interval,
            checkpoint_every=self.checkpoint_every,
            checkpoint_interval=self.checkpoint_interval,
            on_overlap=cast("OnOverlap", self.on_overlap),  # checked in __init__
            overlap_timeout=self.overlap_timeout,
            lease_ttl=self.lease_ttl,
            table=_prefix(self.table_uri, "table_uri", allow_empty_key=True) if self.table_uri else None,
            table_format=check_table_format(self.table_format) if self.table_uri else self.table_format,
        )

    def execute(self, context: Context, *, resumed: ResumedWait | None = None) -> dict[str, Any]:
        """Run the batch's stages; ``resumed``: the wait of a run resumed from the lease trigger."""
        from airflow_provider_hwocr.runtime import batch

        settings = self._settings()  # every run-time check, once
        run = batch.BatchRun(settings, context, self._collaborators(), resumed=resumed)
        selection = batch.select(run)  # 1. the images of this shard, de-duplicated
        plan = batch.decide(run, selection)  # 2. which are done: one GET of the index, one listing
        # 2b. anything to send: the lease (or defer while another run holds it), then decide again
        defer = self._overlap_deferral(settings, run.store) if settings.on_overlap == "defer" else None
        plan = batch.guard(run, selection, plan, defer=defer)
        try:
            sent = batch.send(run, plan)  # 3. OCR the rest, writer threads store them (a dry run only checks)
            if run.dry:
                return batch.dry_report(run, plan, sent)
            sent.review = batch.settle_reviews(run, plan, sent)  # 3b. review_below: held, reviewed
            report = batch.record(run, plan, sent)  # 4. the index if it changed, the run's record
            tables = batch.write_tables(run, plan, sent, report)  # 4b. table_uri: the day's tables
        finally:
            if plan.lease is not None:
                plan.lease.release()
        self._integration_after_run(context, report.locations)
        if tables:
            self._integration_after_tables(context, tables, run.obs.head)
        batch.raise_for_failures(run, plan, sent, report)
        return {**report.xcom, "tables": tables} if settings.table is not None else report.xcom

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:
        """``partial()``, with a fixed ``table_uri``'s table Assets as outlets (mapped tasks take
        their outlets from here, not from ``__init__``)."""
        if kwargs.get("table_uri") and kwargs.get("api"):
            kwargs["outlets"] = with_table_outlets(
                kwargs.get("outlets"), kwargs["table_uri"], _table_names(kwargs["api"])
            )
        return super().partial(**kwargs)

    def _integration_after_tables(self, context: Context, uris: list[str], head: Any) -> None:
        """Lineage (each table's schema), an Asset event per table and the "OBS table" link,
        for the table files this run wrote or left as they were."""
        from airflow_provider_hwocr.catalog.tables import api_tables

        outputs = lineage.table_outputs(uris, api_tables(self.api), head=head)  # rows: file metadata
        lineage.record_tables(self, outputs)
        annotate_table_events(context, outputs, self.api)
        self.hwocr_link_targets = with_table_partition(self.hwocr_link_targets, outputs)

    # --- on_overlap="defer" -----------------------------------------------------------

    def _overlap_deferral(self, settings: BatchSettings, store: ResultStore) -> DeferOverlap:
        """What the lease calls when another run holds it: defer to the lease trigger."""
        from datetime import timedelta

        from airflow_provider_hwocr.runtime.batch.lease import POLL_SECONDS
        from airflow_provider_hwocr.triggers.obs_lease import HuaweiObsLeaseReleasedTrigger

        def defer(other: dict[str, Any], waited: float) -> None:
            began = time.time() - waited
            timeout = settings.overlap_timeout
            deadline = None if timeout is None else began + timeout
            trigger = HuaweiObsLeaseReleasedTrigger(
                bucket=store.bucket,
                key=store.lease_key,
                token=other.get("token"),
                owner=other.get("owner"),
                huaweicloud_ocr_conn_id=self.huaweicloud_ocr_conn_id,
                region=self.region,
                poll_interval=min(POLL_SECONDS, settings.lease_ttl / 6),
                deadline=deadline,
                since=began,
            )
            left = None if deadline is None else timedelta(seconds=max(deadline - time.time(), 0.0) + 60)
            self.defer(trigger=trigger, method_name="execute_complete", timeout=left)

        return defer

    def execute_complete(
        self,
        context: Context,
        event: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The other run's lease ended: run the batch again from the start (its finished work is skipped)."""
        from airflow_provider_hwocr.runtime.contract import ResumedWait

        if not isinstance(event, dict):
            event = {"message": repr(event)}
        status = event.get("status")
        waited = float(event.get("waited") or 0.0)
        timeout = self.overlap_timeout
        if status == "released":
            self.log.info(
                "Resumed after waiting %.1fs deferred (the other run's lease %s)", waited, event["why"]
            )
            return self.execute(context, resumed=ResumedWait(max(waited, 1e-3), event.get("owner")))
        if status == "timeout":
            raise HuaweiOcrOverlapError(
                f"another run is sending images of this batch: {event.get('message')}; nothing was called. "
                f"Waited {waited:.0f}s deferred (overlap_timeout={timeout:g})."
                if timeout is not None
                else f"another run is sending images of this batch: {event.get('message')}; nothing was called."
            )
        raise HuaweiOcrOverlapError(
            f"could not watch the other run's lease: {event.get('message')}; nothing was called"
        )


def _table_names(api: str) -> list[str]:
    """The names of the API's tables (catalog), for their Assets (only a DAG with a fixed
    ``table_uri`` pays the catalog's import at parse time)."""
    from airflow_provider_hwocr.catalog.tables import api_tables

    return [table.name for table in api_tables(api)]


def _check_selection(output_uri: Any, images: Any, source_uri: Any) -> None:
    """A batch stores its results in OBS and takes either ``images=`` or ``source_uri=``."""
    if not output_uri:
        raise HuaweiOcrValidationError(
            "output_uri: required for batch OCR (results are stored in OBS, one per image)",
            parameter="output_uri",
        )
    if (images is None) == (source_uri is None):
        raise HuaweiOcrValidationError(
            "images / source_uri: give either images=[...] or source_uri='obs://bucket/prefix/', "
            "not both or neither",
            parameter="images",
        )
    check_images(images)


def _check_no_inline_review(kwargs: dict[str, Any]) -> None:
    """A batch holds its pages for ``HuaweiOcrReviewOperator``, which has the review's own arguments."""
    given = [
        name
        for name, default in (
            ("review_timeout", None),
            ("on_review_timeout", "fail"),
            ("review_assigned_users", None),
        )
        if kwargs.get(name, default) != default
    ]
    if given:
        raise HuaweiOcrValidationError(
            f"{given[0]}: a batch does not review its pages itself; it lists them in its XCom's held for "
            "HuaweiOcrReviewOperator (response_timeout, on_timeout, assigned_users)",
            parameter=given[0],
        )


def _check_on_overlap(on_overlap: Any) -> str:
    if on_overlap not in ("defer", "wait", "fail"):
        raise HuaweiOcrValidationError(
            f"on_overlap: must be 'defer', 'wait' or 'fail', got {on_overlap!r}", parameter="on_overlap"
        )
    return str(on_overlap)


def _as_list(images: Any) -> list[Any]:
    """``images=`` as rendered: one string is one image."""
    return [images] if isinstance(images, str) else list(images)


def _prefix(uri: Any, parameter: str, *, allow_empty_key: bool = False) -> ObsPrefix:
    from airflow_provider_hwocr.runtime.contract import ObsPrefix

    loc = check_obs_uri(uri, parameter, allow_empty_key=allow_empty_key)
    return ObsPrefix(str(uri), loc.bucket, loc.key)


def latest_manifest_uri(
    output_uri: str,
    api: str,
    *,
    shard_index: int | None = None,
    shard_count: int = 1,
    map_index: int | None = None,
) -> str:
    """Where a batch with this ``output_uri`` and API keeps its latest manifest (a mapped task: per map index)."""
    from airflow_provider_hwocr.runtime.store import ResultStore, shard_tag

    store = ResultStore.from_uri(output_uri, api, shard_tag(shard_index, shard_count))
    if store is None:
        raise ValueError("output_uri: required")
    return store.uri(store.manifest_key(map_index))
