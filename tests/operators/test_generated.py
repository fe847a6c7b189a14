"""The per-API operators generated from the catalog: every one end to end against the emulator with
every parameter, re-exported, documented, and strict about ``parameters=`` and ``api=``."""

from __future__ import annotations

import base64
import inspect
import json

import pytest

from airflow_provider_hwocr.catalog import LIVE_APIS, Api
from airflow_provider_hwocr.catalog.responses import response_model
from airflow_provider_hwocr.emulator.examples import example_response
from tests.helpers.d1_operators import build
from tests.helpers.images import png

#: Values of the free-text parameters (the invoice's fields) in the form the docs give.
TEXT_VALUES = {
    "code": "011002100111", "number": "12345678", "issue_date": "2026-11-20", "check_code": "123456",
    "subtotal_amount": "88.00", "char_set": "general",
}  # fmt: skip


def _sample_value(p):
    if p.kind == "bool":
        return True
    if p.kind == "int":
        return 2
    if p.kind == "str":
        return p.allowed[-1] if p.allowed else TEXT_VALUES[p.name]
    if p.kind == "str_list":
        return list(p.allowed[:2])
    if p.kind == "json_str":
        return {"Name": "Full name"}
    if p.kind == "object":
        return {"vat_invoice": {"advanced_mode": True}}
    raise AssertionError(p.kind)


def _expected_body_value(p, value):
    return json.dumps(value, ensure_ascii=False) if p.kind == "json_str" else value


def _documented_result(api: Api):
    return example_response(api.slug)["result"]


@pytest.mark.parametrize("api", LIVE_APIS, ids=[a.slug for a in LIVE_APIS])
def test_operator_end_to_end_with_every_parameter(api, emulator, ocr_conn, tmp_path):
    image = png((240, 160))
    params = {p.name: _sample_value(p) for p in api.params}
    if api.slug == "auto-classification":
        params["type_list"] = ["quota_invoice", "passport"]  # the documented example's documents are kept
    op = build(api, image=image, **params)

    result = op.execute({})

    # the XCom value is the service's `result`, unchanged
    assert result == _documented_result(api)
    assert isinstance(result, list if api.result_kind == "list" else dict)
    json.dumps(result)  # JSON-safe

    calls = emulator.calls(api.slug)
    assert len(calls) == 1 and calls[0].status == 200
    body = calls[0].body
    # the image travels in the API's documented field: `image`, or `data` for four APIs; none for one
    if api.image_field is None:
        assert {"image", "data", "url"} & set(body) == set()
    else:
        assert base64.b64decode(body[api.image_field]) == image
        assert {"image", "data", "url"} & set(body) == {api.image_field}
    for p in api.params:
        assert body[p.name] == _expected_body_value(p, params[p.name]), p.name
    assert set(body) == {api.image_field, *api.param_names} - {None}
    assert calls[0].path == f"/v2/{emulator.config.project_id}/ocr/{api.slug}"
    assert calls[0].auth_mode == "aksk"


def test_every_class_is_reexported_from_ocr_and_the_package():
    from airflow_provider_hwocr import operators
    from airflow_provider_hwocr.operators import _generated, ocr

    assert len(_generated.__all__) == len(LIVE_APIS) == 49
    for api in LIVE_APIS:
        cls = getattr(_generated, api.operator_name)
        assert getattr(ocr, api.operator_name) is cls is getattr(operators, api.operator_name)
        assert issubclass(cls, ocr.HuaweiOcrOperator)
        assert api.operator_name in ocr.__all__ and api.operator_name in operators.__all__
    assert operators.HuaweiOcrOperator is ocr.HuaweiOcrOperator


def test_docstrings_show_defaults_allowed_values_and_the_docs_notes():
    from airflow_provider_hwocr.operators import ocr

    text = inspect.getdoc(ocr.HuaweiOcrGeneralTextOperator) or ""
    assert ":param language:" in text and "``auto``" in text and "Service default: ``zh``" in text
    assert "Service default: ``false``" in text
    assert "``result.markdown_result``: only with ``return_markdown_result=true``" in text
    peru = inspect.getdoc(ocr.HuaweiOcrPeruIdCardOperator) or ""
    for note in response_model("peru-id-card").field("birth_place").notes:
        assert " ".join(note.split()) in " ".join(peru.split())
    vat = " ".join((inspect.getdoc(ocr.HuaweiOcrVatInvoiceOperator) or "").split())
    assert "增值税发票识别" in vat and "mainland table: cn-east-3, cn-north-4" in vat
    assert "JPEG, OFD, PDF, PNG, TIFF; sides 100-8,192 px" in vat and "``page_num``" in vat
    assert "``result.invoice_tag``: only with ``advanced_mode=true``" in vat
    health = " ".join((inspect.getdoc(ocr.HuaweiOcrHealthCodeOperator) or "").split())
    assert ".. deprecated::" in health and "stopped selling" in health
    smart = " ".join((inspect.getdoc(ocr.HuaweiOcrSmartDocumentRecognizerOperator) or "").split())
    assert "Shape decision: result holds one item per page" in smart
    for api in LIVE_APIS:
        doc = " ".join((inspect.getdoc(getattr(ocr, api.operator_name)) or "").split())
        assert api.summary in doc, api.slug
        for note in api.notes:
            assert " ".join(note.split()) in doc, (api.slug, note)
        if api.deprecation:
            assert api.deprecation in doc


@pytest.mark.parametrize("argument", ["parameters", "api"])
def test_generic_arguments_on_a_per_api_class_are_a_clear_error(argument):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrPassportOperator

    value = {"country_code": "GENERAL"} if argument == "parameters" else "general-text"
    with pytest.raises(
        TypeError, match=rf"HuaweiOcrPassportOperator takes the API's parameters .* not {argument}="
    ):
        HuaweiOcrPassportOperator(task_id="t", image="/x.png", **{argument: value})


def test_base_arguments_pass_through_kwargs():
    """A HuaweiOcrOperator argument reaches the base class without being named in the generated code."""
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

    sig = inspect.signature(HuaweiOcrGeneralTextOperator.__init__)
    assert "output_uri" not in sig.parameters and "kwargs" in sig.parameters
    op = HuaweiOcrGeneralTextOperator(
        task_id="t", image="/x.png", output_uri="obs://bucket/p/", language="zh"
    )
    assert (op.output_uri, op.parameters) == ("obs://bucket/p/", {"language": "zh"})
