"""Typed OCR errors (``client/errors.py``): from real emulator answers, from ``error_from_response``
directly, and the catalog's error codes they are chosen by."""

from __future__ import annotations

import json
import pickle
import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from airflow_provider_hwocr.catalog import ERROR_CODES
from airflow_provider_hwocr.client import (
    HuaweiOcrAuthError,
    HuaweiOcrConfigurationError,
    HuaweiOcrError,
    HuaweiOcrInvalidInputError,
    HuaweiOcrNotFoundError,
    HuaweiOcrNotSubscribedError,
    HuaweiOcrRecognitionError,
    HuaweiOcrThrottledError,
    HuaweiOcrTransientError,
    HuaweiOcrValidationError,
    error_from_response,
)
from airflow_provider_hwocr.client.errors import parse_retry_after
from tests.helpers.client_support import BODY, SLUG, aksk_client, fast_policy
from tests.helpers.constants import AK, REGION, SK

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


# --- every class from a real response ---------------------------------------------------------


CASES = [
    (400, "AIS.0101", HuaweiOcrInvalidInputError),
    (400, "AIS.0102", HuaweiOcrInvalidInputError),
    (400, "AIS.0103", HuaweiOcrInvalidInputError),
    (400, "AIS.0104", HuaweiOcrInvalidInputError),
    (400, "ModelArts.4603", HuaweiOcrInvalidInputError),
    (400, "AIS.0105", HuaweiOcrRecognitionError),
    (401, "APIG.0301", HuaweiOcrAuthError),
    (403, "ModelArts.4203", HuaweiOcrAuthError),
    (403, "ModelArts.6201", HuaweiOcrAuthError),
    (403, "ModelArts.4204", HuaweiOcrNotSubscribedError),
    (404, "APIG.0101", HuaweiOcrNotFoundError),
    (429, "APIG.0308", HuaweiOcrThrottledError),
    (429, "ModelArts.4401", HuaweiOcrThrottledError),
    (500, "ModelArts.4505", HuaweiOcrTransientError),
    (504, "APIG.0201", HuaweiOcrTransientError),
    # codes the catalog does not know: the HTTP status decides
    (400, "AIS.9999", HuaweiOcrInvalidInputError),
    (403, "APIGW.0999", HuaweiOcrAuthError),
    (502, "XYZ.0001", HuaweiOcrTransientError),
]


@pytest.mark.parametrize("status,code,cls", CASES, ids=[c[1] + f"-{c[0]}" for c in CASES])
def test_error_class_from_real_response(emulator, status, code, cls):
    client = aksk_client(emulator, retry=fast_policy(max_attempts=1))
    emulator.fail_next(SLUG, status, code, error_msg=f"scripted {code}")
    with pytest.raises(HuaweiOcrError) as info:
        client.call(SLUG, BODY)
    err = info.value
    assert type(err) is cls
    assert err.error_code == code
    assert err.error_msg == f"scripted {code}"
    assert err.status_code == status
    assert err.api == SLUG and err.region == REGION
    assert err.request_id and REQUEST_ID.match(err.request_id)
    assert err.attempts == 1
    text = str(err)
    assert text.startswith(f"[{code}] scripted {code}")
    assert f"api={SLUG}" in text and f"HTTP {status}" in text and f"request_id={err.request_id}" in text
    assert emulator.count(SLUG) == 1


def test_retryable_flags():
    assert HuaweiOcrThrottledError.retryable and HuaweiOcrTransientError.retryable
    for cls in (
        HuaweiOcrInvalidInputError,
        HuaweiOcrAuthError,
        HuaweiOcrNotSubscribedError,
        HuaweiOcrNotFoundError,
        HuaweiOcrRecognitionError,
        HuaweiOcrValidationError,
    ):
        assert not cls.retryable


def test_not_subscribed_for_real_names_api_and_region(emulator):
    emulator.config.not_subscribed.add(SLUG)
    client = aksk_client(emulator)
    with pytest.raises(HuaweiOcrNotSubscribedError) as info:
        client.call(SLUG, BODY)
    err = info.value
    assert isinstance(err, HuaweiOcrAuthError)
    assert err.error_code == "ModelArts.4204" and err.status_code == 403
    text = str(err)
    assert f"Subscribe to the '{SLUG}' API in the OCR console of region {REGION}" in text
    assert "CN-Hong Kong" in text
    assert emulator.count(SLUG) == 1  # never retried


