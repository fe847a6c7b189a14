"""Request validation and bodies (``client/request.py``): bad input fails with an error naming the
problem, and no request reaches the service.

Most cases build an operator and run ``execute`` against the emulator; the
emulator's counter proves that not one call was made (so nothing was billed).
"""

from __future__ import annotations

import base64
import io
import logging

import pytest
import requests
from requests.adapters import HTTPAdapter

from airflow_provider_hwocr.catalog import APIS, REGIONS, get_api
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.request import (
    build_request_body,
    check_region,
    prepare_request,
    validate_params,
)
from airflow_provider_hwocr.operators import ocr
from tests.helpers.client_support import SLUG, aksk_client
from tests.helpers.constants import AK, PROJECT_ID, SK
from tests.helpers.images import encoded, png, png_header_only


@pytest.fixture
def to_emulator(emulator):
    """A session that carries requests for the vendor's public OCR hosts to the emulator (the Host
    header, which the signature covers, stays the public one): the client checks regions as it does
    with its default endpoint, and nothing leaves the machine."""

    class ToEmulator(HTTPAdapter):
        def send(self, request, **kwargs):
            rest = request.url.partition("://")[2]
            request.url = emulator.url + "/" + rest.partition("/")[2]
            return super().send(request, **kwargs)

    session = requests.Session()
    session.mount("https://", ToEmulator())
    yield session
    session.close()


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
        "card-side",
        ocr.HuaweiOcrVehicleLicenseOperator,
        lambda t: {"image": png((300, 200)), "side": "left"},
        "side",
        "front, back, double_side",
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
        # A PDF to an API that takes images only is rendered page by page; a page it lacks is refused.
        "pdf-page-past-the-end-to-passport",
        ocr.HuaweiOcrPassportOperator,
        lambda t: {"image": _file(t, "scan.pdf", encoded("PDF")), "pages": 3},
        "pages",
        "the document has 1 page",
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
        "below-driver-license-minimum",
        ocr.HuaweiOcrDriverLicenseOperator,
        lambda t: {"image": png((90, 300))},
        "image",
        "between 100 and 8000",
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


# --- the whole vendor surface: new kinds of body field ---------------------------------


def test_every_new_kind_of_body_field_is_checked():
    assert validate_params(
        "auto-classification", {"extended_parameters": {"vat_invoice": {"advanced_mode": "true"}}}
    ) == {"extended_parameters": {"vat_invoice": {"advanced_mode": True}}}
    with pytest.raises(HuaweiOcrValidationError) as info:
        validate_params("auto-classification", {"extended_parameters": {"vat_invoice": {"advanced": True}}})
    assert (
        info.value.parameter == "extended_parameters.vat_invoice.advanced"
        and "did you mean 'advanced_mode'" in str(info.value)
    )
    with pytest.raises(HuaweiOcrValidationError, match="'boarding_pass' is not a key"):
        validate_params("auto-classification", {"extended_parameters": {"boarding_pass": {}}})
    with pytest.raises(HuaweiOcrValidationError, match="must be a JSON object"):
        validate_params("auto-classification", {"extended_parameters": "vat_invoice"})
    assert validate_params("auto-classification", {"detect_seal": True, "pdf_page_number": 2}) == {
        "detect_seal": True,
        "pdf_page_number": 2,
    }
    assert validate_params("vat-invoice", {"page_num": "2"}) == {"page_num": 2}
    with pytest.raises(HuaweiOcrValidationError, match="at least 1"):
        validate_params("bank-receipt", {"page_num": 0})
    with pytest.raises(HuaweiOcrValidationError, match="auto, new, used"):
        validate_params("mvs-invoice", {"type": "second-hand"})


INVOICE = {"code": "011002100111", "number": "12345678", "issue_date": "2024-05-20", "check_code": "123456"}


