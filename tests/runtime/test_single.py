"""One image per task (``runtime.single``): the call, the skip of a stored result, the budget, the dry
run, the billing report pushed to XCom, the XCom size guard and what reaches logs and errors."""

from __future__ import annotations

import base64
import logging
import time

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrError, HuaweiOcrTransientError
from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError, HuaweiCloudNonRetryableError
from tests.helpers.client_support import BODY, SLUG, aksk_client
from tests.helpers.images import png


class Ti:
    """Records what a task pushes to XCom."""

    def __init__(self) -> None:
        self.pushed: dict = {}

    def xcom_push(self, key, value):
        self.pushed[key] = value


def _faulty(emulator, **rates) -> None:
    for name, value in rates.items():
        setattr(emulator.config, name, value)


def _text_operator(**kwargs):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

    return HuaweiOcrGeneralTextOperator(**{"task_id": "t", **kwargs})


# --- call, store, skip --------------------------------------------------------------------


def test_without_output_the_result_is_returned_and_billing_pushed(emulator, ocr_conn):
    image = png()
    ti = Ti()
    result = _text_operator(image=image).execute({"ti": ti})
    (call,) = emulator.calls(SLUG)
    assert call.status == 200 and base64.b64decode(call.body["image"]) == image
    assert result == aksk_client(emulator).call(SLUG, BODY).result  # the emulator's documented answer
    assert ti.pushed["billing"] == {"requests_sent": 1, "billed_retries": 0}


def test_a_stored_result_is_skipped_without_a_call_even_with_no_budget(emulator, obs_conn, obs_bucket):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    obs = HuaweiObsHook()
    obs.put_bytes(obs_bucket, "in/a.png", png())
    common = {"image": f"obs://{obs_bucket}/in/a.png", "output_uri": f"obs://{obs_bucket}/out/"}
    first = _text_operator(**common).execute({})
    (key,) = obs.list_keys(obs_bucket, "out/")
    assert first["uri"] == f"obs://{obs_bucket}/{key}" and first["summary"]["api"] == SLUG
    assert emulator.count(SLUG) == 1
    ti = Ti()
    again = _text_operator(**common, max_calls=0).execute({"ti": ti})  # skipping costs no call
    assert again == first and emulator.count(SLUG) == 1
    assert "billing" not in ti.pushed  # nothing was sent: no billing to report


def test_max_calls_zero_refuses_the_call(emulator, ocr_conn):
    with pytest.raises(HuaweiCloudBudgetExceededError, match="max_calls: the budget of 0 billable tries"):
        _text_operator(image=png(), max_calls=0).execute({})
    assert emulator.count() == 0


@pytest.mark.parametrize("fault", ["truncate_rate", "slow_rate"])
def test_max_calls_one_is_one_billable_call_even_when_a_retry_would_follow(
    emulator, ocr_conn, fault, monkeypatch
):
    """Regression: ``max_calls=1`` made 2 billable calls (the retry after a truncated answer)."""
    from tests.helpers.airflow_env import CONN_ENV, conn_json

    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra={"timeout": 1}))
    _faulty(emulator, **{fault: 1.0, "slow_reply_seconds": 1.5})
    ti = Ti()
    with pytest.raises(HuaweiCloudBudgetExceededError) as info:
        _text_operator(image=png(), max_calls=1).execute({"ti": ti})
    assert isinstance(info.value, HuaweiCloudNonRetryableError)  # the retry policy does not retry it
    assert info.value.attempts == 1 and "retry after" in str(info.value)
    time.sleep(0.6 if fault == "slow_rate" else 0)  # the slow answer is counted when it is sent
    assert emulator.count(SLUG) == 1
    assert emulator.stats()["apis"][SLUG]["billable"] == 1
    assert ti.pushed["billing"]["possibly_billed_tries"] == 1 and ti.pushed["billing"]["max_calls"] == 1


def test_answers_surely_not_billed_do_not_use_up_max_calls(emulator, ocr_conn, monkeypatch):
    from tests.helpers.airflow_env import CONN_ENV, conn_json

    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra={"max_retries": 3}))
    emulator.fail_next(SLUG, 503, "ModelArts.4403", times=1)
    emulator.fail_next(SLUG, 429, "APIG.0308", times=1)
    ti = Ti()
    _text_operator(image=png(), max_calls=1).execute({"ti": ti})  # 503, 429, then the call
    assert emulator.count(SLUG) == 3 and emulator.stats()["apis"][SLUG]["billable"] == 1
    assert ti.pushed["billing"]["possibly_billed_tries"] == 1


