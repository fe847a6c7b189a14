"""AK/SK signatures and credentials (``emulator/auth.py``), held against the vendor's official signer.

The canonical request is compared with ``huaweicloudsdkcore``'s own; requests are signed with it and
then tampered with, re-dated or stripped of signed headers, and must be refused with 401 APIG.0301.
"""

from __future__ import annotations

import calendar
import http.client
import json
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator
from airflow_provider_hwocr.emulator import auth as emu_auth
from airflow_provider_hwocr.emulator.errors import EmulatorError
from tests.helpers.b_signed import (
    PNG_B64,
    SDK_DATE_FORMAT,
    assert_auth_failure,
    call,
    ocr_path,
    sdk_date,
    send,
    sign,
)
from tests.helpers.constants import AK, PROJECT_ID, SECURITY_TOKEN, SK, TEMP_AK, TEMP_SK

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


# --- authentication failures -----------------------------------------------------


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


def test_non_ascii_credentials_are_refused_not_crashed_on(emulator):
    request = sign(emulator, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode(), ak=TEMP_AK, sk=TEMP_SK,
                   headers={"X-Security-Token": "t\u00e9"})  # fmt: skip
    assert_auth_failure(send(request), "verify aksk signature fail")
    request = sign(emulator, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode())
    request.header_params["Authorization"] = request.header_params["Authorization"][:-1] + "\u00e9"
    assert_auth_failure(send(request), "verify aksk signature fail")


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


# --- the pieces, without a server ----------------------------------------------------------


def test_the_authorization_header_is_split_into_key_names_and_signature():
    parsed = emu_auth.parse_authorization(
        "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=ABCD"
    )
    assert parsed == emu_auth.AuthorizationHeader("AK1", ("host", "x-sdk-date"), "abcd")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "HMAC-SHA1 Access=AK1, SignedHeaders=host, Signature=ab",
        "SDK-HMAC-SHA256 Access=AK1, Signature=ab",
        "SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature=ab",
    ],
    ids=["empty", "other-algorithm", "no-signed-headers", "empty-access-key"],
)
def test_malformed_authorization_values_are_refused(value):
    with pytest.raises(EmulatorError) as caught:
        emu_auth.parse_authorization(value)
    assert (caught.value.status, caught.value.code) == (401, "APIG.0301")


def test_the_canonical_uri_is_requoted_and_ends_with_a_slash():
    assert emu_auth.canonical_uri("/v2/p/ocr/general-text") == "/v2/p/ocr/general-text/"
    assert emu_auth.canonical_uri("/caf%C3%A9/a b/") == "/caf%C3%A9/a%20b/"


def test_verify_aksk_at_a_given_time():
    """A request the vendor's signer signed at 2024-01-01 00:00 UTC verifies then, not 16 minutes later."""
    body = json.dumps({"image": PNG_B64}).encode()
    request = sign("http://127.0.0.1:1", ocr_path("general-text"), body, sdk_date="20240101T000000Z")
    headers = {k.lower(): v for k, v in request.header_params.items()}
    config = EmulatorConfig(credentials={AK: SK}, project_id=PROJECT_ID)
    signed_at = calendar.timegm((2024, 1, 1, 0, 0, 0))
    assert emu_auth.verify_aksk(config, "POST", request.uri, "", headers, body, now=signed_at + 60) == AK
    with pytest.raises(EmulatorError, match="APIG.0301"):
        emu_auth.verify_aksk(config, "POST", request.uri, "", headers, body, now=signed_at + 16 * 60)
    with pytest.raises(EmulatorError):
        emu_auth.verify_aksk(config, "POST", request.uri + "x", "", headers, body, now=signed_at)
    assert emu_auth.auth_mode({"authorization": "x", "x-auth-token": "y"}) == "aksk"  # a signature wins


# --- the gateway's lockout: more than 5 AK/SK failures in a row lock the key for 5 minutes ---------


def test_six_bad_signatures_in_a_row_lock_the_key_pair():
    config = EmulatorConfig(credentials={AK: SK}, project_id=PROJECT_ID, lockout_seconds=0.6)
    with OcrEmulator(config) as emu:
        for _ in range(5):
            assert call(emu, "general-text", {"image": PNG_B64}, sk=SK[:-1] + "x").status_code == 401
        assert call(emu, "general-text", {"image": PNG_B64}).status_code == 200  # 5 failures: not yet
        for _ in range(6):
            assert call(emu, "general-text", {"image": PNG_B64}, sk=SK[:-1] + "x").status_code == 401
        locked = call(emu, "general-text", {"image": PNG_B64})  # the right secret, refused all the same
        assert locked.status_code == 401 and locked.json()["error_code"] == "APIG.0301"
        assert "locked after more than 5 failures" in locked.headers["X-Emulator-Detail"]
        assert emu.stats()["locked_access_keys"] == 1 and emu.count(status=200) == 1
        time.sleep(0.7)  # the lock lasts lockout_seconds (300 by default, as the gateway's 5 minutes)
        assert call(emu, "general-text", {"image": PNG_B64}).status_code == 200
        assert emu.stats()["locked_access_keys"] == 0


def test_the_lock_is_per_access_key_and_a_success_resets_the_count():
    clock = [1000.0]
    lockout = emu_auth.Lockout(clock=lambda: clock[0])
    config = EmulatorConfig(credentials={AK: SK}, project_id=PROJECT_ID)
    for _ in range(5):
        lockout.failed(config, AK)
    lockout.succeeded(AK)
    for _ in range(5):
        lockout.failed(config, AK)
    lockout.check(config, AK)  # 5 in a row: still open
    lockout.failed(config, AK)
    with pytest.raises(EmulatorError, match="APIG.0301") as info:
        lockout.check(config, AK)
    assert "locked" in (info.value.detail or "")
    lockout.check(config, TEMP_AK)  # another key is not locked
    assert lockout.locked() == [AK]
    clock[0] += 299.9
    with pytest.raises(EmulatorError):
        lockout.check(config, AK)
    clock[0] += 0.2
    lockout.check(config, AK)
    assert lockout.locked() == []


def test_the_official_sdk_meets_the_lock_too():
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
    from huaweicloudsdkocr.v1 import GeneralTextRequestBody, OcrClient, RecognizeGeneralTextRequest

    config = EmulatorConfig(credentials={AK: SK}, project_id=PROJECT_ID)
    with OcrEmulator(config) as emu:

        def sdk(sk: str):
            client = OcrClient.new_builder().with_credentials(BasicCredentials(AK, sk, PROJECT_ID))
            return client.with_endpoints([emu.url]).build()

        request = RecognizeGeneralTextRequest(body=GeneralTextRequestBody(image=PNG_B64))
        for _ in range(6):
            with pytest.raises(ClientRequestException):
                sdk(SK[:-1] + "x").recognize_general_text(request)
        with pytest.raises(ClientRequestException) as info:
            sdk(SK).recognize_general_text(request)
        assert info.value.error_code == "APIG.0301"
