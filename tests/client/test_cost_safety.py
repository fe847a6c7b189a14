"""Cost safety: never pay twice by accident, never pay for a call that must fail.

Each case: the error names the parameter and no request
reached the emulator, or the error has the right type and no retry happened.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airflow_provider_hwocr.client import (
    MAX_BODY_BYTES,
    AkSkCredentials,
    OcrClient,
)
from airflow_provider_hwocr.client.errors import (
    HuaweiOcrConfigurationError,
    HuaweiOcrNotFoundError,
    HuaweiOcrRecognitionError,
    HuaweiOcrThrottledError,
    HuaweiOcrTransientError,
    HuaweiOcrValidationError,
    error_from_response,
)
from airflow_provider_hwocr.errors import (
    HuaweiCloudNonRetryableError,
)
from tests.helpers.client_support import BODY, SLUG, aksk_client, closed_port, fast_policy
from tests.helpers.constants import AK, PROJECT_ID, REGION, SK
from tests.helpers.images import png_header_only

# --- one root, two branches -------------------------------------------------------------


def test_error_table_fixes():
    for code in ("ModelArts.4503", "ModelArts.4504", "ModelArts.4506"):
        err = error_from_response(500, {"error_code": code, "error_msg": "x"})
        assert isinstance(err, HuaweiOcrNotFoundError) and not err.retryable, code
    timeout = error_from_response(504, {"error_code": "APIG.0201", "error_msg": "Backend timeout."})
    throttled = error_from_response(429, {"error_code": "APIG.0308", "error_msg": "limit"})
    assert "2-5 s" in str(timeout) and "2-5 s" not in str(throttled)
    assert isinstance(throttled, HuaweiOcrThrottledError)


# --- billed twice: counted, logged, and a choice ------------------------------------------


def _settled_count(emulator, expected: int) -> int:
    """Calls the emulator recorded, once the slow answers still being sent are in (at most 5 s)."""
    deadline = time.monotonic() + 5
    while emulator.count(SLUG) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    return emulator.count(SLUG)


def _faulty(emulator, **rates) -> None:
    for name, value in rates.items():
        setattr(emulator.config, name, value)


@pytest.mark.parametrize(
    ("fault", "risk"),
    [("truncate_rate", "truncated"), ("drop_rate", "connection_lost"), ("slow_rate", "read_timeout")],
)
def test_possibly_billed_failures_are_retried_counted_and_logged(emulator, caplog, fault, risk):
    _faulty(emulator, **{fault: 1.0, "slow_reply_seconds": 0.6})
    client = aksk_client(emulator, timeout=(2.0, 0.3), retry=fast_policy(max_attempts=3))
    caplog.set_level(logging.WARNING, logger="airflow_provider_hwocr.client")
    with pytest.raises(HuaweiOcrTransientError) as info:
        client.call(SLUG, BODY)
    err = info.value
    assert err.billing_risk == risk and err.possibly_billed
    assert err.attempts == 3 and err.billed_retries == 2
    assert _settled_count(emulator, 3) == 3
    assert sum("may have billed it" in r.getMessage() for r in caplog.records) == 2
    billable = emulator.stats()["apis"][SLUG]["billable"]
    assert billable == (3 if risk != "connection_lost" else 0)  # the emulator bills answers it sent


@pytest.mark.parametrize("fault", ["truncate_rate", "drop_rate", "slow_rate"])
def test_possibly_billed_failures_are_not_retried_when_switched_off(emulator, caplog, fault):
    _faulty(emulator, **{fault: 1.0, "slow_reply_seconds": 0.6})
    client = aksk_client(
        emulator, timeout=(2.0, 0.3), retry=fast_policy(max_attempts=5, retry_possibly_billed=False)
    )
    caplog.set_level(logging.WARNING, logger="airflow_provider_hwocr.client")
    with pytest.raises(HuaweiOcrTransientError) as info:
        client.call(SLUG, BODY)
    assert info.value.attempts == 1 and info.value.billed_retries == 0
    assert _settled_count(emulator, 1) == 1
    assert "not retried because retry_possibly_billed is off" in caplog.text


def test_other_transient_failures_are_still_retried_and_not_counted(emulator):
    emulator.fail_next(SLUG, 503, "ModelArts.4403", times=2)
    client = aksk_client(emulator, retry=fast_policy(retry_possibly_billed=False))
    response = client.call(SLUG, BODY)
    assert response.attempts == 3 and response.billed_retries == 0 and not response.possibly_billed_twice
    refused = OcrClient(
        region=REGION, project_id=PROJECT_ID, credentials=AkSkCredentials(AK, SK),
        endpoint=f"http://127.0.0.1:{closed_port()}", retry=fast_policy(max_attempts=2),
    )  # fmt: skip
    with pytest.raises(HuaweiOcrTransientError) as info:
        refused.call(SLUG, BODY)
    assert info.value.billing_risk is None and info.value.attempts == 2  # never sent: never billed


def test_billed_retries_match_the_emulators_billing_under_random_faults(emulator):
    _faulty(emulator, truncate_rate=0.3, error_503_rate=0.1)
    # Seeded: unseeded, ten failed tries in a row (0.4 ** 10 per call, ~0.4 % per test) failed CI once.
    emulator.reseed(20261202)
    client = aksk_client(emulator, retry=fast_policy(max_attempts=10))
    responses = [client.call(SLUG, BODY) for _ in range(40)]
    billable = emulator.stats()["apis"][SLUG]["billable"]
    assert sum(r.billed_retries for r in responses) == billable - 40 > 0


# --- rejected before any call ---------------------------------------------------------------


def test_timeout_given_to_the_client_must_be_finite_and_positive():
    for bad in (math.nan, math.inf, 0, (10, math.nan), (-1, 5)):
        with pytest.raises(HuaweiOcrConfigurationError, match="timeout"):
            OcrClient(region=REGION, project_id=PROJECT_ID, credentials=AkSkCredentials(AK, SK), timeout=bad)


def test_body_over_10_mb_is_refused_although_the_image_is_under_its_limit(emulator):
    # Base64 4 bytes under the 10 MiB image limit: the JSON around it makes the body too big.
    image = png_header_only(100, 100)
    target = (MAX_BODY_BYTES - 4) // 4 * 3
    image += b"\0" * (target - len(image))
    assert 4 * math.ceil(len(image) / 3) <= MAX_BODY_BYTES
    client = aksk_client(emulator)
    with pytest.raises(HuaweiOcrValidationError) as info:
        client.recognize(SLUG, image=image, detect_direction=True)
    assert info.value.parameter == "image" and "10 MB" in str(info.value)
    assert emulator.count() == 0


@pytest.mark.parametrize("proxy", ["http://proxy.example:notaport", "ftp://proxy.example:21", "http://:3128"])
def test_malformed_proxy_is_reported_as_proxy_before_any_call(emulator, proxy):
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        aksk_client(emulator, proxy=proxy)
    assert info.value.field == "proxy" and "proxy" in str(info.value)
    assert emulator.count() == 0


def test_socks_proxy_without_pysocks_is_a_configuration_error(emulator):
    pytest.importorskip("requests")
    try:
        import socks  # noqa: F401

        pytest.skip("PySocks is installed here")
    except ImportError:
        pass
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        aksk_client(emulator, proxy="socks5://127.0.0.1:1080")
    assert info.value.field == "proxy" and "PySocks" in str(info.value)
    assert not info.value.retryable and emulator.count() == 0


# --- auto-classification: billed per recognised document ---------------------------------------


@contextmanager
def canned_server(payload: dict):
    body = json.dumps(payload).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _doc(code: str, kind: str = "quota_invoice") -> dict:
    return {"status": {"error_code": code, "error_msg": "x"}, "type": kind, "content": {}}


def test_auto_classification_reports_each_document_and_fails_when_none_was_recognised():
    from airflow_provider_hwocr.catalog import get_api
    from airflow_provider_hwocr.runtime.envelopes import summarize

    client_args = {"region": "cn-north-4", "project_id": PROJECT_ID, "credentials": AkSkCredentials(AK, SK)}
    mixed = [_doc("AIS.0000"), _doc("AIS.0104", "taxi_invoice"), _doc("AIS.0000", "train_ticket")]
    with canned_server({"result": mixed}) as url:
        response = OcrClient(endpoint=url, **client_args).call(
            "auto-classification", {"image": BODY["image"]}
        )
    assert response.recognised_documents == 2
    assert [d["ok"] for d in response.documents] == [True, False, True]
    summary = summarize(get_api("auto-classification"), response.result)
    assert summary["documents_recognised"] == 2 and summary["documents_failed"] == 1
    assert summary["failed_documents"] == [{"type": "taxi_invoice", "error_code": "AIS.0104"}]

    failing = canned_server({"result": [_doc("AIS.0104"), _doc("AIS.0103")]})
    with failing as url, pytest.raises(HuaweiOcrRecognitionError) as info:
        OcrClient(endpoint=url, retry=fast_policy(), **client_args).call(
            "auto-classification", {"image": BODY["image"]}
        )
    err = info.value
    assert isinstance(err, HuaweiCloudNonRetryableError) and err.attempts == 1
    assert [d["error_code"] for d in err.documents] == ["AIS.0104", "AIS.0103"]
    assert "not billed" in str(err)
