"""``hwocr-object-server`` (``testing/cli.py``): the command itself, run as a process, and the banner
and connection it prints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from airflow_provider_hwocr.testing import cli
from tests.helpers.airflow_env import CONN_ENV
from tests.helpers.constants import AK, SK

BIN = Path(sys.executable).parent


def test_object_server_command_prints_a_working_connection(tmp_path):
    out = tmp_path / "out.txt"
    with open(out, "wb") as sink:
        proc = subprocess.Popen(
            [str(BIN / "hwocr-object-server"), "--bucket", "cli-bucket", "--ak", AK, "--sk", SK],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C" not in out.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, out.read_text()
            time.sleep(0.2)
        text = out.read_text()
        first = text.splitlines()[0]
        assert first.startswith("Local object server") and "http://127.0.0.1:" in first
        url = first.rsplit(" ", 1)[-1]
        assert SK not in text  # a key the caller chose is not echoed
        line = next(x for x in text.splitlines() if "AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT=" in x)
        conn = json.loads(line.split("=", 1)[1].strip().strip("'"))
        assert conn["conn_type"] == "huaweicloud_ocr" and conn["login"] == AK
        assert conn["extra"]["obs_endpoint"] == url and conn["extra"]["obs_signature"] == "sigv2"
        assert all(len(v) >= 5 for v in conn["extra"].values() if isinstance(v, str))

        # the printed connection (with the real SK put back) reads the bucket it created
        from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

        conn["password"] = SK
        conn["extra"]["project_id"] = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
        os.environ[CONN_ENV] = json.dumps(conn)
        try:
            hook = HuaweiObsHook()
            hook.put_bytes("cli-bucket", "a/b.txt", b"hello")
            assert hook.list_keys("cli-bucket", "a/") == ["a/b.txt"]
            hook.close()
        finally:
            os.environ.pop(CONN_ENV, None)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 0  # SIGTERM is a clean stop


@pytest.mark.parametrize("port", ["-1", "70000"])
def test_object_server_command_rejects_a_bad_port(port):
    done = subprocess.run(
        [str(BIN / "hwocr-object-server"), "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "not a port" in done.stderr


def test_parser_defaults():
    args = cli.parser().parse_args([])
    assert (args.port, args.bucket, args.ak, args.sk, args.region) == (0, [], None, None, "ap-southeast-1")
    args = cli.parser().parse_args(["--bucket", "a-bucket", "--bucket", "b-bucket", "--port", "9000"])
    assert args.bucket == ["a-bucket", "b-bucket"] and args.port == 9000


def test_connection_points_obs_at_the_server_and_ocr_where_asked():
    url = "http://127.0.0.1:5000"
    args = cli.parser().parse_args(["--ak", AK, "--sk", SK, "--ocr-endpoint", "http://127.0.0.1:8790"])
    conn = cli.connection(url, args)
    assert (conn["login"], conn["password"]) == (AK, SK)
    extra = conn["extra"]
    assert extra["obs_endpoint"] == url and extra["obs_path_style"] is True and extra["verify"] is False
    assert extra["endpoint"] == extra["iam_endpoint"] == "http://127.0.0.1:8790"
    assert "project_id" not in extra  # None values are left out
    placeholder = cli.connection(url, cli.parser().parse_args([]))
    assert placeholder["login"] and placeholder["password"] and "endpoint" not in placeholder["extra"]


def test_banner_never_echoes_a_chosen_secret_key():
    url = "http://127.0.0.1:5000"
    chosen = cli.banner(url, cli.parser().parse_args(["--ak", AK, "--sk", SK, "--bucket", "cli-bucket"]))
    text = "\n".join(chosen)
    assert SK not in text and "<the --sk value>" in text
    assert chosen[0] == f"Local object server (OBS/S3 API) listening on {url}"
    assert "  buckets: cli-bucket" in chosen and "placeholders" not in text
    placeholders = "\n".join(cli.banner(url, cli.parser().parse_args([])))
    assert "placeholders" in placeholders and "buckets" not in placeholders
    conn = json.loads(placeholders.split("AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT='", 1)[1].split("'", 1)[0])
    assert conn["password"] == cli._PLACEHOLDER_SK  # a placeholder is no secret: shown as it is


@pytest.mark.parametrize("port", ["-1", "65536"])
def test_main_refuses_a_bad_port_before_starting(port, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--port", port])
    assert info.value.code == 2 and f"not a port: {port}" in capsys.readouterr().err
