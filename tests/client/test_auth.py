"""Credentials (``client/auth.py``) against the emulator: AK/SK, temporary AK/SK, IAM tokens, their
checks; and no secret leaks into logs or errors."""

from __future__ import annotations

import logging
import re
import threading

import pytest

from airflow_provider_hwocr.client import (
    AkSkCredentials,
    HuaweiOcrAuthError,
    HuaweiOcrConfigurationError,
    HuaweiOcrError,
    IamTokenCredentials,
    OcrClient,
)
from tests.helpers.client_support import (
    BODY,
    SLUG,
    aksk_client,
    closed_port,
    fast_policy,
    token_client,
    token_credentials,
)
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

AUTH_HEADER = re.compile(
    r"^SDK-HMAC-SHA256 Access=(?P<ak>[^,]+), SignedHeaders=(?P<names>[^,]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


def signed_names(call) -> list[str]:
    match = AUTH_HEADER.match(call.headers["authorization"])
    assert match, call.headers["authorization"]
    return match["names"].split(";")


# --- AK/SK ------------------------------------------------------------------------------------


def test_aksk_request_as_received(emulator):
    with aksk_client(emulator) as client:
        response = client.call(SLUG, BODY, enterprise_project_id="0")
    assert response.status_code == 200 and response.attempts == 1
    assert response.request_id and len(response.request_id) == 32
    (call,) = emulator.calls(SLUG)
    assert call.status == 200 and call.auth_mode == "aksk"
    assert call.path == f"/v2/{PROJECT_ID}/ocr/{SLUG}"
    assert call.body == BODY
    h = call.headers
    assert h["x-project-id"] == PROJECT_ID
    assert h["enterprise-project-id"] == "0"
    assert h["content-type"] == "application/json;charset=UTF-8"
    assert h["host"] == emulator.url.removeprefix("http://")  # the port is part of the signed Host
    assert re.fullmatch(r"\d{8}T\d{6}Z", h["x-sdk-date"])
    assert "x-auth-token" not in h
    assert AUTH_HEADER.match(h["authorization"])["ak"] == AK
    assert {"content-type", "host", "x-project-id", "x-sdk-date", "enterprise-project-id"} <= set(
        signed_names(call)
    )


def test_wrong_sk_is_an_auth_error(emulator):
    with pytest.raises(HuaweiOcrAuthError) as info:
        aksk_client(emulator, sk=SK[:-1] + "x").call(SLUG, BODY)
    assert info.value.error_code == "APIG.0301" and info.value.status_code == 401
    assert emulator.count(SLUG, status=401) == 1  # auth errors are not retried


def test_unknown_ak_is_an_auth_error(emulator):
    with pytest.raises(HuaweiOcrAuthError):
        aksk_client(emulator, ak="HPUAQ7WZK3XBEMT5R2DX").call(SLUG, BODY)


def test_temporary_credentials_send_a_signed_security_token(emulator):
    response = aksk_client(emulator, ak=TEMP_AK, sk=TEMP_SK, security_token=SECURITY_TOKEN).call(SLUG, BODY)
    assert response.status_code == 200
    (call,) = emulator.calls(SLUG)
    assert call.headers["x-security-token"] == SECURITY_TOKEN
    assert "x-security-token" in signed_names(call)
    assert AUTH_HEADER.match(call.headers["authorization"])["ak"] == TEMP_AK


def test_temporary_credentials_without_their_token_are_refused(emulator):
    with pytest.raises(HuaweiOcrAuthError):
        aksk_client(emulator, ak=TEMP_AK, sk=TEMP_SK).call(SLUG, BODY)
    (call,) = emulator.calls(SLUG)
    assert "x-security-token" not in call.headers


def test_aksk_repr_hides_secrets():
    creds = AkSkCredentials(AK, SK, security_token=SECURITY_TOKEN)
    client = OcrClient(region=REGION, project_id=PROJECT_ID, credentials=creds)
    for text in (repr(creds), str(creds), repr(client)):
        assert AK not in text and SK not in text and SECURITY_TOKEN not in text
    assert "temporary=True" in repr(creds)


def test_surrounding_spaces_in_keys_are_dropped(emulator):
    assert aksk_client(emulator, ak=f" {AK} ", sk=f"{SK}\n").call(SLUG, BODY).status_code == 200


@pytest.mark.parametrize("ak,sk,field", [("", SK, "ak"), (AK, "", "sk"), (None, SK, "ak"), (AK, "  ", "sk")])
def test_empty_ak_or_sk_is_a_configuration_error(ak, sk, field):
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        AkSkCredentials(ak, sk)
    assert info.value.field == field


# --- IAM token --------------------------------------------------------------------------------


def test_token_fetched_once_and_cached(emulator):
    before = emulator.token_issue_count
    creds = token_credentials(emulator)
    client = token_client(emulator, creds)
    for _ in range(3):
        assert client.call(SLUG, BODY).status_code == 200
    assert emulator.token_issue_count - before == 1
    assert creds.fetch_count == 1
    calls = emulator.calls(SLUG)
    assert len(calls) == 3
    assert all(c.auth_mode == "token" and "authorization" not in c.headers for c in calls)
    assert {c.headers["x-auth-token"] for c in calls} == {creds.current_token()}
    assert calls[0].headers["x-project-id"] == PROJECT_ID


def test_token_shared_by_threads(emulator):
    before = emulator.token_issue_count
    client = token_client(emulator)
    errors: list[BaseException] = []

    def work():
        try:
            client.call(SLUG, BODY)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert emulator.count(SLUG, status=200) == 8
    assert emulator.token_issue_count - before == 1


def test_token_refreshed_once_after_expiry(emulator):
    before = emulator.token_issue_count
    creds = token_credentials(emulator)
    client = token_client(emulator, creds)
    client.call(SLUG, BODY)
    first = creds.current_token()
    emulator.expire_tokens()
    response = client.call(SLUG, BODY)
    assert response.status_code == 200
    assert emulator.token_issue_count - before == 2
    assert creds.current_token() != first
    assert [c.status for c in emulator.calls(SLUG)] == [200, 401, 200]
    assert emulator.calls(SLUG)[1].error_code == "APIG.0301"


def test_token_refresh_happens_only_once_per_call(emulator):
    before = emulator.token_issue_count
    client = token_client(emulator)
    client.call(SLUG, BODY)
    emulator.fail_next(SLUG, 401, "APIG.0301", error_msg="token expires", times=5)
    with pytest.raises(HuaweiOcrAuthError):
        client.call(SLUG, BODY)
    assert emulator.count(SLUG, status=401) == 2  # the try, and one retry with a new token
    assert emulator.token_issue_count - before == 2


def test_token_renewed_before_expiry_with_refresh_margin(emulator):
    now = [1000.0]
    creds = token_credentials(emulator, refresh_margin=300, clock=lambda: now[0])
    client = token_client(emulator, creds)
    client.call(SLUG, BODY)
    now[0] += 86400 - 301  # just before the margin: still cached
    client.call(SLUG, BODY)
    assert creds.fetch_count == 1
    now[0] += 2  # inside the margin: renewed before the service would reject it
    client.call(SLUG, BODY)
    assert creds.fetch_count == 2
    assert emulator.count(SLUG, status=401) == 0


def test_token_request_body_and_endpoint_default(emulator):
    # iam_endpoint=None: the client's IAM endpoint is used.
    creds = IamTokenCredentials(IAM_USER, IAM_PASSWORD, IAM_DOMAIN, REGION)
    client = token_client(emulator, creds)
    assert client.call(SLUG, BODY).status_code == 200
    body = creds._request_body()
    import json

    doc = json.loads(body)
    assert doc == {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": IAM_USER, "password": IAM_PASSWORD, "domain": {"name": IAM_DOMAIN}}}},
        "scope": {"project": {"name": REGION}},
    }}  # fmt: skip


