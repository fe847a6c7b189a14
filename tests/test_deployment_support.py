"""The compat module, what the hooks hand to the secrets masker, and ``hwocr-object-server``."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from airflow_provider_hwocr import _compat
from tests.helpers.airflow_env import CONN_ENV, rearm_short_secret_warning
from tests.helpers.constants import AK, SK
from tests.helpers.paths import REPO

BIN = Path(sys.executable).parent


def _declared_floor() -> tuple[int, int, int]:
    import re

    text = (REPO / "pyproject.toml").read_text()
    (floor,) = re.findall(r'"apache-airflow>=([0-9.]+)"', text)
    return _compat._version_tuple(floor)


def test_compat_names_resolve_on_this_airflow():
    import airflow

    assert _compat.AIRFLOW_VERSION[:2] == tuple(int(x) for x in airflow.__version__.split(".")[:2])
    assert _compat.AIRFLOW_VERSION >= _declared_floor()  # CI runs the floor itself
    assert _compat.conf.getboolean("core", "load_examples") is False  # tests/_airflow_env.py sets it
    assert issubclass(_compat.AirflowSensorTimeout, BaseException)
    assert issubclass(_compat.TaskDeferred, BaseException)
    assert _compat.RETRY_POLICIES_AVAILABLE == (_compat.AIRFLOW_VERSION >= (3, 3, 0))
    assert (_compat.ExceptionRetryPolicy is None) == (not _compat.RETRY_POLICIES_AVAILABLE)


def test_version_tuple_reads_pre_releases():
    assert _compat._version_tuple("3.2.0rc1") == (3, 2, 0)
    assert _compat._version_tuple("3.3") == (3, 3, 0)
    assert _compat._version_tuple("3.1.8.post1") == (3, 1, 8)


def _use(monkeypatch, **extra):
    conn = {
        "conn_type": "huaweicloud_ocr",
        "login": AK,
        "password": SK,
        "extra": {"region": "ap-southeast-1", "project_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9", **extra},
    }
    monkeypatch.setenv(CONN_ENV, json.dumps(conn))


def test_hooks_mask_real_secrets_only_and_nothing_short(monkeypatch, caplog):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

    _use(
        monkeypatch,
        obs_signature="sigv2",
        obs_endpoint="http://127.0.0.1:9",
        obs_path_style=True,
        security_token="TEMP-security-token-0123456789",
        proxy="http://proxyuser:pr%40xy-pass-42@127.0.0.1:3128",
    )
    rearm_short_secret_warning(monkeypatch)
    caplog.set_level(logging.WARNING)
    registered: list[str] = []
    real = _compat.mask_secret

    def spy(value):
        registered.append(value)
        real(value)

    monkeypatch.setattr(_compat, "mask_secret", spy)

    ocr = HuaweiOcrHook().settings
    obs = HuaweiObsHook().settings
    assert obs.obs_signature == "v2"  # the long spelling is the same signature
    expected = {AK, SK, "TEMP-security-token-0123456789", "pr%40xy-pass-42", "pr@xy-pass-42"}
    assert set(registered) == expected
    assert all(len(v) >= 5 for v in registered)
    assert ocr.proxy_password == "pr%40xy-pass-42"
    from airflow.sdk._shared.secrets_masker import redact

    redacted = redact(f"{SK} pr@xy-pass-42 TEMP-security-token-0123456789")
    assert SK not in redacted and "pr@xy-pass-42" not in redacted
    assert "too short" not in caplog.text


def test_a_short_value_is_never_handed_to_the_masker(monkeypatch, caplog):
    rearm_short_secret_warning(monkeypatch)
    caplog.set_level(logging.WARNING)
    _compat.mask_secret("v2")
    _compat.mask_secret("")
    _compat.mask_secret(None)
    assert "too short" not in caplog.text
    # and the masker would have warned: the test above can fail
    from airflow.sdk.log import mask_secret

    mask_secret("aksk")
    assert "too short" in caplog.text


def test_short_obs_signature_spelling_still_works(monkeypatch):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    _use(monkeypatch, obs_signature="v4")
    assert HuaweiObsHook().settings.obs_signature == "v4"
    _use(monkeypatch, obs_signature="sigv4")
    assert HuaweiObsHook().settings.obs_signature == "v4"


def test_connection_form_defaults_are_not_short_strings():
    from airflow_provider_hwocr.get_provider_info import CONN_FIELDS

    for name, field in CONN_FIELDS.items():
        default = field["schema"].get("default")
        if isinstance(default, str):
            assert len(default) >= 5, name


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
