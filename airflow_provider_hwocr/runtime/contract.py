"""The contract between the operators and the runtime: settings in, collaborators in, locations out.

An operator's ``execute()`` builds, once, from what its templates rendered to:

* the **settings** of the run (:class:`OcrTaskSettings`, :class:`BatchSettings`): frozen,
  precisely typed values that every run-time check has passed (the operator builds them with
  the checks of :mod:`airflow_provider_hwocr.operators.arguments`; nothing downstream checks
  them again);
* its **collaborators** (:class:`Collaborators`): the task's log and the factories of its hooks.
  The runtime builds the OCR hook it needs through the factory, with the run's pace and
  call budget given to the constructor; nothing is set on a hook afterwards.

The runtime reads the settings, never the operator, and returns what the integration code
needs (:class:`RunLocations`: what was read and written, the prefixes, the region).

Why here: the runtime is what reads these types, and it is where the operators already hand
over, inside ``execute()``: a DAG file never loads this module (the operators import it when the
task runs, and for type checkers). It imports the standard library only, no Airflow, no hook and
no other runtime module (``tests/test_layout.py`` holds it to that), so the operators can build
the settings before anything heavy loads; what it costs is its dataclasses, once per task.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from airflow_provider_hwocr.catalog import Api
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.hooks.obs_match import ObsKeyQuery
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook
    from airflow_provider_hwocr.runtime.costs import CallBudget
    from airflow_provider_hwocr.runtime.ratelimit import RateLimiter
    from airflow_provider_hwocr.runtime.review.rule import ReviewRule

__all__ = [
    "BatchSettings",
    "Collaborators",
    "ImageSourceMode",
    "ObsPrefix",
    "OcrHookFactory",
    "OcrTaskSettings",
    "OnOverlap",
    "PagesSpec",
    "ResumedWait",
    "RunLocations",
    "SensorSelection",
]

#: How the service gets an ``obs://`` image (``HuaweiOcrOperator(image_source=...)``).
ImageSourceMode = Literal["signed_url", "authorized", "inline"]
#: What a batch does while another run sends images of its output prefix, API and shard.
OnOverlap = Literal["defer", "wait", "fail"]
#: ``pages=`` once checked: ``None`` (every page), a page, a string of pages and ranges
#: (``"2-5"``, ``"1,3-4"``, ``"3-"``) or a tuple of pages (a list is made a tuple).
PagesSpec = int | str | tuple[int, ...] | None


@dataclass(frozen=True)
class ObsPrefix:
    """An ``obs://bucket/key`` argument, parsed once: the URI as given, its bucket and its key."""

    uri: str
    bucket: str
    key: str

    @property
    def folder_uri(self) -> str | None:
        """The URI of the folder it names (its key is empty or ends with ``/``), else ``None``."""
        return f"obs://{self.bucket}/{self.key}" if not self.key or self.key.endswith("/") else None


@dataclass(frozen=True)
class SensorSelection:
    """A :class:`~airflow_provider_hwocr.sensors.obs.HuaweiObsKeySensor`'s selection, its query parsed."""

    query: ObsKeyQuery
    #: What the sensor called it (``describe`` of its XCom value), for messages.
    describe: str | None


@dataclass(frozen=True)
class OcrTaskSettings:
    """What one OCR task runs with: the rendered, checked arguments of ``HuaweiOcrOperator``."""

    api: Api
    #: The image argument as rendered (a URI, URL, path, bytes; ``None`` for an API without image).
    image: Any
    #: The API parameters as rendered (a dict); the runtime validates them against the API, once
    #: per task, when it builds the pipeline.
    params: dict[str, Any]
    image_source: ImageSourceMode
    signed_url_expires: int
    #: Where results go; ``None``: the result goes to XCom.
    output: ObsPrefix | None
    skip_existing: bool
    max_xcom_bytes: int
    enterprise_project_id: str | None
    #: ``dry_run=`` as given; the provider-wide switch is read when the task runs.
    dry_run: bool
    max_calls: int | None
    price_per_call: float | None
    export_text: bool
    emit_asset: bool
    #: The operator's ``region=`` (else the connection's, known once the hook has read it).
    region: str | None
    #: ``pages=``: the pages of each PDF or OFD document to read (``None``: every page).
    pages: PagesSpec
    #: ``max_pages=``: a document with more pages than this (counting those ``pages`` chooses) is
    #: refused before any call; ``None``: no cap.
    max_pages: int | None
    #: ``log_text=``: log the first line of text read; ``None``: on, except for ID documents.
    log_text: bool | None = None
    #: ``review_below=`` / ``review_fields=`` parsed: the fields that hold a page for a person's
    #: review and their thresholds; ``None``: no review.
    review: ReviewRule | None = None


