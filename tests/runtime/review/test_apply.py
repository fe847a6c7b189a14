"""``apply_decision``: the reviewed result PUT back on the ETag it read (a second decision is refused,
never merged), its names, and the HITL answer made a decision. The stored result comes from a real
batch run (the emulator and the fast object server, which honours ``If-Match``)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_hwocr.runtime.review.apply import (
    HuaweiOcrReviewTimeoutError,
    decision_of,
    review_name,
    review_table_key,
)
from airflow_provider_hwocr.runtime.review.decision import review_of
from airflow_provider_hwocr.runtime.review.gate import HeldField
from tests.runtime.batch import test_review as batch
from tests.runtime.batch.test_review import _run as run_day
from tests.runtime.batch.test_review import decide

#: The batch tests' fixtures: a day of two invoices (one held) on the fast object server, and its hook.
day, obs = batch.day, batch.obs

HELD = [HeldField("total", "total", "1130.00", 0.41, 0.95, None, "below")]
AT = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)


def test_names_of_a_page_and_an_image():
    assert (
        review_name("ocr/x-0123456789ab.p0002of0003.vat-invoice.json", "vat-invoice") == "x-0123456789ab-p2"
    )
    assert review_name("ocr/x.png-0123456789ab.vat-invoice.json", "vat-invoice") == "x.png-0123456789ab"
    key = review_table_key("tables/", "vat-invoice", "2026-11-30", "x-0123456789ab-p2", "parquet")
    assert key == "tables/vat-invoice/dt=2026-11-30/review-x-0123456789ab-p2.parquet"


def test_an_answer_a_timeout_and_a_failed_timeout_as_decisions():
    answer = {
        "chosen_options": ["Approve"],
        "params_input": {"total": "1180.00"},
        "responded_at": AT,
        "responded_by_user": {"id": "li", "name": "Li"},
    }
    decision = decision_of(answer, HELD, on_timeout="fail")
    assert (decision.outcome, decision.by, dict(decision.values), decision.timed_out) == (
        "approved",
        "li",
        {"total": "1180.00"},
        False,
    )
    timed_out = {**answer, "chosen_options": ["Reject"], "responded_by_user": None, "timedout": True}
    decision = decision_of(timed_out, HELD, on_timeout="reject")
    assert (decision.outcome, decision.by, decision.timed_out) == ("rejected", "timeout", True)
    with pytest.raises(HuaweiOcrReviewTimeoutError):
        decision_of({"error": "late", "error_type": "timeout"}, HELD, on_timeout="fail")


def test_a_second_decision_is_refused_not_merged(day, obs, emulator):
    (descriptor,) = run_day(day)["held"]
    decide(obs, descriptor, values={"total": "1130.00"})
    with pytest.raises(ValueError, match="reviewed already"):
        decide(obs, descriptor, outcome="rejected")
    stored = obs.get_json(day, descriptor["result_uri"].removeprefix(f"obs://{day}/"))
    assert review_of(stored)["outcome"] == "approved"


def test_a_decision_racing_another_is_refused_by_the_etag_it_read(day, obs, emulator):
    """Two decisions read the same version; the second PUT carries the ETag it read and is refused."""
    from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsPreconditionFailedError

    (descriptor,) = run_day(day)["held"]

    class Racing:
        """An OBS hook whose first read is followed by another decision landing before the write."""

        def __init__(self, inner):
            self.inner = inner

        def get_bytes_and_etag(self, bucket, key):
            data, etag = self.inner.get_bytes_and_etag(bucket, key)
            decide(self.inner, descriptor, outcome="rejected")  # the other reviewer wins
            return data, etag

        def __getattr__(self, name):
            return getattr(self.inner, name)

    with pytest.raises(HuaweiObsPreconditionFailedError):
        decide(Racing(obs), descriptor, values={"total": "9.99"})
    stored = obs.get_json(day, descriptor["result_uri"].removeprefix(f"obs://{day}/"))
    assert review_of(stored)["outcome"] == "rejected" and not stored["result"].get("total")
