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

from dataclasses import dataclass, field
from typing import Any

from airflow_provider_hwocr.catalog.response_data import (
    RESPONSES,
    SHAPES,
    large_result_params,
    response_model,
    shape_uses,
)
from airflow_provider_hwocr.catalog.response_model import Field, ResponseModel

__all__ = ["RESPONSES", "SHAPES", "check", "large_result_params", "response_model", "shape_uses"]


# --- checking an answer against the model ---------------------------------------------

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "object": (dict,),
}


#: The item type of each list type.
_LIST_ITEMS = {"list[int]": "int", "list[str]": "str", "list[float]": "float", "list[object]": "object"}


def _type_ok(kind: str, value: Any) -> bool:
    if kind in _PYTHON_TYPES:
        return _scalar_ok(kind, value)
    if kind == "map[float]":
        return isinstance(value, dict) and all(_scalar_ok("float", v) for v in value.values())
    if not isinstance(value, list):
        return False
    if kind == "points":
        return all(_point_ok(p) for p in value)
    return all(_type_ok(_LIST_ITEMS[kind], v) for v in value)


def _scalar_ok(kind: str, value: Any) -> bool:
    """A JSON scalar or object of ``kind`` (``true`` is no number)."""
    return isinstance(value, _PYTHON_TYPES[kind]) and (kind == "bool" or not isinstance(value, bool))


def _point_ok(point: Any) -> bool:
    return isinstance(point, list) and len(point) == 2 and all(_scalar_ok("float", c) for c in point)


@dataclass
class _Checker:
    """Compares the objects of one answer with their fields, collecting every difference in ``out``."""

    body: dict[str, Any]
    defaults: dict[str, Any]
    out: list[str] = field(default_factory=list)

    def object(self, fields: tuple[Field, ...], obj: dict[str, Any], path: str) -> None:
        known = {f.name for f in fields}
        self.out.extend(f"{path}.{key}: not a documented field" for key in obj if key not in known)
        for f in fields:
            self.member(f, obj, f"{path}.{f.name}")

    def member(self, f: Field, obj: dict[str, Any], where: str) -> None:
        present = f.name in obj
        if not f.applies(self.body, self.defaults, obj):
            if present and not (f.off == "null" and obj[f.name] is None):
                self.out.append(f"{where}: returned although its condition ({f.when}) does not hold")
        elif not present:
            if f.required:
                self.out.append(f"{where}: missing" + (f" although {f.when}" if f.when else ""))
        else:
            self.value(f, obj[f.name], where)

    def value(self, f: Field, value: Any, where: str) -> None:
        if not _type_ok(f.type, value):
            self.out.append(f"{where}: {type(value).__name__} {value!r:.40} is not {f.type}")
            return
        if f.allowed is not None and value not in f.allowed:
            self.out.append(f"{where}: {value!r} is not one of {', '.join(f.allowed)}")
        if f.fields and f.type == "object":
            self.object(f.fields, value, where)
        elif f.fields and f.type == "list[object]":
            for i, item in enumerate(value):
                self.object(f.fields, item, f"{where}[{i}]")

    def result(self, model: ResponseModel, result: Any) -> None:
        if model.kind == "list":
            self.items(model, result)
        elif not isinstance(result, dict):
            self.out.append(f"result: {type(result).__name__}, documented as an object")
        elif model.shape is not None:
            self.object(model.fields, result, "result")

    def items(self, model: ResponseModel, result: Any) -> None:
        if not isinstance(result, list):
            self.out.append(f"result: {type(result).__name__}, documented as a list")
            return
        for i, item in enumerate(result):
            if not isinstance(item, dict):
                self.out.append(f"result[{i}]: not an object")
            elif model.shape is not None:
                self.object(model.fields, item, f"result[{i}]")


def check(slug: str, body: dict[str, Any], answer: Any) -> list[str]:
    """Every difference between a 200 ``answer`` to request ``body`` and the documented model.

    Parameters left out of ``body`` take their catalog default. An empty list
    means the answer matches. A free-object ``result`` (no shape) is checked to be
    an object only.
    """
    from airflow_provider_hwocr.catalog import get_api

    api = get_api(slug)
    model = RESPONSES[slug]
    if not isinstance(answer, dict) or "result" not in answer:
        return ["answer: no result"]
    checker = _Checker(body, {p.name: p.default for p in api.params})
    top = {f.name: f for f in model.top_level}
    checker.out.extend(
        f"answer.{key}: not a documented field" for key in sorted(set(answer) - {"result", *top})
    )
    checker.object(model.top_level, {k: v for k, v in answer.items() if k in top}, "answer")
    checker.result(model, answer["result"])
    return checker.out
