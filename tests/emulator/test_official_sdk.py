"""The vendor's official Python SDK against the emulator: proof that the emulator speaks the wire protocol.

``huaweicloudsdkocr``'s ``OcrClient`` signs, sends and parses exactly as it
does against the real service; here it only gets a plain-http endpoint. It
must succeed on every API it has a method for, with a real rendered image,
and raise the documented errors (with their ``error_code``) for a bad secret
key and for bad bodies. The SDK is a test-only dependency.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ServerResponseException
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkcore.utils.http_utils import sanitize_for_serialization
from huaweicloudsdkocr import v1 as sdk
from huaweicloudsdkocr.v1 import GeneralTextRequestBody, OcrClient, RecognizeGeneralTextRequest
from PIL import Image, ImageDraw

from airflow_provider_hwocr.catalog import APIS, LIVE_APIS, get_api
from airflow_provider_hwocr.catalog.responses import check
from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator, example_response, samples
from tests.helpers.b_images import font as _font
from tests.helpers.b_signed import PNG_B64
from tests.helpers.constants import AK, PROJECT_ID, REGION, SECURITY_TOKEN, SK, TEMP_AK, TEMP_SK

TEXT_APIS = ("general-text", "handwriting", "web-image", "general-table", "smart-document-recognizer")
SDK_APIS = [api for api in APIS if api.sdk_method]
INVOICE = {"code": "011002100111", "number": "12345678", "issue_date": "2024-05-20", "check_code": "123456"}
#: Fields the reference pages document and the SDK's models lack (the SDK drops them when parsing).
NOT_IN_SDK = {"passport": {"machine_code", "machine_code2"}, "auto-classification": {"confidence"}}


def _document() -> bytes:
    """A small receipt-like PNG with clear text, accepted by every API's limits."""
    image = Image.new("RGB", (640, 260), "white")
    draw = ImageDraw.Draw(image)
    font = _font(34)
    for i, line in enumerate(("INVOICE 2024", "Coffee    3    9.00", "TOTAL 9.00")):
        draw.text((24, 20 + 75 * i), line, font=font, fill="black")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


IMAGE_B64 = base64.b64encode(_document()).decode("ascii")


@pytest.fixture(scope="module")
def service() -> Iterator[OcrEmulator]:
    """An emulator of its own that computes answers from the image (Tesseract when installed)."""
    config = EmulatorConfig(credentials={AK: SK}, project_id=PROJECT_ID, region=REGION)
    with OcrEmulator(config) as emulator:
        yield emulator


@pytest.fixture
def emu(service: OcrEmulator) -> OcrEmulator:
    service.reset()
    return service


def client(emulator: OcrEmulator, sk: str = SK) -> sdk.OcrClient:
    return (
        sdk.OcrClient.new_builder()
        .with_credentials(BasicCredentials(AK, sk, PROJECT_ID))
        .with_endpoints([emulator.url])
        .build()
    )


def _sdk_classes(method: str) -> tuple[type, type]:
    """The SDK's request class and body class of ``OcrClient.<method>``."""
    stem = "".join(part.capitalize() for part in method.split("_"))
    request_cls = getattr(sdk, f"{stem}Request")
    body_cls = getattr(sdk, request_cls.openapi_types["body"])
    return request_cls, body_cls


def _request(slug: str, **body_fields):
    api = get_api(slug)
    request_cls, body_cls = _sdk_classes(api.sdk_method)
    return request_cls(body=body_cls(**body_fields))


def test_sdk_has_a_method_for_every_catalog_api():
    """The catalog names the SDK method of each API, and each named method exists."""
    assert [a.slug for a in APIS if not a.sdk_method] == []
    for api in APIS:
        assert callable(getattr(sdk.OcrClient, api.sdk_method)), api.sdk_method
        _sdk_classes(api.sdk_method)


def _fields(api) -> dict:
    return {api.image_field: IMAGE_B64} if api.image_field else dict(INVOICE)


def _without(value, names: set[str]):
    if isinstance(value, list):
        return [_without(v, names) for v in value]
    return {k: v for k, v in value.items() if k not in names}


def _sent(value):
    """What the SDK's models read, under the JSON names, without the ``None`` of fields not sent."""
    from decimal import Decimal

    if isinstance(value, list):
        return [_sent(v) for v in value]
    if isinstance(value, dict):
        return {k: _sent(v) for k, v in value.items() if v is not None}
    return float(value) if isinstance(value, Decimal) else value


