"""The emulator's HTTP server (``emulator/server.py``): routing, the request pipeline's order, project and
subscription checks, control paths, reset, keep-alive, concurrency and stopping.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator, example_response
from tests.helpers.b_service import SMALL_PNG, Service, code_of, service
from tests.helpers.b_signed import PNG_B64, REQUEST_ID, call, error_of, ocr_path, send, sign
from tests.helpers.constants import AK, IAM_DOMAIN, IAM_PASSWORD, IAM_USER, PROJECT_ID, SK

# --- routing, project and subscription -----------------------------------------


def test_v1_alias_of_auto_classification(emulator):
    response = call(emulator, "auto-classification", {"image": PNG_B64}, path="/v1.0/ocr/auto-classification")
    assert response.status_code == 200, response.text
    assert response.json() == example_response("auto-classification")
    assert emulator.calls("auto-classification")[0].path == "/v1.0/ocr/auto-classification"


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


def test_auth_is_checked_before_the_body(emulator):
    response = requests.post(f"{emulator.url}{ocr_path('general-text')}", data=b"{not json", timeout=10)
    assert response.status_code == 401


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


# --- control paths and reset -------------------------------------------------------


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


def test_rates_can_be_changed_on_a_running_emulator_and_reset_restores_them():
    with service() as s:
        s.emu.config.error_503_rate = 1.0
        s.emu.config.not_subscribed.add("passport")
        assert s.ocr("general-text").status_code == 503
        assert code_of(s.ocr("passport")) == (403, "ModelArts.4204")
        s.emu.reset()
        assert s.ocr("general-text").status_code == 200
        assert s.ocr("passport").status_code == 200


# --- connections, concurrency, stopping ----------------------------------------------


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


def test_stop_wakes_requests_sleeping_in_latency():
    emulator = OcrEmulator(
        EmulatorConfig(
            project_id=PROJECT_ID, iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD}, latency_ms=30_000
        )
    ).start()
    s = Service(emulator)
    errors: list[BaseException] = []

    def slow_call() -> None:
        try:
            s.ocr("passport", timeout=20)
        except requests.RequestException as exc:
            errors.append(exc)

    worker = threading.Thread(target=slow_call)
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    emulator.stop()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert time.monotonic() - started < 5


def test_json_answers_are_valid_utf8_json():
    with service() as s:
        raw = s.ocr("vietnam-id-card").content
        assert json.loads(raw.decode("utf-8"))["result"]["sex"] == "Nữ"


# --- reading the body ------------------------------------------------------------------------


def test_chunked_bodies_are_read_and_bodies_over_the_read_limit_are_refused_unread():
    with service(max_read_bytes=64 * 1024) as s:
        url = f"{s.url}/v2/{PROJECT_ID}/ocr/general-text"
        headers = {"X-Auth-Token": s.token, "Content-Type": "application/json"}
        body = json.dumps({"image": SMALL_PNG}).encode()
        chunked = s.http.post(url, data=iter([body[:10], body[10:]]), headers=headers, timeout=10)
        assert chunked.status_code == 200, chunked.text
        assert s.emu.calls("general-text")[0].headers["transfer-encoding"] == "chunked"
        big = requests.post(url, data=b"x" * (64 * 1024 + 1), headers=headers, timeout=10)
        assert code_of(big) == (400, "ModelArts.4104")
        assert big.headers["Connection"] == "close"
        assert s.emu.count() == 1  # refused before it was an OCR call