def test_not_found_for_real_points_at_region_endpoint_project(emulator):
    client = aksk_client(emulator, endpoint=emulator.url + "/wrong-prefix")
    with pytest.raises(HuaweiOcrNotFoundError) as info:
        client.call(SLUG, BODY)
    text = str(info.value)
    assert info.value.error_code == "APIG.0101" and info.value.status_code == 404
    assert "region" in text and "endpoint" in text and "project id" in text


def test_not_found_names_regions_offering_the_api():
    err = error_from_response(
        404,
        {"error_code": "APIG.0101", "error_msg": "nope"},
        {},
        api="chile-id-card",
        region="ap-southeast-1",
    )
    assert "'chile-id-card' is offered in: la-south-2." in str(err)


def test_wrong_project_id_is_an_auth_error_from_the_service(emulator):
    client = aksk_client(emulator, project_id="f" * 32)
    with pytest.raises(HuaweiOcrAuthError) as info:
        client.call(SLUG, BODY)
    assert info.value.error_code == "ModelArts.4203"


def test_error_codes_cover_the_retry_classes():
    assert ERROR_CODES["APIG.0308"].category == "throttled"
    assert ERROR_CODES["ModelArts.4204"].category == "not_subscribed"
    for code in ("AIS.0101", "AIS.0102", "AIS.0103", "AIS.0104"):
        assert ERROR_CODES[code].category == "invalid_input"


# --- error_from_response ----------------------------------------------------------------------


def test_nested_result_shape_of_general_table():
    body = json.dumps(
        {"result": {"error_code": "AIS.0103", "error_msg": "The image size does not meet the requirements."}}
    ).encode()
    err = error_from_response(
        400, body, {"X-Request-Id": "rid-1"}, api="general-table", region="ap-southeast-3"
    )
    assert type(err) is HuaweiOcrInvalidInputError
    assert (err.error_code, err.request_id, err.status_code) == ("AIS.0103", "rid-1", 400)
    assert str(err) == (
        "[AIS.0103] The image size does not meet the requirements. "
        "(api=general-table, region=ap-southeast-3, HTTP 400, request_id=rid-1)"
    )


def test_top_level_shape_from_dict_and_lowercase_headers():
    err = error_from_response(
        429,
        {"error_code": "APIG.0308", "error_msg": "limit"},
        {"x-request-id": "abc", "retry-after": "3"},
        api="passport",
        region="ap-southeast-2",
    )
    assert type(err) is HuaweiOcrThrottledError
    assert err.request_id == "abc" and err.retry_after == 3.0


def test_request_id_from_body_when_header_missing():
    err = error_from_response(
        401, {"error_code": "APIG.0301", "error_msg": "x", "request_id": "from-body"}, None
    )
    assert err.request_id == "from-body"


@pytest.mark.parametrize(
    "status,cls",
    [
        (401, HuaweiOcrAuthError),
        (403, HuaweiOcrAuthError),
        (404, HuaweiOcrNotFoundError),
        (429, HuaweiOcrThrottledError),
        (500, HuaweiOcrTransientError),
        (503, HuaweiOcrTransientError),
        (408, HuaweiOcrTransientError),
        (400, HuaweiOcrInvalidInputError),
        (413, HuaweiOcrInvalidInputError),
        (302, HuaweiOcrError),
    ],
)
def test_status_fallback_without_a_code(status, cls):
    err = error_from_response(status, b"<html>gateway says no</html>", {}, api=SLUG)
    assert type(err) is cls
    assert err.error_code is None
    assert "gateway says no" in str(err) and f"HTTP {status}" in str(err)


