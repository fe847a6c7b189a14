"""Fit an answer to the catalog's response model for the request that was sent, or make one from it.

The builders in :mod:`.results` fill in what they can read off the image;
this pass then makes the answer look the way the docs say for *this*
request: a field whose flag is off is left out (or ``null`` where the docs
say so), a documented field the builder could not compute is returned
empty (``""``, ``0``, ``false``, ``{}``), and a number where the docs say
String becomes a string. The model, not each builder, decides the shape.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.response_model import Field
from airflow_provider_hwocr.catalog.responses import response_model


def empty(field: Field, body: dict[str, Any], defaults: dict[str, Any], size: tuple[int, int] | None) -> Any:
    """The value a field has when nothing could be read for it."""
    if field.type == "str":
        return field.allowed[0] if field.allowed else ""
    if field.type == "int":
        return 0
    if field.type == "float":
        return 0.0
    if field.type == "bool":
        return False
    if field.type == "points":
        width, height = size or (1, 1)
        return [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
    if field.type == "object":
        obj: dict[str, Any] = {}
        if field.fields:
            _fit(field.fields, obj, body, defaults, size)
        return obj
    return []


def _coerce(field: Field, value: Any) -> Any:
    if field.type == "str" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _fit(
    fields: tuple[Field, ...],
    obj: dict[str, Any],
    body: dict[str, Any],
    defaults: dict[str, Any],
    size: tuple[int, int] | None,
) -> None:
    for field in fields:
        if not field.applies(body, defaults, obj):
            _leave_out(field, obj)
        elif field.name in obj:
            _fit_value(field, obj, body, defaults, size)
        elif field.required:
            obj[field.name] = empty(field, body, defaults, size)


def _leave_out(field: Field, obj: dict[str, Any]) -> None:
    """A field whose flag is off: ``null`` where the docs say so, else absent."""
    if field.off == "null":
        obj[field.name] = None
    else:
        obj.pop(field.name, None)


def _fit_value(
    field: Field,
    obj: dict[str, Any],
    body: dict[str, Any],
    defaults: dict[str, Any],
    size: tuple[int, int] | None,
) -> None:
    """A field the answer has: coerced to its documented type, and its nested fields fitted too."""
    value = obj[field.name] = _coerce(field, obj[field.name])
    if not field.fields:
        return
    if field.type == "object" and isinstance(value, dict):
        _fit(field.fields, value, body, defaults, size)
    elif field.type == "list[object]" and isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                _fit(field.fields, item, body, defaults, size)


def fit(
    slug: str, body: dict[str, Any], answer: dict[str, Any], size: tuple[int, int] | None
) -> dict[str, Any]:
    """``answer`` (``{"result": ...}``) made to match the response model for ``body``, in place."""
    model = response_model(slug)
    defaults = {p.name: p.default for p in get_api(slug).params}
    result = answer.get("result")
    if model.shape is None:
        return answer  # a free object: nothing to fit
    items = result if isinstance(result, list) else [result]
    for item in items:
        if isinstance(item, dict):
            _fit(model.fields, item, body, defaults, size)
    return fit_side(slug, body, answer)


# --- one side of a card ---------------------------------------------------------------------


def _sides(slug: str) -> dict[str, Field]:
    """The ``front`` and ``back`` objects of a model that has both (a ``double_side`` answer's)."""
    found = {
        f.name: f
        for f in response_model(slug).fields
        if f.name in ("front", "back") and f.type == "object" and f.fields
    }
    return found if len(found) == 2 else {}


def answers_one_side(slug: str, body: dict[str, Any]) -> bool:
    """Whether a request asks a card API with per-side fields for one side (``side=front|back``)."""
    return body.get("side") in _sides(slug)


def _blank(field: Field) -> Any:
    """What the service returns for an asked-for field the side does not have: empty."""
    return {"str": "", "object": {}, "bool": False, "int": 0, "float": 0.0}.get(field.type, [])


def fit_side(slug: str, body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """A card asked for one side answers that side's fields, in place.

    Which fields a side has is the vendor's per-side model (the ``front`` and ``back`` objects of a
    ``double_side`` answer: id-card's emblem side has the issuing authority and the validity, no
    name, number or portrait). A field of the other side only is left out; one the request asked
    for with a flag is returned empty (the SDK: id-card's ``portrait_image`` is ``""`` and its
    ``portrait_location`` ``[]`` on the emblem side).
    """
    sides, result = _sides(slug), answer.get("result")
    side = body.get("side")
    if side not in sides or not isinstance(result, dict):
        return answer
    other = "back" if side == "front" else "front"
    mine = {f.name for f in sides[side].fields}
    top = {f.name: f for f in response_model(slug).fields}
    for field in sides[other].fields:
        if field.name not in mine and field.name in result:
            _drop_or_blank(result, top.get(field.name, field))
    return answer


def _drop_or_blank(result: dict[str, Any], field: Field) -> None:
    """Leave a field out, or, if the request asked for it with a flag, return it empty."""
    if any(flag != "side" for flag in field.flags):
        result[field.name] = _blank(field)
    else:
        del result[field.name]


# --- an answer made from the model alone ------------------------------------------------

#: Placeholder values of a "documented shape" answer, by field type (strings: their first
#: documented value, else ``<field name>``, so that text exports and routing see something).
_PLACEHOLDERS: dict[str, Any] = {"int": 0, "float": 0.0, "bool": False, "map[float]": {}}


def _sample(field: Field, depth: int) -> Any:
    if field.type == "str":
        return field.allowed[0] if field.allowed else f"<{field.name}>"
    if field.type in _PLACEHOLDERS:
        value = _PLACEHOLDERS[field.type]
        return dict(value) if isinstance(value, dict) else value
    if field.type == "points":
        return [[0, 0], [1, 0], [1, 1], [0, 1]]
    if field.type == "object":
        return _sample_object(field.fields, depth + 1)
    if field.type == "list[object]":
        return [_sample_object(field.fields, depth + 1)] if depth < 6 else []
    if field.type == "list[str]":
        return [f"<{field.name}>"]
    return []


def _sample_object(fields: tuple[Field, ...], depth: int) -> dict[str, Any]:
    return {f.name: _sample(f, depth) for f in fields}


def model_example(slug: str) -> dict[str, Any]:
    """An answer of API ``slug`` made from its response model alone: every field, typed placeholders.

    What the emulator sends, announced as ``X-Emulator-Ocr: shape``, for an API whose
    documented example it does not ship and whose fields it cannot read off the image
    (every field is there, as in a documented example; :func:`fit` then keeps those the
    request asks for). Lists hold one item, so nested shapes are exercised too.
    """
    model = response_model(slug)
    # A free object (custom-template: the keys are the template's own fields): one such field.
    item = _sample_object(model.fields, 0) if model.shape else {"field": "<value>"}
    answer: dict[str, Any] = {"result": [item] if model.kind == "list" else item}
    for f in model.top_level:
        answer[f.name] = _sample(f, 0)
    return answer
