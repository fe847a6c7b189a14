"""The OCR emulator, checked from outside with raw HTTP and the vendor's official signer.

Requests are signed here with ``huaweicloudsdkcore``'s Signer, never with the
emulator's or the provider client's code, so the emulator's verification is
held against the vendor's own implementation.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from PIL import Image

from airflow_provider_hwocr.catalog import APIS, ERROR_CODES, get_api
from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator, example_response
from airflow_provider_hwocr.emulator import auth as emu_auth
from airflow_provider_hwocr.emulator.images import image_size, sniff_format
from tests.helpers.constants import (
    AK,
    IAM_DOMAIN,
    IAM_PASSWORD,
    IAM_USER,
    PROJECT_ID,
    REGION,
    SECURITY_TOKEN,
    SK,
    TEMP_AK,
    TEMP_SK,
)

SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


# --- helpers --------------------------------------------------------------------


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (200, 120), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, "white").save(buf, format=fmt)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


PNG_B64 = b64(image_bytes())


def png_header(width: int, height: int) -> bytes:
    """A PNG that only has its header: enough for size checks, cheap for huge sizes."""
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))


def ocr_path(slug: str, project_id: str = PROJECT_ID) -> str:
    return f"/v2/{project_id}/ocr/{slug}"


def sign(
    emulator: OcrEmulator | str,
    path: str,
    body: bytes = b"",
    *,
    method: str = "POST",
    query: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    ak: str = AK,
    sk: str = SK,
    sdk_date: str | None = None,
) -> SdkRequest:
    """A request signed by the official SDK signer, as the SDK would send it.

    ``emulator`` may also be the base URL of an emulator.
    """
    base_url = emulator if isinstance(emulator, str) else emulator.url
    all_headers = {"Content-Type": "application/json;charset=UTF-8", "X-Project-Id": PROJECT_ID}
    all_headers.update(headers or {})
    if sdk_date is not None:
        all_headers["X-Sdk-Date"] = sdk_date
    request = SdkRequest(
        method=method,
        schema="http",
        host=urlsplit(base_url).netloc,
        resource_path=path,
        query_params=list(query or []),
        header_params=all_headers,
        body=body,
    )
    return Signer(BasicCredentials(ak, sk)).sign(request)


def send(request: SdkRequest) -> requests.Response:
    return requests.request(
        request.method, request.url, headers=request.header_params, data=request.body or None, timeout=10
    )


def call(emulator: OcrEmulator, slug: str, body: dict | bytes, **kwargs) -> requests.Response:
    """Sign and send an OCR call; ``body`` may be a dict (sent as JSON) or raw bytes."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return send(sign(emulator, kwargs.pop("path", None) or ocr_path(slug), raw, **kwargs))


def error_of(response: requests.Response) -> str:
    return response.json()["error_code"]


def sdk_date(offset_seconds: float = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=offset_seconds)).strftime(SDK_DATE_FORMAT)


def get_token(
    emulator: OcrEmulator, password: str = IAM_PASSWORD, project: str = REGION
) -> requests.Response:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": IAM_USER, "password": password, "domain": {"name": IAM_DOMAIN}}
                },
            },
            "scope": {"project": {"name": project}},
        }
    }
    return requests.post(f"{emulator.url}/v3/auth/tokens", json=body, timeout=10)


