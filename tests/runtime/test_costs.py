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
    assert resolve_dry_run(False) == (False, None)
    assert resolve_dry_run(True) == (True, "dry_run=True")  # it cannot turn a requested dry run off


@pytest.mark.parametrize("raw", ["0", "false", "no", "off", ""])
def test_neither_switch_turns_the_other_off(monkeypatch, raw):
    """Fail closed: "no" in one place never cancels "on" in the other."""
    monkeypatch.setenv(DRY_RUN_ENV, raw)
    monkeypatch.setenv(CONFIG_ENV, "True")
    assert resolve_dry_run(False)[0] is True
    monkeypatch.setenv(DRY_RUN_ENV, "1")
    monkeypatch.setenv(CONFIG_ENV, raw or "False")
    assert resolve_dry_run(False)[0] is True


def test_an_unreadable_option_fails_even_when_the_variable_says_on(monkeypatch):
    monkeypatch.setenv(DRY_RUN_ENV, "1")
    monkeypatch.setenv(CONFIG_ENV, "maybe")
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        dry_run_forced()
    assert info.value.field == "[huaweicloud_ocr] dry_run"


def test_a_malformed_environment_variable_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv(DRY_RUN_ENV, "maybe")
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        resolve_dry_run(False)
    assert info.value.field == DRY_RUN_ENV and "'maybe'" in str(info.value)


def test_the_airflow_option_forces_a_dry_run(monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, "True")
    dry, why = resolve_dry_run(False)
    assert dry is True and "[huaweicloud_ocr] dry_run" in why


@pytest.mark.parametrize("raw", ["yes", "on", " 1 ", "TRUE"])
def test_the_airflow_option_reads_the_same_words_as_the_variable(monkeypatch, raw):
    monkeypatch.setenv(CONFIG_ENV, raw)  # Airflow's own getboolean raises on yes/on
    assert resolve_dry_run(False)[0] is True


@pytest.mark.parametrize("raw", ["no", "off", "0", "False", ""])
def test_the_airflow_option_can_say_no(monkeypatch, raw):
    monkeypatch.setenv(CONFIG_ENV, raw)
    assert resolve_dry_run(False) == (False, None)


@pytest.mark.parametrize("raw", ["maybe", "sometimes", "2", "yes please"])
def test_a_malformed_airflow_option_fails_closed(monkeypatch, raw):
    """Regression: ``dry_run = maybe`` used to turn the dry run off (3 of 3 images billed)."""
    monkeypatch.setenv(CONFIG_ENV, raw)
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        dry_run_forced()
    assert info.value.field == "[huaweicloud_ocr] dry_run" and repr(raw) in str(info.value)
    with pytest.raises(HuaweiOcrConfigurationError):
        resolve_dry_run(True)  # even a requested dry run: the deployment's switch is broken


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


def test_a_try_surely_not_billed_is_given_back():
    budget = CallBudget(2)
    assert budget.take() and budget.take() and not budget.take()
    budget.give_back()  # e.g. the try was answered HTTP 429
    assert budget.used == 1 and budget.given_back == 1 and not budget.exhausted
    assert budget.take() and budget.exhausted
    assert budget.refuse_if_spent() is True and budget.refused == 2  # counted, nothing reserved
    assert CallBudget(1).refuse_if_spent() is False


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


# --- max_calls is billed calls, end to end ------------------------------------------


@pytest.mark.parametrize("limit", [20, 50])
def test_a_batch_never_bills_more_than_max_calls_when_faults_force_retries(
    limit, emulator, obs_conn, obs_bucket, monkeypatch
):
    """Regression: max_calls=20 gave 29 billable calls and 50 gave 66 (retries after truncated answers).

    Half the answers are cut short after the service did the work (billed); throttling and 503s
    are answers that are not billed. The emulator's billable count is the oracle.
    """
    import json
    import os

    from tests.helpers.airflow_env import CONN_ENV
    from tests.helpers.d2_stages import PNG, SLUG, start, through_send
    from tests.helpers.obs_env import bulk_put

    conn = json.loads(os.environ[CONN_ENV])
    conn["extra"]["max_retries"] = 6
    monkeypatch.setenv(CONN_ENV, json.dumps(conn))
    bulk_put(obs_bucket, [f"day/{i:03d}.png" for i in range(limit + 20)], PNG)
    emulator.config.truncate_rate = 0.5
    emulator.config.error_503_rate = 0.1
    emulator.reseed(20261202)
    emulator.fail_next(SLUG, 429, "APIG.0308", times=3)
    run = start(obs_bucket, max_calls=limit, max_concurrency=8)
    _, _, sent = through_send(run)
    billable = emulator.stats()["apis"][SLUG]["billable"]
    print(f"max_calls={limit}: {billable} billable calls, {run.budget.refused} tries refused")
    assert billable <= limit
    assert run.budget.used == billable  # every billed try counted, every unbilled one given back
    assert billable >= limit - 8  # the budget was spent, not abandoned early (8 in flight at most)
    statuses = [e["status"] for e in sent.entries]
    assert statuses.count("not_attempted") >= 20 - 8 and run.budget.refused > 0
    assert len(statuses) == limit + 20  # every image ends in exactly one state