@pytest.mark.parametrize("api", LIVE_APIS, ids=[a.slug for a in LIVE_APIS])
def test_official_sdk_succeeds_on_every_live_api(emu, api):
    """A 200 the SDK parses into its own models, with the documented shape: flags off and on."""
    flags = [p.name for p in api.params if p.kind == "bool"]
    for flag_value in (False, True):
        emu.reset()
        body = {**_fields(api), **{name: flag_value for name in flags}}
        response = getattr(client(emu), api.sdk_method)(_request(api.slug, **body))
        assert response.status_code == 200
        (call,) = emu.calls(api.slug)
        assert (call.status, call.auth_mode, call.headers["x-project-id"]) == (200, "aksk", PROJECT_ID)
        assert call.body == body
        raw = emu_answer(emu, api.slug, body)
        assert check(api.slug, body, raw) == []
        # every field the emulator sent is one the SDK's models know, with a type they read
        parsed = _sent(sanitize_for_serialization(response.result))
        assert parsed == _without(raw["result"], NOT_IN_SDK.get(api.slug, set())), api.slug


def emu_answer(emulator: OcrEmulator, slug: str, body: dict) -> dict:
    """The answer the emulator sent for ``body`` (rebuilt the same way, without a second billed call)."""
    from airflow_provider_hwocr.emulator import results, validation

    checked = validation.validate(get_api(slug), body, emulator.config)
    return results.build(slug, body, checked, emulator.reader)[0]


@pytest.mark.parametrize("api", [a for a in APIS if not a.live], ids=[a.slug for a in APIS if not a.live])
def test_a_withdrawn_api_is_answered_as_the_service_does(emu, api):
    with pytest.raises(ClientRequestException) as info:
        getattr(client(emu), api.sdk_method)(_request(api.slug, **_fields(api)))
    assert (info.value.status_code, info.value.error_code) == (404, "APIG.0101")
    emu.config.serve_retired = {api.slug}  # an account the vendor still serves
    body = {**_fields(api), **({"template_id": "t1"} if api.slug == "custom-template" else {})}
    assert getattr(client(emu), api.sdk_method)(_request(api.slug, **body)).status_code == 200


@pytest.mark.parametrize("api", [a for a in LIVE_APIS if a.slug in TEXT_APIS], ids=list(TEXT_APIS))
def test_text_is_read_from_the_image_and_parsed_by_the_sdk(emu, api):
    response = getattr(client(emu), api.sdk_method)(_request(api.slug, **_fields(api)))
    text = _text_of(api.slug, response.result)
    assert text.strip()
    if emu.reader.real:
        assert "INVOICE" in text and "TOTAL" in text


def _text_of(slug: str, result) -> str:
    if slug == "general-table":
        return " ".join(b.words for region in result.words_region_list for b in region.words_block_list)
    if slug == "smart-document-recognizer":
        return " ".join(b.words for page in result for b in page.ocr_result.words_block_list)
    assert result.words_block_count == len(result.words_block_list)
    return " ".join(b.words for b in result.words_block_list)


def test_sdk_parses_locations_and_confidences(emu):
    response = client(emu).recognize_general_text(
        _request("general-text", image=IMAGE_B64, character_mode=True, return_markdown_result=True)
    )
    blocks = response.result.words_block_list
    assert blocks
    for block in blocks:
        assert len(block.location) == 4 and all(0 <= x < 640 and 0 <= y < 260 for x, y in block.location)
        assert 0 <= block.confidence <= 1
        assert "".join(c.char for c in block.char_list) == block.words.replace(" ", "")
    assert response.result.markdown_result


# --- documents: one page per call ---------------------------------------------------

PDF_B64 = base64.b64encode(samples.invoice_pdf().data).decode("ascii")
OFD_SAMPLE = samples.vat_invoice_ofd()


def test_sdk_reads_each_page_of_a_pdf(emu):
    """pdf_page_number through the SDK: each page's own words, parsed into the SDK's model."""
    own = {1: "Acme", 2: "Widgets", 3: "Bolts"}
    for page, word in own.items():
        response = client(emu).recognize_general_text(
            _request("general-text", image=PDF_B64, pdf_page_number=page)
        )
        text = _text_of("general-text", response.result)
        if emu.reader.real:
            assert word in text and f"Page {page} of 3" in text
            assert not {w for p, w in own.items() if p != page} & set(text.split())
    assert emu.stats()["billable"] == 3


def test_sdk_gets_ais_0101_for_a_page_past_the_end_and_it_is_not_billed(emu):
    error = _raised(lambda: client(emu).recognize_general_text(
        _request("general-text", image=PDF_B64, pdf_page_number=4)
    ))  # fmt: skip
    assert (error.status_code, error.error_code) == (400, "AIS.0101")
    assert error.error_msg == "The input parameter is invalid."
    stats = emu.stats()
    assert (stats["total"], stats["billable"], stats["billed_units"]) == (1, 0, 0)


