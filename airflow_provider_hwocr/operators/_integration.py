"""Airflow 3 integration of the OCR operators: lineage, extra links, readable map indexes, assets.

A mixin on :class:`~airflow_provider_hwocr.operators.ocr.HuaweiOcrOperator`
(so every per-API operator and the batch operator get it). Cheap to import:
nothing here loads a hook, an SDK or the OpenLineage provider.

What the operator calls:

* ``_integration_init(emit_asset=...)`` at the end of ``__init__`` (adds the Asset outlet);
* ``_integration_after_run(context, sources=..., results=...)`` once the
  images are done (the batch passes every source and result URI).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_hwocr import lineage
from airflow_provider_hwocr.links import HuaweiObsResultLink, HuaweiObsSourceLink

#: Default ``map_index_template``: mapped instances are named by their image's file name.
DEFAULT_MAP_INDEX_TEMPLATE = "{{ task.map_index_label }}"
#: Most result URIs listed in an asset event's ``extra`` (a batch lists the first ones).
MAX_EVENT_RESULTS = 100


def image_label(image: Any) -> str:
    """A short readable name for an image argument: its file name, never a query string or bytes."""
    if isinstance(image, os.PathLike):
        image = os.fspath(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return f"<{len(image):,} bytes>"
    if not isinstance(image, str):
        return "" if image is None else type(image).__name__
    ref = lineage.dataset_ref(image)
    if ref is None:  # data: URIs and other schemes: never user info, a query or inline data
        if image.strip().lower().startswith("data:"):
            return "data URI"
        parts = urlsplit(image.strip())
        return parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.scheme
    name = ref[1].rstrip("/").rsplit("/", 1)[-1]
    return name or ref[0]


def _one_location(uris: list[str]) -> str | None:
    """The URI itself for one, the common folder of several in one bucket, else the first."""
    obs = [u for u in uris if isinstance(u, str) and u.lower().startswith("obs://")]
    if not obs:
        return None
    if len(obs) == 1:
        return obs[0]
    refs = lineage.dataset_refs(obs, limit=0)
    if len(refs) == 1:
        return f"{refs[0][0]}/{refs[0][1]}"
    return obs[0]


class OcrIntegrationMixin(lineage.OpenLineageMixin):
    """Lineage, OBS console links, map index labels and Asset outlets for OCR operators."""

    @property
    def map_index_label(self) -> str:
        """What a mapped instance is called in the UI and logs: the image's file name."""
        images = getattr(self, "images", None)
        if images is not None or getattr(self, "source_uri", None):
            if isinstance(images, (list, tuple)):
                return f"{len(images)} images" if len(images) != 1 else image_label(images[0])
            return image_label(images) if images is not None else str(getattr(self, "source_uri", ""))
        return image_label(getattr(self, "image", None))

    def _integration_init(self, *, emit_asset: bool) -> Any:
        """Check ``emit_asset``; return the Asset to add to the outlets, or ``None``."""
        from airflow_provider_hwocr.operators.ocr import _is_static

        self.emit_asset = emit_asset
        if not emit_asset:
            return None
        output_uri = getattr(self, "output_uri", None)
        if not isinstance(output_uri, str) or not output_uri or not _is_static(output_uri):
            from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

            raise HuaweiOcrValidationError(
                "emit_asset: needs a fixed output_uri='obs://bucket/prefix/' (no template): the asset "
                f"must be known when the DAG is parsed, got output_uri={output_uri!r}",
                parameter="emit_asset",
            )
        return result_asset(output_uri)

    def _integration_after_run(
        self, context: Any, *, sources: list[Any] | None = None, results: list[str | None]
    ) -> None:
        if sources is None:
            image = getattr(self, "image", None)
            sources = [image] if image is not None else []
        done = [r for r in results if r]
        lineage.record(self, inputs=sources, outputs=done)
        region = self._integration_region()
        HuaweiObsSourceLink.persist(context, region=region, uri=_one_location([str(s) for s in sources]))
        HuaweiObsResultLink.persist(context, region=region, uri=_one_location(done))
        if getattr(self, "emit_asset", False):
            self._annotate_asset_event(context, done)

    def _integration_region(self) -> str | None:
        region = getattr(self, "region", None)
        if region:
            return str(region)
        hook = getattr(self, "_ocr_hook", None)
        try:
            return hook.settings.region if hook is not None else None
        except Exception:  # noqa: BLE001 - a link is not worth failing a finished task
            return None

    def _annotate_asset_event(self, context: Any, results: list[str]) -> None:
        events = context.get("outlet_events") if hasattr(context, "get") else None
        if events is None:
            return
        asset = result_asset(str(getattr(self, "output_uri", "")))
        try:
            extra = events[asset].extra
        except (KeyError, AttributeError, TypeError):  # not an outlet of this task after all
            return
        extra["results"] = results[:MAX_EVENT_RESULTS]
        extra["result_count"] = len(results)
        extra["api"] = getattr(self, "api", None)


def result_asset(output_uri: str) -> Any:
    """The Asset for an ``output_uri`` prefix: ``Asset("obs://bucket/prefix/")``."""
    from airflow.sdk import Asset

    uri = output_uri.strip()
    return Asset(uri=uri, name=uri)
