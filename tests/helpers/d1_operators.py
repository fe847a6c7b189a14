"""Building operators in tests: one of every per-API class, with id-document's deprecation quiet."""

from __future__ import annotations

import warnings

from airflow_provider_hwocr.catalog import Api
from airflow_provider_hwocr.operators import ocr


def build(api: Api, **kwargs):
    """The per-API operator of ``api``, with a task id from its slug."""
    cls = getattr(ocr, api.operator_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # id-document's deprecation is tested separately
        return cls(task_id=f"ocr_{api.slug.replace('-', '_')}", **kwargs)
