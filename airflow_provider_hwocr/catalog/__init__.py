"""The API catalog: the one table that operators, validation, docs and the emulator read."""

from __future__ import annotations

from airflow_provider_hwocr.catalog.apis import APIS, LIVE_APIS
from airflow_provider_hwocr.catalog.errors import (
    AUTHORIZED_SOURCE_HINT,
    ERROR_CODES,
    LONG_DELAY_SECONDS,
    OBS_FETCH_ERROR_CODES,
    ErrorCode,
)
from airflow_provider_hwocr.catalog.formats import base64_size, format_of
from airflow_provider_hwocr.catalog.model import (
    IMAGE_FORMATS,
    MAX_BASE64_BYTES,
    Api,
    Endpoints,
    Lifecycle,
    LifecycleEvent,
    Limits,
    Param,
)
from airflow_provider_hwocr.catalog.regions import REGIONS, Region, RegionSupport, region_for, region_support

_BY_SLUG = {api.slug: api for api in APIS}


def get_api(slug: str) -> Api:
    """Return the API with this path slug, or raise ``KeyError`` listing the known ones."""
    try:
        return _BY_SLUG[slug]
    except KeyError:
        raise KeyError(f"unknown OCR API {slug!r}; known APIs: {', '.join(sorted(_BY_SLUG))}") from None


__all__ = [
    "APIS",
    "AUTHORIZED_SOURCE_HINT",
    "ERROR_CODES",
    "IMAGE_FORMATS",
    "LIVE_APIS",
    "LONG_DELAY_SECONDS",
    "MAX_BASE64_BYTES",
    "OBS_FETCH_ERROR_CODES",
    "REGIONS",
    "Api",
    "Endpoints",
    "ErrorCode",
    "Lifecycle",
    "LifecycleEvent",
    "Limits",
    "Param",
    "Region",
    "RegionSupport",
    "base64_size",
    "format_of",
    "get_api",
    "region_for",
    "region_support",
]
