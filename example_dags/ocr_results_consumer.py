"""Runs whenever OCR results land under ``obs://{bucket}/ocr-results/``.

Scheduled on the Asset that ``ocr_results_producer`` and ``ocr_on_upload``
emit. Reads the plain-text pages stored next to each result through
``ObjectStoragePath("obs://…")`` (the provider's ``obs://`` filesystem, extra
``obs-fs``), the way a text or LLM task would, without knowing any API's
result shape.

Needs the ``obs-fs`` extra on the workers that run it::

    # in a clone of the repository: s3fs, for ObjectStoragePath("obs://...")
    pip install ".[obs-fs]" -c constraints/airflow-3.3.2-py3.11.txt

Without it the task fails with an error that names that extra.
"""

from __future__ import annotations

import os

from airflow.sdk import DAG, Asset, task

BUCKET = os.environ.get("HWOCR_EXAMPLE_BUCKET", "hwocr-demo")
RESULTS = Asset(f"obs://{BUCKET}/ocr-results/")

with DAG(
    dag_id="ocr_results_consumer",
    schedule=[RESULTS],
    tags=["hwocr", "example", "assets"],
) as dag:

    @task
    def read_text(**context) -> list[dict]:
        import json

        from airflow.sdk import ObjectStoragePath

        from airflow_provider_hwocr.runtime.store import text_key

        documents = []
        for event in context["triggering_asset_events"][RESULTS]:
            for uri in event.extra.get("results", []):
                bucket, _, key = uri[len("obs://") :].partition("/")
                path = ObjectStoragePath(f"obs://huaweicloud_ocr_default@{bucket}/{text_key(key)}")
                if not path.exists():  # produced without export_text
                    continue
                for page in json.loads(path.read_text())["pages"]:
                    documents.append(page)
                    print("HWOCR_TEXT", page["metadata"]["source"], repr(page["text"][:80]))
        return documents

    read_text()
