"""The response model, loaded: ``responses.json`` resolved into a :class:`~.response_model.Field`
tree per API (the layout of the file is described in :mod:`~airflow_provider_hwocr.catalog.responses`).

Imports nothing else of the catalog, so that :class:`~airflow_provider_hwocr.catalog.model.Api`
can read it (``Api.large_result_params``) without an import cycle; checking an answer, which
needs the APIs' parameters, is in :mod:`~airflow_provider_hwocr.catalog.responses`.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_hwocr.catalog.response_model import Field, FieldType, ResponseModel

if TYPE_CHECKING:
    from airflow_provider_hwocr.catalog.model import Api

__all__ = ["RESPONSES", "SHAPES", "large_result_params", "response_model", "shape_uses"]

_PRIMITIVES: dict[str, FieldType] = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "object": "object",
    "points": "points",
    "map<float>": "map[float]",
    "list<str>": "list[str]",
    "list<int>": "list[int]",
    "list<float>": "list[float]",
}


def _load() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("responses.json").read_text(encoding="utf-8")
    return cast("dict[str, Any]", json.loads(text))


_DATA = _load()
#: Every named shape: ``{"type": ..., "doc": ...}`` (a leaf) or ``{"members": [...]}``.
SHAPES: dict[str, dict[str, Any]] = _DATA["shapes"]


def _field(member: dict[str, Any], cache_: dict[str, tuple[Field, ...]]) -> Field:
    type_name: str = member["type"]
    listed = type_name.startswith("list<") and type_name[5:-1] in SHAPES
    shape_name = type_name[5:-1] if listed else (type_name if type_name in SHAPES else None)
    doc = member.get("doc", "")
    content = member.get("content")
    fields: tuple[Field, ...] = ()
    if shape_name is not None:
        shape = SHAPES[shape_name]
        if "members" in shape:
            fields = _members(shape_name, cache_)
            ftype: FieldType = "list[object]" if listed else "object"
        else:
            ftype = _PRIMITIVES[shape["type"]]
            doc = doc or shape.get("doc", "")
            content = content or shape.get("content")
    else:
        ftype = _PRIMITIVES[type_name]
    return Field(
        name=member["name"],
        type=ftype,
        doc=doc,
        when=member.get("when"),
        allowed=tuple(member["allowed"]) if member.get("allowed") else None,
        required=member.get("required", True),
        off=member.get("off", "absent"),
        fields=fields,
        notes=tuple(member.get("notes", ())),
        shape=shape_name,
        content=content,
    )


def _members(shape_name: str, cache_: dict[str, tuple[Field, ...]]) -> tuple[Field, ...]:
    """The fields of a structure shape, built once (a shape reused by many APIs is one object)."""
    found = cache_.get(shape_name)
    if found is None:
        found = cache_[shape_name] = tuple(_field(m, cache_) for m in SHAPES[shape_name]["members"])
    return found


def _models() -> dict[str, ResponseModel]:
    built: dict[str, tuple[Field, ...]] = {}
    out = {}
    for slug, entry in _DATA["results"].items():
        shape = entry.get("shape")
        out[slug] = ResponseModel(
            kind=entry["kind"],
            fields=_members(shape, built) if shape else (),
            notes=tuple(entry.get("notes", ())),
            shape=shape,
            top_level=tuple(_field(m, built) for m in entry.get("top_level", ())),
        )
    return out


RESPONSES: dict[str, ResponseModel] = _models()


def response_model(slug: str) -> ResponseModel:
    """The response model of API ``slug`` (``KeyError`` for an unknown API)."""
    return RESPONSES[slug]


@cache
def shape_uses() -> dict[str, tuple[str, ...]]:
    """Shape name -> the APIs whose answers contain it (for the docs: where a shape is reused)."""
    uses: dict[str, list[str]] = {}

    def walk(slug: str, fields: tuple[Field, ...]) -> None:
        for f in fields:
            if f.shape is not None and slug not in uses.setdefault(f.shape, []):
                uses[f.shape].append(slug)
                walk(slug, f.fields)

    for slug, model in RESPONSES.items():
        if model.shape:
            uses.setdefault(model.shape, []).append(slug)
        walk(slug, model.fields)
    return {name: tuple(apis) for name, apis in uses.items()}


def large_result_params(api: Api) -> tuple[str, ...]:
    """The Boolean parameters of API ``slug`` that make its answer carry Base64 files or images.

    A field with ``content`` (an image or a file) is returned when its condition holds;
    the parameters named there, less those that already gate an enclosing field
    (``table`` gates the table whose ``excel`` needs ``return_excel`` too), are the
    ones that switch the payload on. In the order of the API's parameters.
    """
    flags = {p.name for p in api.params if p.kind == "bool"}
    found = _payload_fields(api.slug)
    return tuple(name for name in api.param_names if name in found and name in flags)


@cache
def _payload_fields(slug: str) -> frozenset[str]:
    """The parameters that switch on an image or a file in the answer of ``slug``."""
    model = RESPONSES.get(slug)
    found: set[str] = set()
    if model is not None:
        _payload_flags((*model.top_level, *model.fields), frozenset(), found)
    return frozenset(found)


def _payload_flags(fields: tuple[Field, ...], gated: frozenset[str], found: set[str]) -> None:
    for f in fields:
        own = frozenset(f.flags)
        if f.content is not None:
            found.update(own - gated)
        _payload_flags(f.fields, gated | own, found)
