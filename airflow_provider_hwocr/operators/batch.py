"""OCR many images in one task, at the rate limit, with flat cost per image and nothing paid twice.

Meant for backfills and large drops. How one batch runs:

1. **Select**: the images given, or every object under ``source_uri`` matching ``pattern``
   (one paged listing), or a sensor's selection. Duplicates are dropped (one call per image),
   and with ``shard_count > 1`` only this shard's images are kept (a stable hash of the image).
2. **Decide, before touching any source**: one paged listing of the output prefix and one
   GET of the latest manifest (its index) tell which images are done, with the same
   parameters, from an unchanged source (see :mod:`airflow_provider_hwocr.operators._batch_state`).
   Done images cost nothing more: no HEAD, no signing, no download.
3. **Send** the rest, ``max_concurrency`` at a time, paced by a rate limiter that starts at
   ``qps`` and backs off on throttling. Each image costs its OCR call and one PUT of its result.
   Progress is checkpointed to OBS as the batch goes, so a killed task loses nothing.
4. **Record**: a manifest per run (history) and the latest manifest with the index.

``dry_run`` stops after step 2 and reports what would be called, skipped and rejected, and
what it would cost; ``max_calls`` caps the calls of one task.
"""

from __future__ import annotations

import fnmatch
import json
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from airflow_provider_hwocr.errors import HuaweiCloudError, HuaweiCloudNonRetryableError
from airflow_provider_hwocr.operators.ocr import HuaweiOcrOperator, _is_static

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Folders with fewer listed images than this are HEADed image by image instead of listed.
LIST_FOLDER_FROM = 20
#: Most rejected images whose reasons a dry run puts in XCom (all are in the log count).
MAX_REASONS_IN_XCOM = 100


class HuaweiOcrBatchFailedError(HuaweiCloudError, RuntimeError):
    """More images failed than the failure policy allows (see the manifest).

    Neither retryable nor not: a task retry re-sends only the failed images.
    """


class HuaweiOcrBatchEmptyError(HuaweiCloudNonRetryableError, ValueError):
    """The selection matched no image (pass ``allow_empty=True`` if that is expected)."""

    parameter = "source_uri"


class _NotAttempted(Exception):
    """Raised by the pre-call hook when an image must not be sent (budget spent, batch stopping)."""


class _Item:
    """One selected image on its way through the batch (a plain class: no dataclass at parse time)."""

    __slots__ = ("action", "entry", "key", "pos", "source", "src")

    def __init__(self, pos: int, source: str) -> None:
        self.pos = pos
        self.source = source  # log-safe description
        self.src: Any = None  # _Source once resolved
        self.key: str | None = None  # result key
        self.action = "send"  # send, skip, verify (HEAD the result first), reject
        self.entry: dict[str, Any] | None = None  # the manifest entry once decided


def _check_int(value: Any, name: str, minimum: int) -> int:
    from airflow_provider_hwocr.costs import check_whole

    return check_whole(value, name, minimum)


def _check_number(value: Any, name: str, *, allow_none: bool) -> float | None:
    from airflow_provider_hwocr.costs import check_number

    if value is None and allow_none:
        return None
    return check_number(value, name, positive=True)


