"""Misreads on purpose: wrong values with low confidences, and right values with lowish ones.

The emulator reads its clean sample renders right, with confidences near 1, so a review gate
(``review_below``) would never have anything to catch. Two knobs model what a real reader does
on real scans; both are off unless set:

* ``misread_rate``: the share of documents (pages) in which one scored field's value is misread:
  one digit of it is changed to another, and its confidence becomes a draw from
  :data:`MISREAD_CONFIDENCE`, Beta(4, 3): mean 0.57, about 10 % above 0.8, 1.6 % above 0.9,
  0.2 % above 0.95. A misread is usually, not always, unsure of itself;
* ``false_alarm_rate``: the share of the other (correctly read) scored fields whose confidence
  becomes a draw from :data:`FALSE_ALARM_CONFIDENCE`, Beta(8, 2): mean 0.8, about 44 % under
  0.8. A right value the reader is unsure of: the cost of a high threshold.

Only fields the API scores (``catalog.tables.scored_fields``) that the answer has with a
confidence take part, and only a value holding a digit can be misread. The draws depend on the
configured ``seed`` and the image's bytes (and page) only, never on the order of the calls:
the same document gets the same misread in every run, so a re-run is comparable. These
confidences are a model, not measured on the vendor's service.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from airflow_provider_hwocr.catalog.tables import scored_fields

__all__ = ["FALSE_ALARM_CONFIDENCE", "MISREAD_CONFIDENCE", "Misread", "misread"]

#: Beta(alpha, beta) of a misread field's confidence.
MISREAD_CONFIDENCE = (4.0, 3.0)
#: Beta(alpha, beta) of a false alarm's confidence (a right value, scored low).
FALSE_ALARM_CONFIDENCE = (8.0, 2.0)


@dataclass(frozen=True)
class Misread:
    """What was done to one answer: the misread field (if any) and the false alarms."""

    field: str | None
    #: The value as read before it was misread.
    was: str | None
    false_alarms: tuple[str, ...]


def _digest(data: bytes, page: int, seed: int | None) -> str:
    return f"{seed}:{page}:{hashlib.sha256(data).hexdigest()}"


def _changed_digit(value: str, rng: random.Random) -> str:
    positions = [i for i, ch in enumerate(value) if ch.isdigit()]
    at = rng.choice(positions)
    other = rng.choice([d for d in "0123456789" if d != value[at]])
    return value[:at] + other + value[at + 1 :]


def misread(
    slug: str,
    result: Any,
    data: bytes,
    *,
    page: int = 1,
    misread_rate: float,
    false_alarm_rate: float,
    seed: int | None = None,
) -> Misread | None:
    """Misread ``result`` (an API's answer for the image or document ``data``, page ``page``) in
    place as the rates say (see the module); ``None`` when it has no scored field to touch."""
    if not (misread_rate or false_alarm_rate) or not isinstance(result, dict):
        return None
    confidences = result.get("confidence")
    if not isinstance(confidences, dict):
        return None
    fields = [
        name
        for name in scored_fields(slug)
        if isinstance(result.get(name), str)
        and result[name]
        and isinstance(confidences.get(name), (int, float))
    ]
    if not fields:
        return None
    rng = random.Random(_digest(data, page, seed))
    wrong: str | None = None
    was: str | None = None
    readable = [name for name in fields if any(ch.isdigit() for ch in result[name])]
    if rng.random() < misread_rate and readable:
        wrong = rng.choice(readable)
        was = result[wrong]
        result[wrong] = _changed_digit(was, rng)
        confidences[wrong] = round(rng.betavariate(*MISREAD_CONFIDENCE), 4)
    alarms = []
    for name in fields:
        if name != wrong and rng.random() < false_alarm_rate:
            confidences[name] = round(rng.betavariate(*FALSE_ALARM_CONFIDENCE), 4)
            alarms.append(name)
    return Misread(wrong, was, tuple(alarms))
