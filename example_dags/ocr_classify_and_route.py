"""Classify a document, then send it to the API made for its type.

auto-classification -> branch -> passport | invoice key-values | general text -> results in OBS

Usually triggered by hand or through the REST API (``schedule=None``), so a
run has no logical date: results go under the day the run was triggered for.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_hwocr.operators.ocr import (
    HuaweiOcrAutoClassificationOperator,
    HuaweiOcrGeneralTextOperator,
    HuaweiOcrPassportOperator,
    HuaweiOcrSmartDocumentRecognizerOperator,
)
from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY

INVOICE_TYPES = {
    "vat_invoice",
    "vat_roll_invoice",
    "mvs_invoice",
    "taxi_invoice",
    "quota_invoice",
    "toll_invoice",
}
# The run's day: its logical date, or, for a run triggered with no logical date
# (UI, ``airflow dags trigger`` without ``-l``, REST API), the time it was triggered
# for. ``{{ ds }}`` alone is undefined in such runs.
RUN_DAY = "{{ (logical_date | default(dag_run.run_after, true)) | ds }}"
RESULTS = "obs://{{ params.bucket }}/routed/" + RUN_DAY + "/"


#: Retries for transient failures and lost workers (a killed worker's task is failed by Airflow's
#: heartbeat timeout, then retried; a retry skips the images already done). On Airflow 3.3+ the
#: provider's retry policy fails fast on what a retry cannot fix (bad input, auth, budget).
RETRIES: dict = {"retries": 3, "retry_delay": timedelta(seconds=30)}
if HWOCR_RETRY_POLICY is not None:
    RETRIES["retry_policy"] = HWOCR_RETRY_POLICY

with DAG(
    dag_id="ocr_classify_and_route",
    default_args=RETRIES,
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    params={
        "bucket": Param("hwocr-demo", type="string"),
        "image": Param("obs://hwocr-demo/inbox/document.png", type="string"),
    },
    tags=["hwocr", "example", "obs"],
) as dag:
    classify = HuaweiOcrAutoClassificationOperator(
        task_id="classify", image="{{ params.image }}", region="cn-north-4"
    )

    @task.branch
    def route(items: list[dict]) -> str:
        """Pick the task for the first document the service recognised."""
        types = [
            item.get("type")
            for item in items
            if (item.get("status") or {}).get("error_code", "AIS.0000") == "AIS.0000"
        ]
        print("HWOCR_TYPES", types)
        if "passport" in types:
            branch = "passport"
        elif INVOICE_TYPES & set(types):
            branch = "invoice_fields"
        else:
            branch = "general_text"
        print("HWOCR_BRANCH", branch)
        return branch

    passport = HuaweiOcrPassportOperator(
        task_id="passport", image="{{ params.image }}", region="cn-north-4", output_uri=RESULTS
    )
    invoice = HuaweiOcrSmartDocumentRecognizerOperator(
        task_id="invoice_fields",
        image="{{ params.image }}",
        kv=True,
        table=True,
        region="cn-north-4",
        output_uri=RESULTS,
    )
    text = HuaweiOcrGeneralTextOperator(
        task_id="general_text", image="{{ params.image }}", region="cn-north-4", output_uri=RESULTS
    )

    route(classify.output) >> [passport, invoice, text]
