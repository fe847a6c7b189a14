"""Lineage, OBS console links, readable map indexes and Asset events on the OCR operators.

A mixin of :class:`~airflow_provider_hwocr.operators.base.HuaweiOcrOperator` (so every
per-API operator and the batch operator get it). The operator calls
``_integration_after_run(context, sources=..., results=...)`` once its images are done.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.flags import parse_flag
from airflow_provider_hwocr.client.sources import image_kind
from airflow_provider_hwocr.integration import lineage
from airflow_provider_hwocr.integration.assets import annotate_asset_event, with_result_outlet
from airflow_provider_hwocr.integration.links import HuaweiObsResultLink, HuaweiObsSourceLink

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


def run_prefix(uri: Any, *, as_folder: bool) -> str | None:
    """A rendered ``obs://bucket/prefix`` argument as a folder URI (ending in ``/``), or ``None``.

    ``as_folder``: a key without a trailing ``/`` names that folder (an ``output_uri``: the
    results go under ``prefix/``); otherwise it is a plain key prefix and names no folder.
    """
    if not isinstance(uri, str) or image_kind(uri) != "obs" or "{{" in uri:
        return None
    uri = uri.strip()
    bucket, _, key = uri[len("obs://") :].partition("/")
    if not bucket:
        return None
    if not key or key.endswith("/"):
        return f"obs://{bucket}/{key}"
    return f"obs://{bucket}/{key}/" if as_folder else None


class OcrIntegrationMixin(lineage.OpenLineageMixin):
    """Lineage, OBS console links, map index labels and Asset events for OCR operators."""

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

    @property
    def map_index_label(self) -> str:
        """What a mapped instance is called in the UI and logs: the image's file name."""
        images = getattr(self, "images", None)
        if images is not None or getattr(self, "source_uri", None):
            if isinstance(images, (list, tuple)):
                return f"{len(images)} images" if len(images) != 1 else image_label(images[0])
            return image_label(images) if images is not None else str(getattr(self, "source_uri", ""))
        return image_label(getattr(self, "image", None))

    def _integration_after_run(
        self,
        context: Any,
        *,
        sources: list[Any] | None = None,
        results: Sequence[str | None],
        results_prefix: str | None = None,
    ) -> None:
        """Record lineage, persist the links' targets and annotate the asset event.

        ``results_prefix`` is the run's own results prefix (a batch's rendered ``output_uri``,
        e.g. ``obs://bucket/ocr/2026-11-30/``): the "OBS result" link opens there, and long
        lineage lists collapse into it. A batch that does not pass it gets its rendered
        ``output_uri`` (and ``source_uri`` for the source side).
        """
        is_batch = hasattr(self, "source_uri") or hasattr(self, "images")
        if sources is None:
            image = getattr(self, "image", None)
            sources = [image] if image is not None else []
        if results_prefix is None and is_batch:
            results_prefix = run_prefix(getattr(self, "output_uri", None), as_folder=True)
        source_prefix = run_prefix(getattr(self, "source_uri", None), as_folder=False) if is_batch else None
        done = [r for r in results if r]
        lineage.record(
            self, inputs=sources, outputs=done, input_prefix=source_prefix, output_prefix=results_prefix
        )
        region = self._integration_region()
        HuaweiObsSourceLink.persist(
            context, region=region, uri=_one_location([str(s) for s in sources], source_prefix)
        )
        HuaweiObsResultLink.persist(context, region=region, uri=_one_location(done, results_prefix))
        if getattr(self, "emit_asset", False):
            annotate_asset_event(
                context, str(getattr(self, "output_uri", "")), done, getattr(self, "api", None)
            )

    def _integration_region(self) -> str | None:
        region = getattr(self, "region", None)
        if region:
            return str(region)
        hook = self.__dict__.get("hook")  # only a hook the task already built (a cached property)
        try:
            return hook.settings.region if hook is not None else None
        except Exception:  # noqa: BLE001 - a link is not worth failing a finished task
            return None
