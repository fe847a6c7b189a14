"""Recognise the text of one document and summarise it.

The image is a DAG param: an ``https://`` URL (for example an OBS object URL
with OCR's OBS authorization enabled), or a local file path readable by the
worker. Trigger with ``{"image": "..."}`` to OCR another document.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY

LOW_CONFIDENCE = 0.8


#: Retries for transient failures and lost workers (a killed worker's task is failed by Airflow's
#: heartbeat timeout, then retried; a retry skips the images already done). On Airflow 3.3+ the
#: provider's retry policy fails fast on what a retry cannot fix (bad input, auth, budget).
RETRIES: dict = {"retries": 3, "retry_delay": timedelta(seconds=30)}
if HWOCR_RETRY_POLICY is not None:
    RETRIES["retry_policy"] = HWOCR_RETRY_POLICY

with DAG(
    dag_id="hwocr_general_text",
    default_args=RETRIES,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "image": Param(
            "https://my-bucket.obs.cn-north-4.myhuaweicloud.com/scans/receipt.png",
            type="string",
            description="http(s) URL or local file path of the image to read",
        )
    },
    tags=["hwocr", "example"],
) as dag:
    recognize = HuaweiOcrGeneralTextOperator(
        task_id="recognize",
        image="{{ params.image }}",
        detect_direction=True,
        return_markdown_result=True,
    )

    @task
    def summarize(result: dict) -> dict:
        """Count blocks and characters, flag blocks the service was unsure about."""
        blocks = result.get("words_block_list", [])
        text = "\n".join(block.get("words", "") for block in blocks)
        summary = {
            "blocks": result.get("words_block_count", len(blocks)),
            "characters": len(text),
            "low_confidence_blocks": sum(1 for b in blocks if b.get("confidence", 1.0) < LOW_CONFIDENCE),
            "text": text[:2000],
        }
        print("HWOCR_SUMMARY " + json.dumps(summary, ensure_ascii=False))
        return summary

    summarize(recognize.output)
