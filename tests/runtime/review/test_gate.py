"""Which fields hold a page (``runtime/review/gate.py``), on the emulator's real reading of the
sample VAT invoice: its confidences are high (a clean render), so each test lowers, removes or
asks for what it checks."""

from __future__ import annotations

from airflow_provider_hwocr.catalog.labels import LABELS
from airflow_provider_hwocr.emulator import samples
from airflow_provider_hwocr.runtime.review.gate import held_fields, is_chinese
from airflow_provider_hwocr.runtime.review.rule import ReviewRule

VAT = "vat-invoice"


def rule(below, fields=None) -> ReviewRule:
    parsed = ReviewRule.parse(below, fields, slug=VAT)
    assert parsed is not None
    return parsed


def test_a_clean_reading_flows_on(invoice_result):
    """Every printed field is read (the sample's values) with a confidence over 0.95: nothing held,
    though the answer also has fields it gives no confidence (``title``, ``total_pages``)."""
    printed = {LABELS[VAT][label]: value for label, value in samples.VAT_INVOICE_FIELDS.items()}
    assert {name: invoice_result[name] for name in printed} == printed
    assert "title" in invoice_result and "title" not in invoice_result["confidence"]
    assert held_fields(VAT, invoice_result, rule(0.95)) == []
    assert held_fields(VAT, invoice_result, rule({"total": 0.95, "*": 0.9}, ["total", "number"])) == []


def test_a_field_under_its_threshold_is_held_with_what_the_reviewer_needs(invoice_result):
    confidence = invoice_result["confidence"]["total"]
    held = held_fields(VAT, invoice_result, rule({"total": 1.0, "*": 0.5}, ["total", "number"]))
    assert len(held) == 1
    (total,) = held
    assert (total.field, total.label, total.value, total.reason) == ("total", "价税合计", "1130.00", "below")
    assert (total.confidence, total.threshold) == (confidence, 1.0)
    location = invoice_result["text_location"]["total"]
    assert total.quad == tuple(tuple(float(c) for c in point) for point in location)


def test_lowered_confidences_hold_their_fields_in_the_rules_order(invoice_result):
    invoice_result["confidence"].update(total=0.41, number=0.79, code=0.95)
    held = held_fields(VAT, invoice_result, rule({"total": 0.95, "*": 0.8}, ["number", "total", "code"]))
    assert [(h.field, h.confidence, h.threshold) for h in held] == [
        ("number", 0.79, 0.8),
        ("total", 0.41, 0.95),
    ]
    every = held_fields(VAT, invoice_result, rule(0.8))  # the float: every scored field
    assert [h.field for h in every] == ["number", "total"]  # the catalog's order


def test_a_named_field_missing_or_unscored_holds_the_page(invoice_result):
    del invoice_result["confidence"]["number"]
    invoice_result["remarks"] = ""
    held = held_fields(VAT, invoice_result, rule(0.5, ["total", "number", "remarks"]))
    assert [(h.field, h.reason, h.value, h.confidence) for h in held] == [
        ("number", "unscored", "12345678", None),
        ("remarks", "missing", None, None),
    ]
    assert held[1].label == "备注" and held[1].quad is None


def test_every_scored_field_gating_holds_for_no_absent_field_but_for_an_answer_without_confidences(
    invoice_result,
):
    assert held_fields(VAT, invoice_result, rule(0.5)) == []  # most of the 51 scored fields are absent
    del invoice_result["confidence"]  # no confidence at all: the control would be off
    held = held_fields(VAT, invoice_result, rule(0.5))
    present = [name for name in rule(0.5).gating(VAT) if invoice_result.get(name) not in (None, "", [], {})]
    assert [h.field for h in held] == present and {h.reason for h in held} == {"unscored"}
    assert {"total", "title", "total_pages"} <= set(present)


def test_labels_follow_the_documents_language(invoice_result):
    invoice_result["confidence"]["total"] = 0.1
    gate = rule({"total": 0.5})
    assert held_fields(VAT, invoice_result, gate)[0].label == "价税合计"
    assert held_fields(VAT, invoice_result, gate, language="en")[0].label == "total"
    assert held_fields(VAT, invoice_result, gate, language="zh-CN")[0].label == "价税合计"
    assert (is_chinese(VAT), is_chinese("thailand-id-card"), is_chinese("thailand-id-card", "zh")) == (
        True, False, True,
    )  # fmt: skip


def test_values_that_are_no_text_are_shown_as_json(invoice_result):
    invoice_result["supervision_seal"] = ["全国统一发票监制章", "国家税务总局"]
    invoice_result["confidence"]["supervision_seal"] = 0.3
    (held,) = held_fields(VAT, invoice_result, rule({"supervision_seal": 0.5}))
    assert held.value == '["全国统一发票监制章","国家税务总局"]'


def test_a_failed_page_holds_nothing(invoice_result):
    assert held_fields(VAT, None, rule(0.9)) == []
    assert held_fields(VAT, [invoice_result], rule(0.9)) == []