def test_a_stored_result_is_not_checked_against_max_xcom_bytes(emulator, obs_conn, obs_bucket):
    out = _text_operator(image=png(), output_uri=f"obs://{obs_bucket}/out/", max_xcom_bytes=10).execute({})
    assert out["uri"].startswith(f"obs://{obs_bucket}/out/") and emulator.count(SLUG) == 1


# --- dry run ------------------------------------------------------------------------------------


def test_dry_run_of_bytes_prices_the_call_and_makes_none(emulator, ocr_conn):
    report = _text_operator(image=png(), dry_run=True, price_per_call=0.25).execute({})
    assert report == {
        "dry_run": True,
        "reason": "dry_run=True",
        "total": 1,
        "would_call": 1,
        "skipped": 0,
        "rejected": 0,
        "rejections": [],
        "price_per_call": 0.25,
        "estimated_cost": 0.25,
    }
    assert emulator.count() == 0


def test_dry_run_rejects_what_the_service_would_refuse(emulator, ocr_conn, tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    report = _text_operator(image=str(empty), dry_run=True).execute({})
    assert (report["would_call"], report["rejected"], report["estimated_cost"]) == (0, 1, None)
    (rejection,) = report["rejections"]
    assert rejection["source"] == str(empty) and "image" in rejection["reason"]
    assert emulator.count() == 0


# --- billing report, XCom size guard, secrets in logs and errors ---------------------------


def test_single_image_operator_reports_billed_retries(emulator, ocr_conn, capsys):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

    _faulty(emulator, truncate_rate=1.0)
    op = HuaweiOcrGeneralTextOperator(task_id="t", image=png(), retry_possibly_billed=True)

    class Ti:
        def __init__(self) -> None:
            self.pushed: dict = {}

        def xcom_push(self, key, value):
            self.pushed[key] = value

    ti = Ti()
    with pytest.raises(HuaweiOcrTransientError):
        op.execute({"ti": ti})
    assert ti.pushed["billing"] == {"requests_sent": 2, "billed_retries": 1}  # conn max_retries=2
    assert "may have been billed 2 times" in capsys.readouterr().out
    emulator.reset()
    op2 = HuaweiOcrGeneralTextOperator(task_id="t2", image=png(), retry_possibly_billed=False)
    _faulty(emulator, truncate_rate=1.0)
    with pytest.raises(HuaweiOcrTransientError):
        op2.execute({"ti": ti})
    assert ti.pushed["billing"] == {"requests_sent": 1, "billed_retries": 0}
    assert emulator.count(SLUG) == 1


def test_xcom_size_error_is_typed_never_retry(emulator, ocr_conn):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator, HuaweiOcrXComSizeError

    op = HuaweiOcrGeneralTextOperator(task_id="t", image=png(), max_xcom_bytes=10)
    with pytest.raises(HuaweiOcrXComSizeError) as info:
        op.execute({})
    assert isinstance(info.value, HuaweiCloudNonRetryableError) and "max_xcom_bytes" in str(info.value)
    assert emulator.count() == 1  # the call was made once, and will not be retried by the policy


def test_url_password_stays_out_of_logs_and_errors(emulator, ocr_conn, caplog, capsys):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

    secret = "Sup3r-Secr3t-pw"
    url = f"https://scanner:{secret}@images.example/scans/a.png"
    caplog.set_level(logging.DEBUG)
    op = HuaweiOcrGeneralTextOperator(task_id="t", image=url)
    # a service that echoes the URL in its error message
    emulator.fail_next(SLUG, 400, "ModelArts.4603", error_msg=f"cannot download {url}")
    with pytest.raises(HuaweiOcrError) as info:
        op.execute({})
    (call,) = emulator.calls(SLUG)
    assert call.body["url"] == url  # the service gets what it needs to download the image
    logged = caplog.text + capsys.readouterr().out
    assert "images.example/scans/a.png" in logged  # the image is named ...
    assert secret not in logged  # ... without its password
    assert secret not in str(info.value) + repr(info.value) and "***" in str(info.value)
