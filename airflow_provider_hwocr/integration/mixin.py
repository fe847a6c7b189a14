"""Lineage, OBS links, readable map indexes and Asset events on the OCR operators.

A mixin of :class:`~airflow_provider_hwocr.operators.base.HuaweiOcrOperator` (so every
per-API operator and the batch operator get it). Once its images are done, the operator calls
``_integration_after_run(context, run)`` with what the runtime says the run read and wrote
(:class:`FinishedRun`: its sources and results, its prefixes, its region); nothing here reads
the operator's arguments again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.flags import parse_flag
from airflow_provider_hwocr.client.sources import image_kind
from airflow_provider_hwocr.integration import lineage
from airflow_provider_hwocr.integration.assets import annotate_asset_event, with_result_outlet
from airflow_provider_hwocr.integration.links import LinkTargets

#: Default ``map_index_template``: mapped instances are named by their image's file name.
DEFAULT_MAP_INDEX_TEMPLATE = "{{ task.map_index_label }}"


def image_label(image: Any) -> str:
    """A short readable name for an image argument: its file name, never a query string or bytes."""
    kind = image_kind(image)
    if kind == "bytes":
        return f"<{len(image):,} bytes>"
    if isinstance(image, os.PathLike):
        image = os.fspath(image)
    if not isinstance(image, str):
        return "" if image is None else type(image).__name__
    ref = lineage.dataset_ref(image)
    if ref is None:  # data: URIs and other schemes: never user info, a query or inline data
        if kind == "data":
            return "data URI"
        parts = urlsplit(image.strip())
        return parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.scheme
    name = ref[1].rstrip("/").rsplit("/", 1)[-1]
    return name or ref[0]


def _one_location(uris: list[str], prefix: str | None = None) -> str | None:
    """Where a link opens: the run's own ``prefix`` if given, else the URI itself for one, the
    common folder of several in one bucket, else the first."""
    if prefix is not None and image_kind(prefix) == "obs":
        return prefix
    obs = [u for u in uris if image_kind(u) == "obs"]
    if not obs:
        return None
    if len(obs) == 1:
        return obs[0]
    refs = lineage.dataset_refs(obs, limit=0)
    if len(refs) == 1:
        return f"{refs[0][0]}/{refs[0][1]}"
    return obs[0]


def selection_label(images: Any, source_uri: Any) -> str:
    """A batch's name in the UI: its one image's name, the number of its images, or its ``source_uri``."""
    if isinstance(images, (list, tuple)):
        return f"{len(images)} images" if len(images) != 1 else image_label(images[0])
    return image_label(images) if images is not None else str(source_uri or "")


class FinishedRun(Protocol):
    """What a finished run read and wrote, as the runtime knows it
    (:class:`~airflow_provider_hwocr.runtime.contract.RunLocations`)."""

    @property
    def sources(self) -> Sequence[Any]: ...

    @property
    def results(self) -> Sequence[str | None]: ...

    @property
    def results_prefix(self) -> str | None: ...

    @property
    def source_prefix(self) -> str | None: ...

    @property
    def region(self) -> str | None: ...

    @property
    def api(self) -> str: ...

    @property
    def asset_uri(self) -> str | None: ...


class OcrIntegrationMixin(lineage.OpenLineageMixin):
    """Lineage, OBS links and Asset events for OCR operators (their map index labels are
    :func:`image_label` and :func:`selection_label`)."""

    #: What the task's extra links show, once its images are done (``None`` before: no link).
    hwocr_link_targets: LinkTargets | None = None

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:
        """``.partial(..., emit_asset=True, output_uri="obs://bucket/prefix/")`` declares the asset.

        A mapped task's outlets are the ones given to ``partial``: ``__init__`` runs only when
        each instance is built, too late for the scheduler, which records a DAG's asset producers
        from the parsed DAG. Without this, mapped tasks emitted events but showed no producer.
        """
        if "emit_asset" in kwargs:  # read as strictly as __init__ does: "no" is off, "maybe" fails
            try:
                kwargs["emit_asset"] = parse_flag(kwargs["emit_asset"])
            except ValueError as exc:
                raise HuaweiOcrValidationError(f"emit_asset: {exc}", parameter="emit_asset") from None
        if kwargs.get("emit_asset") is True:
            kwargs["outlets"] = with_result_outlet(kwargs.get("outlets"), kwargs.get("output_uri"))
        return super().partial(**kwargs)  # type: ignore[misc]

    def _integration_after_run(self, context: Any, run: FinishedRun) -> None:
        """Record lineage, the links' targets and annotate the asset event.

        ``run.results_prefix`` is the run's own results prefix (a batch's, e.g.
        ``obs://bucket/ocr/2026-11-30/``): the "OBS result" link opens there, and long lineage
        lists collapse into it; ``run.source_prefix`` likewise for the sources. A single result
        or source links to that object.
        """
        sources = list(run.sources)
        done = [r for r in run.results if r]
        lineage.record(
            self,
            inputs=sources,
            outputs=done,
            input_prefix=run.source_prefix,
            output_prefix=run.results_prefix,
        )
        # What the "OBS source" and "OBS result" links show, kept on the task for Airflow to ask
        # when the task instance stops (integration/links.py): nothing in XCom to look up.
        self.hwocr_link_targets = LinkTargets(
            region=run.region,
            source=_one_location([str(s) for s in sources], run.source_prefix),
            result=_one_location(done, run.results_prefix),
        )
        if run.asset_uri is not None:
            annotate_asset_event(context, run.asset_uri, done, run.api)
