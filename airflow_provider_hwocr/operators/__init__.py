"""Operators: ``HuaweiOcrOperator`` (any API by name), one class per live OCR API, and the batch.

What DAG files import at parse time, so everything here is cheap. The names resolve on
first use, so importing this package itself costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_hwocr.catalog import LIVE_APIS

if TYPE_CHECKING:
    from airflow_provider_hwocr.operators.ocr import *

_NAMES = frozenset({"HuaweiOcrOperator", "HuaweiOcrXComSizeError", *(api.operator_name for api in LIVE_APIS)})

__all__ = ["HuaweiOcrOperator", "HuaweiOcrXComSizeError"]
__all__.extend(sorted(api.operator_name for api in LIVE_APIS))


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        from airflow_provider_hwocr.operators import ocr

        return getattr(ocr, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
