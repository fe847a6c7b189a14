"""``review_below`` / ``review_fields`` checked into a ReviewRule (``runtime/review/rule.py``)."""

from __future__ import annotations

import copy
import pickle

import pytest

from airflow_provider_hwocr.catalog.apis import APIS
from airflow_provider_hwocr.catalog.response_data import RESPONSES
from airflow_provider_hwocr.catalog.tables import header_table
from airflow_provider_hwocr.runtime.review.rule import ReviewRule, scored_fields

VAT = "vat-invoice"


def test_scored_fields_are_the_catalogs_confidence_columns():
    """Every API: a scored field is a top-level field with its own ``<field>_confidence`` column
    read from ``confidence.<field>``; a top-level field with such a column is scored."""
    checked = 0
    for api in APIS:
        if api.slug not in RESPONSES:
            continue
        table = header_table(api.slug)
        model = RESPONSES[api.slug]
        top = {f.name for f in model.fields} if model.kind != "list" else set()
        columns = {
            c.name.removesuffix("_confidence")
            for c in table.columns
            if c.role == "confidence" and c.source == f"confidence.{c.name.removesuffix('_confidence')}"
        }
        assert set(scored_fields(api.slug)) == columns & top, api.slug
        checked += bool(columns & top)
    assert checked > 20  # the mainland invoices, tickets, licences and the ID cards
    assert {"total", "number", "code", "issue_date"} <= set(scored_fields(VAT))
    assert "item_list" not in scored_fields(VAT) and "confidence" not in scored_fields(VAT)
    assert scored_fields("general-text") == ()  # block confidences, no field's


def test_none_is_no_review():
    assert ReviewRule.parse(None, None, slug=VAT) is None


def test_a_float_gates_every_scored_field():
    rule = ReviewRule.parse(0.9, slug=VAT)
    assert rule is not None
    assert (rule.default, rule.fields, rule.required) == (0.9, None, False)
    assert rule.gating(VAT) == scored_fields(VAT)
    assert rule.threshold("total") == rule.threshold("buyer_name") == 0.9


def test_a_dict_names_its_fields_and_a_default():
    rule = ReviewRule.parse({"total": 0.95, "*": 0.8}, ["total", "number"], slug=VAT)
    assert rule is not None
    assert rule.gating(VAT) == ("total", "number") and rule.required
    assert (rule.threshold("total"), rule.threshold("number"), rule.threshold("buyer_name")) == (
        0.95,
        0.8,
        None,
    )
    named = ReviewRule.parse({"total": 0.95, "number": 0.5}, slug=VAT)
    assert named is not None and named.fields == ("total", "number") and named.default is None
    only_default = ReviewRule.parse({"*": 0.7}, slug=VAT)
    assert only_default is not None and only_default.fields is None and only_default.threshold("code") == 0.7
    ints = ReviewRule.parse({"total": 1, "*": 0}, slug=VAT)
    assert ints is not None and ints.thresholds == {"total": 1.0} and ints.default == 0.0


@pytest.mark.parametrize(
    ("review_below", "review_fields", "parameter", "words"),
    [
        (1.5, None, "review_below", "from 0 to 1"),
        (-0.1, None, "review_below", "from 0 to 1"),
        (float("nan"), None, "review_below", "number"),
        (True, None, "review_below", "number"),
        ("0.9", None, "review_below", "number"),
        ({"total": 2}, None, "review_below", "'total'"),
        ({"totl": 0.9}, None, "review_below", "no field 'totl'"),
        ({"item_list": 0.9}, None, "review_below", "no confidence for 'item_list'"),
        ({}, None, "review_below", "empty"),
        (None, ["total"], "review_fields", "review_below is not set"),
        (0.9, "total", "review_fields", "list"),
        (0.9, [], "review_fields", "empty"),
        (0.9, ["sales_mark"], "review_fields", "no confidence for 'sales_mark'"),
        ({"total": 0.9}, ["total", "number"], "review_below", "no threshold for number"),
        ({"total": 0.9, "code": 0.5}, ["total"], "review_fields", "leaves out code"),
    ],
)
def test_mistakes_name_the_argument(review_below, review_fields, parameter, words):
    with pytest.raises(ValueError, match=parameter) as caught:
        ReviewRule.parse(review_below, review_fields, slug=VAT)
    assert str(caught.value).startswith(f"{parameter}:")
    assert words in str(caught.value)


def test_an_api_that_scores_no_field_cannot_be_gated():
    with pytest.raises(ValueError, match="review_below: general-text returns no per-field confidence"):
        ReviewRule.parse(0.8, slug="general-text")
    with pytest.raises(KeyError):
        ReviewRule.parse(0.8, slug="no-such-api")


def test_a_rule_travels_with_an_operator():
    """Airflow copies operators (deepcopy) and may pickle them: the rule survives both."""
    rule = ReviewRule.parse({"total": 0.95, "*": 0.8}, ["total", "number"], slug=VAT)
    assert copy.deepcopy(rule) == rule == pickle.loads(pickle.dumps(rule))
