"""One execution of a batch task: what every stage shares.

Built once at the start of ``execute()`` from the operator, whose rendered arguments are
checked: the dry-run decision, the call budget, the shard, the pipeline (API parameters
validated once), the result store and the pace of calls.
"""

from __future__ import annotations

import time
from typing import Any

from airflow_provider_hwocr.runtime.batch.lease import Lease
from airflow_provider_hwocr.runtime.costs import CallBudget, resolve_dry_run
from airflow_provider_hwocr.runtime.ratelimit import AdaptiveRateLimiter, TokenBucket
from airflow_provider_hwocr.runtime.store import ResultStore, shard_tag
from airflow_provider_hwocr.runtime.task import pipeline_for


class BatchRun:
    """The settings and shared state of one batch run (see :mod:`airflow_provider_hwocr.runtime.batch`)."""

    def __init__(self, task: Any, context: Any) -> None:
        self.task = task
        self.context = context
        self.log = task.log
        self.started = time.monotonic()
        self.dry, self.dry_why = resolve_dry_run(task.ocr_dry_run)
        self.budget = CallBudget(task.max_calls)
        self.shard: int | None = task.shard_index if task.shard_count > 1 else None
        self.pipeline = pipeline_for(task, shard=shard_tag(self.shard, task.shard_count))
        assert self.pipeline.store is not None  # the operator requires output_uri
        self.store: ResultStore = self.pipeline.store
        self.qps = task.qps / task.shard_count if task.qps else None
        #: Paces each call when the rate is fixed (the adaptive limiter paces every try in the hook).
        self.pace: Any = None
        if self.qps and task.adaptive_rate:
            self.pipeline.ocr_hook.rate_limiter = AdaptiveRateLimiter(self.qps, log=self.log)
        elif self.qps:
            self.pace = TokenBucket(self.qps).acquire
        #: The lease, once taken (:func:`~airflow_provider_hwocr.runtime.batch.lease.guard`); ``None``
        #: for a run with nothing to send, which takes none.
        self.lease: Lease | None = None
        #: Seconds this run already waited deferred on another run's lease, and that run's owner
        #: (set by the operator when it resumes from the lease trigger).
        self.waited_deferred: tuple[float, dict[str, Any] | None] = (0.0, None)

    @property
    def obs(self) -> Any:
        return self.pipeline.obs

    def context_value(self, name: str) -> Any:
        return self.context.get(name) if hasattr(self.context, "get") else None

    @property
    def run_id(self) -> Any:
        return self.context_value("run_id")

    @property
    def try_number(self) -> Any:
        ti = self.context_value("ti")
        return getattr(ti, "try_number", None) if ti is not None else None

    @property
    def map_index(self) -> int | None:
        """The map index of a mapped task, ``None`` for an unmapped one."""
        ti = self.context_value("ti")
        value = getattr(ti, "map_index", None) if ti is not None else None
        return value if isinstance(value, int) and value >= 0 else None

    def describe_selection(self) -> str:
        task = self.task
        if task.source_uri is not None:
            return f"source_uri={task.source_uri!r}, pattern={task.pattern!r}"
        if isinstance(task.images, dict):
            return f"the sensor's selection ({task.images.get('describe')})"
        return "images=[] (an empty list)"