@pytest.fixture
def files_server(tmp_path):
    """Serve ``tmp_path`` over plain HTTP; yields (base url, directory)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


# --- the signing algorithm, against the vendor's signer --------------------------


def test_guide_test_vector():
    body = json.dumps({"url": "https://bucket.obs.cn-north-4.myhuaweicloud.com/a.jpg"}).encode()
    headers = {
        "content-type": "application/json;charset=UTF-8",
        "host": "ocr.cn-north-4.myhuaweicloud.com",
        "x-project-id": "0123456789abcdef0123456789abcdef",
        "x-sdk-date": "20240101T000000Z",
    }
    canonical = emu_auth.canonical_request(
        "POST",
        "/v2/0123456789abcdef0123456789abcdef/ocr/general-text",
        "",
        headers,
        tuple(sorted(headers)),
        body,
    )
    to_sign = emu_auth.string_to_sign(canonical, "20240101T000000Z")
    assert emu_auth.signature("SK_EXAMPLE", to_sign) == (
        "2e74433480b1344a872081e14af24c668215e178b5e0d6e24412c2f871b2794f"
    )


TRICKY = [
    ("/v2/p/ocr/general-text", []),
    ("/", []),
    ("/a%20b/c", [("b", "2"), ("a", "x y"), ("a", "1")]),
    ("/caf%C3%A9/x~y/", [("name", "ap-southeast-1"), ("empty", "")]),
    ("/q%2Bplus/%21bang", [("k", "~!*'();:@&=+$,/?#[]"), ("ü", "日本")]),
]


@pytest.mark.parametrize(("path", "query"), TRICKY, ids=[p for p, _ in TRICKY])
def test_canonical_request_matches_official_signer(path, query):
    """The emulator rebuilds, from the wire form, the exact text the SDK signed."""
    request = SdkRequest(
        method="POST",
        schema="https",
        host="ocr.example.com",
        resource_path=path,
        query_params=list(query),
        header_params={
            "Content-Type": "application/json",
            "X-Sdk-Date": "20240101T000000Z",
            "Host": "ocr.example.com",
        },
        body=b'{"a": 1}',
    )
    signer = Signer(BasicCredentials(AK, SK))
    names = signer._process_signed_headers(request)
    expected = signer._process_canonical_request(request, names)
    Signer.process_request_uri(request)  # what goes on the wire
    wire = urlsplit(request.uri)
    headers = {k.lower(): v for k, v in request.header_params.items()}
    ours = emu_auth.canonical_request("POST", wire.path, wire.query, headers, tuple(names), request.body)
    assert ours == expected


def test_query_encoded_differently_still_verifies():
    """``+`` for a space and unsorted keys (as requests encodes) canonicalise the same way."""
    assert emu_auth.canonical_query("b=2&a=x+y") == emu_auth.canonical_query("a=x%20y&b=2") == "a=x%20y&b=2"


# --- every API answers its example ---------------------------------------------


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


def test_v1_alias_of_auto_classification(emulator):
    response = call(emulator, "auto-classification", {"image": PNG_B64}, path="/v1.0/ocr/auto-classification")
    assert response.status_code == 200, response.text
    assert response.json() == example_response("auto-classification")
    assert emulator.calls("auto-classification")[0].path == "/v1.0/ocr/auto-classification"


def test_example_files_ship_inside_the_package():
    import airflow_provider_hwocr.emulator as pkg

    folder = os.path.join(os.path.dirname(pkg.__file__), "responses")
    names = sorted(os.listdir(folder))
    assert [n for n in names if n.count(".") == 1] == sorted(f"{a.slug}.json" for a in APIS)
    # Second documented examples: the back of two cards, a non-Chinese passport.
    assert [n for n in names if n.count(".") == 2] == [
        "myanmar-id-card.back.json", "passport.general.json", "thailand-id-card.back.json",
    ]  # fmt: skip


# --- routing, project and subscription -----------------------------------------


def test_unknown_path_is_apig_0101_before_auth(emulator):
    response = requests.post(f"{emulator.url}{ocr_path('no-such-api')}", json={}, timeout=10)
    assert (response.status_code, error_of(response)) == (404, "APIG.0101")
    assert REQUEST_ID.match(response.headers["X-Request-Id"])
    assert emulator.calls()[0].slug is None


def test_wrong_method_is_apig_0101(emulator):
    response = send(sign(emulator, ocr_path("general-text"), method="GET"))
    assert (response.status_code, error_of(response)) == (404, "APIG.0101")


def test_trailing_slash_is_not_an_api(emulator):
    response = call(emulator, "general-text", {"image": PNG_B64}, path=ocr_path("general-text") + "/")
    assert response.status_code == 404


def test_other_project_id_is_forbidden_after_auth(emulator):
    other = "f" * 32
    response = call(emulator, "general-text", {"image": PNG_B64}, path=ocr_path("general-text", other))
    assert (response.status_code, error_of(response)) == (403, "ModelArts.4203")
    # Unsigned, the same request is an auth failure first.
    unsigned = requests.post(f"{emulator.url}{ocr_path('general-text', other)}", json={}, timeout=10)
    assert unsigned.status_code == 401


def test_x_project_id_header_must_match(emulator):
    response = call(emulator, "general-text", {"image": PNG_B64}, headers={"X-Project-Id": "e" * 32})
    assert (response.status_code, error_of(response)) == (403, "ModelArts.4203")


def test_not_subscribed_api(emulator):
    emulator.config.not_subscribed.add("passport")
    response = call(emulator, "passport", {"image": PNG_B64})
    assert response.status_code == 403
    assert response.json()["error_code"] == "ModelArts.4204"
    assert response.json()["error_msg"] == "Request api error! The API passport is not subscribed."
    assert call(emulator, "general-text", {"image": PNG_B64}).status_code == 200
    emulator.reset()
    assert "passport" not in emulator.config.not_subscribed
    assert call(emulator, "passport", {"image": PNG_B64}).status_code == 200


# --- body validation -------------------------------------------------------------

BIG_PNG_SIDE = b64(png_header(9000, 20))  # passport allows at most 8192 px
TOO_MANY_PIXELS = b64(png_header(20000, 9000))  # general-text: sides fine, 180 M > 160 M pixels

VALIDATION_CASES = [
    # (id, slug, body (dict or raw bytes), expected error code)
    ("not-json", "general-text", b"{not json", "ModelArts.4105"),
    ("json-array", "general-text", b"[1, 2]", "ModelArts.4105"),
    ("empty-body", "general-text", b"", "ModelArts.4105"),
    ("no-image-no-url", "general-text", {"language": "zh"}, "AIS.0101"),
    ("image-and-url", "general-text", {"image": PNG_B64, "url": "http://127.0.0.1/a.png"}, "AIS.0101"),
    ("image-field-of-data-api", "smart-document-recognizer", {"image": PNG_B64}, "AIS.0101"),
    ("data-field-of-image-api", "general-text", {"data": PNG_B64}, "AIS.0101"),
    ("unknown-param", "general-text", {"image": PNG_B64, "detect_directions": True}, "AIS.0101"),
    ("bool-as-string", "general-text", {"image": PNG_B64, "detect_direction": "true"}, "AIS.0101"),
    ("bool-as-int", "general-text", {"image": PNG_B64, "quick_mode": 1}, "AIS.0101"),
    ("null-param", "general-text", {"image": PNG_B64, "language": None}, "AIS.0101"),
    ("int-below-minimum", "general-text", {"image": PNG_B64, "pdf_page_number": 0}, "AIS.0101"),
    ("int-as-bool", "general-text", {"image": PNG_B64, "pdf_page_number": True}, "AIS.0101"),
    ("int-as-string", "general-text", {"image": PNG_B64, "pdf_page_number": "2"}, "AIS.0101"),
    ("str-not-allowed", "general-text", {"image": PNG_B64, "language": "klingon"}, "AIS.0101"),
    ("str-list-as-str", "auto-classification", {"image": PNG_B64, "type_list": "passport"}, "AIS.0101"),
    (
        "str-list-bad-item",
        "auto-classification",
        {"image": PNG_B64, "type_list": ["passport", "x"]},
        "AIS.0101",
    ),
    ("json-str-as-object", "smart-document-recognizer", {"data": PNG_B64, "kv_map": {"a": "b"}}, "AIS.0101"),
    ("json-str-not-json", "smart-document-recognizer", {"data": PNG_B64, "kv_map": "{a: b"}, "AIS.0101"),
    ("json-str-array", "smart-document-recognizer", {"data": PNG_B64, "kv_map": "[1]"}, "AIS.0101"),
    ("free-str-empty", "handwriting", {"image": PNG_B64, "char_set": ""}, "AIS.0101"),
    ("image-not-string", "general-text", {"image": 12345}, "AIS.0101"),
    ("image-empty", "general-text", {"image": ""}, "AIS.0101"),
    ("not-base64", "general-text", {"image": "this is not base64!"}, "AIS.0102"),
    ("base64-bad-padding", "general-text", {"image": PNG_B64[:-1]}, "AIS.0102"),
    ("base64-with-newlines", "general-text", {"image": PNG_B64[:40] + "\n" + PNG_B64[40:]}, "AIS.0102"),
    ("data-uri-prefix", "general-text", {"image": "data:image/png;base64," + PNG_B64}, "AIS.0102"),
    ("not-an-image", "general-text", {"image": b64(b"just some text, not an image at all")}, "AIS.0102"),
    ("gif-to-passport", "passport", {"image": b64(image_bytes("GIF"))}, "AIS.0102"),
    ("pdf-to-passport", "passport", {"image": b64(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n")}, "AIS.0102"),
    ("png-header-damaged", "general-text", {"image": b64(b"\x89PNG\r\n\x1a\n\x00\x00")}, "AIS.0102"),
    ("side-too-small", "general-text", {"image": b64(image_bytes(size=(14, 100)))}, "AIS.0103"),
    ("id-document-min-100", "id-document", {"image": b64(image_bytes(size=(99, 200)))}, "AIS.0103"),
    ("side-too-large", "passport", {"image": BIG_PNG_SIDE}, "AIS.0103"),
    ("too-many-pixels", "general-text", {"image": TOO_MANY_PIXELS}, "AIS.0103"),
    ("short-side-too-small", "auto-classification", {"image": b64(image_bytes(size=(14, 300)))}, "AIS.0103"),
    ("long-side-too-long", "auto-classification", {"image": b64(png_header(8001, 20))}, "AIS.0103"),
    ("url-not-http", "general-text", {"url": "ftp://example.com/a.png"}, "ModelArts.4601"),
    ("url-not-a-url", "general-text", {"url": "just words"}, "ModelArts.4601"),
    ("url-file-scheme", "general-text", {"url": "file:///etc/passwd"}, "ModelArts.4601"),
]


@pytest.mark.parametrize(
    ("slug", "body", "code"), [c[1:] for c in VALIDATION_CASES], ids=[c[0] for c in VALIDATION_CASES]
)
def test_validation_errors(emulator, slug, body, code):
    response = call(emulator, slug, body)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == code
    assert response.json()["error_msg"] == ERROR_CODES[code].message
    (recorded,) = emulator.calls(slug)
    assert (recorded.status, recorded.error_code) == (400, code)
    assert emulator.stats()["billable"] == 0


VALID_CASES = [
    ("all-params", "general-text", {
        "image": PNG_B64, "detect_direction": True, "quick_mode": False, "character_mode": True,
        "language": "auto", "single_orientation_mode": True, "pdf_page_number": 3,
        "return_markdown_result": True,
    }),
    ("gif-to-general-text", "general-text", {"image": b64(image_bytes("GIF"))}),
    ("jpeg", "passport", {"image": b64(image_bytes("JPEG"))}),
    ("bmp", "passport", {"image": b64(image_bytes("BMP"))}),
    ("tiff", "passport", {"image": b64(image_bytes("TIFF"))}),
    ("webp", "web-image", {"image": b64(image_bytes("WEBP"))}),
    ("tga", "web-image", {"image": b64(image_bytes("TGA"))}),
    ("pcx", "web-image", {"image": b64(image_bytes("PCX"))}),
    ("ico", "web-image", {"image": b64(image_bytes("ICO", size=(64, 64)))}),
    ("pdf-skips-size", "general-text", {"image": b64(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n")}),
    ("str-list", "auto-classification", {"image": PNG_B64, "type_list": ["passport", "bankcard"]}),
    ("empty-str-list", "id-document", {"image": PNG_B64, "country_region": []}),
    ("json-str", "smart-document-recognizer", {"data": PNG_B64, "kv_map": '{"Name": "name"}'}),
    ("free-str", "handwriting", {"image": PNG_B64, "char_set": "digit"}),
    ("min-sides", "general-text", {"image": b64(image_bytes(size=(15, 15)))}),
    ("max-side", "passport", {"image": b64(png_header(8192, 20))}),
    ("short-long-rule", "auto-classification", {"image": b64(png_header(8000, 15))}),
    ("handwriting-min-8", "handwriting", {"image": b64(image_bytes(size=(8, 40)))}),
]  # fmt: skip


@pytest.mark.parametrize(("slug", "body"), [c[1:] for c in VALID_CASES], ids=[c[0] for c in VALID_CASES])
def test_valid_bodies_pass(emulator, slug, body):
    response = call(emulator, slug, body)
    assert response.status_code == 200, response.text
    assert emulator.count(slug, 200) == 1


def test_data_uri_prefix_is_named_in_the_detail(emulator):
    response = call(emulator, "general-text", {"image": "data:image/png;base64," + PNG_B64})
    assert error_of(response) == "AIS.0102"
    assert "data:" in response.headers["X-Emulator-Detail"]


def test_body_over_10_mb_is_modelarts_4104(emulator):
    body = b'{"image": "' + b"A" * (10 * 1024 * 1024) + b'"}'
    response = call(emulator, "general-text", body)
    assert (response.status_code, error_of(response)) == (400, "ModelArts.4104")


def test_base64_over_the_limit_is_ais_0103(emulator, monkeypatch):
    # With the default 10 MB body cap an oversize image trips ModelArts.4104 first.
    monkeypatch.setattr(emulator.config, "max_body_bytes", 12 * 1024 * 1024)
    limit = get_api("general-text").limits.max_base64_bytes
    response = call(emulator, "general-text", {"image": "A" * (limit + 4)})
    assert (response.status_code, error_of(response)) == (400, "AIS.0103")


def test_url_images_are_fetched_and_checked(emulator, files_server):
    base, folder = files_server
    (folder / "ok.png").write_bytes(image_bytes())
    (folder / "tiny.png").write_bytes(image_bytes(size=(10, 10)))
    (folder / "notes.txt").write_bytes(b"plain text")
    assert call(emulator, "general-text", {"url": f"{base}/ok.png"}).status_code == 200
    assert error_of(call(emulator, "general-text", {"url": f"{base}/tiny.png"})) == "AIS.0103"
    assert error_of(call(emulator, "general-text", {"url": f"{base}/notes.txt"})) == "AIS.0102"
    missing = call(emulator, "general-text", {"url": f"{base}/missing.png"})
    assert (missing.status_code, error_of(missing)) == (400, "ModelArts.4603")


def test_url_that_cannot_connect_is_4603(emulator):
    import socket

    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    response = call(emulator, "general-text", {"url": f"http://127.0.0.1:{port}/a.png"})
    assert (response.status_code, error_of(response)) == (400, "ModelArts.4603")


# --- authentication failures -----------------------------------------------------


def assert_auth_failure(response: requests.Response, cause: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error_code"] == "APIG.0301"
    assert body["error_msg"] == f"Incorrect IAM authentication information: {cause}"
    assert REQUEST_ID.match(response.headers["X-Request-Id"])
    everything = response.text + json.dumps(dict(response.headers))
    for secret in (SK, TEMP_SK, SECURITY_TOKEN, IAM_PASSWORD):
        assert secret not in everything


def test_wrong_secret_key(emulator):
    response = call(emulator, "general-text", {"image": PNG_B64}, sk=SK[:-1] + "x")
    assert_auth_failure(response, "verify aksk signature fail")
    assert emulator.calls()[0].auth_mode == "aksk"


def test_unknown_access_key(emulator):
    assert_auth_failure(
        call(emulator, "general-text", {"image": PNG_B64}, ak="HPUANOTKNOWN00000000"),
        "verify aksk signature fail",
    )


def test_body_changed_after_signing(emulator):
    request = sign(emulator, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode())
    request.body = json.dumps({"image": PNG_B64, "quick_mode": True}).encode()
    assert_auth_failure(send(request), "verify aksk signature fail")


def test_signed_header_changed_after_signing(emulator):
    request = sign(emulator, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode())
    request.header_params["Content-Type"] = "application/json"
    assert_auth_failure(send(request), "verify aksk signature fail")


def test_unsigned_extra_header_is_fine(emulator):
    request = sign(emulator, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode())
    request.header_params["X-Extra"] = "added after signing"
    assert send(request).status_code == 200


@pytest.mark.parametrize("offset", [-16 * 60, 16 * 60])
def test_date_outside_clock_skew(emulator, offset):
    response = call(emulator, "general-text", {"image": PNG_B64}, sdk_date=sdk_date(offset))
    assert_auth_failure(response, "verify aksk signature fail")


def test_date_inside_clock_skew(emulator):
    assert call(emulator, "general-text", {"image": PNG_B64}, sdk_date=sdk_date(-14 * 60)).status_code == 200


def test_clock_skew_is_configurable(emulator, monkeypatch):
    monkeypatch.setattr(emulator.config, "clock_skew", 30)
    response = call(emulator, "general-text", {"image": PNG_B64}, sdk_date=sdk_date(-60))
    assert response.status_code == 401


def test_malformed_date(emulator):
    request = sign(emulator, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode())
    request.header_params["X-Sdk-Date"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = send(request)
    assert_auth_failure(response, "verify aksk signature fail")
    assert "format" in response.headers["X-Emulator-Detail"]


def _sign_with_headers(emulator: OcrEmulator, names: list[str]) -> SdkRequest:
    """Sign with the official signer's own steps but only the given header names."""
    request = SdkRequest(
        method="POST",
        schema="http",
        host=urlsplit(emulator.url).netloc,
        resource_path=ocr_path("general-text"),
        query_params=[],
        header_params={
            "Content-Type": "application/json",
            "X-Sdk-Date": sdk_date(),
            "Host": urlsplit(emulator.url).netloc,
        },
        body=json.dumps({"image": PNG_B64}).encode(),
    )
    signer = Signer(BasicCredentials(AK, SK))
    canonical = signer._process_canonical_request(request, names)
    t = datetime.strptime(request.header_params["X-Sdk-Date"], SDK_DATE_FORMAT)
    signature = signer._sign_string_to_sign(signer._process_string_to_sign(canonical, t), SK)
    request.header_params["Authorization"] = signer._process_auth_header_value(signature, AK, names)
    Signer.process_request_uri(request)
    return request


