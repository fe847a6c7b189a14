"""Daily batch OCR over a date-partitioned prefix, safe to backfill and to re-run.

Scans for day D are under ``obs://{bucket}/scans/D/``; results go under
``obs://{bucket}/ocr/D/`` and the manifests (one per run, plus the latest with the
index that makes re-runs cost a listing) under ``obs://{bucket}/ocr/D_hwocr/``. Past days are processed with
``airflow backfill create --dag-id ocr_daily_backfill --from-date ... --to-date ...``
(``catchup=False``, so that enabling the DAG does not start one run per day
since ``start_date`` at once); calls are capped by ``qps`` so months of
backfill stay within the account's rate limit, and a re-run of a finished day
(``--reprocess-behavior completed``) makes zero OCR calls.

D is the run's logical date (scheduled runs and ``airflow backfill create``).
A run triggered with no logical date (UI, ``airflow dags trigger`` without
``-l``, REST API) processes the day it was triggered for.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY

# The run's day: its logical date, or, for a run triggered with no logical date
# (UI, ``airflow dags trigger`` without ``-l``, REST API), the time it was triggered
# for. ``{{ ds }}`` alone is undefined in such runs.
RUN_DAY = "{{ (logical_date | default(dag_run.run_after, true)) | ds }}"


#: Retries for transient failures and lost workers (a killed worker's task is failed by Airflow's
#: heartbeat timeout, then retried; a retry skips the images already done). On Airflow 3.3+ the
#: provider's retry policy fails fast on what a retry cannot fix (bad input, auth, budget).
RETRIES: dict = {"retries": 3, "retry_delay": timedelta(seconds=30)}
if HWOCR_RETRY_POLICY is not None:
    RETRIES["retry_policy"] = HWOCR_RETRY_POLICY

with DAG(
    dag_id="ocr_daily_backfill",
    default_args=RETRIES,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,  # past days: airflow backfill create
    max_active_runs=2,
    params={"bucket": Param("hwocr-demo", type="string")},
    tags=["hwocr", "example", "obs", "backfill"],
) as dag:
    HuaweiOcrBatchOperator(
        task_id="ocr_day",
        api="general-text",
        source_uri="obs://{{ params.bucket }}/scans/" + RUN_DAY + "/",
        pattern="*.png",
        output_uri="obs://{{ params.bucket }}/ocr/" + RUN_DAY + "/",
        parameters={"detect_direction": True},
        max_concurrency=4,
        qps=5,
        max_failure_ratio=0.02,
    )
