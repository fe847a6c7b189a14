"""Request-body checks (``emulator/validation.py``): every documented 400 answer, and bodies that pass.

Sent signed over HTTP to the shared emulator; URL images come from a local file server.
"""

from __future__ import annotations

import socket

import pytest

from airflow_provider_hwocr.catalog import ERROR_CODES, get_api
from airflow_provider_hwocr.emulator.samples import pdf_of
from tests.helpers.b_images import b64, image_bytes
from tests.helpers.b_signed import PNG_B64, call, error_of
from tests.helpers.images import png_header_only as png_header

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
    ("vehicle-license-min-100", "vehicle-license", {"image": b64(image_bytes(size=(99, 200)))}, "AIS.0103"),
    ("object-not-object", "auto-classification", {"image": PNG_B64, "extended_parameters": "x"}, "AIS.0101"),
    ("empty-not-documented", "general-text", {"image": PNG_B64, "language": ""}, "AIS.0101"),
    ("required-missing", "invoice-verification", {"code": "1", "number": "2"}, "AIS.0101"),
    (
        "image-to-no-image-api",
        "invoice-verification",
        {"code": "1", "number": "2", "issue_date": "x", "url": "http://x/a.png"},
        "AIS.0101",
    ),
    ("png-cut-short", "general-text", {"image": b64(image_bytes()[:-20])}, "AIS.0104"),
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
    ("pdf", "general-text", {"image": b64(pdf_of("one.pdf", [["Hello"]], size=(200, 120)).data)}),
    ("str-list", "auto-classification", {"image": PNG_B64, "type_list": ["passport", "bankcard"]}),
    ("empty-str-list", "web-image", {"image": PNG_B64, "extract_type": []}),
    ("json-str", "smart-document-recognizer", {"data": PNG_B64, "kv_map": '{"Name": "name"}'}),
    ("free-str", "handwriting", {"image": PNG_B64, "char_set": "digit"}),
    ("min-sides", "general-text", {"image": b64(image_bytes(size=(15, 15)))}),
    ("max-side", "passport", {"image": b64(png_header(8192, 20))}),
    ("short-long-rule", "auto-classification", {"image": b64(png_header(8000, 15))}),
    ("handwriting-min-8", "handwriting", {"image": b64(image_bytes(size=(8, 40)))}),
    ("object", "auto-classification", {"image": PNG_B64, "extended_parameters": {"vat_invoice": {}}}),
    ("documented-empty-side", "thailand-id-card", {"image": PNG_B64, "side": ""}),
    ("documented-empty-country", "passport", {"image": PNG_B64, "country_code": ""}),
    ("no-image", "invoice-verification", {"code": "", "number": "1", "issue_date": "2026-11-20", "subtotal_amount": "1.00"}),
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


# --- images given by URL --------------------------------------------------------


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
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    response = call(emulator, "general-text", {"url": f"http://127.0.0.1:{port}/a.png"})
    assert (response.status_code, error_of(response)) == (400, "ModelArts.4603")