def test_iam_repr_hides_password():
    creds = IamTokenCredentials(IAM_USER, IAM_PASSWORD, IAM_DOMAIN, REGION, "https://iam.example.com")
    assert IAM_PASSWORD not in repr(creds) and IAM_USER in repr(creds)


def test_iam_endpoint_must_be_http():
    with pytest.raises(HuaweiOcrError) as info:
        IamTokenCredentials(IAM_USER, IAM_PASSWORD, IAM_DOMAIN, REGION, "iam.example.com")
    assert info.value.field == "iam_endpoint"


@pytest.mark.parametrize("field", ["user_name", "password", "domain_name", "project_name"])
def test_empty_iam_field_is_a_configuration_error(emulator, field):
    values = {"user_name": "u", "password": "p", "domain_name": "d", "project_name": REGION}
    values[field] = ""
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        IamTokenCredentials(**values, iam_endpoint=emulator.url)
    assert info.value.field == field


def test_iam_wrong_password_is_an_auth_error_without_the_password(emulator):
    creds = token_credentials(emulator, password="wrong-password-123")
    with pytest.raises(HuaweiOcrAuthError) as info:
        token_client(emulator, creds).call(SLUG, BODY)
    assert info.value.status_code == 401
    assert "username or password is wrong" in str(info.value)
    assert "wrong-password-123" not in str(info.value) + repr(info.value)
    assert emulator.count() == 0  # no OCR call without a token


