"""The request body serialised once (``client/body.py``): the same bytes as the JSON of the dict,
built with one Base64-sized buffer, hashed by the signer and sent as they are."""

from __future__ import annotations

import base64
import json
import os
import struct
import tracemalloc
import zlib

import pytest

from airflow_provider_hwocr.client.body import RequestBody, encode_json
from airflow_provider_hwocr.client.request import prepare_request
from airflow_provider_hwocr.client.signer import sign_request
from tests.helpers.client_support import aksk_client
from tests.helpers.images import png


def _as_json(fields: dict, field: str | None = None, image: bytes | None = None) -> bytes:
    body = dict(fields)
    if field is not None and image is not None:
        body[field] = base64.b64encode(image).decode("ascii")
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@pytest.mark.parametrize(
    ("fields", "image"),
    [
        ({}, b"\x89PNG" + os.urandom(1000)),
        ({"detect_direction": True, "language": "中文", "quick_mode": None}, os.urandom(3 * 16 * 1024 + 1)),
        ({"kv": True}, os.urandom(2)),
        ({"url": "https://b.obs.example.com/a b.png"}, None),
    ],
)
def test_the_bytes_are_the_json_of_the_dict_with_the_image_last(fields, image):
    field = None if image is None else "data"
    body = RequestBody(fields, image_field=field, image=image)
    expected = _as_json(fields, field, image)
    encoded = body.encode()
    assert bytes(encoded) == expected and body.size == len(expected)
    assert json.loads(encoded) == dict(body)  # the mapping reads like the dict it stands for
    assert list(body) == [*fields, *([field] if field else [])] and len(body) == len(expected and list(body))
    assert encode_json(dict(body)) == expected


def test_the_mapping_never_shows_the_image_in_its_repr_and_refuses_clashes():
    body = RequestBody({"a": 1}, image_field="image", image=b"secret-bytes")
    assert "secret" not in repr(body) and "12 bytes" in repr(body)
    assert body == {"a": 1, "image": base64.b64encode(b"secret-bytes").decode()}
    assert body.get("url") is None
    with pytest.raises(ValueError, match="together"):
        RequestBody({}, image=b"x")
    with pytest.raises(ValueError, match="both"):
        RequestBody({"image": 1}, image_field="image", image=b"x")


def test_encoding_a_large_image_holds_one_base64_sized_buffer():
    image = os.urandom(3_000_000)
    body = RequestBody({"detect_direction": True}, image_field="image", image=image)
    tracemalloc.start()
    try:
        encoded = body.encode()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(encoded) > 4_000_000
    assert peak < 1.40 * len(image)  # the output (4/3 of the image) and small steps, nothing else


def test_a_prepared_request_keeps_the_image_by_reference_and_builds_no_base64():
    data = png((200, 80), "ref")
    # a large whole file: 1 MB in an ancillary chunk before IEND (the client checks the chunks)
    blob = os.urandom(1_000_000)
    chunk = struct.pack(">I", len(blob)) + b"prVt" + blob + struct.pack(">I", zlib.crc32(b"prVt" + blob))
    data = data[:-12] + chunk + data[-12:]
    tracemalloc.start()
    try:
        prepared = prepare_request("general-text", image=data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(prepared.body, RequestBody) and peak < 0.01 * len(data)
    assert base64.b64decode(prepared.body["image"]) == data


def test_the_signature_covers_the_bytes_as_sent(emulator):
    """The client sends the buffer it signed: the emulator checks the signature over the body it got."""
    client = aksk_client(emulator)
    data = png((300, 100), "signed body")
    sent: list = []
    real_send = client.send

    def spy(method, url, headers, body, **kwargs):
        sent.append(body)
        return real_send(method, url, headers, body, **kwargs)

    client.send = spy  # the one function stubbed: to see what goes out
    response = client.recognize("general-text", image=data, detect_direction=True)
    assert response.status_code == 200 and emulator.calls()[0].status == 200
    assert isinstance(sent[0], bytearray)
    assert bytes(sent[0]) == _as_json({"detect_direction": True}, "image", data)
    headers = {"Content-Type": "application/json;charset=UTF-8", "X-Sdk-Date": "20240101T000000Z"}
    url = "https://ocr.example.com/v2/p/ocr/general-text"
    as_bytes = sign_request("POST", url, headers, bytes(sent[0]), "AK", "SK")
    assert sign_request("POST", url, headers, sent[0], "AK", "SK") == as_bytes
