"""``hwocr-emulator`` (``emulator/cli.py``): flags and environment variables, refused options, and the
emulator served from a subprocess until a signal stops it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from airflow_provider_hwocr.catalog import APIS, get_api, region_support
from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator, cli
from airflow_provider_hwocr.emulator.config import DEFAULT_PROJECT_ID, DEFAULT_REGION
from tests.helpers.b_service import Service, code_of
from tests.helpers.b_signed import PNG_B64, ocr_path, sign
from tests.helpers.constants import AK, IAM_DOMAIN, IAM_PASSWORD, IAM_USER, PROJECT_ID, REGION, SK


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


def test_cli_serves_until_interrupted():
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_hwocr.emulator", "--port", "0", "--ak", AK, "--sk", SK,
         "--project-id", PROJECT_ID, "--region", REGION],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        assert requests.get(f"{url}/_emulator/health", timeout=5).json() == {"status": "ok"}
        request = sign(url, ocr_path("general-text"), json.dumps({"image": PNG_B64}).encode())
        response = requests.post(
            f"{url}{request.uri}", headers=request.header_params, data=request.body, timeout=5
        )
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()


def test_each_flag_has_its_environment_variable():
    assert cli.env_name("--error-500-rate") == "HWOCR_EMULATOR_ERROR_500_RATE"
    help_text = " ".join(cli.parser().format_help().split())
    assert all(f"[env {cli.env_name(flag)}]" in help_text for flag in ("--qps-api", "--ocr"))
    with pytest.raises(SystemExit):
        cli.parse([], {"HWOCR_EMULATOR_ALLOW_REMOTE": "maybe"})
    with pytest.raises(SystemExit):
        cli.parse([], {"HWOCR_EMULATOR_OCR": "easyocr"})


def test_the_banner_echoes_a_generated_secret_only_and_names_the_knobs():
    config = EmulatorConfig(
        credentials={AK: SK}, project_id=PROJECT_ID, ocr_engine="synthetic", latency_ms=5, seed=3,
        qps_limits={"passport": 2},
    )  # fmt: skip
    with OcrEmulator(config) as emu:
        chosen, generated, url = cli.banner(emu, False), cli.banner(emu, True), emu.url
    assert url in chosen[0] and chosen[-1] == "  Ctrl-C to stop"
    assert not any(SK in line for line in chosen) and any(SK in line for line in generated)
    (knobs,) = [line for line in chosen if "behaviour:" in line]
    assert "latency 5 ms" in knobs and "passport 2 requests/s" in knobs and "seed 3" in knobs


def test_region_given_plays_that_region_and_none_serves_every_api():
    everywhere = cli.config_from_args(cli.parse([], {}))
    assert (everywhere.region, everywhere.region_only) == ("cn-north-4", False)
    beijing = cli.config_from_args(cli.parse(["--region", "cn-north-4"], {}))
    assert (beijing.region, beijing.region_only) == ("cn-north-4", True)
    assert cli.config_from_args(cli.parse([], {"HWOCR_EMULATOR_REGION": "cn-east-3"})).region_only is True
    served = cli.config_from_args(
        cli.parse(["--serve-retired", "id-document", "--lockout-seconds", "1.5"], {})
    )
    assert (served.serve_retired, served.lockout_seconds) == ({"id-document"}, 1.5)
    with OcrEmulator(beijing) as emu:
        text = "\n".join(cli.banner(emu, generated_key=False))
    assert "region cn-north-4 (only the APIs its endpoint tables list)" in text
    with pytest.raises(SystemExit):
        cli.config_from_args(cli.parse(["--serve-retired", "no-such-api"], {}))


def test_without_region_or_project_id_it_plays_cn_north_4_with_a_fixed_project():
    """One region for local work: the docs' cn-north-4, and a project id a connection printed
    elsewhere (hwocr-object-server) can name, the same on every start."""
    config = cli.config_from_args(cli.parse([], {}))
    assert (
        (config.region, config.project_id)
        == (DEFAULT_REGION, DEFAULT_PROJECT_ID)
        == (
            "cn-north-4",
            "0123456789abcdef0123456789abcdef",
        )
    )
    assert cli.config_from_args(cli.parse([], {})).project_id == config.project_id  # not random
    assert re.fullmatch(r"[0-9a-f]{32}", DEFAULT_PROJECT_ID)
    assert (EmulatorConfig().region, EmulatorConfig().project_id) == (DEFAULT_REGION, DEFAULT_PROJECT_ID)
    with OcrEmulator(config) as emu:
        text = "\n".join(cli.banner(emu, generated_key=False))
    assert (
        f"every live API, as region cn-north-4 (--region R plays one region), project id {DEFAULT_PROJECT_ID}"
        in text
    )
    helps = {action.dest: action.help or "" for action in cli.parser()._actions}
    assert (
        "as region cn-north-4" in helps["region"]
        and f"(default: {DEFAULT_PROJECT_ID})" in helps["project_id"]
    )


def test_without_region_every_live_api_is_served_even_those_cn_north_4_does_not_offer():
    """cn-north-4's endpoint tables leave out international APIs (thailand-id-card, ...); the default
    emulator still serves them (the demo and the tests call them); --region cn-north-4 does not."""
    outside = [a.slug for a in APIS if a.live and region_support(a, "cn-north-4").verdict == "unlisted"]
    assert "thailand-id-card" in outside

    def status(emu: OcrEmulator, slug: str) -> tuple[int, str | None]:
        body = json.dumps({get_api(slug).image_field: PNG_B64}).encode()
        request = sign(
            emu, ocr_path(slug, DEFAULT_PROJECT_ID), body, headers={"X-Project-Id": DEFAULT_PROJECT_ID}
        )
        response = requests.post(
            f"{emu.url}{request.uri}", headers=request.header_params, data=request.body, timeout=30
        )
        return response.status_code, response.json().get("error_code")

    for argv, served in (([], True), (["--region", "cn-north-4"], False)):
        config = cli.config_from_args(
            cli.parse([*argv, "--ak", AK, "--sk", SK, "--results", "documented"], {})
        )
        with OcrEmulator(config) as emu:
            assert status(emu, "general-text") == (200, None)
            assert status(emu, "thailand-id-card") == ((200, None) if served else (404, "APIG.0101"))
