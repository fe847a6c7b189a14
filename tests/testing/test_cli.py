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
from airflow_provider_hwocr.testing.connections import LOCAL_PROJECT_ID, LOCAL_REGION
from airflow_provider_hwocr.testing.object_server import MISSING_MOTO
from tests.helpers.constants import AK, PROJECT_ID, REGION, SK
from tests.helpers.images import png
from tests.helpers.obs_env import create_bucket, obs_client
from tests.helpers.paths import REPO

BIN = Path(sys.executable).parent


def test_object_server_command_prints_a_connection_that_works_when_pasted(tmp_path, emulator):
    """Regression: the printed connection held the placeholder "<the --sk value>" as its password.
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
    """Regression: a missing moto was a 19-line traceback that named no extra."""
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
    assert (args.port, args.bucket, args.ak, args.sk, args.region) == (0, [], None, None, "cn-north-4")
    assert args.project_id == LOCAL_PROJECT_ID
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
    assert (extra["region"], extra["project_id"]) == (LOCAL_REGION, LOCAL_PROJECT_ID)  # hwocr-emulator's
    assert "project_id" not in cli.connection(url, cli.parser().parse_args(["--project-id", ""]))["extra"]
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


# --- one region for local work --------------------------------------------------------------------


def test_the_printed_connection_names_the_region_and_project_hwocr_emulator_plays():
    """The emulator without --region/--project-id and the object server's printed connection agree:
    cn-north-4 (the docs' region) and the emulator's fixed project id."""
    from airflow_provider_hwocr.emulator import EmulatorConfig
    from airflow_provider_hwocr.emulator import cli as emulator_cli
    from airflow_provider_hwocr.emulator.config import DEFAULT_PROJECT_ID, DEFAULT_REGION

    emulator = emulator_cli.config_from_args(emulator_cli.parse([], {}))
    banner = cli.banner(
        "http://127.0.0.1:5000", cli.parser().parse_args(["--ocr-endpoint", "http://127.0.0.1:8790"])
    )
    extra = _exported(banner)["extra"]
    assert extra["region"] == emulator.region == EmulatorConfig().region == DEFAULT_REGION == LOCAL_REGION
    assert extra["region"] == "cn-north-4"
    assert extra["project_id"] == emulator.project_id == EmulatorConfig().project_id == DEFAULT_PROJECT_ID
    assert LOCAL_PROJECT_ID == DEFAULT_PROJECT_ID
    assert any(f"airflow connections test {cli.CONN_ID}" in line for line in banner)


def _start(argv: list[str], out: Path, until: str) -> tuple[subprocess.Popen, str]:
    """Start a console script (its own session), wait for ``until`` in its output; (process, output)."""
    with open(out, "wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while until not in out.read_text() and time.monotonic() < deadline:
        assert proc.poll() is None, out.read_text()
        time.sleep(0.2)
    return proc, out.read_text()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=20) == 0


def test_pasted_connection_passes_the_connection_test_next_to_hwocr_emulator(tmp_path, monkeypatch):
    """The quick start: hwocr-emulator and hwocr-object-server with the same AK/SK and no region or
    project flags; the printed connection, as it is, passes the OCR hook's connection test (what
    ``airflow connections test`` runs), and ``upload`` puts a file that a HEAD then sees."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

    keys = ["--ak", AK, "--sk", SK]
    emulator, text = _start(
        [str(BIN / "hwocr-emulator"), "--port", "0", *keys, "--ocr", "synthetic"],
        tmp_path / "emu.txt",
        "Ctrl-C",
    )
    server = None
    try:
        emulator_url = text.splitlines()[0].rsplit(" ", 1)[-1]
        assert emulator_url.startswith("http://127.0.0.1:")
        server, text = _start(
            [
                str(BIN / "hwocr-object-server"),
                "--bucket",
                "paste-bucket",
                *keys,
                "--ocr-endpoint",
                emulator_url,
            ],
            tmp_path / "obs.txt",
            "Ctrl-C",
        )
        (line,) = [x.strip() for x in text.splitlines() if x.strip().startswith("export AIRFLOW_CONN_")]
        conn = json.loads(shlex.split(line.split("=", 1)[1])[0])
        assert (conn["extra"]["region"], conn["extra"]["project_id"]) == ("cn-north-4", LOCAL_PROJECT_ID)

        monkeypatch.setenv(cli.CONN_ENV, json.dumps(conn))
        ok, message = HuaweiOcrHook().test_connection()
        assert ok, message
        assert f"project {LOCAL_PROJECT_ID} is in cn-north-4" in message
        # the test means something: another project id fails it
        monkeypatch.setenv(
            cli.CONN_ENV, json.dumps({**conn, "extra": {**conn["extra"], "project_id": "f" * 32}})
        )
        ok, message = HuaweiOcrHook().test_connection()
        assert not ok and "is not a project of region 'cn-north-4'" in message

        # upload, its endpoint read from the pasted connection
        monkeypatch.setenv(cli.CONN_ENV, json.dumps(conn))
        image = tmp_path / "receipt.png"
        image.write_bytes(png((320, 140), "RECEIPT"))
        done = subprocess.run(
            [str(BIN / "hwocr-object-server"), "upload", str(image), "obs://paste-bucket/incoming/"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "obs://paste-bucket/incoming/receipt.png" in done.stdout
        hook = HuaweiObsHook()
        try:
            assert hook.list_keys("paste-bucket", "incoming/") == ["incoming/receipt.png"]
        finally:
            hook.close()
    finally:
        if server is not None:
            _stop(server)
        _stop(emulator)


def test_upload_puts_a_file_that_a_head_then_sees(tmp_path, obs_server):
    bucket = create_bucket()
    image = tmp_path / "scan one.png"
    image.write_bytes(png())
    assert cli.main(["upload", str(image), f"obs://{bucket}/in/a.png", "--endpoint", obs_server]) == 0
    assert cli.main(["upload", str(image), f"obs://{bucket}/in/", "--endpoint", obs_server]) == 0
    client = obs_client(obs_server)
    try:
        for key in ("in/a.png", "in/scan one.png"):
            head = client.getObjectMetadata(bucket, key)  # a HEAD
            assert head.status == 200, (key, head.errorCode)
            assert (head.body.contentType, int(head.body.contentLength)) == ("image/png", len(png()))
    finally:
        client.close()


def test_upload_says_what_is_wrong(tmp_path, obs_server, capsys):
    image = tmp_path / "a.txt"
    image.write_text("text")
    assert cli.upload([str(image), "obs://no-such-bucket-here/a.txt", "--endpoint", obs_server]) == 1
    assert "start the server with --bucket no-such-bucket-here" in capsys.readouterr().err
    refused = [
        ([str(image), "obs://b-1/a.txt"], {}, "give --endpoint URL"),
        (
            [str(image), "obs://b-1/a.txt", "--endpoint", "https://obs.cn-north-4.myhuaweicloud.com"],
            {},
            "not on",
        ),
        ([str(image), "s3://b-1/a.txt", "--endpoint", obs_server], {}, "obs://BUCKET/KEY"),
        ([str(tmp_path / "none.png"), "obs://b-1/a.png", "--endpoint", obs_server], {}, "no such file"),
    ]
    for argv, env, message in refused:
        with pytest.raises(SystemExit) as exited:
            cli.upload(argv, env)
        assert exited.value.code == 2 and message in capsys.readouterr().err
    assert cli._endpoint_from_connection(
        {cli.CONN_ENV: json.dumps({"extra": {"obs_endpoint": obs_server}})}
    ) == (obs_server)
    assert cli._endpoint_from_connection({cli.CONN_ENV: "huaweicloud-ocr://a:b@"}) is None