def test_control_own_signing_steps_pass(emulator):
    assert send(_sign_with_headers(emulator, ["content-type", "host", "x-sdk-date"])).status_code == 200


@pytest.mark.parametrize(
    "names", [["content-type", "x-sdk-date"], ["content-type", "host"]], ids=["no-host", "no-date"]
)
def test_host_and_date_must_be_signed(emulator, names):
    assert_auth_failure(send(_sign_with_headers(emulator, names)), "verify aksk signature fail")


def test_malformed_authorization_header(emulator):
    headers = {"Authorization": "SDK-HMAC-SHA256 Access=" + AK, "X-Sdk-Date": sdk_date()}
    response = requests.post(
        f"{emulator.url}{ocr_path('general-text')}", json={"image": PNG_B64}, headers=headers, timeout=10
    )
    assert_auth_failure(response, "verify aksk signature fail")


def test_temporary_credentials_with_token(emulator):
    response = call(
        emulator, "general-text", {"image": PNG_B64}, ak=TEMP_AK, sk=TEMP_SK,
        headers={"X-Security-Token": SECURITY_TOKEN},
    )  # fmt: skip
    assert response.status_code == 200, response.text


def test_temporary_credentials_without_token(emulator):
    response = call(emulator, "general-text", {"image": PNG_B64}, ak=TEMP_AK, sk=TEMP_SK)
    assert_auth_failure(response, "verify aksk signature fail")


