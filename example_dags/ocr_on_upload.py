"""Event-driven: OCR every image uploaded under ``obs://{bucket}/incoming/`` (issue 11).

    upload -> HuaweiObsNewObjectTrigger (triggerer, AssetWatcher) -> DAG run -> OCR -> results asset

No schedule and no sensor: the triggerer lists the prefix every 10 s and
fires one asset event per new object; each event starts a run (several
events may be batched into one run). The run OCRs the objects named in its
triggering events.

Delivery is at least once (an object may be reported again after a triggerer
restart), so the handler is idempotent: results go to ``output_uri`` with
``skip_existing`` (the default), and an image already done costs no OCR call.

The watermark of what was already reported is kept in OBS, at
``obs://{bucket}/.hwocr-watermarks/…json``. Set ``HWOCR_EXAMPLE_BUCKET``
(default ``hwocr-demo``).
"""

from __future__ import annotations

import os

from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
from airflow_provider_hwocr.triggers.obs_event import HuaweiObsNewObjectTrigger

BUCKET = os.environ.get("HWOCR_EXAMPLE_BUCKET", "hwocr-demo")

incoming = Asset(
    f"obs://{BUCKET}/incoming/",
    watchers=[
        AssetWatcher(
            name="hwocr_incoming_uploads",
            trigger=HuaweiObsNewObjectTrigger(
                bucket=BUCKET, prefix="incoming/", pattern="*.png", poke_interval=10.0
            ),
        )
    ],
)

with DAG(dag_id="ocr_on_upload", schedule=[incoming], tags=["hwocr", "example", "event-driven"]) as dag:

    @task
    def uploaded(**context) -> list[str]:
        """The objects named by this run's triggering events (deduplicated: events may repeat)."""
        uris = []
        for event in context["triggering_asset_events"][incoming]:
            uri = (event.extra.get("payload") or {}).get("uri")
            if uri and uri not in uris:
                uris.append(uri)
        print("HWOCR_UPLOADED", uris)
        return uris

    HuaweiOcrGeneralTextOperator.partial(
        task_id="ocr", output_uri=f"obs://{BUCKET}/ocr-results/", emit_asset=True, export_text=True
    ).expand(image=uploaded())
