"""Human review of uncertain OCR fields. Its pure core (no Airflow, no I/O):

* :mod:`.rule`: ``review_below`` / ``review_fields`` checked into a :class:`ReviewRule`;
* :mod:`.gate`: the fields of one page's answer that hold it (:func:`held_fields`);
* :mod:`.crops`: the page as an image and a field's crop (Pillow, pypdfium2: imported where it is
  used, not by this package, so checking the arguments at parse time stays light);
* :mod:`.decision`: a person's :class:`Decision` and the reviewed envelope (:func:`apply_review`);
* :mod:`.form`: the form a reviewer answers (:func:`review_form`).

The operators check the arguments when a DAG is parsed (``ReviewRule.parse``); everything else
runs when a task executes.
"""

from __future__ import annotations

from airflow_provider_hwocr.runtime.review.decision import Decision, apply_review, review_of
from airflow_provider_hwocr.runtime.review.form import ReviewForm, review_form
from airflow_provider_hwocr.runtime.review.gate import HeldField, held_fields
from airflow_provider_hwocr.runtime.review.rule import ReviewRule, scored_fields

__all__ = [
    "Decision",
    "HeldField",
    "ReviewForm",
    "ReviewRule",
    "apply_review",
    "held_fields",
    "review_form",
    "review_of",
    "scored_fields",
]
