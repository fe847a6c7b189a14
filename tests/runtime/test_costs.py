"""Knowing the bill first: the dry-run switch (operator argument, ``HWOCR_DRY_RUN``, Airflow option),
the call budget shared by a task's threads, and cost estimates."""

from __future__ import annotations

import threading

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError, HuaweiOcrValidationError
from airflow_provider_hwocr.runtime.costs import (
    DRY_RUN_ENV,
    CallBudget,
    dry_run_forced,
    estimate_cost,
    resolve_dry_run,
)

CONFIG_ENV = "AIRFLOW__HUAWEICLOUD_OCR__DRY_RUN"


@pytest.fixture(autouse=True)
def no_switch(monkeypatch):
    monkeypatch.delenv(DRY_RUN_ENV, raising=False)
    monkeypatch.delenv(CONFIG_ENV, raising=False)


# --- the dry-run switch -------------------------------------------------------------------


def test_the_operator_argument_decides_when_nothing_forces():
    assert resolve_dry_run(False) == (False, None)
    assert resolve_dry_run(None) == (False, None)
    assert resolve_dry_run(True) == (True, "dry_run=True")
    assert dry_run_forced() is False


@pytest.mark.parametrize("raw", ["1", "true", " TRUE ", "yes", "on"])
def test_the_environment_variable_forces_a_dry_run(monkeypatch, raw):
    monkeypatch.setenv(DRY_RUN_ENV, raw)
    dry, why = resolve_dry_run(False)
    assert dry is True and DRY_RUN_ENV in why


@pytest.mark.parametrize("raw", ["0", "false", "no", "off", ""])
def test_the_environment_variable_can_say_no(monkeypatch, raw):
    monkeypatch.setenv(DRY_RUN_ENV, raw)
    monkeypatch.setenv(CONFIG_ENV, "True")  # the variable wins over the Airflow option
    assert resolve_dry_run(False) == (False, None)
    assert resolve_dry_run(True) == (True, "dry_run=True")  # it cannot turn a requested dry run off


def test_a_malformed_environment_variable_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv(DRY_RUN_ENV, "maybe")
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        resolve_dry_run(False)
    assert info.value.field == DRY_RUN_ENV and "'maybe'" in str(info.value)


def test_the_airflow_option_forces_a_dry_run(monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, "True")
    dry, why = resolve_dry_run(False)
    assert dry is True and "[huaweicloud_ocr] dry_run" in why


def test_a_malformed_airflow_option_does_not_break_tasks(monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, "sometimes")
    assert dry_run_forced() is False
    assert resolve_dry_run(False) == (False, None)


@pytest.mark.parametrize("requested", ["yes", 1.5, "True"])
def test_a_dry_run_argument_must_be_a_bool(requested):
    with pytest.raises(HuaweiOcrValidationError) as info:
        resolve_dry_run(requested)
    assert info.value.parameter == "dry_run"


# --- estimates ------------------------------------------------------------------------------


def test_estimate_cost():
    assert estimate_cost(3, None) is None
    assert estimate_cost(3, 0.1) == 0.3  # rounded: no 0.30000000000000004
    assert estimate_cost(0, 2.5) == 0
    assert estimate_cost(7, 0.0000001) == 0.000001


# --- the budget -------------------------------------------------------------------------------


def test_budget_hands_out_exactly_limit_calls():
    budget = CallBudget(3)
    assert [budget.take() for _ in range(5)] == [True, True, True, False, False]
    assert budget.used == 3 and budget.refused == 2 and budget.exhausted


def test_budget_of_zero_refuses_the_first_call():
    budget = CallBudget(0)
    assert budget.exhausted and budget.take() is False and budget.used == 0


def test_no_limit_is_never_exhausted():
    budget = CallBudget(None)
    assert all(budget.take() for _ in range(1000))
    assert budget.used == 1000 and budget.refused == 0 and not budget.exhausted


def test_budget_is_shared_by_threads_without_overspending():
    budget = CallBudget(100)
    granted: list[bool] = []
    lock = threading.Lock()
    go = threading.Barrier(16)

    def worker() -> None:
        go.wait()
        mine = [budget.take() for _ in range(50)]
        with lock:
            granted.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(True) == 100 and budget.used == 100
    assert granted.count(False) == budget.refused == 16 * 50 - 100
