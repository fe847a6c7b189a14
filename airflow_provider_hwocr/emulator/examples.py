"""The documented example answer of each API, shipped as ``responses/<slug>.json``."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from airflow_provider_hwocr.catalog import APIS


def example_response(slug: str) -> Any:
    """A fresh copy of the documented 200 body of API ``slug``."""
    return json.loads(example_bytes(slug))


@cache
def example_bytes(slug: str) -> bytes:
    """The documented 200 body of API ``slug``, as compact UTF-8 JSON ready to send."""
    path = resources.files(__package__).joinpath("responses").joinpath(f"{slug}.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def load_all() -> dict[str, bytes]:
    """Every API's example body; fails early if one is missing from the package."""
    return {api.slug: example_bytes(api.slug) for api in APIS}