@pytest.mark.parametrize(
    ("fields", "parameter", "text"),
    [
        ({"number": "12345678", "issue_date": "2024-05-20"}, "code", "needs code"),
        ({"code": "011002100111", "issue_date": "2024-05-20"}, "number", "needs number"),
        ({"code": "011002100111", "number": "12345678"}, "issue_date", "needs issue_date"),
        ({**INVOICE, "issue_date": "2024/05/20"}, "issue_date", "not a date YYYY-MM-DD"),
        ({**INVOICE, "issue_date": "2024-02-30"}, "issue_date", "not a date YYYY-MM-DD"),
        ({**INVOICE, "number": "No.12345678"}, "number", "documented form"),
        ({**INVOICE, "check_code": "12 3456"}, "check_code", "documented form"),
        ({**INVOICE, "subtotal_amount": 88.0}, "subtotal_amount", "must be a string"),
        ({**INVOICE, "subtotal_amount": "88,00"}, "subtotal_amount", "documented form"),
        ({**INVOICE, "code": "   "}, "code", "must not be empty"),
        ({**INVOICE, "image": "x"}, "image", "takes no image"),
    ],
    ids=["no-code", "no-number", "no-date", "date-slashes", "date-impossible", "number-prefix", "check-code-space",
         "amount-float", "amount-comma", "code-blank", "image"],
)  # fmt: skip
def test_invoice_verification_is_validated_before_a_call(fields, parameter, text, emulator, ocr_conn):
    with pytest.raises(HuaweiOcrValidationError) as info:
        ocr.HuaweiOcrOperator(task_id="t", api="invoice-verification", parameters=fields).execute({})
    assert info.value.parameter == parameter and text in str(info.value)
    assert emulator.count() == 0


def test_a_fully_digital_invoice_has_an_empty_code(emulator, ocr_conn):
    op = ocr.HuaweiOcrInvoiceVerificationOperator(
        task_id="t",
        code="",
        number="24112000000016430745",
        issue_date="2024-03-29",
        subtotal_amount="44339.62",
    )
    result = op.execute({})
    (call,) = emulator.calls("invoice-verification")
    assert call.body == {"code": "", "number": "24112000000016430745", "issue_date": "2024-03-29",
                         "subtotal_amount": "44339.62"}  # fmt: skip
    assert {"image", "data", "url"}.isdisjoint(call.body) and isinstance(result, dict)


def test_an_image_for_the_invoice_operator_is_a_type_error():
    with pytest.raises(TypeError, match="takes no image"):
        ocr.HuaweiOcrInvoiceVerificationOperator(task_id="t", image=png(), **INVOICE)


def test_prepare_request_of_an_api_without_image():
    prepared = prepare_request("invoice-verification", params=INVOICE)
    assert (prepared.body, prepared.source_kind) == (INVOICE, "fields")
    with pytest.raises(HuaweiOcrValidationError, match="takes no image"):
        prepare_request("invoice-verification", image=png(), params=INVOICE)


def test_exclusive_pair_of_custom_template(monkeypatch):
    monkeypatch.setenv("HWOCR_ALLOW_RETIRED_APIS", "custom-template")
    for params in ({}, {"template_id": "t1", "classifier_id": "c1"}):
        with pytest.raises(HuaweiOcrValidationError, match="exactly one of classifier_id and template_id"):
            prepare_request("custom-template", image=png(), params=params)
    assert (
        prepare_request("custom-template", image=png(), params={"template_id": "t1"}).body["template_id"]
        == "t1"
    )


# --- lifecycle: withdrawn APIs refused with the date, sales-stopped ones warned about -------------


@pytest.mark.parametrize(("slug", "date"), [("id-document", "2025-11-04"), ("custom-template", "2025-12-31"),
                                            ("waybill-electronic", "2025-09-04")])  # fmt: skip
def test_a_withdrawn_api_is_refused_before_any_call_with_its_date(slug, date, emulator, ocr_conn):
    with pytest.raises(HuaweiOcrValidationError) as info:
        ocr.HuaweiOcrOperator(task_id="t", api=slug, image=png()).execute({})
    assert info.value.parameter == "api" and date in str(info.value)
    assert "HWOCR_ALLOW_RETIRED_APIS=" + slug in str(info.value)  # the way around it
    assert emulator.count() == 0


def test_an_account_still_served_opts_in_explicitly(emulator, ocr_conn, monkeypatch):
    emulator.config.serve_retired = {"id-document"}  # the emulator plays an account the vendor still serves
    monkeypatch.setenv("HWOCR_ALLOW_RETIRED_APIS", "waybill-electronic, id-document")
    ocr.HuaweiOcrOperator(task_id="t", api="id-document", image=png((300, 200))).execute({})
    assert emulator.count("id-document", 200) == 1


