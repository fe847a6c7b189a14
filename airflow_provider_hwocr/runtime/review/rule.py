"""Which fields of a page hold it for a person, and below what confidence: ``review_below``.

``review_below`` is a float (every gating field has that threshold) or a dict field ->
threshold whose key ``"*"`` is the default for fields it does not name. ``review_fields``
names the fields that gate; without it, the dict's named fields gate (or, when it names none
or ``review_below`` is a float, every field the API scores). A threshold is a number from 0
to 1; a field must be one the API returns with a confidence of its own (:func:`scored_fields`,
from the catalog's confidence plan). Everything is checked when the DAG is parsed, and a
mistake raises ``ValueError`` naming the argument.

Fields named by ``review_fields`` or by the dict are *required*: missing from an answer, they
hold the page. With every scored field gating (nothing named), a field the answer does not have
does not hold it: an invoice leaves most of its 51 scored fields out (the sales-list fields
``belong_*``, for one), and holding every page for them would make the rule useless.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.response_data import RESPONSES
from airflow_provider_hwocr.catalog.tables import scored_fields

__all__ = ["DEFAULT_KEY", "ReviewRule", "scored_fields"]

#: The key of ``review_below`` giving the threshold of the fields it does not name.
DEFAULT_KEY = "*"


def _threshold(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"review_below: {where} must be a number from 0 to 1, not {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"review_below: {where} must be from 0 to 1, not {value}")
    return float(value)


def _check_field(slug: str, name: Any, parameter: str) -> str:
    if not isinstance(name, str):
        raise ValueError(f"{parameter}: a field is named by a string, not {name!r}")  # noqa: TRY004 - as every argument check
    scored = scored_fields(slug)
    if name in scored:
        return name
    documented = {f.name for f in RESPONSES[slug].fields} if RESPONSES[slug].kind != "list" else set()
    if name in documented:
        raise ValueError(
            f"{parameter}: {slug} returns no confidence for {name!r}, so no threshold can gate it;"
            f" fields it scores: {', '.join(scored) or 'none'}"
        )
    raise ValueError(
        f"{parameter}: {slug} has no field {name!r}; fields it scores: {', '.join(scored) or 'none'}"
    )


@dataclass(frozen=True)
class ReviewRule:
    """A checked ``review_below`` / ``review_fields`` pair for one API (see the module)."""

    #: Field -> its own threshold.
    thresholds: Mapping[str, float]
    #: The threshold of a gating field without its own (``"*"``, or the float); ``None``: none.
    default: float | None
    #: The fields that gate, in the order given; ``None``: every field the API scores.
    fields: tuple[str, ...] | None

    @classmethod
    def parse(cls, review_below: Any, review_fields: Any = None, *, slug: str) -> ReviewRule | None:
        """The rule of API ``slug``, or ``None`` when ``review_below`` is ``None`` (no review).

        Raises ``ValueError`` naming ``review_below`` or ``review_fields`` for a threshold
        outside 0..1, a field the API does not have or does not score, a gating field without
        a threshold, or ``review_fields`` without ``review_below``.
        """
        get_api(slug)  # KeyError for an unknown API
        if review_below is None:
            if review_fields is not None:
                raise ValueError(
                    "review_fields: names the fields review_below gates, but review_below is not set"
                )
            return None
        if not scored_fields(slug):
            raise ValueError(
                f"review_below: {slug} returns no per-field confidence, so no field can be gated"
            )
        thresholds: dict[str, float] = {}
        default: float | None
        if isinstance(review_below, Mapping):
            default = None
            for key, value in review_below.items():
                if key == DEFAULT_KEY:
                    default = _threshold(value, repr(DEFAULT_KEY))
                else:
                    thresholds[_check_field(slug, key, "review_below")] = _threshold(value, repr(key))
            if not thresholds and default is None:
                raise ValueError(
                    "review_below: an empty dict gates nothing; give thresholds or leave it None"
                )
        else:
            default = _threshold(review_below, "the threshold")
        fields = cls._fields(slug, review_fields, thresholds, default)
        return cls(thresholds, default, fields)

    @staticmethod
    def _fields(
        slug: str, review_fields: Any, thresholds: dict[str, float], default: float | None
    ) -> tuple[str, ...] | None:
        if review_fields is None:
            return tuple(thresholds) or None
        if isinstance(review_fields, (str, bytes)) or not isinstance(review_fields, Sequence):
            raise ValueError(f"review_fields: a list of field names, not {review_fields!r}")  # noqa: TRY004
        if not review_fields:
            raise ValueError("review_fields: an empty list gates nothing; leave it None for the default")
        fields = tuple(dict.fromkeys(_check_field(slug, name, "review_fields") for name in review_fields))
        unused = [name for name in thresholds if name not in fields]
        if unused:
            raise ValueError(
                f"review_fields: leaves out {', '.join(unused)}, which review_below gives a threshold"
                " (add them, or drop their thresholds)"
            )
        if default is None:
            bare = [name for name in fields if name not in thresholds]
            if bare:
                raise ValueError(
                    f"review_below: no threshold for {', '.join(bare)} (named by review_fields);"
                    f" give one, or a default under {DEFAULT_KEY!r}"
                )
        return fields

    def threshold(self, field: str) -> float | None:
        """The threshold of ``field``: its own, else the default; ``None`` when it does not gate."""
        if self.fields is not None and field not in self.fields:
            return None
        return self.thresholds.get(field, self.default)

    def gating(self, slug: str) -> tuple[str, ...]:
        """The fields that gate an answer of API ``slug``: the named ones, else every scored one."""
        return self.fields if self.fields is not None else scored_fields(slug)

    @property
    def required(self) -> bool:
        """Whether a gating field missing from an answer holds the page (fields were named)."""
        return self.fields is not None
