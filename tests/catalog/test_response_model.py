"""The response model's types (``catalog/response_model.py``): how a ``Field``'s ``when`` condition
names request parameters and decides whether the field is returned, and dotted field lookup."""

from __future__ import annotations

import dataclasses

import pytest

from airflow_provider_hwocr.catalog.response_model import Field, ResponseModel
from airflow_provider_hwocr.catalog.responses import RESPONSES


def test_a_field_without_condition_is_always_returned():
    field = Field("words", "str")
    assert field.flags == ()
    assert field.applies({}, {}, {}) is True
    assert (field.required, field.off, field.fields, field.notes) == (True, "absent", (), ())


def test_flags_name_the_request_parameters_of_every_term_kind():
    field = Field("x", "str", when="return_text_location and side=front or type_list~passport")
    assert field.flags == ("return_text_location", "side", "type_list")


def test_sibling_terms_name_no_request_parameter():
    assert Field("x", "str", when="@type=passport and kv").flags == ("kv",)
    assert Field("x", "str", when="@side=back").flags == ()


@pytest.mark.parametrize(
    ("body", "defaults", "expected"),
    [
        ({"kv": True}, {}, True),
        ({"kv": False}, {"kv": True}, False),
        ({}, {"kv": True}, True),  # an omitted flag takes its catalog default
        ({}, {"kv": None}, False),
        ({"kv": "true"}, {}, False),  # only the Boolean true counts
    ],
    ids=["on", "off-beats-default", "default-on", "default-none", "string-true"],
)
def test_a_flag_term_holds_when_the_flag_is_true(body, defaults, expected):
    assert Field("kv_result", "object", when="kv").applies(body, defaults, {}) is expected


def test_an_equality_term_compares_the_parameter_value():
    field = Field("machine_code1", "str", when="side=back")
    assert field.applies({"side": "back"}, {}, {})
    assert not field.applies({"side": "front"}, {}, {})
    assert field.applies({}, {"side": "back"}, {})
    assert not field.applies({}, {}, {})


def test_a_contains_term_looks_inside_a_list_parameter():
    field = Field("passport", "object", when="type_list~passport")
    assert field.applies({"type_list": ["bankcard", "passport"]}, {}, {})
    assert field.applies({"type_list": ("passport",)}, {}, {})
    assert not field.applies({"type_list": ["bankcard"]}, {}, {})
    assert not field.applies({"type_list": "passport"}, {}, {})  # a string is not a list
    assert field.applies({}, {"type_list": ["passport"]}, {})


def test_a_sibling_term_reads_the_answer_object():
    field = Field("nationality", "str", when="@type=passport")
    assert field.applies({}, {}, {"type": "passport"})
    assert not field.applies({}, {}, {"type": "id_card"})
    assert not field.applies({}, {}, {})


def test_or_binds_looser_than_and():
    field = Field("x", "str", when="a and b or c")
    assert field.applies({"a": True, "b": True}, {}, {})
    assert field.applies({"c": True}, {}, {})
    assert not field.applies({"a": True}, {}, {})
    assert not field.applies({"b": True}, {}, {})
    assert field.applies({"a": True, "b": False, "c": True}, {}, {})


def test_dotted_path_finds_nested_fields():
    inner = Field("char_list", "list[object]", when="character_mode", fields=(Field("char", "str"),))
    block = Field("words_block_list", "list[object]", fields=(Field("words", "str"), inner))
    model = ResponseModel(kind="object", fields=(Field("words_block_count", "int"), block))
    assert model.field("words_block_count").type == "int"
    assert model.field("words_block_list") is block
    assert model.field("words_block_list.char_list") is inner
    assert model.field("words_block_list.char_list.char").type == "str"
    assert model.notes == ()


@pytest.mark.parametrize("path", ["missing", "words_block_list.missing", "words_block_count.words", ""])
def test_an_unknown_path_is_a_key_error_naming_it(path):
    model = ResponseModel(
        kind="object",
        fields=(Field("words_block_count", "int"), Field("words_block_list", "list[object]")),
    )
    with pytest.raises(KeyError) as info:
        model.field(path)
    assert info.value.args == (path,)


def test_the_catalog_models_are_made_of_these_types():
    general = RESPONSES["general-text"]
    assert isinstance(general, ResponseModel) and general.kind == "object"
    located = general.field("words_block_list.char_list")
    assert isinstance(located, Field) and located.flags == ("character_mode",)
    assert located.applies({"character_mode": True}, {}, {}) and not located.applies({}, {}, {})


def test_fields_and_models_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Field("a", "str").when = "kv"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ResponseModel(kind="list", fields=()).kind = "object"  # type: ignore[misc]


# --- what every answer shares: success code, error fields, per-document status ---------------


def test_the_per_document_status_is_where_the_response_model_puts_it():
    from airflow_provider_hwocr.catalog.response_model import (
        DOCUMENT_STATUS_FIELD,
        ERROR_CODE_FIELD,
        ERROR_MSG_FIELD,
    )

    with_status = [
        slug
        for slug, model in RESPONSES.items()
        if model.kind == "list"
        and any(
            f.name == DOCUMENT_STATUS_FIELD
            and {g.name for g in f.fields} == {ERROR_CODE_FIELD, ERROR_MSG_FIELD}
            for f in model.fields
        )
    ]
    assert with_status == ["auto-classification"]


def test_document_statuses_read_each_items_status():
    from airflow_provider_hwocr.catalog.response_model import SUCCESS_CODE, document_statuses

    result = [
        {"type": "id_card", "status": {"error_code": SUCCESS_CODE, "error_msg": "Succeeded."}},
        {"type": "passport", "status": {"error_code": "AIS.0104", "error_msg": "poor quality"}},
        {"type": "vat_invoice", "status": {}},
    ]
    assert document_statuses(result) == (
        {"type": "id_card", "error_code": SUCCESS_CODE, "error_msg": "Succeeded.", "ok": True},
        {"type": "passport", "error_code": "AIS.0104", "error_msg": "poor quality", "ok": False},
        {"type": "vat_invoice", "error_code": SUCCESS_CODE, "error_msg": None, "ok": True},
    )
    assert document_statuses([]) is None
    assert document_statuses({"status": {}}) is None
    assert document_statuses([{"status": {}}, {"type": "x"}]) is None  # not every item has one


def test_error_in_success_tells_an_error_report_from_an_answer():
    from airflow_provider_hwocr.catalog.response_model import error_in_success

    assert error_in_success({"error_code": "AIS.0105", "error_msg": "Recognition failed."})
    assert error_in_success({"result": {"error_code": "AIS.0105", "error_msg": "failed"}})
    assert not error_in_success({"error_code": "AIS.0000", "error_msg": "Succeeded."})
    assert not error_in_success({"error_code": "AIS.0105", "result": {"words": "x"}})
    assert not error_in_success({"result": {"error_code": "AIS.0105", "words": "x"}})
