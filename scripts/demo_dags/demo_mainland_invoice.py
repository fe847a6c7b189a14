"""The demo's mainland step: a Chinese VAT invoice read, then verified with the fields read.

    read (vat-invoice, cn-north-4) -> fields (from the stored result) -> verify (invoice-verification)

``scripts/demo.py`` runs it with ``airflow dags test`` (this folder is its DAGs folder for that
run), like the example DAGs: every operator runs in Airflow's task runner. Results go to
``obs://{bucket}/results-cn/{day}/``; a re-run of the same day makes no OCR call (the invoice's
result is found by its image, the verification's by the invoice's identity).
"""

from __future__ import annotations

import json

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_hwocr.operators.ocr import (
    HuaweiOcrInvoiceVerificationOperator,
    HuaweiOcrVatInvoiceOperator,
)

RUN_DAY = "{{ (logical_date | default(dag_run.run_after, true)) | ds }}"
RESULTS = "obs://{{ params.bucket }}/results-cn/" + RUN_DAY + "/"
#: A field of the invoice, as the ``fields`` task returned it.
FIELD = "{{{{ ti.xcom_pull(task_ids='fields')['{}'] }}}}"

with DAG(
    dag_id="demo_mainland_invoice",
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    params={
        "bucket": Param("hwocr-demo", type="string"),
        "image": Param("obs://hwocr-demo/mainland/vat_invoice.png", type="string"),
    },
    tags=["hwocr", "demo", "obs"],
) as dag:
    read = HuaweiOcrVatInvoiceOperator(
        task_id="read",
        image="{{ params.image }}",
        advanced_mode=True,
        region="cn-north-4",
        output_uri=RESULTS,
    )

    @task
    def fields(reference: dict) -> dict:
        """The fields a verification needs, from the stored result (its date as YYYY-MM-DD)."""
        from airflow_provider_hwocr.client.invoice import normalise_date
        from airflow_provider_hwocr.client.sources import parse_obs_uri
        from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

        stored = parse_obs_uri(reference["uri"])
        result = HuaweiObsHook().get_json(stored.bucket, stored.key)["result"]
        found = {
            "code": result["code"],
            "number": result["number"],
            "issue_date": normalise_date(result["issue_date"]),  # 2026年11月20日 -> 2026-11-20
            "subtotal_amount": result["subtotal_amount"],
        }
        print("HWOCR_FIELDS", json.dumps(found, ensure_ascii=False))
        return found

    verify = HuaweiOcrInvoiceVerificationOperator(
        task_id="verify",
        code=FIELD.format("code"),
        number=FIELD.format("number"),
        issue_date=FIELD.format("issue_date"),
        subtotal_amount=FIELD.format("subtotal_amount"),
        region="cn-north-4",
        output_uri=RESULTS,
    )

    fields(read.output) >> verify
