"""Request validation and bodies (``client/request.py``): bad input fails with an error naming the
problem, and no request reaches the service.

Most cases build an operator and run ``execute`` against the emulator; the
emulator's counter proves that not one call was made (so nothing was billed).
"""

from __future__ import annotations

import base64
import logging

import pytest

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.request import build_request_body, prepare_request, validate_params
from airflow_provider_hwocr.operators import ocr
from tests.helpers.client_support import SLUG, aksk_client
from tests.helpers.images import encoded, png, png_header_only


def _file(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


CASES = [
    (
        "unknown-param",
        ocr.HuaweiOcrOperator,
        lambda t: {"api": "general-text", "image": png(), "parameters": {"languge": "zh"}},
        "languge",
        "did you mean 'language'",
    ),
    (
        "unknown-api",
        ocr.HuaweiOcrOperator,
        lambda t: {"api": "general-txt", "image": png()},
        "api",
        "general-text",
    ),
    (
        "language-not-allowed",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": png(), "language": "xx"},
        "language",
        "allowed",
    ),
    (
        "language-wrong-case",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": png(), "language": "ZH"},
        "language",
        "did you mean 'zh'",
    ),
    (
        "sdr-language-not-allowed",
        ocr.HuaweiOcrSmartDocumentRecognizerOperator,
        lambda t: {"image": png(), "language": "fr"},
        "language",
        "zh, es",
    ),
    (
        "bool-as-word",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": png(), "detect_direction": "yes"},
        "detect_direction",
        "boolean",
    ),
    (
        "bool-as-int",
        ocr.HuaweiOcrGeneralTableOperator,
        lambda t: {"image": png(), "with_borders": 1},
        "with_borders",
        "boolean",
    ),
    (
        "bool-as-list",
        ocr.HuaweiOcrHandwritingOperator,
        lambda t: {"image": png(), "quick_mode": [True]},
        "quick_mode",
        "boolean",
    ),
    (
        "page-zero",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": png(), "pdf_page_number": 0},
        "pdf_page_number",
        "at least 1",
    ),
    (
        "page-not-int",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": png(), "pdf_page_number": "two"},
        "pdf_page_number",
        "integer",
    ),
    (
        "page-bool",
        ocr.HuaweiOcrSmartDocumentRecognizerOperator,
        lambda t: {"image": png(), "pdf_page_number": True},
        "pdf_page_number",
        "integer",
    ),
    (
        "type-list-unknown",
        ocr.HuaweiOcrAutoClassificationOperator,
        lambda t: {"image": png(), "type_list": ["passport", "boarding_pass"]},
        "type_list",
        "boarding_pass",
    ),
    (
        "type-list-not-list",
        ocr.HuaweiOcrAutoClassificationOperator,
        lambda t: {"image": png(), "type_list": 5},
        "type_list",
        "list of strings",
    ),
    (
        "extract-type-item",
        ocr.HuaweiOcrWebImageOperator,
        lambda t: {"image": png(), "extract_type": ["image_size", 3]},
        "extract_type",
        "strings",
    ),
    (
        "country-code",
        ocr.HuaweiOcrPassportOperator,
        lambda t: {"image": png(), "country_code": "USA"},
        "country_code",
        "GENERAL, CHN",
    ),
    (
        "side",
        ocr.HuaweiOcrThailandIdCardOperator,
        lambda t: {"image": png(), "side": "left"},
        "side",
        "front, back",
    ),
    (
        "id-type",
        ocr.HuaweiOcrIdDocumentOperator,
        lambda t: {"image": png(), "id_type": ["XX"]},
        "id_type",
        "PP, DL, ID",
    ),
    (
        "kv-map-not-json",
        ocr.HuaweiOcrSmartDocumentRecognizerOperator,
        lambda t: {"image": png(), "kv_map": "{Name: x"},
        "kv_map",
        "not valid JSON",
    ),
    (
        "kv-map-not-object",
        ocr.HuaweiOcrSmartDocumentRecognizerOperator,
        lambda t: {"image": png(), "kv_map": "[1, 2]"},
        "kv_map",
        "JSON object",
    ),
    (
        "char-set-empty",
        ocr.HuaweiOcrHandwritingOperator,
        lambda t: {"image": png(), "char_set": "  "},
        "char_set",
        "empty",
    ),
    ("no-image", ocr.HuaweiOcrGeneralTextOperator, lambda t: {}, "image", "no image given"),
    ("empty-string", ocr.HuaweiOcrGeneralTextOperator, lambda t: {"image": ""}, "image", "empty"),
    (
        "both-sources",
        ocr.HuaweiOcrOperator,
        lambda t: {"api": "general-text", "image": png(), "parameters": {"url": "https://x.example/a.png"}},
        "url",
        "not as a parameter",
    ),
    (
        "data-field-as-param",
        ocr.HuaweiOcrOperator,
        lambda t: {"api": "smart-document-recognizer", "image": png(), "parameters": {"data": "aGVsbG8="}},
        "data",
        "not as a parameter",
    ),
    (
        "missing-file",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": str(t / "nope.png")},
        "image",
        "no file at",
    ),
    ("directory", ocr.HuaweiOcrGeneralTextOperator, lambda t: {"image": str(t)}, "image", "directory"),
    (
        "empty-file",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": _file(t, "empty.png", b"")},
        "image",
        "empty (0 bytes)",
    ),
    (
        "text-file",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": _file(t, "notes.png", b"just some text\n")},
        "image",
        "unrecognised content",
    ),
    (
        "gif-to-table",
        ocr.HuaweiOcrGeneralTableOperator,
        lambda t: {"image": encoded("GIF")},
        "image",
        "is GIF",
    ),
    (
        "pdf-to-passport",
        ocr.HuaweiOcrPassportOperator,
        lambda t: {"image": _file(t, "scan.pdf", encoded("PDF"))},
        "image",
        "is PDF",
    ),
    (
        "webp-to-chile",
        ocr.HuaweiOcrChileIdCardOperator,
        lambda t: {"image": encoded("WEBP")},
        "image",
        "is WEBP",
    ),
    ("too-small", ocr.HuaweiOcrGeneralTextOperator, lambda t: {"image": png((10, 40))}, "image", "10x40"),
    (
        "below-id-document-minimum",
        ocr.HuaweiOcrIdDocumentOperator,
        lambda t: {"image": png((90, 300))},
        "image",
        "between 100 and 8192",
    ),
    (
        "over-4096-side",
        ocr.HuaweiOcrMyanmarDriverLicenseOperator,
        lambda t: {"image": png_header_only(5000, 300)},
        "image",
        "5000x300",
    ),
    (
        "over-8000-long-side",
        ocr.HuaweiOcrAutoClassificationOperator,
        lambda t: {"image": png_header_only(8001, 100)},
        "image",
        "long side <= 8000",
    ),
    (
        "over-160m-pixels",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": png_header_only(20000, 9000)},
        "image",
        "160,000,000",
    ),
    (
        "over-10mb-base64",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": _file(t, "big.png", png_header_only(100, 100) + b"\0" * 8_000_000)},
        "image",
        "after Base64",
    ),
    (
        "data-uri",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": "data:image/png;base64,iVBORw0KGgo="},
        "image",
        "data: URIs",
    ),
    (
        "obs-uri-without-key",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": "obs://bucket"},
        "image",
        "no object key",
    ),
    (
        "obs-bad-bucket",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": "obs://Bad_Bucket/a.png"},
        "image",
        "not a valid OBS bucket",
    ),
    (
        "image-source",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": png(), "image_source": "public"},
        "image_source",
        "signed_url, authorized, inline",
    ),
    (
        "signed-url-expiry",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": png(), "signed_url_expires": 0},
        "signed_url_expires",
        "between 1 and",
    ),
    (
        "output-uri-not-obs",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": png(), "output_uri": "s3://results/"},
        "output_uri",
        "obs://bucket/key",
    ),
    ("wrong-image-type", ocr.HuaweiOcrGeneralTextOperator, lambda t: {"image": 12345}, "image", "got int"),
    (
        "ftp-url",
        ocr.HuaweiOcrGeneralTextOperator,
        lambda t: {"image": "ftp://host/a.png"},
        "image",
        "no file at",
    ),
]


@pytest.mark.parametrize(("case", "cls", "build", "parameter", "text"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_without_a_call(
    case, cls, build, parameter, text, tmp_path, emulator, ocr_conn
):
    with pytest.raises(HuaweiOcrValidationError) as info:
        op = cls(task_id=f"t_{case.replace('-', '_')}", **build(tmp_path))
        op.execute({})
    err = info.value
    assert err.parameter == parameter
    assert text in str(err)
    assert emulator.count() == 0, "a request reached the service"


def test_there_are_at_least_25_distinct_cases():
    assert len({c[0] for c in CASES}) >= 25


def test_templated_values_are_checked_at_run_time_not_parse_time(tmp_path, emulator, ocr_conn):
    # A template cannot be checked at parse time; after rendering it is.
    op = ocr.HuaweiOcrGeneralTextOperator(task_id="t", image=png(), language="{{ params.lang }}")
    op.render_template_fields({"params": {"lang": "klingon"}})
    with pytest.raises(HuaweiOcrValidationError, match="klingon"):
        op.execute({})
    assert emulator.count() == 0


def test_rendered_boolean_strings_are_accepted(tmp_path, emulator, ocr_conn):
    op = ocr.HuaweiOcrGeneralTextOperator(task_id="t", image=png(), detect_direction="{{ params.flag }}")
    op.render_template_fields({"params": {"flag": "True"}})
    op.execute({})
    assert emulator.calls()[0].body["detect_direction"] is True


def test_recognize_rejects_bad_input_without_a_call(emulator):
    client = aksk_client(emulator)
    with pytest.raises(HuaweiOcrValidationError):
        client.recognize(SLUG, image=b"definitely not an image")
    with pytest.raises(HuaweiOcrValidationError):
        client.recognize(SLUG, url="https://example.com/a.jpg", no_such_parameter=True)
    assert emulator.count() == 0


# --- prepare_request and validate_params, directly ------------------------------------------------


def test_bytes_become_base64_in_the_api_image_field():
    data = png((300, 150))
    prepared = prepare_request("smart-document-recognizer", image=data, params={"kv": True})
    assert prepared.body == {"kv": True, "data": base64.b64encode(data).decode("ascii")}
    assert (prepared.source_kind, prepared.source) == ("bytes", "<bytes>")
    assert (prepared.image_format, prepared.image_bytes, prepared.dimensions) == (
        "PNG",
        len(data),
        (300, 150),
    )
    assert build_request_body("general-text", image=data) == {"image": base64.b64encode(data).decode("ascii")}


def test_a_file_is_read_and_named_by_its_path(tmp_path):
    path = _file(tmp_path, "scan.png", png())
    prepared = prepare_request(get_api("general-text"), image=path)
    assert prepared.source_kind == "file" and prepared.source == f"file {path!r}"
    assert base64.b64decode(prepared.body["image"]) == png()


def test_a_url_is_percent_encoded_and_logged_without_its_query():
    signed = "https://bucket.example.com/scans/año 1/%41.png?X-Sig=ab cd&k=é"
    prepared = prepare_request("general-text", image=signed)
    assert prepared.body == {
        "url": "https://bucket.example.com/scans/a%C3%B1o%201/%41.png?X-Sig=ab%20cd&k=%C3%A9"
    }
    assert prepared.source_kind == "url"
    assert prepared.source == "https://bucket.example.com/scans/a%C3%B1o%201/%41.png?…"
    assert prepare_request("general-text", url="http://example.com/a.png").body == {
        "url": "http://example.com/a.png"
    }


@pytest.mark.parametrize(
    ("kwargs", "parameter", "text"),
    [
        ({"image": png(), "url": "https://example.com/a.png"}, "image", "not both"),
        ({"image": "https://example.com/a.png", "url": "https://example.com/b.png"}, "image", "not both"),
        ({"url": "ftp://example.com/a.png"}, "url", "http:// or https://"),
        ({"url": b"https://example.com/a.png"}, "url", "must be a string"),
        ({"image": "obs://bucket/a.png"}, "image", "resolved by the Airflow operators"),
        ({"image": "   "}, "image", "empty string"),
        ({}, "image", "no image given"),
        ({"image": 3.5}, "image", "got float"),
    ],
    ids=["bytes-and-url", "two-urls", "ftp-url", "url-bytes", "obs", "blank", "nothing", "float"],
)
def test_prepare_request_refuses_what_cannot_be_sent(kwargs, parameter, text):
    with pytest.raises(HuaweiOcrValidationError) as info:
        prepare_request("general-text", **kwargs)
    assert info.value.parameter == parameter and text in str(info.value)


def test_validate_params_normalises_values():
    params = validate_params(
        "general-text",
        {"detect_direction": " TRUE ", "pdf_page_number": "3", "language": None, "quick_mode": False},
    )
    assert params == {"detect_direction": True, "pdf_page_number": 3, "quick_mode": False}
    # a string is a one-item list; repeats are dropped; an empty list means "all" and is left out
    assert validate_params("auto-classification", {"type_list": "passport"}) == {"type_list": ["passport"]}
    assert validate_params("auto-classification", {"type_list": ["passport", "passport"]}) == {
        "type_list": ["passport"]
    }
    assert validate_params("auto-classification", {"type_list": []}) == {}
    kv_map = validate_params("smart-document-recognizer", {"kv_map": {"Name": "姓名"}})["kv_map"]
    assert kv_map == '{"Name": "姓名"}'
    assert validate_params("general-text", None) == {}


def test_validated_parameters_are_taken_as_they_are():
    body = prepare_request("general-text", image=png(), params={"language": "xx"}, validated=True).body
    assert body["language"] == "xx"
    with pytest.raises(HuaweiOcrValidationError):
        prepare_request("general-text", image=png(), params={"language": "xx"})


def test_combinations_without_effect_are_logged(caplog):
    caplog.set_level(logging.WARNING, logger="airflow_provider_hwocr.client")
    validate_params("general-table", {"return_char_location": True})
    validate_params("smart-document-recognizer", {"return_excel": True, "kv": True, "language": "es"})
    validate_params("general-table", {"return_char_location": True, "return_text_location": True})
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "general-table: return_char_location needs return_text_location=true to have an effect",
        "smart-document-recognizer: return_excel only has an effect with table=true",
        "smart-document-recognizer: kv only works with language='zh'",
    ]
