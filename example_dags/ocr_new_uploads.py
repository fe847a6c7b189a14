"""New scans land in OBS; OCR each one, store the results in OBS, summarise.

    OBS sensor (prefix) -> one mapped OCR task per new object -> summary

Results go to ``obs://{bucket}/{results}{ds}/`` (one JSON envelope per image),
XCom carries only references. Re-running the same logical date costs no OCR
call: every result already exists and is skipped.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
from airflow_provider_hwocr.sensors.obs import HuaweiObsKeySensor

with DAG(
    dag_id="ocr_new_uploads",
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
    )

    ocr = HuaweiOcrGeneralTextOperator.partial(
        task_id="ocr",
        output_uri="obs://{{ params.bucket }}/{{ params.results }}{{ ds }}/",
        detect_direction=True,
        max_active_tis_per_dag=8,
    ).expand(image=wait_for_scans.output)

    @task
    def summarize(references: list[dict]) -> dict:
        """Documents, words and low-confidence blocks across the batch."""
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