def test_temporary_credentials_with_wrong_token(emulator):
    response = call(
        emulator, "general-text", {"image": PNG_B64}, ak=TEMP_AK, sk=TEMP_SK,
        headers={"X-Security-Token": SECURITY_TOKEN[:-2] + "zz"},
    )  # fmt: skip
    assert_auth_failure(response, "verify aksk signature fail")


def test_temporary_token_must_be_signed(emulator):
    request = sign(
        emulator, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode(), ak=TEMP_AK, sk=TEMP_SK
    )
    request.header_params["X-Security-Token"] = SECURITY_TOKEN  # present, not signed
    assert_auth_failure(send(request), "verify aksk signature fail")


def test_no_credentials_at_all(emulator):
    response = requests.post(f"{emulator.url}{ocr_path('general-text')}", json={"image": PNG_B64}, timeout=10)
    assert_auth_failure(response, "x-auth-token not found")
    assert emulator.calls()[0].auth_mode == "none"


def test_token_not_issued_here(emulator):
    response = requests.post(
        f"{emulator.url}{ocr_path('general-text')}", json={"image": PNG_B64},
        headers={"X-Auth-Token": "MIIforged"}, timeout=10,
    )  # fmt: skip
    assert_auth_failure(response, "decrypt token fail")
    assert emulator.calls()[0].auth_mode == "token"


