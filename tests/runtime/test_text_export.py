"""Plain text out of OCR results (``runtime/text_export.py``): every API's documented example gives
text with its metadata, the right fields are read, and ``export_text`` stores the pages in OBS."""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.catalog import APIS
from airflow_provider_hwocr.catalog.text import TEXT_LAYOUTS
from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
from airflow_provider_hwocr.runtime.store import text_key
from airflow_provider_hwocr.runtime.text_export import text_pages
from tests.helpers.c_integration import documented_result
from tests.helpers.c_integration import put_image as _put_image


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


def test_every_api_has_a_text_layout():
    assert set(TEXT_LAYOUTS) == {api.slug for api in APIS}


@pytest.mark.parametrize("api", [api.slug for api in APIS])
def test_text_of_each_documented_example(api):
    result = documented_result(api)
    pages = text_pages(api, result, source="obs://b/k.png", request_id="rid")
    assert pages, api
    for page in pages:
        assert set(page) == {"text", "metadata"}
        meta = page["metadata"]
        assert meta["api"] == api and meta["source"] == "obs://b/k.png" and meta["request_id"] == "rid"
        assert meta["pages"] == len(pages)
    assert any(p["text"].strip() for p in pages), f"{api}: no text found in the documented example"


def test_text_blocks_fields_and_items_read_the_right_values():
    text = text_pages("general-text", documented_result("general-text"))
    blocks = documented_result("general-text")["words_block_list"]
    assert text[0]["text"] == "\n".join(b["words"] for b in blocks)
    confidences = [b["confidence"] for b in blocks]
    assert text[0]["metadata"]["confidence"] == round(sum(confidences) / len(confidences), 4)

    table = text_pages("general-table", documented_result("general-table"))[0]
    assert table["text"].splitlines() == [
        "Text block 1 recognized in the text area",
        "Text block 1 recognized in the table area",
        "Text block 2 recognized in the table area",
    ]

    passport = documented_result("passport")
    (page,) = text_pages("passport", passport)
    assert f"passport_number: {passport['passport_number']}" in page["text"].splitlines()
    assert "confidence" not in page["text"]
    scores = list(passport["confidence"].values())
    assert page["metadata"]["confidence"] == round(sum(scores) / len(scores), 4)

    docs = documented_result("auto-classification")
    pages = text_pages("auto-classification", docs)
    assert len(pages) == len(docs)
    assert pages[0]["metadata"]["document_type"] == docs[0]["type"]
    assert f"number: {docs[0]['content']['number']}" in pages[0]["text"]

    plates = text_pages("thailand-license-plate", [{"plate_number": "AB 12", "confidence": 0.5}])
    assert plates[0]["text"] == "plate_number: AB 12" and plates[0]["metadata"]["confidence"] == 0.5
    assert text_key("out/a-1.general-text.json") == "out/a-1.general-text.text.json"


def test_export_text_stores_pages_next_to_the_envelope(obs, obs_bucket, emulator):
    uri = _put_image(obs, obs_bucket, "in/receipt.png")
    op = HuaweiOcrGeneralTextOperator(
        task_id="t", image=uri, output_uri=f"obs://{obs_bucket}/out/", export_text=True
    )
    ref = op.execute({})
    key = ref["uri"].split("/", 3)[3]
    envelope = obs.get_json(obs_bucket, key)
    doc = obs.get_json(obs_bucket, text_key(key))
    assert doc["format"] == "hwocr-text/1"
    (page,) = doc["pages"]
    assert page["text"] == "\n".join(b["words"] for b in envelope["result"]["words_block_list"])
    assert page["metadata"]["source"] == uri
    assert page["metadata"]["api"] == "general-text"
    assert page["metadata"]["result_uri"] == ref["uri"]
    assert page["metadata"]["request_id"] == envelope["request_id"]
    assert isinstance(page["metadata"]["confidence"], float)


def test_without_export_text_no_text_object(obs, obs_bucket, emulator):
    uri = _put_image(obs, obs_bucket, "in/receipt.png")
    ref = HuaweiOcrGeneralTextOperator(task_id="t", image=uri, output_uri=f"obs://{obs_bucket}/out/").execute(
        {}
    )
    key = ref["uri"].split("/", 3)[3]
    assert not obs.exists(obs_bucket, text_key(key))
