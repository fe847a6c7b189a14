"""A large day of scans OCR'd by several batch tasks at once, on the cluster's own workers.

One batch task per shard (``.expand(shard_index=...)``): the executor (Celery, Kubernetes,
Local) runs them on as many workers as it has. Every image belongs to exactly one shard
(a stable hash of its key), so the shards never overlap and never miss an image; each
lists the day once, keeps its own share, and calls OCR at ``qps / shard_count``, so the
shards together stay within the account's rate. A re-run of a finished day costs each
shard two listings and three small requests, and no OCR call.

The day comes from the run: the logical date for scheduled runs and backfills, the
``day`` param when given, else the day the run was triggered (manual and REST API runs
have no logical date).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY

#: Shards per day: raise it with the number of workers (each shard is one task and one slot).
SHARDS = 4
DAY = "{{ params.day or (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}"


#: Retries for transient failures and lost workers (a killed worker's task is failed by Airflow's
#: heartbeat timeout, then retried; a retry skips the images already done). On Airflow 3.3+ the
#: provider's retry policy fails fast on what a retry cannot fix (bad input, auth, budget).
RETRIES: dict = {"retries": 3, "retry_delay": timedelta(seconds=30)}
if HWOCR_RETRY_POLICY is not None:
    RETRIES["retry_policy"] = HWOCR_RETRY_POLICY

with DAG(
    dag_id="ocr_sharded_backfill",
    default_args=RETRIES,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={
        "bucket": Param("hwocr-demo", type="string"),
        "day": Param("", type="string", description="YYYY-MM-DD; empty: the run's date"),
    },
    tags=["hwocr", "example", "obs", "backfill"],
) as dag:
    HuaweiOcrBatchOperator.partial(
        task_id="ocr_shard",
        api="general-text",
        source_uri=f"obs://{{{{ params.bucket }}}}/scans/{DAY}/",
        pattern="*.png",
        output_uri=f"obs://{{{{ params.bucket }}}}/ocr/{DAY}/",
        shard_count=SHARDS,
        qps=20,  # the account's calls per second, shared by the shards (5/s each)
        max_concurrency=8,
        max_failure_ratio=0.01,
        # A lost worker's lease expires a minute after its last renewal: a retry started by Airflow's
        # heartbeat timeout and retry_delay (a minute or more later) takes it at once instead of
        # waiting for the default 180 s (a retry never takes a lease a try may still be sending under).
        lease_ttl=60,
        map_index_template="shard {{ task.shard_index }} of " + str(SHARDS),
    ).expand(shard_index=list(range(SHARDS)))