def test_non_ascii_credentials_are_refused_not_crashed_on(emulator):
    request = sign(emulator, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode(), ak=TEMP_AK, sk=TEMP_SK,
                   headers={"X-Security-Token": "t\u00e9"})  # fmt: skip
    assert_auth_failure(send(request), "verify aksk signature fail")
    request = sign(emulator, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode())
    request.header_params["Authorization"] = request.header_params["Authorization"][:-1] + "\u00e9"
    assert_auth_failure(send(request), "verify aksk signature fail")


def test_auth_is_checked_before_the_body(emulator):
    response = requests.post(f"{emulator.url}{ocr_path('general-text')}", data=b"{not json", timeout=10)
    assert response.status_code == 401


# --- IAM ---------------------------------------------------------------------------


def test_iam_token_issue_and_use(emulator):
    before = emulator.token_issue_count
    issued = get_token(emulator)
    assert issued.status_code == 201, issued.text
    token = issued.headers["X-Subject-Token"]
    body = issued.json()["token"]
    assert body["project"]["id"] == PROJECT_ID and body["project"]["name"] == REGION
    expires = datetime.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs((expires - datetime.now(timezone.utc)).total_seconds() - 86400) < 60
    assert emulator.token_issue_count == before + 1
    assert REQUEST_ID.match(issued.headers["X-Request-Id"])

    response = requests.post(
        f"{emulator.url}{ocr_path('general-text')}", json={"image": PNG_B64},
        headers={"X-Auth-Token": token}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert emulator.calls()[0].auth_mode == "token"
    assert emulator.count() == 1  # IAM calls are not OCR calls


def test_expired_token(emulator):
    token = get_token(emulator).headers["X-Subject-Token"]
    emulator.expire_tokens()
    response = requests.post(
        f"{emulator.url}{ocr_path('general-text')}", json={"image": PNG_B64},
        headers={"X-Auth-Token": token}, timeout=10,
    )  # fmt: skip
    assert_auth_failure(response, "token expires")
    fresh = get_token(emulator).headers["X-Subject-Token"]
    ok = requests.post(
        f"{emulator.url}{ocr_path('general-text')}", json={"image": PNG_B64},
        headers={"X-Auth-Token": fresh}, timeout=10,
    )  # fmt: skip
    assert ok.status_code == 200


def test_reset_keeps_tokens_but_zeroes_their_count(emulator):
    token = get_token(emulator).headers["X-Subject-Token"]
    assert emulator.token_issue_count == 1
    emulator.reset()
    assert emulator.token_issue_count == 0
    response = requests.get(f"{emulator.url}/v3/projects", headers={"X-Auth-Token": token}, timeout=10)
    assert response.status_code == 200


def test_short_token_lifetime():
    config = EmulatorConfig(
        iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD}, project_id=PROJECT_ID, token_lifetime=0.2
    )
    with OcrEmulator(config) as emu:
        token = get_token(emu).headers["X-Subject-Token"]
        url = f"{emu.url}/v3/projects"
        assert requests.get(url, headers={"X-Auth-Token": token}, timeout=10).status_code == 200
        time.sleep(0.3)
        assert_auth_failure(requests.get(url, headers={"X-Auth-Token": token}, timeout=10), "token expires")


