"""Event-driven: OCR every image uploaded under ``obs://{bucket}/incoming/``.

    uploads -> HuaweiObsNewObjectTrigger (triggerer, AssetWatcher) -> DAG run -> batch OCR -> results asset

No schedule and no sensor: the triggerer polls the prefix every 10 s and fires **one** asset
event per poll that found new objects, naming all of them (a burst of uploads starts one run
that OCRs every file of the burst). The run takes the objects named by its triggering events
(:func:`event_uris`: several events may land in one run) and OCRs them in one batch task:
paced, under ``max_calls``, results stored next to each other.

Delivery is at least once (after a triggerer crash, what the last 30 s reported is reported
again), so the run is idempotent: results go to ``output_uri`` and an image already done costs
no OCR call; ``max_active_runs=1`` keeps a repeated event from racing its original.

``key_order="name"``: a poll lists only keys after the newest *settled* key, so it costs one
request however many objects ``incoming/`` holds; that assumes uploads are named so they sort
by time (``20261201T101500Z-0001.png``, a scanner's counter). Keys that break the order are
still reported, late, by the safety net's sweep of the whole prefix (a page every other poll);
the triggerer logs a warning when that happens. Date folders with any file names:
``key_order="folder"``; no order at all: ``key_order="none"`` (every poll lists everything).

Lost workers: a SIGKILLed worker's task stays "running" until Airflow's zombie detection
fails it (``[scheduler] task_instance_heartbeat_timeout``, 300 s by default); ``retries``
then runs it again, and the retry OCRs only the images without a stored result. With
Airflow 3.3+ the provider's retry policy fails fast on what a retry cannot fix.

The watermark of what was already reported is kept in OBS, at
``obs://{bucket}/.hwocr-watermarks/…json``. Set ``HWOCR_EXAMPLE_BUCKET`` (default ``hwocr-demo``).
"""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY
from airflow_provider_hwocr.triggers.obs_event import HuaweiObsNewObjectTrigger, event_uris

BUCKET = os.environ.get("HWOCR_EXAMPLE_BUCKET", "hwocr-demo")

incoming = Asset(
    f"obs://{BUCKET}/incoming/",
    watchers=[
        AssetWatcher(
            name="hwocr_incoming_uploads",
            trigger=HuaweiObsNewObjectTrigger(
                bucket=BUCKET, prefix="incoming/", pattern="*.png", poke_interval=10.0, key_order="name"
            ),
        )
    ],
)

#: Retries for transient failures and lost workers (a killed worker's task is failed by Airflow's
#: heartbeat timeout, then retried; a retry skips the images already done). On Airflow 3.3+ the
#: provider's retry policy fails fast on what a retry cannot fix (bad input, auth, budget).
RETRIES: dict = {"retries": 3, "retry_delay": timedelta(seconds=30)}
if HWOCR_RETRY_POLICY is not None:
    RETRIES["retry_policy"] = HWOCR_RETRY_POLICY

with DAG(
    dag_id="ocr_on_upload",
    schedule=[incoming],
    max_active_runs=1,
    default_args=RETRIES,
    tags=["hwocr", "example", "event-driven"],
) as dag:

    @task.short_circuit  # no objects (a run started by hand): the OCR task is skipped
    def uploaded(**context) -> list[str]:
        """The objects named by this run's triggering events (each once: events may repeat)."""
        uris = event_uris(context["triggering_asset_events"][incoming])
        print("HWOCR_UPLOADED", uris)
        return uris

    HuaweiOcrBatchOperator(
        task_id="ocr",
        api="general-text",
        images=uploaded(),
        output_uri=f"obs://{BUCKET}/ocr-results/",
        emit_asset=True,
        export_text=True,
        qps=5,
        max_concurrency=4,
    )
