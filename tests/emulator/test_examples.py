"""The documented example answers (``emulator/examples.py``): shipped in the package, sent verbatim;
for the APIs whose example is not shipped, one made from the response model, announced as the shape."""

from __future__ import annotations

import os

import pytest

import airflow_provider_hwocr.emulator as pkg
from airflow_provider_hwocr.catalog import APIS
from airflow_provider_hwocr.catalog.responses import check
from airflow_provider_hwocr.emulator import example_response
from airflow_provider_hwocr.emulator.examples import is_documented
from tests.helpers.b_service import SMALL_PNG, service
from tests.helpers.b_signed import PNG_B64, REQUEST_ID, call
from tests.helpers.constants import PROJECT_ID

SHIPPED = {
    "smart-document-recognizer", "id-document", "auto-id-doc-classification", "general-table", "general-text",
    "web-image", "passport", "thailand-id-card", "colombia-id-card", "cambodian-idcard", "myanmar-id-card",
    "myanmar-driver-license", "chile-id-card", "vietnam-id-card", "peru-id-card", "thailand-license-plate",
    "auto-classification", "handwriting",
}  # fmt: skip
INVOICE = {"code": "011002100111", "number": "12345678", "issue_date": "2024-05-20", "check_code": "123456"}


def _request(api) -> dict:
    if api.image_field is None:
        return dict(INVOICE)
    if api.slug == "custom-template":
        return {"image": PNG_B64, "template_id": "t1"}
    return {api.image_field: PNG_B64}


@pytest.mark.parametrize("api", APIS, ids=[a.slug for a in APIS])
def test_every_api_answers_its_documented_example(emulator, api):
    emulator.config.serve_retired = {a.slug for a in APIS if not a.live}
    response = call(emulator, api.slug, _request(api))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == example_response(api.slug)
    made_by = response.headers["X-Emulator-Ocr"]
    assert made_by == ("documented" if api.slug in SHIPPED else "shape") and is_documented(api.slug) == (
        api.slug in SHIPPED
    )
    if made_by == "shape":  # made from the model: every documented field, nothing else
        assert [p for p in check(api.slug, {}, body) if "not a documented" in p] == []
    assert isinstance(body["result"], list if api.result_kind == "list" else dict)
    assert REQUEST_ID.match(response.headers["X-Request-Id"])
    (recorded,) = emulator.calls(api.slug)
    assert (recorded.status, recorded.error_code, recorded.auth_mode) == (200, None, "aksk")
    assert recorded.body == _request(api)
    assert recorded.headers["x-project-id"] == PROJECT_ID


def test_example_files_ship_inside_the_package():
    folder = os.path.join(os.path.dirname(pkg.__file__), "responses")
    names = sorted(os.listdir(folder))
    assert [n for n in names if n.count(".") == 1] == sorted(f"{slug}.json" for slug in SHIPPED)
    # Second documented examples: the back of two cards, a non-Chinese passport.
    assert [n for n in names if n.count(".") == 2] == [
        "myanmar-id-card.back.json", "passport.general.json", "thailand-id-card.back.json",
    ]  # fmt: skip


def test_documented_mode_sends_the_examples_verbatim():
    with service(results="documented") as s:
        response = s.ocr("general-text")
        assert response.headers["X-Emulator-Ocr"] == "documented"
        assert response.json() == example_response("general-text")


def test_documented_mode_honours_type_list():
    """Documents of types outside type_list are not recognised, so not returned and not billed."""
    with service(results="documented") as s:
        everything = s.ocr("auto-classification").json()["result"]
        kinds = {item["type"] for item in everything}
        recognised = [i for i in everything if i["status"]["error_code"] == "AIS.0000"]
        assert kinds == {"quota_invoice"} and s.emu.calls()[-1].units == len(recognised) >= 1
        kept = s.ocr("auto-classification", {"image": SMALL_PNG, "type_list": ["quota_invoice", "passport"]})
        assert kept.json()["result"] == everything
        dropped = s.ocr("auto-classification", {"image": SMALL_PNG, "type_list": ["passport"]})
        assert dropped.status_code == 200 and dropped.json()["result"] == []
        assert s.emu.calls()[-1].units == 0