def test_wrong_password_gets_no_token(emulator):
    response = get_token(emulator, password="wrong")
    assert response.status_code == 401
    assert "X-Subject-Token" not in response.headers
    assert response.json()["error"]["code"] == 401
    assert emulator.token_issue_count == emulator.stats()["tokens_issued"]


def test_token_for_another_region_is_refused(emulator):
    response = get_token(emulator, project="cn-north-4")
    assert response.status_code == 400
    assert "X-Subject-Token" not in response.headers


def test_token_request_needs_project_scope(emulator):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": IAM_USER, "password": IAM_PASSWORD, "domain": {"name": IAM_DOMAIN}}}},
        "scope": {"domain": {"name": IAM_DOMAIN}}}}  # fmt: skip
    assert requests.post(f"{emulator.url}/v3/auth/tokens", json=body, timeout=10).status_code == 400
    assert requests.post(f"{emulator.url}/v3/auth/tokens", data=b"nope", timeout=10).status_code == 400


def test_projects_with_aksk_signature_and_name_filter(emulator):
    response = send(sign(emulator, "/v3/projects", method="GET", query=[("name", REGION)]))
    assert response.status_code == 200, response.text
    (project,) = response.json()["projects"]
    assert (project["id"], project["name"]) == (PROJECT_ID, REGION)
    other = send(sign(emulator, "/v3/projects", method="GET", query=[("name", "cn-north-4")]))
    assert other.json()["projects"] == []


def test_projects_with_token(emulator):
    token = get_token(emulator).headers["X-Subject-Token"]
    response = requests.get(f"{emulator.url}/v3/projects", headers={"X-Auth-Token": token}, timeout=10)
    assert response.json()["projects"][0]["id"] == PROJECT_ID


