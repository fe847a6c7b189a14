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
from tests.helpers.b_images import b64, image_bytes
from tests.helpers.b_service import SMALL_PNG, Service, code_of, service
from tests.helpers.b_signed import PNG_B64, REQUEST_ID, call, error_of, ocr_path, send, sign
from tests.helpers.constants import AK, IAM_DOMAIN, IAM_PASSWORD, IAM_USER, PROJECT_ID, REGION, SK

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
            project_id=PROJECT_ID,
            region=REGION,
            iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD},
            latency_ms=30_000,
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


# --- one region, or all; withdrawn APIs; the invoice limit -------------------------------


class _Playing:
    """An emulator of its own for ``region`` (the IAM project is that region too), with a token client."""

    def __init__(self, region: str, **knobs) -> None:
        config = EmulatorConfig(
            project_id=PROJECT_ID, region=region, iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD}, **knobs
        )
        self.emulator = OcrEmulator(config)

    def __enter__(self) -> Service:
        self.emulator.start()
        return _RegionService(self.emulator)

    def __exit__(self, *exc) -> None:
        self.emulator.stop()


class _RegionService(Service):
    def new_token(self) -> str:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": IAM_USER, "password": IAM_PASSWORD, "domain": {"name": IAM_DOMAIN}}
                    },
                },
                "scope": {"project": {"name": self.emu.config.region}},
            }
        }
        response = self.http.post(f"{self.url}/v3/auth/tokens", json=body, timeout=10)
        assert response.status_code == 201, response.text
        return response.headers["X-Subject-Token"]


def test_by_default_every_live_api_is_served_whatever_the_region():
    from airflow_provider_hwocr.catalog import LIVE_APIS

    image = b64(image_bytes(size=(320, 200)))
    with _Playing("la-south-2") as s:  # a region with two APIs in the tables
        for api in LIVE_APIS:
            if api.image_field is None:
                body = {"code": "0", "number": "1", "issue_date": "2024-01-01", "check_code": "123456"}
            else:
                body = {api.image_field: image}
            assert s.ocr(api.slug, body).status_code == 200, api.slug


def test_with_region_only_an_api_outside_the_region_is_answered_as_the_service_does():
    with _Playing("cn-north-4", region_only=True) as s:
        assert s.ocr("general-text").status_code == 200  # the mainland table lists it in cn-north-4
        assert s.ocr("handwriting").status_code == 200
        outside = s.ocr("thailand-id-card")  # the tables list it in ap-southeast-2 only
        assert code_of(outside) == (404, "APIG.0101")
        assert "not offered in region cn-north-4" in outside.headers["X-Emulator-Detail"]
        assert s.ocr("hk-id-card").status_code == 200  # no table lists it anywhere: served, not refused
        assert s.emu.stats()["billable"] == 3
    with _Playing("ap-southeast-2", region_only=True) as s:
        assert s.ocr("thailand-id-card").status_code == 200
        assert code_of(s.ocr("handwriting")) == (404, "APIG.0101")


def test_region_only_is_checked_before_authentication(emulator):
    emulator.config.region, emulator.config.region_only = "ap-southeast-3", True
    try:
        response = requests.post(f"{emulator.url}{ocr_path('passport')}", json={}, timeout=10)
        assert (response.status_code, error_of(response)) == (404, "APIG.0101")
    finally:
        emulator.config.region = "ap-southeast-1"
    emulator.reset()
    assert emulator.config.region_only is False


@pytest.mark.parametrize("slug", ["id-document", "custom-template", "waybill-electronic"])
def test_a_withdrawn_api_is_gone_unless_the_account_is_still_served(emulator, slug):
    response = call(emulator, slug, {"image": PNG_B64})
    assert (response.status_code, error_of(response)) == (404, "APIG.0101")
    assert "the vendor" in response.headers["X-Emulator-Detail"]
    emulator.config.serve_retired = {slug}
    body = {"image": PNG_B64, **({"template_id": "t1"} if slug == "custom-template" else {})}
    assert call(emulator, slug, body).status_code == 200


def test_an_invoice_is_checked_at_most_five_times_a_day(emulator):
    invoice = {
        "code": "011002100111",
        "number": "12345678",
        "issue_date": "2024-05-20",
        "check_code": "123456",
    }
    for _ in range(5):
        assert call(emulator, "invoice-verification", invoice).status_code == 200
    sixth = call(emulator, "invoice-verification", invoice)
    assert (sixth.status_code, error_of(sixth)) == (400, "AIS.0101")
    assert "more than 5 times today" in sixth.headers["X-Emulator-Detail"]
    other = {**invoice, "number": "12345679"}
    assert call(emulator, "invoice-verification", other).status_code == 200
    assert emulator.count("invoice-verification", 200) == 6


def test_invoice_verification_takes_no_image_and_its_required_fields(emulator):
    invoice = {
        "code": "011002100111",
        "number": "12345678",
        "issue_date": "2024-05-20",
        "check_code": "123456",
    }
    assert error_of(call(emulator, "invoice-verification", {**invoice, "image": PNG_B64})) == "AIS.0101"
    assert error_of(call(emulator, "invoice-verification", {"code": "1", "number": "2"})) == "AIS.0101"
    fully_digital = {**invoice, "code": "", "subtotal_amount": "88.00"}
    answer = call(emulator, "invoice-verification", fully_digital)
    assert answer.status_code == 200 and answer.headers["X-Emulator-Ocr"] == "shape"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_truncated_image_gets_the_documented_error_and_is_not_billed(emulator, fmt):
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 160), "white")
    ImageDraw.Draw(image).text((10, 10), "cut short", fill="black")
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    whole = buf.getvalue()
    cut = base64.b64encode(whole[: len(whole) * 2 // 3]).decode()
    response = call(emulator, "general-text", {"image": cut})
    assert (response.status_code, error_of(response)) == (400, "AIS.0104")
    assert "cut short or broken" in response.headers["X-Emulator-Detail"]
    assert call(emulator, "general-text", {"image": base64.b64encode(whole).decode()}).status_code == 200
    assert emulator.stats()["billable"] == 1
