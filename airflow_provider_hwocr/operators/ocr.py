"""The OCR operators, for DAG files: ``HuaweiOcrOperator`` (any API by name) and one class per API.

    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

The base class lives in :mod:`~airflow_provider_hwocr.operators.base`, the per-API classes
are generated from the catalog into :mod:`~airflow_provider_hwocr.operators._generated`;
this module puts them in one place. Importing it needs only the catalog and the Task SDK, and
makes no per-API class: each is made when first looked up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_hwocr.operators import _generated
from airflow_provider_hwocr.operators._generated import __all__ as _GENERATED
from airflow_provider_hwocr.operators.base import (
    DEFAULT_MAX_XCOM_BYTES,
    HuaweiOcrOperator,
    HuaweiOcrXComSizeError,
    ImageArg,
)

if TYPE_CHECKING:
    from airflow_provider_hwocr.operators._generated import *

__all__ = ["DEFAULT_MAX_XCOM_BYTES", "HuaweiOcrOperator", "HuaweiOcrXComSizeError", "ImageArg"]
__all__.extend(_GENERATED)

_GENERATED_NAMES = frozenset(_GENERATED)


def __getattr__(name: str) -> Any:
    # A per-API class is made on first use (see operators/_generated.py), so it is looked up there
    # when asked for: importing this module makes none of the 49.
    if name in _GENERATED_NAMES:
        return getattr(_generated, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
