"""From an OCR task's settings and collaborators to the pipeline its images go through.

The operator built the settings (every rendered argument checked); this validates the API
parameters once for the whole task, names where the results go, says what is worth a warning,
and what the run tells the operator when it is done.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hwocr.client.request import validate_params
from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook
from airflow_provider_hwocr.runtime.contract import Collaborators, OcrTaskSettings, RunLocations
from airflow_provider_hwocr.runtime.ledger import ledger_for
from airflow_provider_hwocr.runtime.pipeline import OcrPipeline
from airflow_provider_hwocr.runtime.store import ResultStore


def pipeline_for(
    settings: OcrTaskSettings,
    ocr_hook: HuaweiOcrHook,
    parts: Collaborators,
    *,
    shard: str = "",
) -> OcrPipeline:
    """The pipeline of a task with these settings, calling OCR through ``ocr_hook``."""
    spec, log = settings.api, parts.log
    params = validate_params(spec, settings.params)  # once per task, not once per image
    store = None if settings.output is None else ResultStore.at(settings.output, spec.slug, shard)
    large = [p for p in spec.large_result_params if params.get(p)]  # Base64 files or images inside
    if store is None and large:
        log.warning(
            "%s returns files or images inline; set output_uri so a large result is stored in OBS "
            "instead of failing the XCom size limit (%d bytes)",
            ", ".join(large),
            settings.max_xcom_bytes,
        )
    if settings.enterprise_project_id and not spec.enterprise_project_header:
        log.warning(
            "The docs do not list the Enterprise-Project-Id header for %s; sending it anyway.", spec.slug
        )
    return OcrPipeline(
        api=spec,
        params=params,
        ocr_hook=ocr_hook,
        obs_hook_factory=parts.obs_hook,
        image_source=settings.image_source,
        signed_url_expires=settings.signed_url_expires,
        store=store,
        skip_existing=settings.skip_existing,
        enterprise_project_id=settings.enterprise_project_id,
        log=log,
        export_text=settings.export_text,
        ledger=ledger_for(spec, store, parts.obs_hook, log),  # invoice checks per day (else None)
        pages=settings.pages,
        max_pages=settings.max_pages,
    )


def price_of(settings: OcrTaskSettings, hook: HuaweiOcrHook) -> float | None:
    """The price per call for estimates: the task's ``price_per_call``, else the connection's."""
    price = settings.price_per_call
    if price is None:
        price = getattr(hook.settings, "price_per_call", None)
    return price


def region_of(settings: OcrTaskSettings, hook: HuaweiOcrHook) -> str | None:
    """The region the task called: its ``region=``, else its connection's (``None`` if unknown)."""
    if settings.region:
        return settings.region
    try:
        return hook.settings.region
    except Exception:  # noqa: BLE001 - a console link is not worth failing a finished task
        return None


def locations(
    settings: OcrTaskSettings,
    hook: HuaweiOcrHook,
    *,
    sources: Any,
    results: Any,
    results_prefix: str | None = None,
    source_prefix: str | None = None,
) -> RunLocations:
    """What a finished run tells the operator: what it read and wrote, and where."""
    asset = settings.output.uri if settings.emit_asset and settings.output is not None else None
    return RunLocations(
        sources=sources,
        results=results,
        results_prefix=results_prefix,
        source_prefix=source_prefix,
        region=region_of(settings, hook),
        api=settings.api.slug,
        asset_uri=asset,
    )
