"""The documented example answers of each API, shipped as ``responses/<slug>.json``.

Some APIs have a second documented example (``<slug>.<variant>.json``): the
back of a card (``back``), a non-Chinese passport (``general``). An API whose
example is not shipped (those added with the whole vendor surface) has one made
from its response model instead (:func:`~.shape.model_example`);
:func:`is_documented` tells which.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from airflow_provider_hwocr.catalog import APIS
from airflow_provider_hwocr.emulator.shape import model_example


def example_response(slug: str, variant: str | None = None) -> Any:
    """A fresh copy of the documented 200 body of API ``slug`` (or of its ``variant``)."""
    return json.loads(example_bytes(slug, variant))


def _file(slug: str, variant: str | None = None) -> Any:
    name = f"{slug}.{variant}.json" if variant else f"{slug}.json"
    return resources.files(__package__).joinpath("responses").joinpath(name)


def has_variant(slug: str, variant: str) -> bool:
    return _file(slug, variant).is_file()


@cache
def is_documented(slug: str) -> bool:
    """Whether the vendor's documented example of ``slug`` is shipped (else it is made from the model)."""
    return _file(slug).is_file()


@cache
def example_bytes(slug: str, variant: str | None = None) -> bytes:
    """The documented 200 body of API ``slug``, as compact UTF-8 JSON ready to send."""
    path = _file(slug, variant)
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() or variant else model_example(slug)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def load_all() -> dict[str, bytes]:
    """Every API's example body; fails early if one is missing from the package."""
    return {api.slug: example_bytes(api.slug) for api in APIS}