@dataclass(frozen=True)
class BatchSettings:
    """What a batch runs with: the OCR task's settings plus the batch's, rendered and checked."""

    ocr: OcrTaskSettings
    #: The images given in ``images=`` (a string becomes one), else ``None``.
    images: tuple[Any, ...] | None
    #: A sensor's selection given as ``images=``.
    selection: SensorSelection | None
    #: ``source_uri=``: every object under it (matching ``pattern``).
    source: ObsPrefix | None
    pattern: str | None
    allow_empty: bool
    max_concurrency: int
    #: Calls per second of the whole batch (every shard), ``None``: no limit.
    qps: float | None
    adaptive_rate: bool
    #: This task's shard; ``None`` unless ``shard_count > 1``.
    shard_index: int | None
    shard_count: int
    max_failures: int | None
    max_failure_ratio: float | None
    #: ``manifest_uri=``: a copy of the latest manifest.
    manifest: ObsPrefix | None
    progress_interval: float
    checkpoint_every: int
    checkpoint_interval: float
    on_overlap: OnOverlap
    overlap_timeout: float | None
    lease_ttl: float
    #: ``table_uri=``: where the tables of each run's day go (``None``: no tables).
    table: ObsPrefix | None = None
    #: ``table_format=``: ``parquet``, ``csv`` or ``xlsx``.
    table_format: str = "parquet"

    @property
    def output(self) -> ObsPrefix:
        """Where results go (a batch requires ``output_uri``)."""
        assert self.ocr.output is not None, "a batch's settings always have an output"
        return self.ocr.output

    @property
    def shard_qps(self) -> float | None:
        """This shard's share of ``qps``."""
        return self.qps / self.shard_count if self.qps else None

    def describe_selection(self) -> str:
        """What was selected, as the user gave it (for the message of an empty selection)."""
        if self.source is not None:
            return f"source_uri={self.source.uri!r}, pattern={self.pattern!r}"
        if self.selection is not None:
            return f"the sensor's selection ({self.selection.describe})"
        return "images=[] (an empty list)"


@dataclass(frozen=True)
class ResumedWait:
    """A batch resumed from the lease trigger: the seconds it waited deferred, behind whom."""

    seconds: float
    held_by: dict[str, Any] | None


class OcrHookFactory(Protocol):
    """Builds the OCR hook of a run, with the run's pace and call budget (the operator's)."""

    def __call__(self, *, rate_limiter: RateLimiter | None, budget: CallBudget | None) -> HuaweiOcrHook: ...


@dataclass(frozen=True)
class Collaborators:
    """What the operator hands the runtime besides the settings; nothing is set on it afterwards."""

    #: The task's logger.
    log: Any
    #: Builds the run's OCR hook (once per run).
    ocr_hook: OcrHookFactory
    #: Builds an OBS hook on the task's connection (asked once, when OBS is first needed).
    obs_hook: Callable[[], HuaweiObsHook]


@dataclass(frozen=True)
class RunLocations:
    """What a finished run read and wrote, for lineage, the console links and the asset event."""

    #: What was read: the image arguments (one task) or each selected image (a batch).
    sources: Sequence[Any]
    #: The result URIs (``None`` for a result that went to XCom).
    results: Sequence[str | None]
    #: The run's own results prefix (a batch's), e.g. ``obs://bucket/ocr/2026-11-30/``.
    results_prefix: str | None
    #: The folder of a batch's ``source_uri``.
    source_prefix: str | None
    #: The region the task called (for the console links).
    region: str | None
    #: The API's slug.
    api: str
    #: The output prefix of a task with ``emit_asset`` (whose event lists the results), else ``None``.
    asset_uri: str | None