def test_projects_need_auth(emulator):
    assert_auth_failure(requests.get(f"{emulator.url}/v3/projects", timeout=10), "x-auth-token not found")
    tampered = sign(emulator, "/v3/projects", method="GET", query=[("name", REGION)])
    tampered.uri = "/v3/projects?name=cn-north-4"
    assert_auth_failure(send(tampered), "verify aksk signature fail")


# --- signatures over special paths and queries ------------------------------------


def _raw_send(emulator: OcrEmulator, request: SdkRequest, target: str) -> tuple[int, dict]:
    """Send with http.client so the request target goes out byte for byte."""
    conn = http.client.HTTPConnection(urlsplit(emulator.url).netloc, timeout=10)
    try:
        conn.request(request.method, target, body=request.body, headers=request.header_params)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_signature_over_special_path_and_query(emulator):
    # A project id with odd characters: verified by the signature (so 403, not 401).
    path = "/v2/pro%20j~ect%C3%A9/ocr/general-text"
    query = [("b", "2"), ("a", "x y/~"), ("a", "1")]
    request = sign(emulator, path, json.dumps({"image": PNG_B64}).encode(), query=query)
    status, body = _raw_send(emulator, request, request.uri)
    assert (status, body["error_code"]) == (403, "ModelArts.4203")
    # The same bytes with the query changed no longer verify.
    status, body = _raw_send(emulator, request, request.uri.replace("b=2", "b=3"))
    assert (status, body["error_code"]) == (401, "APIG.0301")
    # ... nor with the path changed.
    status, body = _raw_send(emulator, request, request.uri.replace("j~ect", "j~ekt"))
    assert (status, body["error_code"]) == (401, "APIG.0301")


def test_signature_with_query_on_ocr_path(emulator):
    request = sign(
        emulator, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode(), query=[("trace", "a b")]
    )
    assert send(request).status_code == 200


# --- the official SDK client as a witness ------------------------------------------


def _sdk_client(emulator: OcrEmulator, credentials):
    from huaweicloudsdkcore.region.region import Region
    from huaweicloudsdkocr.v1 import OcrClient

    return (
        OcrClient.new_builder()
        .with_credentials(credentials)
        .with_region(Region(REGION, emulator.url))
        .build()
    )


def test_official_sdk_client_permanent_and_temporary_keys(emulator):
    from huaweicloudsdkocr.v1 import GeneralTextRequestBody, RecognizeGeneralTextRequest

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


# --- counters, scripted failures, control endpoints -----------------------------


def test_counters_and_stats(emulator):
    call(emulator, "general-text", {"image": PNG_B64})
    call(emulator, "general-text", {"image": "???"})
    call(emulator, "passport", {"image": PNG_B64})
    requests.post(f"{emulator.url}{ocr_path('passport')}", json={}, timeout=10)
    assert emulator.count() == 4
    assert emulator.count("general-text") == 2
    assert emulator.count(status=200) == 2
    assert emulator.count("passport", 401) == 1
    stats = emulator.stats()
    assert (stats["total"], stats["billable"]) == (4, 2)
    assert stats["by_status"] == {"200": 2, "400": 1, "401": 1}
    assert stats["by_error_code"] == {"AIS.0102": 1, "APIG.0301": 1}
    assert stats["apis"]["general-text"] == {
        "total": 2, "billable": 1, "billed_units": 1, "by_status": {"200": 1, "400": 1},
        "by_error_code": {"AIS.0102": 1},
    }  # fmt: skip
    assert [c.slug for c in emulator.calls()] == ["general-text", "general-text", "passport", "passport"]
    assert len(emulator.calls("passport")) == 2


def test_fail_next_with_retry_after(emulator):
    emulator.fail_next("general-text", 429, "APIG.0308", retry_after=2)
    # Another API and an unauthenticated call do not use up the scripted failure.
    assert call(emulator, "passport", {"image": PNG_B64}).status_code == 200
    assert requests.post(f"{emulator.url}{ocr_path('general-text')}", json={}, timeout=10).status_code == 401
    failed = call(emulator, "general-text", {"image": PNG_B64})
    assert failed.status_code == 429
    assert failed.headers["Retry-After"] == "2"
    assert failed.json()["error_code"] == "APIG.0308"
    assert failed.json()["error_msg"] == ERROR_CODES["APIG.0308"].message
    assert call(emulator, "general-text", {"image": PNG_B64}).status_code == 200
    assert emulator.count("general-text", 429) == 1
    assert emulator.stats()["billable"] == 2


def test_fail_next_any_api_several_times_before_validation(emulator):
    emulator.fail_next(None, 503, "ModelArts.4403", error_msg="down for a bit", times=2)
    first = call(emulator, "passport", b"not even json")
    second = call(emulator, "general-text", {"image": PNG_B64})
    assert [first.status_code, second.status_code] == [503, 503]
    assert first.json()["error_msg"] == "down for a bit"
    assert "Retry-After" not in first.headers
    assert call(emulator, "general-text", {"image": PNG_B64}).status_code == 200


