"""``_compat``: the names it resolves on this Airflow, its version parsing, and what reaches the
secrets masker through it (from the hooks, too)."""

from __future__ import annotations

import json
import logging
import threading

import pytest

from airflow_provider_hwocr import _compat
from tests.helpers.airflow_env import CONN_ENV, rearm_short_secret_warning
from tests.helpers.constants import AK, SK
from tests.helpers.paths import REPO


def _declared_floor() -> tuple[int, int, int]:
    import re

    text = (REPO / "pyproject.toml").read_text()
    (floor,) = re.findall(r'"apache-airflow>=([0-9.]+)"', text)
    return _compat._version_tuple(floor)


def test_compat_names_resolve_on_this_airflow():
    import airflow

    assert _compat.AIRFLOW_VERSION[:2] == tuple(int(x) for x in airflow.__version__.split(".")[:2])
    assert _compat.AIRFLOW_VERSION >= _declared_floor()  # CI runs the floor itself
    assert _compat.conf.getboolean("core", "load_examples") is False  # tests/helpers/airflow_env.py sets it
    assert issubclass(_compat.AirflowSensorTimeout, BaseException)
    assert issubclass(_compat.TaskDeferred, BaseException)
    assert _compat.RETRY_POLICIES_AVAILABLE == (_compat.AIRFLOW_VERSION >= (3, 3, 0))
    assert (_compat.ExceptionRetryPolicy is None) == (not _compat.RETRY_POLICIES_AVAILABLE)


def test_version_tuple_reads_pre_releases():
    assert _compat._version_tuple("3.2.0rc1") == (3, 2, 0)
    assert _compat._version_tuple("3.3") == (3, 3, 0)
    assert _compat._version_tuple("3.1.8.post1") == (3, 1, 8)


# --- the secrets masker -----------------------------------------------------------------------


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


def test_version_tuple_pads_and_cuts():
    assert _compat._version_tuple("3") == (3, 0, 0)
    assert _compat._version_tuple("3.1.dev0") == (3, 1, 0)
    assert _compat._version_tuple("10.20.30.40") == (10, 20, 30)
    assert _compat._version_tuple("") == (0, 0, 0)


def test_every_exported_name_exists_and_conf_is_the_sdk_one():
    import airflow.sdk

    for name in _compat.__all__:
        assert hasattr(_compat, name), name
    if hasattr(airflow.sdk, "conf"):  # Airflow 3.2+
        assert _compat.conf is airflow.sdk.conf


def test_sensor_exceptions_fall_back_to_airflow_exceptions(monkeypatch):
    import airflow.exceptions
    import airflow.sdk.exceptions

    assert _compat._exception("AirflowException") is airflow.sdk.exceptions.AirflowException
    # Airflow 3.1: the SDK module does not have the name yet
    monkeypatch.setattr(_compat, "_sdk_exceptions", type("Empty", (), {})())
    assert _compat._exception("AirflowException") is airflow.exceptions.AirflowException
    with pytest.raises(AttributeError):
        _compat._exception("NoSuchAirflowException")


def test_mask_secret_hands_values_of_5_or_more_characters_over_under_the_lock(monkeypatch):
    import airflow.sdk.log

    handed: list[tuple[str, bool]] = []

    def fake_mask_secret(value):
        # Held by the caller: another thread cannot take the lock now.
        free = []
        probe = threading.Thread(target=lambda: free.append(_compat.SUPERVISOR_LOCK.acquire(blocking=False)))
        probe.start()
        probe.join()
        if free[0]:
            _compat.SUPERVISOR_LOCK.release()
        handed.append((value, not free[0]))

    monkeypatch.setattr(airflow.sdk.log, "mask_secret", fake_mask_secret)
    assert _compat.MIN_SECRET_LENGTH == 5
    for value in ("abcd", "abcde", "", None, "a-long-secret-key"):
        _compat.mask_secret(value)
    assert handed == [("abcde", True), ("a-long-secret-key", True)]
    # and the lock is free again afterwards
    assert _compat.SUPERVISOR_LOCK.acquire(blocking=False)
    _compat.SUPERVISOR_LOCK.release()
