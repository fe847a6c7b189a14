"""``hwocr-object-server`` (``testing/cli.py``): the command itself, run as a process, and the banner
and connection it prints."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from airflow_provider_hwocr.testing import cli
from airflow_provider_hwocr.testing.object_server import MISSING_MOTO
from tests.helpers.constants import AK, PROJECT_ID, REGION, SK
from tests.helpers.paths import REPO

BIN = Path(sys.executable).parent


def test_object_server_command_prints_a_connection_that_works_when_pasted(tmp_path, emulator):
    """Issue 20: the printed connection held the placeholder "<the --sk value>" as its password.
    Now the printed ``export`` line, pasted into a real shell as it is, gives a connection that
    writes and lists the bucket the server created and makes a signed OCR call to the emulator."""
    out = tmp_path / "out.txt"
    argv = [str(BIN / "hwocr-object-server"), "--bucket", "cli-bucket", "--ak", AK, "--sk", SK]
    argv += ["--ocr-endpoint", emulator.url, "--project-id", PROJECT_ID, "--region", REGION]
    with open(out, "wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C" not in out.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, out.read_text()
            time.sleep(0.2)
        text = out.read_text()
        first = text.splitlines()[0]
        assert first.startswith("Local object server") and "http://127.0.0.1:" in first
        url = first.rsplit(" ", 1)[-1]
        (line,) = [x.strip() for x in text.splitlines() if x.strip().startswith("export AIRFLOW_CONN_")]
        assert "<the --sk value>" not in text

        # the line exactly as printed, in a shell, then a process that uses the connection
        check = tmp_path / "check.py"
        check.write_text(CHECK_SCRIPT)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
        done = subprocess.run(
            ["bash", "-c", f'{line}\n"{sys.executable}" "{check}"'],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=REPO,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["listed"] == ["a/b.txt"] and report["obs_endpoint"] == url
        assert report["ocr_status"] == "ok" and emulator.count("general-text") == 1
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 0  # SIGTERM is a clean stop


#: Run in a shell after the pasted ``export``: OBS through the printed connection, then one OCR call.
CHECK_SCRIPT = """
import json, os
from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook
from tests.helpers.images import png

conn = json.loads(os.environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"])
hook = HuaweiObsHook()
hook.put_bytes("cli-bucket", "a/b.txt", b"hello")
listed = hook.list_keys("cli-bucket", "a/")
hook.close()
answer = HuaweiOcrHook().recognize("general-text", image=png((320, 140), "PASTED"))
print(json.dumps({"listed": listed, "obs_endpoint": conn["extra"]["obs_endpoint"],
                  "ocr_status": "ok" if answer.result else "empty"}))
"""


def test_without_moto_the_command_names_the_extra_in_one_line(tmp_path):
    """Issue 20: a missing moto was a 19-line traceback that named no extra."""
    blocker = tmp_path / "sitecustomize.py"  # this interpreter, as if moto were not installed
    blocker.write_text("import sys\nsys.modules['moto'] = None\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(
        [str(BIN / "hwocr-object-server"), "--bucket", "b-1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [f"hwocr-object-server: {MISSING_MOTO}"]
    assert "airflow-provider-hwocr[object-server]" in done.stderr and "Traceback" not in done.stderr
    helped = subprocess.run(
        [str(BIN / "hwocr-object-server"), "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "airflow-provider-hwocr[object-server]" in " ".join(helped.stdout.split())


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


def _exported(banner_lines):
    (line,) = [x.strip() for x in banner_lines if x.strip().startswith("export ")]
    return json.loads(shlex.split(line.split("=", 1)[1])[0])


def test_banner_prints_the_connection_as_it_works():
    url = "http://127.0.0.1:5000"
    chosen = cli.banner(url, cli.parser().parse_args(["--ak", AK, "--sk", SK, "--bucket", "cli-bucket"]))
    text = "\n".join(chosen)
    assert _exported(chosen)["password"] == SK and "<the --sk value>" not in text
    assert chosen[0] == f"Local object server (OBS/S3 API) listening on {url}"
    assert "  buckets: cli-bucket" in chosen and "placeholders" not in text
    placeholders = cli.banner(url, cli.parser().parse_args([]))
    assert "placeholders" in "\n".join(placeholders) and "buckets" not in "\n".join(placeholders)
    assert _exported(placeholders)["password"] == cli._PLACEHOLDER_SK
    # quoted for a shell whatever the values hold
    quoted = cli.export_line({"password": "it's $HOME `x`"})
    assert shlex.split(quoted.split("=", 1)[1]) == [json.dumps({"password": "it's $HOME `x`"})]


@pytest.mark.parametrize("port", ["-1", "65536"])
def test_main_refuses_a_bad_port_before_starting(port, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--port", port])
    assert info.value.code == 2 and f"not a port: {port}" in capsys.readouterr().err
