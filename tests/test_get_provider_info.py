"""``get_provider_info``: what Airflow reads from the entry point; every module and class it names
exists, and the connection form is complete."""

from __future__ import annotations

from airflow_provider_hwocr.get_provider_info import (
    CONN_FIELDS,
)


def test_connection_form_defaults_are_not_short_strings():
    for name, field in CONN_FIELDS.items():
        default = field["schema"].get("default")
        if isinstance(default, str):
            assert len(default) >= 5, name
