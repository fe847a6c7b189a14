"""What a stored result holds: the parameter digest, the summary of a result (text blocks,
documents, fields) and the envelope around it, on small results and on the emulator's own."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_hwocr import __version__
from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.runtime.envelopes import ENVELOPE_FORMAT, envelope, params_digest, summarize
from tests.helpers.client_support import BODY, SLUG, aksk_client

TEXT = get_api(SLUG)


# --- params_digest ----------------------------------------------------------------------


def test_params_digest_ignores_key_order_and_sees_every_value():
    a = params_digest({"detect_direction": True, "quick_mode": False})
    assert a == params_digest({"quick_mode": False, "detect_direction": True})
    assert a != params_digest({"detect_direction": False, "quick_mode": False})
    assert a != params_digest({"detect_direction": True})
    assert len(a) == 16 and int(a, 16) >= 0


def test_params_digest_is_the_canonical_json_hash():
    params = {"b": [1, 2], "a": "é"}
    canonical = '{"a":"\\u00e9","b":[1,2]}'
    assert params_digest(params) == hashlib.sha256(canonical.encode()).hexdigest()[:16]
    assert params_digest({}) == hashlib.sha256(b"{}").hexdigest()[:16]


# --- summarize ----------------------------------------------------------------------------


def test_summary_of_text_blocks_counts_words_length_and_low_confidence():
    result = {
        "direction": 0,
        "words_block_list": [
            {"words": "Invoice no 42", "confidence": 0.99},
            {"words": "total", "confidence": 0.5},
            {"words": "", "confidence": 0.79},
            "not a block",
        ],
    }
    assert summarize(TEXT, result) == {
        "api": SLUG,
        "blocks": 3,
        "words": 4,
        "text_length": len("Invoice no 42") + len("total"),
        "low_confidence_blocks": 2,  # below 0.8
    }


def test_summary_of_regions_and_document_fields():
    regions = {"words_region_list": [{"words": "a b"}], "type": "vat_invoice"}
    assert summarize(TEXT, regions) == {
        "api": SLUG,
        "blocks": 1,
        "words": 2,
        "text_length": 3,
        "low_confidence_blocks": 0,
        "document_type": "vat_invoice",
    }
    card = {"name": "Li Lei", "number": "", "side": "front", "address": None, "extra": {}, "sex": "M"}
    assert summarize(get_api("thailand-id-card"), card) == {
        "api": "thailand-id-card",
        "side": "front",
        "fields": 3,
    }


def test_summary_of_a_list_of_documents():
    docs = [
        {"type": "taxi_invoice", "status": {"error_code": "AIS.0000"}},
        {"type": "train_ticket", "status": {"error_code": "AIS.0104"}},
        {"type": "vat_invoice", "status": {"error_code": None}},
    ]
    summary = summarize(get_api("auto-classification"), docs)
    assert summary["items"] == 3
    assert summary["document_types"] == ["taxi_invoice", "train_ticket", "vat_invoice"]
    assert summary["documents_recognised"] == 2 and summary["documents_failed"] == 1
    assert summary["failed_documents"] == [{"type": "train_ticket", "error_code": "AIS.0104"}]
    plates = summarize(
        get_api("thailand-license-plate"), [{"plate_number": "A12345"}, {"plate_number": "B7"}]
    )
    assert plates == {"api": "thailand-license-plate", "items": 2, "plates": ["A12345", "B7"]}


@pytest.mark.parametrize("result", [None, "text", 42])
def test_summary_of_something_else_names_only_the_api(result):
    assert summarize(TEXT, result) == {"api": SLUG}


def test_summary_of_the_emulators_answer_matches_its_blocks(emulator):
    result = aksk_client(emulator).call(SLUG, BODY).result
    blocks = result["words_block_list"]
    summary = summarize(TEXT, result)
    assert summary["blocks"] == len(blocks) > 0
    assert summary["text_length"] == sum(len(b["words"]) for b in blocks)
    assert len(json.dumps(summary)) < 500  # small enough for object metadata and XCom


# --- envelope -------------------------------------------------------------------------------


def test_envelope_holds_the_result_and_where_it_came_from():
    before = datetime.now(timezone.utc).replace(microsecond=0)
    doc = envelope(
        api=TEXT,
        parameters={"detect_direction": True},
        source={"kind": "obs", "uri": "obs://src-bkt/a.png"},
        request_id="req-1",
        region="ap-southeast-1",
        result={"words_block_list": []},
        summary={"api": SLUG},
    )
    created = datetime.fromisoformat(doc.pop("created_at"))
    assert before <= created <= datetime.now(timezone.utc) + timedelta(seconds=1)
    assert doc == {
        "format": ENVELOPE_FORMAT,
        "api": SLUG,
        "parameters": {"detect_direction": True},
        "source": {"kind": "obs", "uri": "obs://src-bkt/a.png"},
        "region": "ap-southeast-1",
        "request_id": "req-1",
        "provider_version": __version__,
        "summary": {"api": SLUG},
        "result": {"words_block_list": []},
    }
    json.dumps(doc)  # stored as JSON
