"""Produce OCR results as an Asset: downstream DAGs run when results land.

    images (run conf) -> one mapped OCR task per image (named by file) -> Asset obs://{bucket}/ocr-results/

``emit_asset=True`` declares ``Asset("obs://{bucket}/ocr-results/")`` as the
OCR task's outlet; every successful instance emits an asset event whose
``extra`` lists the result objects it wrote. ``export_text=True`` stores each
result's text pages (``{text, metadata}``) next to its JSON envelope.
``ocr_results_consumer`` is scheduled on that asset.

The bucket is fixed when the DAG is parsed (an asset must be): set
``HWOCR_EXAMPLE_BUCKET`` (default ``hwocr-demo``). Trigger with
``{"images": ["obs://bucket/in/a.png", ...]}``. A re-run costs no OCR call:
results already there are skipped.
"""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.sdk import DAG, Param, task

from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY

BUCKET = os.environ.get("HWOCR_EXAMPLE_BUCKET", "hwocr-demo")
RESULTS = f"obs://{BUCKET}/ocr-results/"


#: Retries for transient failures and lost workers (a killed worker's task is failed by Airflow's
#: heartbeat timeout, then retried; a retry skips the images already done). On Airflow 3.3+ the
#: provider's retry policy fails fast on what a retry cannot fix (bad input, auth, budget).
RETRIES: dict = {"retries": 3, "retry_delay": timedelta(seconds=30)}
if HWOCR_RETRY_POLICY is not None:
    RETRIES["retry_policy"] = HWOCR_RETRY_POLICY

with DAG(
    dag_id="ocr_results_producer",
    default_args=RETRIES,
    schedule=None,
    params={"images": Param([], type="array", description="obs:// URIs (or URLs) of the images")},
    tags=["hwocr", "example", "assets"],
) as dag:

    @task
    def images(**context) -> list[str]:
        return list(context["params"]["images"])

    HuaweiOcrGeneralTextOperator.partial(
        task_id="ocr", output_uri=RESULTS, emit_asset=True, export_text=True
    ).expand(image=images())
