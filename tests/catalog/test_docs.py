"""The docs' facts (``catalog/docs.py``): the README table lists all 52 APIs with their state and
regions, and each API's facts come out as JSON-able data for a page of its own."""

from __future__ import annotations

import json

import pytest

from airflow_provider_hwocr.catalog import APIS, get_api
from airflow_provider_hwocr.catalog.docs import (
    TABLE_BEGIN,
    TABLE_END,
    api_facts,
    operators_block,
    operators_table,
)


def test_the_table_has_one_row_per_api_with_state_and_regions():
    rows = operators_table().splitlines()[2:]
    assert len(rows) == len(APIS) == 52
    by_slug = {row.split("|")[2].strip().strip("`"): row for row in rows}
    assert "retired 2025-12-31" in by_slug["custom-template"] and "— (refused)" in by_slug["custom-template"]
    assert "removed 2025-11-04" in by_slug["id-document"]
    assert "sales stopped 2025-07-14" in by_slug["invoice-verification"]
    assert "CN: cn-east-3, cn-north-4; Intl: ap-southeast-1" in by_slug["general-text"]
    assert "none listed (warned, not refused)" in by_slug["hk-id-card"]
    assert (
        "`HuaweiOcrVatInvoiceOperator`" in by_slug["vat-invoice"]
        and "增值税发票识别" in by_slug["vat-invoice"]
    )
    assert operators_block().startswith(TABLE_BEGIN) and operators_block().endswith(TABLE_END)


@pytest.mark.parametrize("api", APIS, ids=[a.slug for a in APIS])
def test_the_facts_of_every_api_are_json_data(api):
    facts = api_facts(api)
    assert json.loads(json.dumps(facts, ensure_ascii=False)) == facts
    assert facts["slug"] == api.slug and facts["operator"] == (api.operator_name if api.live else None)
    assert [p["name"] for p in facts["parameters"]] == list(api.param_names)
    assert (
        facts["regions"]["cn"] == list(api.endpoints.cn)
        and facts["lifecycle"]["state"] == api.lifecycle.state
    )
    assert (facts["limits"] is None) == (api.image_field is None)


def test_the_facts_carry_the_response_fields_resolved_from_the_shapes():
    facts = api_facts(get_api("general-text"))
    blocks = next(f for f in facts["result"]["fields"] if f["name"] == "words_block_list")
    assert blocks["shape"] == "GeneralTextWordsBlockList"
    location = next(f for f in blocks["fields"] if f["name"] == "location")
    assert (location["type"], location["shape"]) == ("points", "Quad")
    chars = next(f for f in blocks["fields"] if f["name"] == "char_list")
    assert chars["when"] == "character_mode"
    invoice = api_facts(get_api("invoice-verification"))
    assert invoice["image_field"] is None and invoice["parameters"][0]["required"] is True
    assert invoice["lifecycle"]["events"][0]["date"] == "2025-07-14"
