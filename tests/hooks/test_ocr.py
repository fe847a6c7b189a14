"""The OCR hook (``hooks/ocr.py``) against the emulator: lazy connection reading,
``test_connection``, IAM token mode, secrets kept out of logs and errors, and its provider info entry."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrAuthError, HuaweiOcrConfigurationError
from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook
from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.constants import AK, IAM_DOMAIN, IAM_PASSWORD, IAM_USER, PROJECT_ID, REGION, SK
from tests.helpers.images import png


def _use(monkeypatch, emulator, **overrides) -> HuaweiOcrHook:
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, **overrides))
    return HuaweiOcrHook()


def test_hook_init_does_not_read_the_connection(monkeypatch):
    monkeypatch.delenv(CONN_ENV, raising=False)
    hook = HuaweiOcrHook(huaweicloud_ocr_conn_id="does_not_exist")  # no error yet
    assert hook.huaweicloud_ocr_conn_id == "does_not_exist"


def test_test_connection_ok_and_bills_nothing(emulator, monkeypatch):
    ok, message = _use(monkeypatch, emulator).test_connection()
    assert ok, message
    assert PROJECT_ID in message and REGION in message
    assert emulator.stats()["billable"] == 0
    assert AK not in message and SK not in message


def test_test_connection_reports_unknown_project(emulator, monkeypatch):
    ok, message = _use(monkeypatch, emulator, extra={"project_id": "f" * 32}).test_connection()
    assert not ok
    assert "f" * 32 in message and "is not a project" in message


def test_test_connection_reports_wrong_secret_key(emulator, monkeypatch):
    ok, message = _use(monkeypatch, emulator, password="not-the-secret").test_connection()
    assert not ok
    assert "HuaweiOcrAuthError" in message
    assert "not-the-secret" not in message


def test_token_mode_end_to_end(emulator, monkeypatch):
    hook = _use(
        monkeypatch,
        emulator,
        login=None,
        password=None,
        extra={
            "auth_type": "token",
            "user_name": IAM_USER,
            "domain_name": IAM_DOMAIN,
            "password": IAM_PASSWORD,
        },
    )
    assert hook.test_connection()[0]
    hook.recognize("general-text", image=png())
    hook.recognize("general-text", image=png())
    calls = emulator.calls("general-text")
    assert [c.auth_mode for c in calls] == ["token", "token"]
    assert emulator.token_issue_count == 1  # cached across calls


def test_no_secret_in_logs_or_errors(emulator, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    hook = _use(monkeypatch, emulator, password=SK + "x")  # wrong SK -> auth failure
    with pytest.raises(HuaweiOcrAuthError) as info:
        hook.recognize("general-text", image=png())
    texts = [str(info.value), repr(info.value), caplog.text, json.dumps(vars(info.value), default=str)]
    for text in texts:
        for secret in (SK, SK + "x"):
            assert secret not in text


def test_retry_possibly_billed_comes_from_the_connection_and_the_operator(emulator, monkeypatch):
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra={"retry_possibly_billed": "false"}))
    assert HuaweiOcrHook().client.retry.retry_possibly_billed is False
    assert HuaweiOcrHook(retry_possibly_billed=True).client.retry.retry_possibly_billed is True
    monkeypatch.setenv(CONN_ENV, conn_json(emulator))
    assert HuaweiOcrHook().client.retry.retry_possibly_billed is True  # the default
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra={"retry_possibly_billed": "sometimes"}))
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        HuaweiOcrHook().client  # noqa: B018
    assert info.value.field == "retry_possibly_billed"


def test_the_budget_and_the_pace_are_given_when_the_hook_is_built(emulator, monkeypatch):
    """Every call of the hook draws from the budget it was built with, and the limiter paces each try."""
    from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError
    from airflow_provider_hwocr.runtime.costs import CallBudget
    from airflow_provider_hwocr.runtime.ratelimit import TokenBucket

    monkeypatch.setenv(CONN_ENV, conn_json(emulator))
    budget, pace = CallBudget(1), TokenBucket(50.0)
    hook = HuaweiOcrHook(budget=budget, rate_limiter=pace)
    assert hook.budget is budget and hook.client.rate_limiter is pace
    hook.recognize("general-text", image=png())
    with pytest.raises(HuaweiCloudBudgetExceededError):
        hook.recognize("general-text", image=png())
    assert emulator.count("general-text") == 1 and budget.used == 1 and budget.refused == 1
    assert HuaweiOcrHook().budget is None  # no cap unless one is given