def _check_images(images: Any) -> None:
    from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

    if images is None or isinstance(images, (str, list, tuple, dict)):
        return
    if type(images).__name__ in ("XComArg", "PlainXComArg", "MapXComArg"):
        return  # resolved at run time
    raise HuaweiOcrValidationError(
        "images: must be a list of obs:// URIs, http(s):// URLs or paths (or a sensor's selection), "
        f"got {type(images).__name__}",
        parameter="images",
    )


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
    :param max_concurrency: images in flight at once (default 4).
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
        are always kept next to the output prefix, see the README).
    :param progress_interval: seconds between progress lines in the log.
    :param checkpoint_every: write a progress part to OBS after this many finished images ...
    :param checkpoint_interval: ... or after this many seconds, whichever comes first.
    :param dry_run: list, validate and decide skips; no OCR call and no write. Also forced
        by ``HWOCR_DRY_RUN=1`` or ``[huaweicloud_ocr] dry_run``.
    :param max_calls: OCR calls this task may make; the rest is recorded as not attempted
        and the task fails (a re-run continues where it stopped).
    :param price_per_call: for cost estimates (else the connection's ``price_per_call``).

    Errors that will fail every image (authentication, not subscribed, configuration) stop
    the batch at once. Returns ``{"manifest_uri", "history_uri", "totals", "billing"}``.
    """

    template_fields: Sequence[str] = (
        *HuaweiOcrOperator.template_fields,
        "images",
        "source_uri",
        "pattern",
        "manifest_uri",
        "shard_index",
    )

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
        **kwargs: Any,
    ) -> None:
        from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

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
        _check_images(images)
        self.max_concurrency = _check_int(max_concurrency, "max_concurrency", 1)
        self.qps = _check_number(qps, "qps", allow_none=True)
        self.shard_count = _check_int(shard_count, "shard_count", 1)
        if shard_index is not None and _is_static(shard_index):
            index = _check_int(shard_index, "shard_index", 0)
            if index >= self.shard_count:
                raise HuaweiOcrValidationError(
                    f"shard_index: must be below shard_count={self.shard_count}, got {index}",
                    parameter="shard_index",
                )
        elif shard_index is None and self.shard_count > 1:
            raise HuaweiOcrValidationError(
                f"shard_index: required with shard_count={self.shard_count} "
                "(e.g. .partial(...).expand(shard_index=range(shard_count)))",
                parameter="shard_index",
            )
        if max_failures is not None:
            _check_int(max_failures, "max_failures", 0)
        if max_failure_ratio is not None and (
            isinstance(max_failure_ratio, bool)
            or not isinstance(max_failure_ratio, (int, float))
            or not 0 <= max_failure_ratio <= 1
        ):
            raise HuaweiOcrValidationError(
                f"max_failure_ratio: must be between 0 and 1, got {max_failure_ratio!r}",
                parameter="max_failure_ratio",
            )
        self.checkpoint_every = _check_int(checkpoint_every, "checkpoint_every", 1)
        self.checkpoint_interval = float(
            _check_number(checkpoint_interval, "checkpoint_interval", allow_none=False) or 30.0
        )
        self.progress_interval = float(
            _check_number(progress_interval, "progress_interval", allow_none=False) or 10.0
        )
        if not isinstance(allow_empty, bool):
            raise HuaweiOcrValidationError(
                f"allow_empty: must be True or False, got {allow_empty!r}", parameter="allow_empty"
            )
        super().__init__(api=api, output_uri=output_uri, **kwargs)
        self.images = images
        self.source_uri = source_uri
        self.pattern = pattern
        self.allow_empty = allow_empty
        self.adaptive_rate = bool(adaptive_rate)
        self.shard_index = shard_index
        self.max_failures = max_failures
        self.max_failure_ratio = max_failure_ratio
        self.manifest_uri = manifest_uri

    # --- selection ------------------------------------------------------------------

    def _describe_selection(self) -> str:
        if self.source_uri is not None:
            return f"source_uri={self.source_uri!r}, pattern={self.pattern!r}"
        if isinstance(self.images, dict):
            return f"the sensor's selection ({self.images.get('describe')})"
        return "images=[] (an empty list)"

    def _select(self, pipeline: Any) -> tuple[list[_Item], int, int]:
        """The images of this shard, resolved as far as possible without a request per image.

        Returns (items, images selected before sharding, duplicates dropped).
        """
        from airflow_provider_hwocr.obs_uri import ObsLocation, is_obs_uri, parse_obs_uri
        from airflow_provider_hwocr.operators._batch_state import shard_of

        shard = self._shard()
        listed: list[Any] = []  # ObsObjectInfo, from a listing
        raw: list[Any] = []  # anything else given in images=
        if self.source_uri is not None:
            loc = parse_obs_uri(str(self.source_uri), allow_empty_key=True, parameter="source_uri")
            for info in pipeline.obs.list_objects(loc.bucket, loc.key):
                if info.key.endswith("/"):
                    continue  # folder markers
                if self.pattern and not fnmatch.fnmatchcase(info.key[len(loc.key) :], str(self.pattern)):
                    continue
                listed.append(info)
        elif isinstance(self.images, dict):
            listed.extend(self._from_selection(pipeline, self.images))
        else:
            images = self.images
            if isinstance(images, str):
                images = [images]
            _check_images(images)
            raw.extend(images or [])

        # Identity for de-duplication and sharding, known without reading anything.
        seen: set[str] = set()
        duplicates = 0
        chosen: list[tuple[str, Any]] = []
        total = 0

        def keep(identity: str, thing: Any) -> None:
            nonlocal duplicates, total
            if identity in seen:
                duplicates += 1
                return
            seen.add(identity)
            total += 1
            if shard is None or shard_of(identity, self.shard_count) == shard:
                chosen.append((identity, thing))

        for info in listed:
            keep(info.uri, info)
        for image in raw:
            keep(_identity_of(image), image)

        # Explicit obs:// keys: one listing per folder that holds many of them, a HEAD for the rest.
        folders: dict[tuple[str, str], list[str]] = {}
        for identity, thing in chosen:
            if not hasattr(thing, "etag") and is_obs_uri(thing):
                loc = parse_obs_uri(str(thing))
                folders.setdefault((loc.bucket, loc.key.rpartition("/")[0] + "/"), []).append(loc.key)
        found: dict[str, Any] = {}
        listed_folders = {f for f, keys in folders.items() if len(keys) >= LIST_FOLDER_FROM}
        for bucket, folder in folders:
            if (bucket, folder) in listed_folders:
                prefix = "" if folder == "/" else folder
                for info in pipeline.obs.list_objects(bucket, prefix, delimiter="/"):
                    found[info.uri] = info

        items: list[_Item] = []
        for pos, (identity, thing) in enumerate(chosen):
            item = _Item(pos, identity)
            try:
                if hasattr(thing, "etag"):  # listed
                    item.src = pipeline.listed_source(
                        ObsLocation(thing.bucket, thing.key), size=thing.size, etag=thing.etag
                    )
                elif is_obs_uri(thing):
                    loc = parse_obs_uri(str(thing))
                    info = found.get(loc.uri)
                    if info is None and (loc.bucket, loc.key.rpartition("/")[0] + "/") in listed_folders:
                        raise _missing(loc.uri)  # its folder was listed: it does not exist
                    if info is None:
                        info = pipeline.obs.head(loc.bucket, loc.key)
                        if info is None:
                            raise _missing(loc.uri)
                    item.src = pipeline.listed_source(loc, size=info.size, etag=info.etag)
                else:
                    item.src = pipeline._resolve(thing)
                item.source = item.src.display
                item.key = pipeline.output_key_for(item.src) if item.src.identity else None
            except Exception as exc:
                from airflow_provider_hwocr.client.errors import HuaweiOcrError

                if not isinstance(exc, (HuaweiOcrError, ValueError)):
                    raise
                item.action = "reject"
                item.entry = _failed(item.source, exc, called=False)
            items.append(item)
        return items, total, duplicates

    def _from_selection(self, pipeline: Any, selection: dict[str, Any]) -> list[Any]:
        from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
        from airflow_provider_hwocr.hooks.obs_match import DEFAULT_METADATA_KEYS, ObsKeyQuery, find_matches
        from airflow_provider_hwocr.sensors.obs import SELECTION_FORMAT

        if selection.get("format") != SELECTION_FORMAT or not isinstance(selection.get("query"), dict):
            raise HuaweiOcrValidationError(
                f"images: a dict must be a sensor selection ({SELECTION_FORMAT}), got keys {sorted(selection)}",
                parameter="images",
            )
        query = ObsKeyQuery.from_dict(selection["query"])
        # Listing fields only: no HEAD per object, whatever the sensor reported.
        query = ObsKeyQuery(query.targets, query.min_size, DEFAULT_METADATA_KEYS)
        return list(find_matches(pipeline.obs, query).objects)

    def _shard(self) -> int | None:
        from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

        if self.shard_count <= 1:
            return None
        index = _check_int(self.shard_index, "shard_index", 0)
        if index >= self.shard_count:
            raise HuaweiOcrValidationError(
                f"shard_index: must be below shard_count={self.shard_count}, got {index}",
                parameter="shard_index",
            )
        return index

    # --- run ------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_hwocr.client.errors import (
            HuaweiOcrAuthError,
            HuaweiOcrConfigurationError,
            HuaweiOcrError,
            HuaweiOcrNotFoundError,
            HuaweiOcrValidationError,
        )
        from airflow_provider_hwocr.costs import CallBudget, estimate_cost
        from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError
        from airflow_provider_hwocr.operators._batch_state import (
            MANIFEST_FORMAT,
            Layout,
            ProgressJournal,
            build_index,
            load_prior_state,
            now_utc,
            shard_tag,
        )
        from airflow_provider_hwocr.operators._pipeline import parse_output_uri
        from airflow_provider_hwocr.ratelimit import AdaptiveRateLimiter, TokenBucket

        started = time.monotonic()
        output = parse_output_uri(self.output_uri)
        if output is None:
            raise HuaweiOcrValidationError(
                f"output_uri: rendered to {self.output_uri!r}; batch results need obs://bucket/prefix/ "
                "(nothing was called)",
                parameter="output_uri",
            )
        max_concurrency = _check_int(self.max_concurrency, "max_concurrency", 1)
        dry, dry_why = self._dry_run()
        budget = CallBudget(self._max_calls())
        shard = self._shard()
        fatal_types = (
            HuaweiOcrAuthError,
            HuaweiOcrConfigurationError,
            HuaweiOcrNotFoundError,
            HuaweiCloudBudgetExceededError,
        )

        pipeline = self.make_pipeline()
        qps = self.qps / self.shard_count if self.qps else None
        if qps and self.adaptive_rate:
            pipeline.ocr_hook.rate_limiter = AdaptiveRateLimiter(qps, log=self.log)
        elif qps:
            pipeline.before_call = TokenBucket(qps).acquire
        pace = pipeline.before_call
        layout = Layout.for_output(output, pipeline.api.slug, shard_tag(shard, self.shard_count))

        items, selected, duplicates = self._select(pipeline)
        if selected == 0 and not self.allow_empty:
            raise HuaweiOcrBatchEmptyError(
                f"the selection is empty: no image matches {self._describe_selection()}; nothing was "
                "called. Check the path and pattern, or pass allow_empty=True if an empty day is expected."
            )
        prior = load_prior_state(pipeline.obs, layout)
        for item in items:
            if item.action == "reject" or not item.key or not pipeline.skip_existing:
                continue
            listed = prior.listed.get(item.key)
            if listed is None:
                continue  # no result yet: send
            known = prior.index.get(item.key)
            if known is None or (known.get("e") and known.get("e") != listed):
                item.action = "verify"  # listed, but not by us, or rewritten since: HEAD it once
            elif known.get("p") == pipeline.digest and (item.src.etag or None) == (known.get("s") or None):
                item.action = "skip"
                item.entry = {
                    "source": item.source,
                    "status": "skipped",
                    "key": item.key,
                    "result_uri": layout.uri(item.key),
                    "summary": known.get("summary"),
                }
            # else: made with other parameters, or from a source replaced since: send again
        shard_note = f", shard {shard} of {self.shard_count}" if shard is not None else ""
        self.log.info(
            "Batch OCR %s: %d image(s)%s (%d duplicate(s) dropped), concurrency %d, %s, results under %s; "
            "%d already done, %d listed object(s) read in %d request(s)",
            pipeline.api.slug,
            len(items),
            shard_note,
            duplicates,
            max_concurrency,
            f"at most {qps:g} call(s)/s{' (adaptive)' if self.adaptive_rate else ''}"
            if qps
            else "no rate limit",
            output.uri,
            sum(1 for i in items if i.action == "skip"),
            len(prior.listed),
            prior.requests,
        )

        counts = {"done": 0, "skipped": 0, "failed": 0, "not_attempted": 0}
        counts_lock = threading.Lock()
        stop = threading.Event()
        fatal: list[BaseException] = []
        verified: dict[str, dict[str, Any]] = {}
        journal = ProgressJournal(
            pipeline.obs,
            layout,
            header={
                "api": pipeline.api.slug,
                "params_digest": pipeline.digest,
                "run_id": _ctx(context, "run_id"),
                "shard": layout.shard or None,
            },
            every=self.checkpoint_every,
            interval=self.checkpoint_interval,
            enabled=not dry,
        )

        def before_call() -> None:
            if stop.is_set():
                raise _NotAttempted("the batch stopped after an error that fails every image")
            if not budget.take():
                raise _NotAttempted(f"max_calls={budget.limit} reached")
            if pace is not None:
                pace()

        pipeline.before_call = before_call

        def one(item: _Item) -> dict[str, Any]:
            src, key = item.src, item.key
            if item.action == "verify" and key is not None:
                existing = pipeline._existing(key, src)
                if existing is not None:
                    verified[key] = {
                        "p": pipeline.digest,
                        "s": src.etag,
                        "e": prior.listed.get(key),
                        "summary": existing.get("summary"),
                    }
                    return {
                        "source": item.source,
                        "status": "skipped",
                        "key": key,
                        "result_uri": existing["uri"],
                        "summary": existing.get("summary"),
                    }
            if dry:
                if src.kind != "obs":
                    pipeline.check(src)  # raises on what the service would refuse
                return {"source": item.source, "status": "would_call", "key": key}
            if stop.is_set():
                return {"source": item.source, "status": "not_attempted", "reason": "the batch stopped"}
            try:
                pipeline.attach(src)
                outcome = pipeline.send(src, key)
            except _NotAttempted as why:
                return {"source": item.source, "status": "not_attempted", "reason": str(why)}
            entry = {
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
            if outcome.billed_retries:
                self.log.warning(
                    "%s may have been billed %d times (%d retr%s after a try the service may have billed)",
                    item.source,
                    outcome.billed_retries + 1,
                    outcome.billed_retries,
                    "y" if outcome.billed_retries == 1 else "ies",
                )
            return entry

        def guarded(item: _Item) -> dict[str, Any]:
            try:
                entry = one(item)
            except Exception as exc:  # noqa: BLE001 - recorded per image in the manifest
                if isinstance(exc, fatal_types):
                    stop.set()
                    fatal.append(exc)
                called = isinstance(exc, HuaweiOcrError) and bool(getattr(exc, "attempts", None))
                if dry:
                    entry = {"source": item.source, "status": "rejected", "reason": str(exc)[:500]}
                else:
                    entry = _failed(item.source, exc, called=called)
            if not dry:
                journal.add(entry)
            with counts_lock:
                counts[entry["status"]] = counts.get(entry["status"], 0) + 1
            return entry

        entries: list[dict[str, Any] | None] = [None] * len(items)
        todo: list[_Item] = []
        for item in items:
            if item.entry is not None:
                if dry and item.action == "reject":
                    item.entry = {
                        "source": item.source,
                        "status": "rejected",
                        "reason": item.entry["error_message"],
                    }
                entries[item.pos] = item.entry
                counts[item.entry["status"]] = counts.get(item.entry["status"], 0) + 1
            else:
                todo.append(item)

        last_report = time.monotonic()
        with ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="hwocr-batch") as pool:
            pending: dict[Future, int] = {}
            queue = iter(todo)
            # Feed the pool lazily so a stop request leaves the rest untouched.
            for _ in range(max_concurrency * 2):
                first = next(queue, None)
                if first is None:
                    break
                pending[pool.submit(guarded, first)] = first.pos
            tick = min(self.progress_interval, self.checkpoint_interval)
            while pending:
                done, _ = wait(pending, timeout=tick, return_when=FIRST_COMPLETED)
                for fut in done:
                    entries[pending.pop(fut)] = fut.result()
                    nxt = next(queue, None)
                    if nxt is not None and not stop.is_set():
                        pending[pool.submit(guarded, nxt)] = nxt.pos
                    elif nxt is not None:
                        entries[nxt.pos] = {
                            "source": nxt.source,
                            "status": "not_attempted",
                            "reason": "the batch stopped",
                        }
                        counts["not_attempted"] += 1
                journal.maybe_flush()
                now = time.monotonic()
                if now - last_report >= self.progress_interval or not pending:
                    self._progress(counts, len(items), started)
                    last_report = now
            for item in queue:  # left over after a stop
                entries[item.pos] = {
                    "source": item.source,
                    "status": "not_attempted",
                    "reason": "the batch stopped",
                }
                counts["not_attempted"] += 1

        ordered = [e for e in entries if e is not None]
        hook = pipeline.ocr_hook
        price = self._price(hook)
        billed_retries = sum(int(e.get("billed_retries") or 0) for e in ordered)
        if dry:
            return self._dry_report(ordered, dry_why, price, duplicates, prior.requests)

        totals = {
            "total": len(ordered),
            **{s: counts.get(s, 0) for s in ("done", "skipped", "failed", "not_attempted")},
            "duplicates": duplicates,
            "billed_retries": billed_retries,
            "images_possibly_billed_twice": sum(1 for e in ordered if e.get("billed_retries")),
        }
        billing = {
            "requests_sent": hook.requests_sent,
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
            "output_uri": output.uri,
            "run_id": _ctx(context, "run_id"),
            "try_number": _try_number(context),
            "shard": {"index": shard, "count": self.shard_count} if shard is not None else None,
            "created_at": when.isoformat(timespec="seconds"),
            "elapsed_seconds": round(time.monotonic() - started, 3),
            "totals": totals,
            "billing": billing,
            "images": ordered,
        }
        history_key = layout.history_key(_ctx(context, "run_id"), _try_number(context), when)
        pipeline.obs.put_json(layout.bucket, history_key, manifest)
        latest = {
            **manifest,
            "history_uri": layout.uri(history_key),
            "index": build_index(prior, ordered, verified),
        }
        pipeline.obs.put_json(layout.bucket, layout.latest_key, latest)
        if self.manifest_uri:
            from airflow_provider_hwocr.obs_uri import parse_obs_uri

            extra = parse_obs_uri(str(self.manifest_uri), parameter="manifest_uri")
            pipeline.obs.put_json(extra.bucket, extra.key, manifest)
        leftovers = [*prior.parts, *journal.written]
        if leftovers:  # everything in them is in the manifest now
            pipeline.obs.delete_many(layout.bucket, leftovers)
        manifest_uri = layout.uri(layout.latest_key)
        self.log.info(
            "Manifest written to %s (history %s): %s",
            manifest_uri,
            layout.uri(history_key),
            json.dumps(totals),
        )
        if billed_retries:
            self.log.warning(
                "%d image(s) may have been billed twice or more (%d retr%s after tries the service may have "
                "billed); they are marked billed_retries in the manifest. Set retry_possibly_billed=False to "
                "fail such images instead of retrying them.",
                totals["images_possibly_billed_twice"],
                billed_retries,
                "y" if billed_retries == 1 else "ies",
            )
        # issue 11: lineage, console links, asset event (what was read and written)
        self._integration_after_run(
            context,
            sources=[e["source"] for e in ordered],
            results=[e["result_uri"] for e in ordered if e.get("result_uri")] + [manifest_uri],
        )

        if fatal:
            raise fatal[0]
        if budget.refused:
            raise HuaweiCloudBudgetExceededError(
                f"max_calls: this task may make {budget.limit} OCR call(s); {totals['not_attempted']} image(s) "
                f"were not attempted (see {manifest_uri}). A re-run skips the finished images and continues."
            )
        failed = totals["failed"]
        total = totals["total"]
        if self.max_failures is None and self.max_failure_ratio is None:
            too_many = failed > 0
        else:
            too_many = (self.max_failures is not None and failed > self.max_failures) or (
                self.max_failure_ratio is not None and total > 0 and failed / total > self.max_failure_ratio
            )
        if too_many:
            raise HuaweiOcrBatchFailedError(
                f"{failed} of {total} image(s) failed ({failed / max(total, 1):.1%}), over the policy "
                f"(max_failures={self.max_failures}, max_failure_ratio={self.max_failure_ratio}); "
                f"see {manifest_uri}"
            )
        return {
            "manifest_uri": manifest_uri,
            "history_uri": layout.uri(history_key),
            "totals": totals,
            "billing": billing,
        }

    def _dry_report(
        self,
        entries: list[dict[str, Any]],
        why: str | None,
        price: float | None,
        duplicates: int,
        requests: int,
    ) -> dict[str, Any]:
        from airflow_provider_hwocr.costs import estimate_cost

        would = sum(1 for e in entries if e["status"] == "would_call")
        skipped = sum(1 for e in entries if e["status"] == "skipped")
        rejected = [e for e in entries if e["status"] == "rejected"]
        report = {
            "dry_run": True,
            "reason": why,
            "total": len(entries),
            "would_call": would,
            "skipped": skipped,
            "rejected": len(rejected),
            "duplicates": duplicates,
            "rejections": [
                {"source": e["source"], "reason": e["reason"]} for e in rejected[:MAX_REASONS_IN_XCOM]
            ],
            "price_per_call": price,
            "estimated_cost": estimate_cost(would, price),
        }
        self.log.info(
            "DRY RUN (%s): %d image(s) would be sent to OCR, %d skipped (already done), %d rejected, %d "
            "duplicate(s) dropped; estimated cost %s. No OCR call and no write was made.",
            why,
            would,
            skipped,
            len(rejected),
            duplicates,
            "unknown (no price_per_call)" if price is None else f"{report['estimated_cost']:g}",
        )
        for e in rejected[:20]:
            self.log.info("  would reject %s: %s", e["source"], e["reason"])
        return report

    def _progress(self, counts: dict[str, int], total: int, started: float) -> None:
        finished = sum(counts.values())
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = finished / elapsed
        eta = (total - finished) / rate if rate > 0 else float("inf")
        self.log.info(
            "Progress: %d/%d (%.0f%%), %.2f image(s)/s, ETA %s, %d failed so far",
            finished,
            total,
            100.0 * finished / max(total, 1),
            rate,
            "-" if eta == float("inf") else f"{eta:.0f}s",
            counts.get("failed", 0),
        )


def _missing(uri: str) -> Exception:
    from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

    return HuaweiOcrValidationError(f"image: {uri} does not exist", parameter="image")


def _identity_of(image: Any) -> str:
    """What makes two entries of ``images=`` the same image, without reading anything."""
    from airflow_provider_hwocr.obs_uri import is_obs_uri, parse_obs_uri
    from airflow_provider_hwocr.results import source_identity

    if is_obs_uri(image):
        try:
            return parse_obs_uri(str(image)).uri
        except ValueError:
            return str(image)
    if isinstance(image, str) and image.strip().lower().startswith(("http://", "https://")):
        return source_identity("url", uri=image.strip())
    if isinstance(image, (bytes, bytearray, memoryview)):
        return source_identity("bytes", data=bytes(image)) if image else "empty"
    if isinstance(image, (str, os.PathLike)):
        return "file:" + os.path.abspath(os.fspath(image))
    return repr(image)


def _failed(source: str, exc: BaseException, *, called: bool) -> dict[str, Any]:
    return {
        "source": source,
        "status": "failed",
        "called": called,
        "error_type": type(exc).__name__,
        "error_code": getattr(exc, "error_code", None),
        "error_message": str(exc)[:500],
        "attempts": getattr(exc, "attempts", None),
        "billed_retries": int(getattr(exc, "billed_retries", 0) or 0),
    }


def _ctx(context: Any, name: str) -> Any:
    return context.get(name) if hasattr(context, "get") else None


def _try_number(context: Any) -> Any:
    ti = _ctx(context, "ti")
    return getattr(ti, "try_number", None) if ti is not None else None


def latest_manifest_uri(
    output_uri: str, api: str, *, shard_index: int | None = None, shard_count: int = 1
) -> str:
    """Where a batch with this ``output_uri`` and API keeps its latest manifest (and index)."""
    from airflow_provider_hwocr.operators._batch_state import Layout, shard_tag
    from airflow_provider_hwocr.operators._pipeline import parse_output_uri

    output = parse_output_uri(output_uri)
    if output is None:
        raise ValueError("output_uri: required")
    layout = Layout.for_output(output, api, shard_tag(shard_index, shard_count))
    return layout.uri(layout.latest_key)
