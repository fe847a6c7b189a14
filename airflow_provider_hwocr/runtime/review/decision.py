"""A person's decision on a held page, and the stored result it makes.

:class:`Decision` is what was decided (approved or rejected, by whom, when, the corrected
values, whether a timeout decided). :func:`apply_review` turns a stored envelope and a
decision into a new envelope: ``result`` holds the corrected values, so every reader of
``result`` (the tables too) sees the correction, and a ``review`` record keeps what the
machine said, what was held and why, and what changed::

    "review": {"format": "hwocr-review/1", "outcome": "approved", "by": "li",
               "at": "2026-12-07T10:00:00+00:00", "timed_out": false,
               "held": [{"field": "total", "value": "1130.00", "confidence": 0.41,
                         "threshold": 0.95, "reason": "below"}],
               "changes": [{"field": "total", "from": "1130.00", "to": "1180.00"}],
               "machine": {"total": "1130.00"}}

A rejection changes no value (the page keeps what the machine read; its table rows say
``rejected``). :func:`decision_from_answer` and :func:`timeout_decision` make a decision out of
a review form's answer (``chosen_options``, ``params_input``) and out of a timeout.
Pure functions, no I/O.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from airflow_provider_hwocr.runtime.review.gate import HeldField

__all__ = [
    "APPROVE",
    "REJECT",
    "REVIEW_FORMAT",
    "TIMEOUT_BY",
    "Decision",
    "Outcome",
    "apply_review",
    "decision_from_answer",
    "review_of",
    "timeout_decision",
]

REVIEW_FORMAT = "hwocr-review/1"
Outcome = Literal["approved", "rejected"]
#: The options of the review form, and the outcome each one means.
APPROVE, REJECT = "Approve", "Reject"
_OUTCOMES: dict[str, Outcome] = {APPROVE: "approved", REJECT: "rejected"}
#: ``by`` of a decision nobody made: the review timed out.
TIMEOUT_BY = "timeout"


@dataclass(frozen=True)
class Decision:
    """What was decided about one held page."""

    outcome: Outcome
    #: Who decided: a user's id, or :data:`TIMEOUT_BY`.
    by: str
    #: When (timezone-aware).
    at: datetime
    #: Field -> the value the reviewer entered (unchanged values may be there too).
    values: Mapping[str, str] = field(default_factory=dict)
    timed_out: bool = False

    def __post_init__(self) -> None:
        if self.outcome not in ("approved", "rejected"):
            raise ValueError(f"a decision's outcome is 'approved' or 'rejected', not {self.outcome!r}")
        if self.at.tzinfo is None:
            raise ValueError("a decision's time must be timezone-aware")
        if not isinstance(self.by, str) or not self.by:
            raise ValueError("a decision says who made it (by)")
        object.__setattr__(self, "values", dict(self.values))  # a copy: picklable, not shared


def _as_result_value(text: str, machine: Any) -> Any:
    """The reviewer's text in the type of the field's machine value (a list stays a list)."""
    if isinstance(machine, str) or machine is None:
        return text
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(machine, list):
        if isinstance(parsed, list):
            return parsed
        return [text] if text else []
    if parsed is not None and type(parsed) is type(machine):
        return parsed
    return text


def apply_review(
    envelope: Mapping[str, Any], held: Sequence[HeldField], decision: Decision
) -> dict[str, Any]:
    """A new envelope: ``envelope`` with the decision's values in ``result`` and its ``review``
    record (``envelope`` itself is untouched).

    Raises ``ValueError`` when the envelope was reviewed already (a second decision is refused,
    not merged), has no object result, or the decision sets a field that was not held.
    """
    if review_of(envelope) is not None:
        raise ValueError("this result was reviewed already; a second decision is refused")
    result = envelope.get("result")
    if not isinstance(result, dict):
        raise ValueError("only an object result can be reviewed")  # noqa: TRY004 - a bad value, not a bad call
    names = [h.field for h in held]
    stray = [name for name in decision.values if name not in names]
    if stray:
        raise ValueError(f"the decision sets fields that were not held: {', '.join(sorted(stray))}")
    out = copy.deepcopy(dict(envelope))
    corrected: dict[str, Any] = out["result"]
    changes = []
    if decision.outcome == "approved":
        for h in held:
            new = decision.values.get(h.field)
            if new is None or new == (h.value or ""):
                continue
            corrected[h.field] = _as_result_value(new, result.get(h.field))
            changes.append({"field": h.field, "from": h.value, "to": new})
    out["review"] = {
        "format": REVIEW_FORMAT,
        "outcome": decision.outcome,
        "by": decision.by,
        "at": decision.at.isoformat(timespec="seconds"),
        "timed_out": decision.timed_out,
        "held": [
            {
                "field": h.field,
                "value": h.value,
                "confidence": h.confidence,
                "threshold": h.threshold,
                "reason": h.reason,
            }
            for h in held
        ],
        "changes": changes,
        "machine": {h.field: h.value for h in held},
    }
    return out


def review_of(envelope: Mapping[str, Any]) -> dict[str, Any] | None:
    """The envelope's ``review`` record, or ``None`` when nobody has decided on it."""
    review = envelope.get("review")
    if isinstance(review, dict) and review.get("format") == REVIEW_FORMAT:
        return review
    return None


def decision_from_answer(
    chosen_options: Sequence[str],
    params_input: Mapping[str, Any] | None,
    *,
    by: str,
    at: datetime,
    held: Sequence[HeldField] = (),
) -> Decision:
    """The decision a review form's answer means: the one chosen option (``Approve``/``Reject``)
    and the edited values (only those that differ from what was held are kept)."""
    if len(chosen_options) != 1 or chosen_options[0] not in _OUTCOMES:
        raise ValueError(
            f"a review answer chooses one of {APPROVE!r} or {REJECT!r}, not {list(chosen_options)}"
        )
    shown = {h.field: h.value or "" for h in held}
    values = {
        name: "" if value is None else str(value)
        for name, value in (params_input or {}).items()
        if name in shown and ("" if value is None else str(value)) != shown[name]
    }
    return Decision(_OUTCOMES[chosen_options[0]], by, at, values)


def timeout_decision(on_timeout: str, at: datetime) -> Decision | None:
    """The decision a review that nobody answered in time gets: ``approve`` keeps the machine's
    values, ``reject`` rejects the page, ``fail`` has none (``None``: the task fails)."""
    if on_timeout == "fail":
        return None
    if on_timeout not in ("approve", "reject"):
        raise ValueError(f"on_timeout is 'fail', 'approve' or 'reject', not {on_timeout!r}")
    outcome: Outcome = "approved" if on_timeout == "approve" else "rejected"
    return Decision(outcome, TIMEOUT_BY, at, timed_out=True)
