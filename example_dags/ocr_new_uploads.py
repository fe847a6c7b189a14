"""New scans land in OBS; OCR each one, store the results in OBS, summarise.

    OBS sensor (prefix) -> one mapped OCR task per new object -> summary

Results go to ``obs://{bucket}/{results}{day}/`` (one JSON envelope per image),
XCom carries only references; ``day`` is the run's logical date, or the day a
run with no logical date (UI, CLI without ``-l``, REST API) was triggered for.
Re-running the same day costs no OCR call: every result already exists and is
skipped.

The sensor defers explicitly (``deferrable=True``): ``[operators]
default_deferrable`` is off in a stock install, and a poking sensor would hold
a worker slot for up to ``timeout`` (6 h) while it waits. Deferred, it waits
in the triggerer and uses no worker slot.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY
from airflow_provider_hwocr.sensors.obs import HuaweiObsKeySensor

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
    dag_id="ocr_new_uploads",
    default_args=RETRIES,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    params={
        "bucket": Param("hwocr-demo", type="string", description="bucket holding the scans and the results"),
        "incoming": Param("incoming/", type="string", description="prefix the scans arrive under"),
        "results": Param("results/", type="string", description="prefix for OCR results"),
    },
    tags=["hwocr", "example", "obs"],
) as dag:
    wait_for_scans = HuaweiObsKeySensor(
        task_id="wait_for_scans",
        bucket="{{ params.bucket }}",
        key="{{ params.incoming }}",
        prefix=True,
        min_size=1,
        poke_interval=30,
        timeout=6 * 3600,
        deferrable=True,  # wait in the triggerer, not in a worker slot
    )

    ocr = HuaweiOcrGeneralTextOperator.partial(
        task_id="ocr",
        output_uri="obs://{{ params.bucket }}/{{ params.results }}" + RUN_DAY + "/",
        detect_direction=True,
        max_active_tis_per_dag=8,
    ).expand(image=wait_for_scans.output)

    @task
    def summarize(references: list[dict]) -> dict:
        """Documents, words and low-confidence blocks across the batch."""
        # The mapped references in one read: iterating them asks for one past the last, and
        # Airflow logs that miss as an error ("XCom not found").
        references = list(references[:])
        summaries = [ref["summary"] for ref in references]
        report = {
            "documents": len(summaries),
            "words": sum(s.get("words", 0) for s in summaries),
            "low_confidence_blocks": sum(s.get("low_confidence_blocks", 0) for s in summaries),
            "results": [ref["uri"] for ref in references],
        }
        print("HWOCR_REPORT", report)
        return report

    summarize(ocr.output)