def test_keystone_shape_from_iam():
    body = {"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}}
    err = error_from_response(401, body, {})
    assert type(err) is HuaweiOcrAuthError and err.error_msg == "The username or password is wrong."


def test_empty_body_uses_catalog_message_or_status():
    err = error_from_response(500, b"", {})
    assert type(err) is HuaweiOcrTransientError and str(err) == "OCR request failed with HTTP 500. (HTTP 500)"
    err = error_from_response(400, {"error_code": "AIS.0102"}, {})
    assert str(err).startswith("[AIS.0102] The image format is not supported.")


def test_secrets_echoed_by_the_server_are_blanked():
    body = {"error_code": "APIG.0301", "error_msg": f"bad signature for {AK} with {SK}"}
    err = error_from_response(401, body, {}, secrets=(AK, SK))
    assert AK not in str(err) and SK not in str(err) and AK not in repr(err)
    assert "bad signature for *** with ***" in str(err)


def test_retry_after_parsing():
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after(format_datetime(now + timedelta(seconds=42), usegmt=True), now=now) == 42.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=42), usegmt=True), now=now) == 0.0
    assert parse_retry_after("-3") == 0.0
    assert (
        parse_retry_after("soon") is None
        and parse_retry_after(None) is None
        and parse_retry_after("") is None
    )


def test_errors_survive_pickling():
    err = error_from_response(
        429, {"error_code": "APIG.0308", "error_msg": "m"}, {"Retry-After": "2"}, api=SLUG, region=REGION
    )
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is HuaweiOcrThrottledError
    assert (copy.error_code, copy.retry_after, copy.api, str(copy)) == ("APIG.0308", 2.0, SLUG, str(err))
    cfg = pickle.loads(pickle.dumps(HuaweiOcrConfigurationError("project_id")))
    assert cfg.field == "project_id"


# --- raised before any request ----------------------------------------------------------------


def test_validation_error_is_invalid_input_and_value_error():
    err = HuaweiOcrValidationError("image: not an image", parameter="image")
    assert isinstance(err, HuaweiOcrInvalidInputError) and isinstance(err, ValueError)
    assert err.parameter == "image" and err.status_code is None and str(err) == "image: not an image"


def test_configuration_error_with_message_and_field():
    err = HuaweiOcrConfigurationError("connection 'x', field 'sk': missing", field="sk")
    assert err.field == "sk" and str(err) == "connection 'x', field 'sk': missing"
    bare = HuaweiOcrConfigurationError("project_id")
    assert bare.field == "project_id" and "project_id" in str(bare)


# --- AIS.0118 waits hours; a malformed request URL is configuration ------------


def test_ais_0118_is_a_long_delay_error_retried_hours_later():
    from airflow_provider_hwocr.client.errors import HuaweiOcrLongDelayError
    from airflow_provider_hwocr.errors import HuaweiCloudRetryableError, HuaweiCloudTransientError

    err = error_from_response(
        400, {"error_code": "AIS.0118", "error_msg": "tax authority down"}, api="invoice-verification"
    )
    assert type(err) is HuaweiOcrLongDelayError and err.retry_after == 7200.0
    assert isinstance(err, HuaweiCloudRetryableError) and not isinstance(err, HuaweiCloudTransientError)
    assert "retry in about 2 hours" in str(err)


def test_the_client_never_retries_ais_0118_at_once(emulator):
    from airflow_provider_hwocr.client.errors import HuaweiOcrLongDelayError

    emulator.fail_next("invoice-verification", 400, "AIS.0118", times=5)
    body = {"code": "011002100111", "number": "12345678", "issue_date": "2026-11-20"}
    with pytest.raises(HuaweiOcrLongDelayError) as info:
        aksk_client(emulator).call("invoice-verification", body)
    assert info.value.attempts == 1 and emulator.count("invoice-verification") == 1
    assert emulator.stats()["billable"] == 0


@pytest.mark.parametrize("code", ["ModelArts.4201", "ModelArts.4202"])
def test_a_malformed_request_url_is_a_configuration_error_of_the_endpoint(code, emulator):
    from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError

    err = error_from_response(400, {"error_code": code, "error_msg": "Request url format invalid."})
    assert type(err) is HuaweiOcrConfigurationError and err.field == "endpoint"
    assert "not the problem" in str(err) and not err.retryable
    emulator.fail_next("general-text", 400, code)
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        aksk_client(emulator).call("general-text", BODY)
    assert info.value.field == "endpoint" and info.value.attempts == 1
