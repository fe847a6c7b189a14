"""What each API answers: one response model for all 52, built from named shapes reused across APIs.

The facts are in ``responses.json``, laid out as botocore lays out a service:
``shapes`` holds every named shape, and ``results`` names, per API, the shape of its
``result`` (of each item, for list-shaped APIs). A shape is a leaf (a ``type`` and a
``doc``: ``Quad`` is every four-corner location, ``FieldConfidence`` every per-field
confidence object) or a structure (``members``). A member names its type (a
primitive, ``list<...>``, ``map<float>`` or a shape) and, where the docs say so,
``when`` the service returns it (see :class:`~.response_model.Field`), the
documented ``allowed`` values, ``required: false`` (returned for some documents
only), ``off: "null"`` and ``notes`` where the docs contradict themselves.

Types and structures follow the official SDK's models (a test holds them against
each other); docs and conditions follow the API reference, which rules where the
two disagree (each such case is a note). ``check`` compares an answer with the
model; the emulator's answers are tested against it for every API with its flags
on and off, and operator docstrings and the docs are generated from it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, cast

from airflow_provider_hwocr.catalog.response_model import Field, FieldType, ResponseModel

__all__ = ["RESPONSES", "SHAPES", "check", "large_result_params", "response_model", "shape_uses"]

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


@cache
def large_result_params(slug: str) -> tuple[str, ...]:
    """The Boolean parameters of API ``slug`` that make its answer carry Base64 files or images.

    A field with ``content`` (an image or a file) is returned when its condition holds;
    the parameters named there, less those that already gate an enclosing field
    (``table`` gates the table whose ``excel`` needs ``return_excel`` too), are the
    ones that switch the payload on. In the order of the API's parameters.
    """
    from airflow_provider_hwocr.catalog import get_api

    api = get_api(slug)
    flags = {p.name for p in api.params if p.kind == "bool"}
    model = RESPONSES.get(slug)
    found: set[str] = set()
    if model is not None:
        _payload_flags((*model.top_level, *model.fields), frozenset(), found)
    return tuple(name for name in api.param_names if name in found and name in flags)


def _payload_flags(fields: tuple[Field, ...], gated: frozenset[str], found: set[str]) -> None:
    for f in fields:
        own = frozenset(f.flags)
        if f.content is not None:
            found.update(own - gated)
        _payload_flags(f.fields, gated | own, found)


# --- checking an answer against the model ---------------------------------------------

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "object": (dict,),
}


def _type_ok(kind: str, value: Any) -> bool:
    if kind in _PYTHON_TYPES:
        if isinstance(value, bool) and kind != "bool":
            return False
        return isinstance(value, _PYTHON_TYPES[kind])
    if kind == "map[float]":
        return isinstance(value, dict) and all(_type_ok("float", v) for v in value.values())
    if not isinstance(value, list):
        return False
    if kind == "points":
        return all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in p)
            for p in value
        )
    item = {"list[int]": "int", "list[str]": "str", "list[float]": "float", "list[object]": "object"}[kind]
    return all(_type_ok(item, v) for v in value)


def _check_object(
    fields: tuple[Field, ...],
    obj: dict[str, Any],
    body: dict[str, Any],
    defaults: dict[str, Any],
    path: str,
    out: list[str],
) -> None:
    known = {f.name for f in fields}
    out.extend(f"{path}.{key}: not a documented field" for key in obj if key not in known)
    for f in fields:
        where = f"{path}.{f.name}"
        present = f.name in obj
        if not f.applies(body, defaults, obj):
            if present and not (f.off == "null" and obj[f.name] is None):
                out.append(f"{where}: returned although its condition ({f.when}) does not hold")
            continue
        if not present:
            if f.required:
                out.append(f"{where}: missing" + (f" although {f.when}" if f.when else ""))
            continue
        value = obj[f.name]
        if not _type_ok(f.type, value):
            out.append(f"{where}: {type(value).__name__} {value!r:.40} is not {f.type}")
            continue
        if f.allowed is not None and value not in f.allowed:
            out.append(f"{where}: {value!r} is not one of {', '.join(f.allowed)}")
        if f.fields and f.type == "object":
            _check_object(f.fields, value, body, defaults, where, out)
        elif f.fields and f.type == "list[object]":
            for i, item in enumerate(value):
                _check_object(f.fields, item, body, defaults, f"{where}[{i}]", out)


def check(slug: str, body: dict[str, Any], answer: Any) -> list[str]:
    """Every difference between a 200 ``answer`` to request ``body`` and the documented model.

    Parameters left out of ``body`` take their catalog default. An empty list
    means the answer matches. A free-object ``result`` (no shape) is checked to be
    an object only.
    """
    from airflow_provider_hwocr.catalog import get_api

    api = get_api(slug)
    model = RESPONSES[slug]
    defaults = {p.name: p.default for p in api.params}
    if not isinstance(answer, dict) or "result" not in answer:
        return ["answer: no result"]
    top = {f.name: f for f in model.top_level}
    out = [f"answer.{key}: not a documented field" for key in sorted(set(answer) - {"result", *top})]
    rest = {k: v for k, v in answer.items() if k in top}
    _check_object(model.top_level, rest, body, defaults, "answer", out)
    result = answer["result"]
    if model.kind == "list":
        if not isinstance(result, list):
            return [*out, f"result: {type(result).__name__}, documented as a list"]
        for i, item in enumerate(result):
            if not isinstance(item, dict):
                out.append(f"result[{i}]: not an object")
            elif model.shape is not None:
                _check_object(model.fields, item, body, defaults, f"result[{i}]", out)
    elif not isinstance(result, dict):
        out.append(f"result: {type(result).__name__}, documented as an object")
    elif model.shape is not None:
        _check_object(model.fields, result, body, defaults, "result", out)
    return out
