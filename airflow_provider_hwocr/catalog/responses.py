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

from typing import Any

from airflow_provider_hwocr.catalog.response_data import (
    RESPONSES,
    SHAPES,
    large_result_params,
    response_model,
    shape_uses,
)
from airflow_provider_hwocr.catalog.response_model import Field

__all__ = ["RESPONSES", "SHAPES", "check", "large_result_params", "response_model", "shape_uses"]


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
