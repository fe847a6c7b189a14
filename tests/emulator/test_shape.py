"""Answers fitted to the response model (``emulator/shape.py``): fields whose flag is off left out,
documented fields nothing was read for filled empty, numbers turned to strings where the docs say String.
"""

from __future__ import annotations

from airflow_provider_hwocr.catalog.response_model import Field
from airflow_provider_hwocr.catalog.responses import check
from airflow_provider_hwocr.emulator import shape


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
