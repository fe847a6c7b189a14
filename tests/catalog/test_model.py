"""The catalog's data types (``catalog/model.py``): ``Param``, ``Limits`` and ``Api``, built directly
and as the catalog uses them."""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.catalog import get_api


def test_path_refuses_placeholder_project_id():
    api = get_api("general-text")
    assert api.path("abc123") == "/v2/abc123/ocr/general-text"
    with pytest.raises(ValueError):
        api.path("{project_id}")
    with pytest.raises(ValueError):
        api.path("")
