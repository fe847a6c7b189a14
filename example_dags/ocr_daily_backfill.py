"""Daily batch OCR over a date-partitioned prefix, safe to backfill and to re-run.

Scans for day D are under ``obs://{bucket}/scans/D/``; results and a manifest
go under ``obs://{bucket}/ocr/D/``. ``catchup=True`` processes every past day;
calls are capped by ``qps`` so months of backfill stay within the account's
rate limit, and a re-run of a finished day makes zero OCR calls.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

with DAG(
    dag_id="ocr_daily_backfill",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=True,
    max_active_runs=2,
    params={"bucket": Param("hwocr-demo", type="string")},
    tags=["hwocr", "example", "obs", "backfill"],
) as dag:
    HuaweiOcrBatchOperator(
        task_id="ocr_day",
        api="general-text",
        source_uri="obs://{{ params.bucket }}/scans/{{ ds }}/",
        pattern="*.png",
        output_uri="obs://{{ params.bucket }}/ocr/{{ ds }}/",
        parameters={"detect_direction": True},
        max_concurrency=4,
        qps=5,
        max_failure_ratio=0.02,
    )