def test_sdk_parses_the_page_numbers_of_an_ofd_vat_invoice(emu):
    image = base64.b64encode(OFD_SAMPLE.data).decode("ascii")
    sdk_client = client(emu)
    first = sdk_client.recognize_vat_invoice(_request("vat-invoice", image=image)).result
    assert (first.total_pages, first.current_page) == ("2", "1")
    assert first.number == samples.DIGITAL_INVOICE_FIELDS["发票号码"]
    assert first.type == "fully_digitalized_special_electronic"
    second = sdk_client.recognize_vat_invoice(_request("vat-invoice", image=image, page_num=2)).result
    assert (second.total_pages, second.current_page) == ("2", "2")
    error = _raised(
        lambda: sdk_client.recognize_vat_invoice(_request("vat-invoice", image=image, page_num=3))
    )
    assert (error.status_code, error.error_code) == (400, "AIS.0101")
    assert emu.stats()["apis"]["vat-invoice"]["billable"] == 2


def test_sdk_gets_ais_0102_for_an_ofd_where_the_api_takes_none(emu):
    image = base64.b64encode(OFD_SAMPLE.data).decode("ascii")
    error = _raised(lambda: client(emu).recognize_business_license(_request("business-license", image=image)))
    assert (error.status_code, error.error_code) == (400, "AIS.0102")


# --- credentials: permanent, temporary, project id looked up -----------------------


def _sdk_client(emulator: OcrEmulator, credentials):
    return (
        OcrClient.new_builder()
        .with_credentials(credentials)
        .with_region(Region(REGION, emulator.url))
        .build()
    )


def test_official_sdk_client_permanent_and_temporary_keys(emulator):
    request = RecognizeGeneralTextRequest(body=GeneralTextRequestBody(image=PNG_B64, detect_direction=True))
    for credentials in (
        BasicCredentials(AK, SK, PROJECT_ID),
        BasicCredentials(TEMP_AK, TEMP_SK, PROJECT_ID).with_security_token(SECURITY_TOKEN),
        # No project id: the SDK looks it up with GET /v3/projects?name=<region>.
        BasicCredentials(AK, SK).with_iam_endpoint(emulator.url),
    ):
        result = _sdk_client(emulator, credentials).recognize_general_text(request).result
        assert (
            result.words_block_list[0].words
            == example_response("general-text")["result"]["words_block_list"][0]["words"]
        )
    assert emulator.count("general-text", 200) == 3


# --- documented errors, as the SDK raises them ---------------------------------------


def _raised(call) -> ClientRequestException:
    with pytest.raises(ClientRequestException) as caught:
        call()
    return caught.value


def test_bad_secret_key_is_apig_0301(emu):
    error = _raised(lambda: client(emu, sk="not-the-secret").recognize_general_text(
        _request("general-text", image=IMAGE_B64)
    ))  # fmt: skip
    assert (error.status_code, error.error_code) == (401, "APIG.0301")
    assert error.request_id
    assert emu.count("general-text", 401) == 1


@pytest.mark.parametrize(
    ("slug", "fields", "code"),
    [
        ("general-text", {"image": IMAGE_B64, "url": "https://example.invalid/a.png"}, "AIS.0101"),
        ("general-text", {"image": IMAGE_B64, "language": "xx"}, "AIS.0101"),
        ("passport", {}, "AIS.0101"),
        ("general-text", {"image": "this is not base64!"}, "AIS.0102"),
        ("thailand-id-card", {"image": base64.b64encode(b"GIF89a" + b"\0" * 40).decode()}, "AIS.0102"),
    ],
    ids=["image-and-url", "bad-language", "no-image", "bad-base64", "format-not-accepted"],
)
def test_bad_bodies_get_documented_errors(emu, slug, fields, code):
    method = getattr(client(emu), get_api(slug).sdk_method)
    error = _raised(lambda: method(_request(slug, **fields)))
    assert (error.status_code, error.error_code) == (400, code)
    assert error.error_msg


def test_not_subscribed_and_throttled(emu):
    emu.config.not_subscribed.add("passport")
    emu.config.qps_limits["general-text"] = 1
    sdk_client = client(emu)
    error = _raised(lambda: sdk_client.recognize_passport(_request("passport", image=IMAGE_B64)))
    assert (error.status_code, error.error_code) == (403, "ModelArts.4204")
    sdk_client.recognize_general_text(_request("general-text", image=IMAGE_B64))
    error = _raised(lambda: sdk_client.recognize_general_text(_request("general-text", image=IMAGE_B64)))
    assert (error.status_code, error.error_code) == (429, "APIG.0308")


def test_injected_server_errors_reach_the_sdk(emu):
    emu.config.error_503_rate = 1.0
    with pytest.raises(ServerResponseException) as caught:
        client(emu).recognize_general_text(_request("general-text", image=IMAGE_B64))
    assert (caught.value.status_code, caught.value.error_code) == (503, "ModelArts.4403")
