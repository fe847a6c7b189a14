"""Answers fitted to the response model (``emulator/shape.py``): fields whose flag is off left out,
documented fields nothing was read for filled empty, numbers turned to strings where the docs say String;
a card asked for one side answers that side's fields.
"""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.catalog.response_model import Field
from airflow_provider_hwocr.catalog.responses import check
from airflow_provider_hwocr.emulator import shape
from tests.helpers.b_images import b64, render
from tests.helpers.b_service import service


def _read() -> dict:
    """What a builder read: one block with its characters, and a Markdown text."""
    block = {"words": "Hi", "confidence": 0.9, "location": [[0, 0], [9, 0], [9, 9], [0, 9]], "char_list": []}
    return {"result": {"words_block_list": [block], "markdown_result": "Hi"}}


def test_fields_whose_flag_is_off_are_left_out_and_missing_ones_filled_empty():
    body = {"image": "x"}
    answer = shape.fit("general-text", body, _read(), (50, 20))
    result = answer["result"]
    assert "markdown_result" not in result  # return_markdown_result is off by default
    assert "char_list" not in result["words_block_list"][0]  # so is character_mode
    assert (result["direction"], result["words_block_count"]) == (0.0, 0)
    assert check("general-text", body, answer) == []
    flags = {"image": "x", "return_markdown_result": True, "character_mode": True}
    kept = shape.fit("general-text", flags, _read(), None)["result"]
    assert kept["markdown_result"] == "Hi" and kept["words_block_list"][0]["char_list"] == []


def test_empty_values_and_strings_follow_the_model():
    assert shape.empty(Field("where", "points"), {}, {}, (50, 20)) == [[0, 0], [49, 0], [49, 19], [0, 19]]
    assert shape.empty(Field("side", "str", allowed=("front", "back")), {}, {}, None) == "front"
    assert [shape.empty(Field("n", kind), {}, {}, None) for kind in ("int", "float", "bool", "list[str]")] == [
        0, 0.0, False, [],
    ]  # fmt: skip
    answer = shape.fit("vietnam-id-card", {"image": "x"}, {"result": {"number": 4509}}, (300, 200))
    assert answer["result"]["number"] == "4509"  # documented as String
    assert answer["result"]["side"] == "front"  # the first documented value
    assert "portrait_image" not in answer["result"]  # return_portrait_image is off
    assert check("vietnam-id-card", {"image": "x"}, answer) == []


def test_an_answer_made_from_the_model_has_every_field_once():
    from airflow_provider_hwocr.catalog import APIS
    from airflow_provider_hwocr.catalog.responses import check, response_model
    from airflow_provider_hwocr.emulator.shape import model_example

    for api in APIS:
        answer = model_example(api.slug)
        model = response_model(api.slug)
        item = answer["result"][0] if model.kind == "list" else answer["result"]
        if model.shape is not None:  # (custom-template's result is a free object)
            assert set(item) == {f.name for f in model.fields}, api.slug
        assert [p for p in check(api.slug, {}, answer) if "not a documented" in p or " is not " in p] == []
    plate = model_example("license-plate")["result"]
    assert len(plate) == 1 and plate[0]["plate_color"] == "blue"  # the first documented value
    assert model_example("custom-template") == {
        "result": {"field": "<value>"},
        "template_id": "<template_id>",
    }


# --- a card asked for one side: that side's fields (fit_side) ------------------------------------

CARD = b64(render(["姓名 张三"], size=(400, 250), text_size=20))
FRONT_ONLY = {"name", "sex", "birth", "ethnicity", "address", "number"}
BACK_ONLY = {"issue", "valid_from", "valid_to"}


@pytest.mark.parametrize("mode", ["documented", "computed"])
def test_the_back_of_an_id_card_has_its_issuing_authority_and_validity_no_portrait(mode):
    with service(results=mode) as s:
        asked = {
            "image": CARD,
            "side": "back",
            "return_portrait_image": True,
            "return_portrait_location": True,
        }
        back = s.ocr("id-card", asked).json()["result"]
        assert BACK_ONLY <= set(back) and not FRONT_ONLY & set(back)
        assert back["portrait_image"] == "" and back["portrait_location"] == []  # the SDK: empty on the back
        front = s.ocr("id-card", {**asked, "side": "front"}).json()["result"]
        assert FRONT_ONLY <= set(front) and not BACK_ONLY & set(front)
        assert front["portrait_image"] not in ("", None)
        both = s.ocr("id-card", {"image": CARD, "side": "double_side"}).json()["result"]
        assert {"front", "back"} <= set(both)  # unchanged


def test_without_a_side_or_the_portrait_flag_nothing_is_made_up():
    with service(results="computed") as s:
        back = s.ocr("id-card", {"image": CARD, "side": "back"}).json()["result"]
        assert "portrait_image" not in back and "portrait_location" not in back
        detected = s.ocr("id-card", {"image": CARD}).json()["result"]
        assert FRONT_ONLY <= set(detected)  # side omitted: the service detects it; the emulator says front


def test_a_licence_asked_for_its_back_answers_its_back():
    with service() as s:
        back = s.ocr("driver-license", {"image": CARD, "side": "back"}).json()["result"]
        assert {"record", "file_number"} <= set(back) and not {"birth", "class", "valid_to"} & set(back)