def test_without_the_opt_in_the_emulator_answers_a_withdrawn_api_as_the_service_does(emulator):
    from airflow_provider_hwocr.client.errors import HuaweiOcrNotFoundError

    with pytest.raises(HuaweiOcrNotFoundError) as info:
        aksk_client(emulator).call("id-document", {"image": base64.b64encode(png()).decode()})
    assert info.value.error_code == "APIG.0101" and emulator.count("id-document", 200) == 0


def test_a_sales_stopped_api_is_served_and_warned_about_once(emulator, ocr_conn, caplog):
    from airflow_provider_hwocr.client import request

    request._warned.clear()
    caplog.set_level(logging.WARNING, logger="airflow_provider_hwocr.client")
    for i in range(2):
        ocr.HuaweiOcrHealthCodeOperator(task_id=f"t{i}", image=png((300, 200))).execute({})
    assert emulator.count("health-code", 200) == 2
    warnings = [r.getMessage() for r in caplog.records if "Health Code" in r.getMessage()]
    assert len(warnings) == 1 and "stopped selling" in warnings[0]


# --- regions: never refused wrongly -------------------------------------------------------------

TABLE_PAIRS = sorted(
    {(api.slug, region) for api in APIS for region in (*api.endpoints.cn, *api.endpoints.intl)}
)


def test_every_pair_of_both_tables_is_covered():
    assert len(TABLE_PAIRS) == sum(len(set(a.endpoints.cn) | set(a.endpoints.intl)) for a in APIS) >= 70
    assert ("general-text", "cn-north-4") in TABLE_PAIRS and ("colombia-id-card", "la-south-2") in TABLE_PAIRS


@pytest.mark.parametrize(("slug", "region"), TABLE_PAIRS, ids=[f"{s}@{r}" for s, r in TABLE_PAIRS])
def test_every_api_region_pair_of_the_vendor_tables_is_accepted_silently(slug, region, caplog):
    caplog.set_level(logging.WARNING)
    check_region(slug, region)
    assert not [r for r in caplog.records if slug in r.getMessage()]


@pytest.mark.parametrize("slug", ["general-text", "general-table", "web-image"])
@pytest.mark.parametrize("region", ["cn-north-4", "cn-east-3"])
def test_the_mainland_regions_of_the_text_apis_are_accepted_by_the_client(
    slug, region, emulator, to_emulator
):
    """The client with the public endpoint of the region (the check is on), its requests carried to the emulator."""
    from airflow_provider_hwocr.client import AkSkCredentials, OcrClient

    client = OcrClient(
        region=region, project_id=PROJECT_ID, credentials=AkSkCredentials(AK, SK), session=to_emulator
    )
    body = {"image": base64.b64encode(png((300, 200))).decode()}
    assert client.call(slug, body).status_code == 200
    (call,) = emulator.calls(slug)
    assert call.headers["host"] == f"ocr.{region}.myhuaweicloud.com"


def test_a_region_the_tables_do_not_list_is_refused_naming_the_ways_around_it(emulator, to_emulator):
    from airflow_provider_hwocr.client import AkSkCredentials, OcrClient

    client = OcrClient(region="ap-southeast-1", project_id=PROJECT_ID, credentials=AkSkCredentials(AK, SK),
                       session=to_emulator)  # fmt: skip
    with pytest.raises(HuaweiOcrValidationError) as info:
        client.call("general-table", {"image": base64.b64encode(png()).decode()})
    text = str(info.value)
    assert info.value.parameter == "region" and "cn-north-4" in text and "ap-southeast-3" in text
    assert "Set region=" in text and "endpoint" in text
    assert emulator.count() == 0


