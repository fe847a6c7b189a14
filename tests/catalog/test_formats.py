"""The catalog's facts about image bytes: Base64 size and format signatures."""

from __future__ import annotations

import base64

import pytest

from airflow_provider_hwocr.catalog.formats import base64_size


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 6, 7, 100, 1000, 3 * 1024 * 1024 + 1])
def test_base64_size_is_the_length_of_the_encoding(n: int) -> None:
    assert base64_size(n) == len(base64.b64encode(b"\x00" * n))


def test_base64_size_refuses_a_negative_size() -> None:
    with pytest.raises(ValueError):
        base64_size(-1)
