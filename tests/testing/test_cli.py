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
