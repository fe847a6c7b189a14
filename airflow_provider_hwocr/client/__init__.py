"""Plain-Python client for Huawei Cloud OCR (no Airflow imports).

    from airflow_provider_hwocr.client import OcrClient, AkSkCredentials
    with OcrClient(region="ap-southeast-1", project_id="...", credentials=AkSkCredentials(ak, sk)) as c:
        c.recognize("general-text", image=b"...").result

Modules: ``signer`` (AK/SK signature), ``auth`` (credentials), ``errors`` (typed
exceptions), ``retry`` (retry policy), ``client`` (the HTTP client), ``request`` (input
validation and request bodies), ``sources`` (what an image argument is).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Names are loaded on first use, so that importing one submodule (the
# operators import ``errors`` and ``request`` at DAG parse time) does not
# pull in ``requests`` and the HTTP client.
_EXPORTS = {
    "AkSkCredentials": "auth",
    "IamTokenCredentials": "auth",
    "AKSK_MAX_BODY_BYTES": "client",
    "MAX_BODY_BYTES": "client",
    "OcrClient": "client",
    "OcrResponse": "client",
    "HuaweiOcrAuthError": "errors",
    "HuaweiOcrConfigurationError": "errors",
    "HuaweiOcrError": "errors",
    "HuaweiOcrInvalidInputError": "errors",
    "HuaweiOcrLongDelayError": "errors",
    "HuaweiOcrNotFoundError": "errors",
    "HuaweiOcrNotSubscribedError": "errors",
    "HuaweiOcrRecognitionError": "errors",
    "HuaweiOcrThrottledError": "errors",
    "HuaweiOcrTlsError": "errors",
    "HuaweiOcrTransientError": "errors",
    "HuaweiOcrValidationError": "errors",
    "error_from_response": "errors",
    "OcrRetryPolicy": "retry",
    "RetryPolicy": "retry",
    "sign_request": "signer",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from airflow_provider_hwocr.client.auth import AkSkCredentials, IamTokenCredentials
    from airflow_provider_hwocr.client.client import (
        AKSK_MAX_BODY_BYTES,
        MAX_BODY_BYTES,
        OcrClient,
        OcrResponse,
    )
    from airflow_provider_hwocr.client.errors import (
        HuaweiOcrAuthError,
        HuaweiOcrConfigurationError,
        HuaweiOcrError,
        HuaweiOcrInvalidInputError,
        HuaweiOcrLongDelayError,
        HuaweiOcrNotFoundError,
        HuaweiOcrNotSubscribedError,
        HuaweiOcrRecognitionError,
        HuaweiOcrThrottledError,
        HuaweiOcrTlsError,
        HuaweiOcrTransientError,
        HuaweiOcrValidationError,
        error_from_response,
    )
    from airflow_provider_hwocr.client.retry import OcrRetryPolicy, RetryPolicy
    from airflow_provider_hwocr.client.signer import sign_request

__all__ = [  # noqa: RUF022 (the order of _EXPORTS, grouped by module)
    "AkSkCredentials",
    "IamTokenCredentials",
    "AKSK_MAX_BODY_BYTES",
    "MAX_BODY_BYTES",
    "OcrClient",
    "OcrResponse",
    "HuaweiOcrAuthError",
    "HuaweiOcrConfigurationError",
    "HuaweiOcrError",
    "HuaweiOcrInvalidInputError",
    "HuaweiOcrLongDelayError",
    "HuaweiOcrNotFoundError",
    "HuaweiOcrNotSubscribedError",
    "HuaweiOcrRecognitionError",
    "HuaweiOcrThrottledError",
    "HuaweiOcrTlsError",
    "HuaweiOcrTransientError",
    "HuaweiOcrValidationError",
    "error_from_response",
    "OcrRetryPolicy",
    "RetryPolicy",
    "sign_request",
]
