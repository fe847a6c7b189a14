"""Building operators in tests: one of every per-API class, with the sales-stopped APIs' warnings quiet."""

from __future__ import annotations

import warnings

from airflow_provider_hwocr.catalog import Api
from airflow_provider_hwocr.operators import ocr


def build(api: Api, **kwargs):
    """The per-API operator of ``api``, with a task id from its slug (``image`` dropped for an API
    that takes none: invoice-verification)."""
    cls = getattr(ocr, api.operator_name)
    if api.image_field is None:
        kwargs.pop("image", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifecycle warnings are tested separately
        return cls(task_id=f"ocr_{api.slug.replace('-', '_')}", **kwargs)
