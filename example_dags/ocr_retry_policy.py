"""Task retries that do not waste money: the provider's retry policy (Airflow 3.3+).

``retries=3`` alone would retry every failure three times, including a bad
image or a result too large for XCom: each retry is another billed call that
fails the same way. With ``retry_policy=HWOCR_RETRY_POLICY`` the task

* fails at once on errors that cannot go away (invalid input, auth, not
  subscribed, configuration, TLS, XCom size, budget);
* retries throttling after the server's ``Retry-After`` (or 60 s);
* retries transient failures (5xx, dropped connections) after ``retry_delay``.

On Airflow 3.1/3.2 ``HWOCR_RETRY_POLICY`` is ``None`` and the task uses plain retries.
Trigger with ``{"image": "..."}`` (an https:// URL, obs://bucket/key or a local path).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY

retry_settings = {"retries": 3, "retry_delay": timedelta(seconds=30)}
if HWOCR_RETRY_POLICY is not None:  # Airflow 3.3+
    retry_settings["retry_policy"] = HWOCR_RETRY_POLICY

with DAG(
    dag_id="ocr_retry_policy",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "image": Param(
            "https://my-bucket.obs.cn-north-4.myhuaweicloud.com/scans/receipt.png",
            type="string",
            description="http(s) URL, obs:// URI or local file path of the image to read",
        )
    },
    tags=["hwocr", "example"],
) as dag:
    HuaweiOcrGeneralTextOperator(task_id="recognize", image="{{ params.image }}", **retry_settings)
