"""One execution of a batch task: what every stage shares.

Built once at the start of ``execute()`` from the batch's checked settings and the operator's
collaborators: the dry-run decision, the call budget, the shard, the pace of calls, the OCR hook
built with both, the pipeline (its API parameters validated once, by the operator) and the
result store.
"""

from __future__ import annotations

import time
from typing import Any

from airflow_provider_hwocr.runtime.contract import BatchSettings, Collaborators, ResumedWait
from airflow_provider_hwocr.runtime.costs import CallBudget, resolve_dry_run
from airflow_provider_hwocr.runtime.ratelimit import pace_for
from airflow_provider_hwocr.runtime.store import ResultStore, shard_tag
from airflow_provider_hwocr.runtime.task import pipeline_for

#: A run that did not wait deferred before it started.
NOT_RESUMED = ResumedWait(0.0, None)


class BatchRun:
    """The settings, collaborators and shared state of one batch run (see :mod:`airflow_provider_hwocr.runtime.batch`).

    ``resumed``: the run resumed from the lease trigger, after waiting deferred on another run.
    """

    def __init__(
        self,
        settings: BatchSettings,
        context: Any,
        parts: Collaborators,
        *,
        resumed: ResumedWait | None = None,
    ) -> None:
        self.settings = settings
        self.context = context
        self.log = parts.log
        self.started = time.monotonic()
        self.dry, self.dry_why = resolve_dry_run(settings.ocr.dry_run)
        #: ``max_calls``: the OCR client takes one before each try (retries included) and gives
        #: back those surely not billed; the send stage stops early once it is spent.
        self.budget = CallBudget(settings.ocr.max_calls)
        self.shard = settings.shard_index
        #: This shard's calls per second at most (``None``: no limit).
        self.qps = settings.shard_qps
        pace = pace_for(self.qps, adaptive=settings.adaptive_rate, log=self.log)
        hook = parts.ocr_hook(rate_limiter=pace, budget=self.budget)
        self.pipeline = pipeline_for(
            settings.ocr, hook, parts, shard=shard_tag(self.shard, settings.shard_count)
        )
        assert self.pipeline.store is not None  # a batch's settings always have an output
        self.store: ResultStore = self.pipeline.store
        #: Seconds this run already waited deferred on another run's lease, and that run's owner.
        self.resumed = resumed or NOT_RESUMED

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
