"""Whether one page's answer needs a person: the gating fields under their thresholds.

:func:`held_fields` reads the page's ``result`` (the envelope's) with a :class:`ReviewRule`:
a gating field whose confidence is under its threshold is held (``below``); one the answer
has without a confidence is held too (``unscored``: an answer without confidence counts as
uncertain, so a control never silently switches off); one the rule names and the answer
lacks is held (``missing``). An empty list: the page flows on.

When no field is named (every scored field gates, :attr:`ReviewRule.required` false), a field
the answer lacks holds nothing, and a field it has without a confidence holds the page only
when the answer scores none of the gating fields: a service that scores the fields it read
but not the ones it derives (a VAT invoice's ``total_pages``) would otherwise hold every page.

Each :class:`HeldField` carries what the reviewer is shown: the value, the confidence, the
threshold, the label the document prints (``价税合计`` for a mainland document or one read in
Chinese, else the field's name) and where the field is on the page (``text_location``), so
a crop can be cut.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.labels import field_label
from airflow_provider_hwocr.runtime.review.rule import ReviewRule

__all__ = ["HeldField", "Quad", "Reason", "field_value", "held_fields", "is_chinese"]

Reason = Literal["below", "missing", "unscored"]
#: Four (x, y) points: top-left, top-right, bottom-right, bottom-left.
Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class HeldField:
    """One field that holds a page, with what the reviewer needs to judge it."""

    field: str
    #: The field as the document prints it (``价税合计``), or its name.
    label: str
    #: The value as text (a list or object as JSON); ``None`` when the answer lacks the field
    #: (or has it empty).
    value: str | None
    confidence: float | None
    threshold: float
    #: Where the field is on the page, when the answer says.
    quad: Quad | None
    reason: Reason


def is_chinese(slug: str, language: str | None = None) -> bool:
    """Whether a document of API ``slug`` is Chinese: ``language`` ``zh`` (``zh-CN`` ...) says so;
    any other language says not; without one, a mainland API's documents are."""
    if language:
        return language.lower().replace("_", "-").split("-")[0] == "zh"
    return get_api(slug).category == "mainland"


def field_value(value: Any) -> str | None:
    """A result's value as the text a reviewer sees and edits (``None`` for an absent one)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _confidence(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


def _quad(value: Any) -> Quad | None:
    if not isinstance(value, list) or len(value) != 4:
        return None
    points = []
    for point in value:
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            return None
        x, y = point
        if not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in (x, y)):
            return None
        points.append((float(x), float(y)))
    return (points[0], points[1], points[2], points[3])


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def held_fields(slug: str, result: Any, rule: ReviewRule, *, language: str | None = None) -> list[HeldField]:
    """The fields of one page's ``result`` that hold it for review, in the rule's order (see the
    module); ``[]`` when none does. A result that is no object (a failed page) holds nothing: it
    has no value to judge."""
    if not isinstance(result, dict):
        return []
    confidences = result.get("confidence")
    confidences = confidences if isinstance(confidences, dict) else {}
    locations = result.get("text_location")
    locations = locations if isinstance(locations, dict) else {}
    chinese = is_chinese(slug, language)
    gating = rule.gating(slug)
    # Every scored field gating: one the service left unscored holds the page only when it
    # scored none of them (the control is off: advanced_mode false, say), not for each field
    # it never scores on this document (a VAT invoice's page numbers).
    strict = rule.required or not any(_confidence(confidences.get(name)) is not None for name in gating)
    held: list[HeldField] = []
    for name in gating:
        threshold = rule.threshold(name)
        if threshold is None:
            continue
        value = result.get(name)
        confidence = _confidence(confidences.get(name))
        reason: Reason | None
        if not _present(value):
            reason = "missing" if rule.required else None
        elif confidence is None:
            reason = "unscored" if strict else None
        elif confidence < threshold:
            reason = "below"
        else:
            reason = None
        if reason is None:
            continue
        label = (field_label(slug, name) if chinese else None) or name
        held.append(
            HeldField(
                field=name,
                label=label,
                value=field_value(value) if reason != "missing" else None,
                confidence=confidence,
                threshold=threshold,
                quad=_quad(locations.get(name)),
                reason=reason,
            )
        )
    return held
