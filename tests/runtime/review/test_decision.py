"""A decision and the reviewed envelope (``runtime/review/decision.py``), on the emulator's
reading of the sample invoice stored as the pipeline stores it; the tables read the correction."""

from __future__ import annotations

import copy
import pickle
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from airflow_provider_hwocr.runtime.review.decision import (
    REVIEW_FORMAT,
    Decision,
    apply_review,
    decision_from_answer,
    review_of,
    timeout_decision,
)
from airflow_provider_hwocr.runtime.review.gate import held_fields
from airflow_provider_hwocr.runtime.review.rule import ReviewRule
from airflow_provider_hwocr.runtime.tables.rows import envelope_rows

VAT = "vat-invoice"
AT = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)


def _held(envelope, **confidences):
    envelope["result"]["confidence"].update(confidences)
    rule = ReviewRule.parse({"total": 0.95, "*": 0.8}, ["total", "number", "buyer_name"], slug=VAT)
    assert rule is not None
    return held_fields(VAT, envelope["result"], rule)


def test_an_approval_with_a_correction(invoice_envelope):
    held = _held(invoice_envelope, total=0.41, number=0.6)
    before = copy.deepcopy(invoice_envelope)
    decision = Decision("approved", "li", AT, {"total": "1180.00", "number": "12345678"})
    reviewed = apply_review(invoice_envelope, held, decision)
    assert invoice_envelope == before  # the input is untouched
    assert reviewed["result"]["total"] == "1180.00" and reviewed["result"]["number"] == "12345678"
    assert {k: v for k, v in reviewed.items() if k not in ("result", "review")} == {
        k: v for k, v in before.items() if k != "result"
    }
    review = reviewed["review"]
    assert review == {
        "format": REVIEW_FORMAT,
        "outcome": "approved",
        "by": "li",
        "at": "2026-12-07T10:00:00+00:00",
        "timed_out": False,
        "held": [  # in the order review_fields names them
            {"field": "total", "value": "1130.00", "confidence": 0.41, "threshold": 0.95, "reason": "below"},
            {"field": "number", "value": "12345678", "confidence": 0.6, "threshold": 0.8, "reason": "below"},
        ],
        "changes": [{"field": "total", "from": "1130.00", "to": "1180.00"}],  # number was not changed
        "machine": {"number": "12345678", "total": "1130.00"},
    }
    assert review_of(reviewed) == review and review_of(invoice_envelope) is None
    rows = envelope_rows(reviewed)[VAT]
    assert rows[0]["total"] == Decimal("1180.00")  # every reader of result sees the correction
    assert envelope_rows(invoice_envelope)[VAT][0]["total"] == Decimal("1130.00")


def test_a_rejection_changes_no_value(invoice_envelope):
    held = _held(invoice_envelope, total=0.41)
    reviewed = apply_review(invoice_envelope, held, Decision("rejected", "li", AT, {"total": "1.00"}))
    assert reviewed["result"] == invoice_envelope["result"]
    assert reviewed["review"]["outcome"] == "rejected" and reviewed["review"]["changes"] == []


def test_a_second_decision_and_stray_fields_are_refused(invoice_envelope):
    held = _held(invoice_envelope, total=0.41)
    reviewed = apply_review(invoice_envelope, held, Decision("approved", "li", AT))
    with pytest.raises(ValueError, match="reviewed already"):
        apply_review(reviewed, held, Decision("approved", "wang", AT, {"total": "2.00"}))
    with pytest.raises(ValueError, match="not held: number"):
        apply_review(invoice_envelope, held, Decision("approved", "li", AT, {"number": "1"}))
    with pytest.raises(ValueError, match="object result"):
        apply_review({**invoice_envelope, "result": None}, held, Decision("approved", "li", AT))


def test_a_correction_keeps_the_fields_type(invoice_envelope):
    result = invoice_envelope["result"]
    result["supervision_seal"] = ["全国统一发票监制章"]
    result["confidence"]["supervision_seal"] = 0.2
    rule = ReviewRule.parse({"supervision_seal": 0.5}, slug=VAT)
    assert rule is not None
    held = held_fields(VAT, result, rule)
    fixed = apply_review(
        invoice_envelope, held, Decision("approved", "li", AT, {"supervision_seal": '["国家税务总局"]'})
    )
    assert fixed["result"]["supervision_seal"] == ["国家税务总局"]
    plain = apply_review(
        invoice_envelope, held, Decision("approved", "li", AT, {"supervision_seal": "国家税务总局"})
    )
    assert plain["result"]["supervision_seal"] == ["国家税务总局"]


def test_a_missing_field_can_be_filled_in(invoice_envelope):
    rule = ReviewRule.parse(0.5, ["remarks"], slug=VAT)
    assert rule is not None
    held = held_fields(VAT, invoice_envelope["result"], rule)
    assert [h.reason for h in held] == ["missing"]
    reviewed = apply_review(invoice_envelope, held, Decision("approved", "li", AT, {"remarks": "已核对"}))
    assert reviewed["result"]["remarks"] == "已核对"
    assert reviewed["review"]["changes"] == [{"field": "remarks", "from": None, "to": "已核对"}]
    assert reviewed["review"]["machine"] == {"remarks": None}


def test_a_form_answer_is_a_decision(invoice_envelope):
    held = _held(invoice_envelope, total=0.41, number=0.6)
    same = decision_from_answer(
        ["Approve"], {"total": "1130.00", "number": "12345678"}, by="li", at=AT, held=held
    )
    assert (same.outcome, dict(same.values), same.timed_out) == ("approved", {}, False)
    edited = decision_from_answer(
        ["Approve"], {"total": "1180.00", "number": "12345678"}, by="li", at=AT, held=held
    )
    assert dict(edited.values) == {"total": "1180.00"}
    assert decision_from_answer(["Reject"], None, by="wang", at=AT, held=held).outcome == "rejected"
    for chosen in ([], ["Approve", "Reject"], ["Maybe"]):
        with pytest.raises(ValueError, match="chooses one"):
            decision_from_answer(chosen, {}, by="li", at=AT, held=held)


def test_a_timeout_decides_as_configured(invoice_envelope):
    held = _held(invoice_envelope, total=0.41)
    assert timeout_decision("fail", AT) is None
    approve = timeout_decision("approve", AT)
    assert approve is not None and (approve.outcome, approve.by, approve.timed_out) == (
        "approved",
        "timeout",
        True,
    )
    reviewed = apply_review(invoice_envelope, held, approve)
    assert reviewed["result"] == invoice_envelope["result"] and reviewed["review"]["timed_out"] is True
    reject = timeout_decision("reject", AT)
    assert reject is not None and reject.outcome == "rejected"
    with pytest.raises(ValueError, match="on_timeout"):
        timeout_decision("later", AT)


def test_a_decision_is_checked_and_travels():
    with pytest.raises(ValueError, match="timezone-aware"):
        Decision("approved", "li", datetime(2026, 12, 7))
    with pytest.raises(ValueError, match="outcome"):
        Decision("maybe", "li", AT)
    with pytest.raises(ValueError, match="who"):
        Decision("approved", "", AT)
    values = {"total": "1.00"}
    decision = Decision("approved", "li", AT, values)
    values["total"] = "2.00"
    assert decision.values == {"total": "1.00"}  # its own copy
    assert pickle.loads(pickle.dumps(decision)) == decision == copy.deepcopy(decision)
