"""The documented example answers (``emulator/examples.py``): shipped in the package, sent verbatim."""

from __future__ import annotations

import os

import pytest

import airflow_provider_hwocr.emulator as pkg
from airflow_provider_hwocr.catalog import APIS
from airflow_provider_hwocr.emulator import example_response
from tests.helpers.b_service import service
from tests.helpers.b_signed import PNG_B64, REQUEST_ID, call
from tests.helpers.constants import PROJECT_ID


@pytest.mark.parametrize("api", APIS, ids=[a.slug for a in APIS])
def test_every_api_answers_its_documented_example(emulator, api):
    response = call(emulator, api.slug, {api.image_field: PNG_B64})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == example_response(api.slug)
    assert isinstance(body["result"], list if api.result_kind == "list" else dict)
    assert REQUEST_ID.match(response.headers["X-Request-Id"])
    (recorded,) = emulator.calls(api.slug)
    assert (recorded.status, recorded.error_code, recorded.auth_mode) == (200, None, "aksk")
    assert recorded.body == {api.image_field: PNG_B64}
    assert recorded.headers["x-project-id"] == PROJECT_ID


def test_example_files_ship_inside_the_package():
    folder = os.path.join(os.path.dirname(pkg.__file__), "responses")
    names = sorted(os.listdir(folder))
    assert [n for n in names if n.count(".") == 1] == sorted(f"{a.slug}.json" for a in APIS)
    # Second documented examples: the back of two cards, a non-Chinese passport.
    assert [n for n in names if n.count(".") == 2] == [
        "myanmar-id-card.back.json", "passport.general.json", "thailand-id-card.back.json",
    ]  # fmt: skip


def test_documented_mode_sends_the_examples_verbatim():
    with service(results="documented") as s:
        response = s.ocr("general-text")
        assert response.headers["X-Emulator-Ocr"] == "documented"
        assert response.json() == example_response("general-text")
