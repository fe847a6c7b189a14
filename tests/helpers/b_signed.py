"""Raw HTTP calls to an emulator, signed with the vendor's official signer (``huaweicloudsdkcore``).

Never the emulator's or the provider client's signing code, so that the
emulator's verification is held against the vendor's own implementation.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from airflow_provider_hwocr.emulator import OcrEmulator
from tests.helpers.b_images import b64, image_bytes
from tests.helpers.constants import (
    AK,
    IAM_DOMAIN,
    IAM_PASSWORD,
    IAM_USER,
    PROJECT_ID,
    REGION,
    SECURITY_TOKEN,
    SK,
    TEMP_SK,
)

SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
PNG_B64 = b64(image_bytes())


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


def assert_auth_failure(response: requests.Response, cause: str) -> None:
    """401 APIG.0301 with the gateway's sub-cause, and no secret anywhere in the answer."""
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error_code"] == "APIG.0301"
    assert body["error_msg"] == f"Incorrect IAM authentication information: {cause}"
    assert REQUEST_ID.match(response.headers["X-Request-Id"])
    everything = response.text + json.dumps(dict(response.headers))
    for secret in (SK, TEMP_SK, SECURITY_TOKEN, IAM_PASSWORD):
        assert secret not in everything
