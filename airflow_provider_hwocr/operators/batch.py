"""OCR many images in one task: bounded concurrency, a QPS limit, a manifest, resume.

Meant for backfills and large drops: results go to OBS one object per image
(as with ``output_uri`` on the single-image operators), so a re-run skips what
is done and costs no OCR call for it.
"""

from __future__ import annotations

import fnmatch
import json
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_hwocr.operators.ocr import HuaweiOcrOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

MANIFEST_FORMAT = "hwocr-manifest/1"


class HuaweiOcrBatchFailedError(RuntimeError):
    """More images failed than the failure policy allows (see the manifest)."""


class HuaweiOcrBatchOperator(HuaweiOcrOperator):
    """Run one OCR API over many images; every result and a manifest go to OBS.

    :param api: the API's path slug, e.g. ``general-text``.
    :param output_uri: ``obs://bucket/prefix/`` for results (required). Templated.
    :param images: the images: ``obs://`` URIs, ``http(s)://`` URLs or paths. Templated.
    :param source_uri: or every object under ``obs://bucket/prefix/``. Templated.
    :param pattern: with ``source_uri``, only keys (relative to the prefix)
        matching this glob, e.g. ``*.png`` or ``**/*.jpg``. Templated.
    :param max_concurrency: images in flight at once (default 4).
    :param qps: OCR calls per second at most, across all threads (default 2;
        ``None`` for no limit). Skipped images do not count.
    :param max_failures: fail the task if more images than this fail.
    :param max_failure_ratio: fail the task if more than this fraction fails
        (e.g. 0.01). With neither set, any failure fails the task; with both,
        exceeding either does.
    :param manifest_uri: where to write the manifest; default
        ``{output_uri}_manifest.{api}.json``.
    :param progress_interval: seconds between progress lines in the log.

    All images are processed before the policy is applied; the manifest (per
    image: source, status, result URI, request id, attempts, error) is written
    either way. Errors that will fail every image (authentication, not
    subscribed, configuration) stop the batch at once. Returns
    ``{"manifest_uri": ..., "totals": {...}}``.
    """

    template_fields: Sequence[str] = (
        *HuaweiOcrOperator.template_fields,
        "images",
        "source_uri",
        "pattern",
        "manifest_uri",
    )

    def __init__(
        self,
        *,
        api: str,
        output_uri: str,
        images: list[str] | None = None,
        source_uri: str | None = None,
        pattern: str | None = None,
        max_concurrency: int = 4,
        qps: float | None = 2.0,
        max_failures: int | None = None,
        max_failure_ratio: float | None = None,
        manifest_uri: str | None = None,
        progress_interval: float = 10.0,
        **kwargs: Any,
    ) -> None:
        if not output_uri:
            raise ValueError("output_uri: required for batch OCR (results are stored in OBS, one per image)")
        if (images is None) == (source_uri is None):
            raise ValueError(
                "give either images=[...] or source_uri='obs://bucket/prefix/', not both or neither"
            )
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency: must be >= 1, got {max_concurrency}")
        if qps is not None and qps <= 0:
            raise ValueError(f"qps: must be > 0 or None, got {qps}")
        if max_failures is not None and max_failures < 0:
            raise ValueError(f"max_failures: must be >= 0, got {max_failures}")
        if max_failure_ratio is not None and not 0 <= max_failure_ratio <= 1:
            raise ValueError(f"max_failure_ratio: must be between 0 and 1, got {max_failure_ratio}")
        super().__init__(api=api, output_uri=output_uri, **kwargs)
        self.images = images
        self.source_uri = source_uri
        self.pattern = pattern
        self.max_concurrency = max_concurrency
        self.qps = qps
        self.max_failures = max_failures
        self.max_failure_ratio = max_failure_ratio
        self.manifest_uri = manifest_uri
        self.progress_interval = progress_interval

    # --- inputs ---------------------------------------------------------------------

    def _list_images(self, pipeline: Any) -> list[str]:
        if self.images is not None:
            if isinstance(self.images, str):
                return [self.images]
            return [str(i) for i in self.images]
        from airflow_provider_hwocr.obs_uri import parse_obs_uri

        loc = parse_obs_uri(str(self.source_uri), allow_empty_key=True, parameter="source_uri")
        prefix = loc.key
        keys = pipeline.obs.list_keys(loc.bucket, prefix)
        selected = []
        for key in keys:
            if key.endswith("/"):
                continue  # folder markers
            relative = key[len(prefix) :]
            if self.pattern and not fnmatch.fnmatchcase(relative, self.pattern):
                continue
            selected.append(f"obs://{loc.bucket}/{key}")
        return selected

    # --- run ------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_hwocr.client.errors import (
            HuaweiOcrAuthError,
            HuaweiOcrConfigurationError,
            HuaweiOcrNotFoundError,
        )
        from airflow_provider_hwocr.obs_uri import ObsLocation, parse_obs_uri
        from airflow_provider_hwocr.ratelimit import TokenBucket

        fatal_types = (HuaweiOcrAuthError, HuaweiOcrConfigurationError, HuaweiOcrNotFoundError)
        pipeline = self.make_pipeline()
        if self.qps:
            bucket = TokenBucket(self.qps)
            pipeline.before_call = bucket.acquire
        images = self._list_images(pipeline)
        total = len(images)
        self.log.info(
            "Batch OCR %s: %d image(s), concurrency %d, %s, results under %s",
            pipeline.api.slug,
            total,
            self.max_concurrency,
            f"at most {self.qps:g} call(s)/s" if self.qps else "no rate limit",
            self.output_uri,
        )

        entries: dict[int, dict[str, Any]] = {}
        stop = threading.Event()
        fatal: list[BaseException] = []
        started = time.monotonic()

        def one(index: int, image: str) -> dict[str, Any]:
            if stop.is_set():
                return {"source": image, "status": "not_attempted"}
            try:
                outcome = pipeline.run(image)
            except Exception as exc:  # noqa: BLE001 (recorded per image in the manifest)
                if isinstance(exc, fatal_types):
                    stop.set()
                    fatal.append(exc)
                return {
                    "source": image,
                    "status": "failed",
                    "error_type": type(exc).__name__,
                    "error_code": getattr(exc, "error_code", None),
                    "error_message": str(exc)[:500],
                    "attempts": getattr(exc, "attempts", None),
                }
            return {
                "source": image,
                "status": outcome.status,
                "result_uri": outcome.result_uri,
                "request_id": outcome.request_id,
                "attempts": outcome.attempts,
                "summary": outcome.value.get("summary") if isinstance(outcome.value, dict) else None,
            }

        last_report = started
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="hwocr-batch") as pool:
            pending: dict[Future, int] = {}
            queue = iter(enumerate(images))
            # Feed the pool lazily so a stop request leaves the rest untouched.
            for _ in range(self.max_concurrency * 2):
                item = next(queue, None)
                if item is None:
                    break
                pending[pool.submit(one, *item)] = item[0]
            while pending:
                done, _ = wait(pending, timeout=self.progress_interval, return_when=FIRST_COMPLETED)
                for fut in done:
                    entries[pending.pop(fut)] = fut.result()
                    item = next(queue, None)
                    if item is not None:
                        pending[pool.submit(one, *item)] = item[0]
                now = time.monotonic()
                if now - last_report >= self.progress_interval or not pending:
                    self._progress(entries, total, started)
                    last_report = now
            for index, image in queue:  # left over after a stop
                entries[index] = {"source": image, "status": "not_attempted"}

        ordered = [entries[i] for i in range(total)]
        totals = {
            s: sum(1 for e in ordered if e["status"] == s)
            for s in ("done", "skipped", "failed", "not_attempted")
        }
        totals["total"] = total
        output = parse_obs_uri(str(self.output_uri), allow_empty_key=True, parameter="output_uri")
        manifest_loc = (
            parse_obs_uri(self.manifest_uri, parameter="manifest_uri")
            if self.manifest_uri
            else ObsLocation(output.bucket, f"{output.key}_manifest.{pipeline.api.slug}.json")
        )
        manifest = {
            "format": MANIFEST_FORMAT,
            "api": pipeline.api.slug,
            "parameters": pipeline.params,
            "output_uri": self.output_uri,
            "run_id": context.get("run_id") if hasattr(context, "get") else None,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "elapsed_seconds": round(time.monotonic() - started, 3),
            "totals": totals,
            "images": ordered,
        }
        pipeline.obs.put_json(manifest_loc.bucket, manifest_loc.key, manifest)
        self.log.info("Manifest written to %s: %s", manifest_loc.uri, json.dumps(totals))
        # issue 11: lineage, console links, asset event (what was read and written)
        self._integration_after_run(
            context,
            sources=images,
            results=[e.get("result_uri") for e in ordered] + [manifest_loc.uri],
        )

        if fatal:
            raise fatal[0]
        failed = totals["failed"]
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
                f"see {manifest_loc.uri}"
            )
        return {"manifest_uri": manifest_loc.uri, "totals": totals}

    def _progress(self, entries: dict[int, dict[str, Any]], total: int, started: float) -> None:
        finished = len(entries)
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = finished / elapsed
        failed = sum(1 for e in entries.values() if e["status"] == "failed")
        eta = (total - finished) / rate if rate > 0 else float("inf")
        self.log.info(
            "Progress: %d/%d (%.0f%%), %.2f image(s)/s, ETA %s, %d failed so far",
            finished,
            total,
            100.0 * finished / max(total, 1),
            rate,
            "-" if eta == float("inf") else f"{eta:.0f}s",
            failed,
        )