@pytest.mark.parametrize(
    ("slug", "region", "why"),
    [
        ("hk-id-card", "ap-southeast-1", "neither of the vendor's endpoint tables"),
        ("id-card", "cn-north-1", "older edition"),
        ("general-text", "ap-southeast-4", "a new region"),
    ],
    ids=["api-in-no-table", "older-edition", "unknown-region"],
)
def test_where_the_tables_may_be_incomplete_the_check_warns_instead(slug, region, why, caplog):
    from airflow_provider_hwocr.client import request

    request._warned.clear()
    caplog.set_level(logging.WARNING, logger="airflow_provider_hwocr.client")
    check_region(slug, region)
    check_region(slug, region)
    messages = [r.getMessage() for r in caplog.records if slug in r.getMessage()]
    assert len(messages) == 1 and why in messages[0] and "Calling anyway" in messages[0]
    assert region in REGIONS or why == "a new region"


# --- client checks from the docs ------------------------------------------------


def _cut(data: bytes) -> bytes:
    return data[: len(data) * 2 // 3]


def _whole(fmt: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), "white")
    ImageDraw.Draw(image).text((10, 10), "whole file", fill="black")
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("fmt", "api"),
    [("PNG", "general-text"), ("JPEG", "general-text"), ("BMP", "general-text"), ("GIF", "general-text"),
     ("TIFF", "general-text"), ("PDF", "general-text")],
)  # fmt: skip
def test_a_truncated_file_is_refused_with_zero_calls(fmt, api, tmp_path, emulator, ocr_conn):
    data = _whole(fmt)
    path = _file(tmp_path, f"scan.{fmt.lower()}", _cut(data))
    for image in (path, _cut(data)):  # a file and bytes
        with pytest.raises(HuaweiOcrValidationError) as info:
            ocr.HuaweiOcrOperator(task_id="t", api=api, image=image).execute({})
        assert info.value.parameter == "image"
        assert f"not a whole {fmt} file" in str(info.value) and "AIS.0102/AIS.0104" in str(info.value)
    assert emulator.count() == 0
    ocr.HuaweiOcrOperator(task_id="t", api=api, image=data).execute({})  # the whole file goes through
    assert emulator.count(api, 200) == 1


def test_a_corrupt_png_and_jpeg_are_refused_too(emulator, ocr_conn):
    png_data = bytearray(_whole("PNG"))
    png_data[12:16] = b"IDAT"  # the first chunk is no longer IHDR
    jpeg = _whole("JPEG")
    broken_jpeg = jpeg[:200] + b"\x00" * 40 + jpeg[240:]  # garbage where a marker should be
    for data, why in ((bytes(png_data), "damaged"), (broken_jpeg, "")):
        with pytest.raises(HuaweiOcrValidationError, match="not a whole") as info:
            ocr.HuaweiOcrGeneralTextOperator(task_id="t", image=data).execute({})
        assert why in str(info.value)
    assert emulator.count() == 0


def test_an_inline_obs_object_cut_short_is_refused_after_download_with_zero_calls(
    obs_conn, obs_bucket, emulator
):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    HuaweiObsHook().put_bytes(obs_bucket, "day/cut.jpg", _cut(_whole("JPEG")), content_type="image/jpeg")
    with pytest.raises(HuaweiOcrValidationError, match="not a whole JPEG file"):
        ocr.HuaweiOcrGeneralTextOperator(
            task_id="t", image=f"obs://{obs_bucket}/day/cut.jpg", image_source="inline"
        ).execute({})
    assert emulator.count() == 0


@pytest.mark.parametrize(("cls", "params"), [
    (ocr.HuaweiOcrThailandIdCardOperator, {"side": ""}),
    (ocr.HuaweiOcrVietnamIdCardOperator, {"side": ""}),
    (ocr.HuaweiOcrPassportOperator, {"country_code": ""}),
], ids=["thailand-side", "vietnam-side", "passport-country-code"])  # fmt: skip
def test_documented_empty_values_are_sent_as_they_are(cls, params, emulator, ocr_conn):
    cls(task_id="t", image=png((300, 200)), **params).execute({})
    (call,) = emulator.calls()
    assert call.status == 200 and {k: call.body[k] for k in params} == params


def test_a_proxy_that_is_not_a_url_is_blamed_on_the_proxy(emulator):
    from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError

    with pytest.raises(HuaweiOcrConfigurationError) as info:
        aksk_client(emulator, proxy="not a url")
    assert info.value.field == "proxy" and "'not a url'" in str(info.value)
    assert emulator.count() == 0
