"""HWOCR_RETRY_POLICY: the decision for each error branch, the import guard, and a real dag.test()."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from airflow_provider_hwocr.client.errors import (
    HuaweiOcrAuthError,
    HuaweiOcrConfigurationError,
    HuaweiOcrNotSubscribedError,
    HuaweiOcrThrottledError,
    HuaweiOcrTlsError,
    HuaweiOcrTransientError,
    HuaweiOcrValidationError,
)
from airflow_provider_hwocr.hooks.obs_errors import (
    HuaweiObsAccessDeniedError,
    HuaweiObsThrottledError,
    HuaweiObsTlsError,
    HuaweiObsTransientError,
)
from airflow_provider_hwocr.operators.ocr import HuaweiOcrXComSizeError
from airflow_provider_hwocr.retry_policy import (
    HWOCR_RETRY_POLICY,
    RETRY_POLICIES_AVAILABLE,
    make_retry_policy,
)
from tests.helpers.airflow_env import CONN_ENV, REPO, conn_json
from tests.helpers.images import png

#: Task retry policies exist from Airflow 3.3; on 3.1/3.2 only the import guard is tested.
needs_retry_policies = pytest.mark.skipif(
    not RETRY_POLICIES_AVAILABLE, reason="task retry policies need Airflow 3.3+"
)


def _action(exc: BaseException) -> str:
    return HWOCR_RETRY_POLICY.evaluate(exc, try_number=1, max_tries=4).action.value


@needs_retry_policies
@pytest.mark.parametrize(
    "error",
    [
        HuaweiOcrValidationError("image: not an image", parameter="image"),
        HuaweiOcrAuthError("bad AK/SK"),
        HuaweiOcrNotSubscribedError("not subscribed"),
        HuaweiOcrConfigurationError("timeout"),
        HuaweiOcrTlsError("tls", field="verify"),
        HuaweiOcrXComSizeError("too big"),
        HuaweiObsAccessDeniedError("denied"),
        HuaweiObsTlsError("tls"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_never_retry_errors_fail_the_task_at_once(error):
    assert _action(error) == "fail"


@needs_retry_policies
def test_throttling_is_retried_after_a_delay_and_retry_after_sets_it():
    plain = HWOCR_RETRY_POLICY.evaluate(HuaweiOcrThrottledError("slow down"), 1, 4)
    assert plain.action.value == "retry" and plain.retry_delay == timedelta(seconds=60)
    hinted = HWOCR_RETRY_POLICY.evaluate(HuaweiOcrThrottledError("slow down", retry_after=7), 1, 4)
    assert hinted.retry_delay == timedelta(seconds=7) and "7 s" in hinted.reason
    obs = HWOCR_RETRY_POLICY.evaluate(HuaweiObsThrottledError("SlowDown"), 1, 4)
    assert obs.action.value == "retry" and obs.retry_delay == timedelta(seconds=60)


@needs_retry_policies
def test_transient_errors_are_retried_with_the_task_delay_and_others_fall_through():
    for error in (HuaweiOcrTransientError("503"), HuaweiObsTransientError("500")):
        decision = HWOCR_RETRY_POLICY.evaluate(error, 1, 4)
        assert decision.action.value == "retry" and decision.retry_delay is None
    assert _action(RuntimeError("not ours")) == "default"
    custom = make_retry_policy(throttle_delay=timedelta(seconds=5), transient_delay=timedelta(seconds=2))
    assert custom.evaluate(HuaweiOcrThrottledError("x"), 1, 4).retry_delay == timedelta(seconds=5)
    assert custom.evaluate(HuaweiOcrTransientError("x"), 1, 4).retry_delay == timedelta(seconds=2)


def test_module_imports_on_airflow_without_retry_policies():
    """On Airflow 3.1/3.2 (no airflow.sdk.ExceptionRetryPolicy) the provider and the example DAG still import."""
    code = (
        "import airflow.sdk as sdk\n"
        "real = sdk.__getattr__\n"
        "def hidden(name):\n"
        "    if 'Retry' in name:\n"
        "        raise AttributeError(name)\n"
        "    return real(name)\n"
        "sdk.__getattr__ = hidden\n"
        "import runpy\n"
        "from airflow_provider_hwocr import retry_policy as rp\n"
        "assert rp.HWOCR_RETRY_POLICY is None and not rp.RETRY_POLICIES_AVAILABLE\n"
        "try:\n"
        "    rp.make_retry_policy()\n"
        "except RuntimeError as exc:\n"
        "    assert '3.3' in str(exc)\n"
        "else:\n"
        "    raise SystemExit('no error')\n"
        f"ns = runpy.run_path({str(REPO / 'example_dags' / 'ocr_retry_policy.py')!r})\n"
        "task = ns['dag'].get_task('recognize')\n"
        "assert task.retries == 3 and not getattr(task, 'retry_policy', None)\n"
        "print('OK')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=os.environ.copy()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("OK")


# --- the example DAG, for real ---------------------------------------------------------


def _load_dag():
    import importlib.util

    path = Path(REPO / "example_dags" / "ocr_retry_policy.py")
    spec = importlib.util.spec_from_file_location("example_ocr_retry_policy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def _task_instance(dag_run, task_id: str):
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = (
            session.query(TaskInstance)
            .filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id, task_id=task_id)
            .one()
        )
        session.expunge(ti)
        return ti


@needs_retry_policies
def test_example_dag_fails_an_invalid_image_without_a_task_retry(airflow_db, emulator, ocr_conn, tmp_path):
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_bytes(b"these are notes, not a PNG")
    dag = _load_dag()
    assert dag.get_task("recognize").retries == 3

    dag_run = dag.test(run_conf={"image": str(not_an_image)})

    ti = _task_instance(dag_run, "recognize")
    assert dag_run.state == "failed" and ti.state == "failed"
    assert ti.try_number == 1  # the policy failed it at once: no task retry despite retries=3
    assert emulator.count() == 0  # and nothing was sent


@needs_retry_policies
def test_example_dag_fails_a_rejected_image_after_one_call(airflow_db, emulator, ocr_conn, tmp_path):
    image = tmp_path / "blurred.png"
    image.write_bytes(png((400, 200), "BLUR"))
    emulator.fail_next("general-text", 400, "AIS.0104", times=5)
    dag_run = _load_dag().test(run_conf={"image": str(image)})
    ti = _task_instance(dag_run, "recognize")
    assert ti.state == "failed" and ti.try_number == 1
    assert emulator.count() == 1  # one call, not one per task try


@needs_retry_policies
def test_example_dag_retries_throttling(airflow_db, emulator, monkeypatch, tmp_path):
    image = tmp_path / "receipt.png"
    image.write_bytes(png((400, 200), "TOTAL 42.00"))
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra={"max_retries": 1}))
    # the first task try meets throttling (with Retry-After: 1), the second gets through
    emulator.fail_next("general-text", 429, "APIG.0308", retry_after=1)

    dag_run = _load_dag().test(run_conf={"image": str(image)})

    ti = _task_instance(dag_run, "recognize")
    assert dag_run.state == "success" and ti.state == "success"
    assert ti.try_number == 2
    assert [c.status for c in emulator.calls("general-text")] == [429, 200]


# --- AIS.0118: the tax authority's interface is down; retry about 2 hours later -------------------


@pytest.mark.skipif(not RETRY_POLICIES_AVAILABLE, reason="retry policies need Airflow 3.3")
def test_a_long_delay_error_is_retried_about_two_hours_later():
    from datetime import timedelta

    from airflow_provider_hwocr._compat import RetryAction
    from airflow_provider_hwocr.client.errors import error_from_response

    err = error_from_response(400, {"error_code": "AIS.0118", "error_msg": "tax authority down"})
    decision = HWOCR_RETRY_POLICY.evaluate(err, 1, 3)
    assert decision.action == RetryAction.RETRY and decision.retry_delay == timedelta(hours=2)
    err.retry_after = 600.0  # the error's own hint wins
    assert HWOCR_RETRY_POLICY.evaluate(err, 1, 3).retry_delay == timedelta(minutes=10)
    custom = make_retry_policy(long_delay=timedelta(hours=3))
    err.retry_after = None
    assert custom.evaluate(err, 1, 3).retry_delay == timedelta(hours=3)
    with pytest.raises(ValueError, match="long_delay"):
        make_retry_policy(long_delay=timedelta(seconds=-1))
