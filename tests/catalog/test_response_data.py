"""The response model, loaded (``catalog/response_data.py``): the same objects ``catalog.responses``
offers, and what they tell about APIs, such as which parameters make an answer large."""

from __future__ import annotations

from airflow_provider_hwocr.catalog import APIS, get_api, response_data, responses


def test_responses_offers_the_loaded_model_itself():
    assert responses.RESPONSES is response_data.RESPONSES
    assert responses.SHAPES is response_data.SHAPES
    assert responses.response_model("general-text") is response_data.RESPONSES["general-text"]
    assert set(response_data.RESPONSES) == {api.slug for api in APIS}


def test_base64_fields_say_what_they_carry():
    sdr = response_data.response_model("smart-document-recognizer")
    assert sdr.field("table_result.table_list.excel").content == "file"
    assert response_data.response_model("id-card").field("portrait_image").content == "image"
    assert response_data.response_model("general-text").field("words_block_list.words").content is None


#: The parameters that make results carry Base64 files or images, as the runtime once listed them by hand.
_LARGE = ("return_excel", "return_portrait_image", "return_adjusted_image")
#: Seal images are images too: the hand list missed them; the response model does not.
_SEAL = ("return_seal_image", "return_erased_seal_image")


def test_large_result_params_follow_the_response_model():
    for api in APIS:
        expected = [name for name in api.param_names if name in _LARGE or name in _SEAL]
        assert list(api.large_result_params) == expected, api.slug
    union = {name for api in APIS for name in api.large_result_params}
    assert union == {*_LARGE, *_SEAL}
    assert {name for api in APIS for name in api.large_result_params if name not in _SEAL} == set(_LARGE)


def test_large_result_params_leave_out_the_flag_that_gates_the_enclosing_object():
    # smart-document-recognizer's table.excel is returned "when table and return_excel": table
    # switches the table on, return_excel the file
    assert get_api("smart-document-recognizer").large_result_params == ("return_excel",)
    assert get_api("id-card").large_result_params == ("return_portrait_image", "return_adjusted_image")
    assert get_api("general-text").large_result_params == ()