def test_fail_next_rejects_unknown_slug(emulator):
    with pytest.raises(KeyError):
        emulator.fail_next("general-txt", 500, "ModelArts.4505")


def test_reset_clears_scripted_failures(emulator):
    emulator.fail_next(None, 500, "ModelArts.4505")
    emulator.reset()
    assert call(emulator, "general-text", {"image": PNG_B64}).status_code == 200


def test_http_stats_and_reset(emulator):
    call(emulator, "general-text", {"image": PNG_B64})
    stats = requests.get(f"{emulator.url}/_emulator/stats", timeout=10)
    assert stats.status_code == 200
    assert stats.json()["apis"]["general-text"]["billable"] == 1
    assert REQUEST_ID.match(stats.headers["X-Request-Id"])
    assert requests.post(f"{emulator.url}/_emulator/reset", timeout=10).json() == {"reset": True}
    assert emulator.count() == 0
    assert requests.get(f"{emulator.url}/_emulator/stats", timeout=10).json()["total"] == 0
    assert requests.get(f"{emulator.url}/_emulator/nothing", timeout=10).status_code == 404


# --- server behaviour -----------------------------------------------------------------


def test_keep_alive_reuses_one_connection(emulator):
    conn = http.client.HTTPConnection(urlsplit(emulator.url).netloc, timeout=10)
    sockets = set()
    try:
        for _ in range(3):
            request = sign(emulator, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode())
            conn.request("POST", request.uri, body=request.body, headers=request.header_params)
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            assert not response.will_close
            sockets.add(id(conn.sock))
        assert len(sockets) == 1
    finally:
        conn.close()


def test_concurrent_requests(emulator):
    def one(_):
        return call(emulator, "general-text", {"image": PNG_B64}).status_code

    with ThreadPoolExecutor(max_workers=64) as pool:
        statuses = list(pool.map(one, range(128)))
    assert statuses == [200] * 128
    assert emulator.count("general-text", 200) == 128


def test_recorded_calls_are_capped_but_all_counted():
    with OcrEmulator(EmulatorConfig(project_id=PROJECT_ID, max_recorded_calls=3)) as emu:
        for _ in range(5):
            requests.post(f"{emu.url}{ocr_path('general-text')}", json={}, timeout=10)
        assert len(emu.calls()) == 3
        assert emu.count() == emu.count("general-text", 401) == emu.stats()["total"] == 5


def test_stop_closes_idle_keep_alive_connections():
    emu = OcrEmulator(EmulatorConfig(credentials={AK: SK}, project_id=PROJECT_ID)).start()
    netloc = urlsplit(emu.url).netloc
    conn = http.client.HTTPConnection(netloc, timeout=5)
    conn.request("GET", "/_emulator/health")
    assert conn.getresponse().read() == b'{"status": "ok"}'
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 2
    conn.sock.settimeout(2)
    assert conn.sock.recv(1) == b""  # the server closed the idle connection
    with pytest.raises(OSError):
        http.client.HTTPConnection(netloc, timeout=2).request("GET", "/_emulator/health")
    conn.close()
    emu.stop()  # a second stop is harmless


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [("PNG", "RGB"), ("JPEG", "RGB"), ("GIF", "P"), ("BMP", "RGB"), ("TIFF", "RGB"), ("WEBP", "RGB"),
     ("WEBP", "RGBA"), ("ICO", "RGBA"), ("PCX", "RGB"), ("TGA", "RGB")],
)  # fmt: skip
def test_sniffing_and_sizes_agree_with_pillow(fmt, mode):
    size = (48, 31) if fmt != "ICO" else (32, 32)
    data = image_bytes(fmt, size=size, mode=mode)
    assert sniff_format(data) == fmt
    assert image_size(data, fmt) == Image.open(io.BytesIO(data)).size == size


def test_webp_lossless_and_progressive_jpeg_sizes():
    buf = io.BytesIO()
    Image.new("RGB", (77, 33)).save(buf, format="WEBP", lossless=True)
    assert image_size(buf.getvalue(), "WEBP") == (77, 33)
    buf = io.BytesIO()
    Image.new("RGB", (91, 45)).save(buf, format="JPEG", progressive=True)
    assert image_size(buf.getvalue(), "JPEG") == (91, 45)


def test_emulator_imports_neither_client_nor_airflow_nor_sdk():
    code = (
        "import sys, airflow_provider_hwocr.emulator, airflow_provider_hwocr.emulator.__main__\n"
        "bad = [m for m in sys.modules if m == 'airflow' or m.startswith(('airflow.', "
        "'airflow_provider_hwocr.client', 'huaweicloudsdk', 'requests'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_serves_until_interrupted():
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_hwocr.emulator", "--port", "0", "--ak", AK, "--sk", SK,
         "--project-id", PROJECT_ID, "--region", REGION],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        assert requests.get(f"{url}/_emulator/health", timeout=5).json() == {"status": "ok"}
        request = sign(url, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode())
        response = requests.post(
            f"{url}{request.uri}", headers=request.header_params, data=request.body, timeout=5
        )
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()