# --- secrets never leak -----------------------------------------------------------------------


def _scenarios(emulator):
    """Failing calls of every kind; each returns the exception raised."""

    def wrong_sk():
        aksk_client(emulator, sk=SK + "x").call(SLUG, BODY)

    def temp_wrong_token():
        aksk_client(emulator, ak=TEMP_AK, sk=TEMP_SK, security_token=SECURITY_TOKEN + "x").call(SLUG, BODY)

    def throttled_exhausted():
        emulator.fail_next(SLUG, 429, "APIG.0308", times=3)
        aksk_client(emulator, retry=fast_policy(max_attempts=3)).call(SLUG, BODY)

    def server_error_echoing_secrets():
        emulator.fail_next(SLUG, 500, "ModelArts.4505", error_msg=f"boom {AK} {SK}")
        aksk_client(emulator, retry=fast_policy(max_attempts=1)).call(SLUG, BODY)

    def server_error_echoing_temporary_secrets():
        emulator.fail_next(SLUG, 500, "ModelArts.4505", error_msg=f"bang {TEMP_SK} {SECURITY_TOKEN}")
        aksk_client(
            emulator, ak=TEMP_AK, sk=TEMP_SK, security_token=SECURITY_TOKEN, retry=fast_policy(max_attempts=1)
        ).call(SLUG, BODY)

    def wrong_password():
        token_client(emulator, token_credentials(emulator, password=IAM_PASSWORD + "x")).call(SLUG, BODY)

    def expired_token_then_refused():
        client = token_client(emulator)
        client.call(SLUG, BODY)
        emulator.expire_tokens()
        emulator.fail_next(SLUG, 401, "APIG.0301", times=2)
        client.call(SLUG, BODY)

    def refused_connection():
        OcrClient(
            region=REGION,
            project_id=PROJECT_ID,
            credentials=AkSkCredentials(AK, SK),
            endpoint=f"http://127.0.0.1:{closed_port()}",
            retry=fast_policy(max_attempts=2),
        ).call(SLUG, BODY)

    def refused_iam_connection():
        creds = IamTokenCredentials(
            IAM_USER, IAM_PASSWORD, IAM_DOMAIN, REGION, f"http://127.0.0.1:{closed_port()}"
        )
        token_client(emulator, creds, retry=fast_policy(max_attempts=2)).call(SLUG, BODY)

    def list_projects_wrong_sk():
        aksk_client(emulator, sk=SK + "y").list_projects(name=REGION)

    return [
        wrong_sk,
        temp_wrong_token,
        throttled_exhausted,
        server_error_echoing_secrets,
        server_error_echoing_temporary_secrets,
        wrong_password,
        expired_token_then_refused,
        refused_connection,
        refused_iam_connection,
        list_projects_wrong_sk,
    ]


def test_secrets_never_in_logs_or_errors(emulator, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, urllib3 included
    # Capture tokens the emulator issues during these scenarios, to look for them too.
    tokens: set[str] = set()
    original = IamTokenCredentials._fetch

    def spy(self, transport):
        token, deadline = original(self, transport)
        tokens.add(token)
        return token, deadline

    IamTokenCredentials._fetch = spy
    texts: list[str] = []
    try:
        for scenario in _scenarios(emulator):
            with pytest.raises(HuaweiOcrError) as info:
                scenario()
            err = info.value
            texts += [str(err), repr(err), *(str(a) for a in err.args)]
    finally:
        IamTokenCredentials._fetch = original
    assert tokens, "the token scenarios should have fetched tokens"
    assert any("attempt" in r.getMessage() for r in caplog.records)  # logging did happen
    everything = "\n".join([caplog.text, *texts, *(r.getMessage() for r in caplog.records)])
    for secret in (AK, SK, TEMP_SK, SECURITY_TOKEN, IAM_PASSWORD, *tokens):
        assert secret not in everything, f"a secret leaked: {secret[:4]}..."
    assert (
        "boom *** ***" in everything and "bang *** ***" in everything
    )  # the echoed secrets were blanked, not dropped silently
