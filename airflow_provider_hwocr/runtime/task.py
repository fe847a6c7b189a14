"""From an OCR operator, as it runs, to the pipeline its images go through.

The operator has checked its rendered arguments; this validates the API parameters once for
the whole task and names where the results go.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.client.request import validate_params
from airflow_provider_hwocr.runtime.pipeline import OcrPipeline
from airflow_provider_hwocr.runtime.store import ResultStore

#: Parameters that make results large (Base64 files or images inside).
LARGE_RESULT_PARAMS = ("return_excel", "return_portrait_image", "return_adjusted_image")


def pipeline_for(task: Any, *, shard: str = "") -> OcrPipeline:
    """The pipeline of ``task`` (an OCR operator whose templates are rendered and checked)."""
    spec = get_api(task.api)
    params = validate_params(spec, task.parameters)  # once per task, not once per image
    store = ResultStore.from_uri(task.output_uri, spec.slug, shard)
    large = [p for p in LARGE_RESULT_PARAMS if params.get(p)]
    if store is None and large:
        task.log.warning(
            "%s returns files or images inline; set output_uri so a large result is stored in OBS "
            "instead of failing the XCom size limit (%d bytes)",
            ", ".join(large),
            task.max_xcom_bytes,
        )
    if task.enterprise_project_id and not spec.enterprise_project_header:
        task.log.warning(
            "The docs do not list the Enterprise-Project-Id header for %s; sending it anyway.", spec.slug
        )
    return OcrPipeline(
        api=spec,
        params=params,
        ocr_hook=task.hook,
        obs_hook_factory=task.obs_hook,
        image_source=task.image_source,
        signed_url_expires=task.signed_url_expires,
        store=store,
        skip_existing=True if task.skip_existing is None else bool(task.skip_existing),
        enterprise_project_id=task.enterprise_project_id,
        log=task.log,
        export_text=bool(task.export_text),
    )


def price_of(task: Any, hook: Any) -> float | None:
    """The price per call for estimates: the task's ``price_per_call``, else the connection's."""
    price = task.price_per_call
    if price is None:
        price = getattr(hook.settings, "price_per_call", None)
    return price
