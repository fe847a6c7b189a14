"""The OCR operators, for DAG files: ``HuaweiOcrOperator`` (any API by name) and one class per API.

    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

The base class lives in :mod:`~airflow_provider_hwocr.operators.base`, the per-API classes
are generated from the catalog into :mod:`~airflow_provider_hwocr.operators._generated`;
this module puts them in one place. Importing it needs only the catalog and the Task SDK.
"""

from __future__ import annotations

from airflow_provider_hwocr.operators._generated import *
from airflow_provider_hwocr.operators._generated import __all__ as _GENERATED
from airflow_provider_hwocr.operators.base import (
    DEFAULT_MAX_XCOM_BYTES,
    HuaweiOcrOperator,
    HuaweiOcrXComSizeError,
    ImageArg,
)

__all__ = ["DEFAULT_MAX_XCOM_BYTES", "HuaweiOcrOperator", "HuaweiOcrXComSizeError", "ImageArg"]
__all__.extend(_GENERATED)
