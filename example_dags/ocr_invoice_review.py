"""VAT invoices of the day, read in one batch; a person checks the fields the service was unsure of.

Invoices for day D are under ``obs://{bucket}/invoices/D/``; results go under
``obs://{bucket}/invoice-ocr/D/`` and the day's tables (Parquet, one partition a day) under
``obs://{bucket}/tables/``. A page whose total or number is read with a confidence under its
threshold (or not read at all) is *held*: stored like any other, kept out of the batch's tables,
and listed in the batch's XCom ``held``. Everything else flows on at once.

``review`` is mapped over the held pages: one Required action per page in the Airflow UI
(Browse > Required Actions, or the task's "Required Actions" tab), showing the uncertain fields,
their crops and the whole page. Approve (after correcting a value, if needed) or Reject. On
Airflow 3.3+ a waiting review holds no worker and no pool slot; on 3.1 and 3.2 it waits in the
triggerer. The decision is written at once: the corrected result, the page's table rows
(``status`` ``ok`` or ``rejected``, ``reviewed`` true), the review ledger. A review nobody
answers in 8 hours rejects the page. A re-run of the day sends nothing again and holds only the
pages still undecided.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
from airflow_provider_hwocr.operators.review import HuaweiOcrReviewOperator, held_pages
from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY

# The run's day: its logical date, or the time a run with no logical date was triggered for.
RUN_DAY = "{{ (logical_date | default(dag_run.run_after, true)) | ds }}"
BUCKET = "{{ params.bucket }}"

#: The fields a person checks, and below which confidence: the same rule for the batch (which
#: pages wait) and the review (what the form shows).
REVIEW = {"review_below": {"total": 0.99, "number": 0.95}, "review_fields": ["total", "number"]}

#: Retries for transient failures (a retried batch skips what is done; a retried review asks again
#: only if its decision was not stored).
RETRIES: dict = {"retries": 3, "retry_delay": timedelta(seconds=30)}
if HWOCR_RETRY_POLICY is not None:
    RETRIES["retry_policy"] = HWOCR_RETRY_POLICY

with DAG(
    dag_id="ocr_invoice_review",
    default_args=RETRIES,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={"bucket": Param("hwocr-demo", type="string")},
    tags=["hwocr", "example", "review", "tables"],
) as dag:
    ocr = HuaweiOcrBatchOperator(
        task_id="ocr",
        api="vat-invoice",
        source_uri=f"obs://{BUCKET}/invoices/{RUN_DAY}/",
        pattern="*.png",
        allow_empty=True,  # a day without invoices (a holiday) is no error
        output_uri=f"obs://{BUCKET}/invoice-ocr/{RUN_DAY}/",
        table_uri=f"obs://{BUCKET}/tables/",
        # per-field confidences (what the review gates on) and locations (what its crops cut)
        parameters={"advanced_mode": True, "return_text_location": True},
        max_concurrency=4,
        qps=10,
        **REVIEW,
    )
    HuaweiOcrReviewOperator.partial(
        task_id="review",
        table_uri=f"obs://{BUCKET}/tables/",
        response_timeout=timedelta(hours=8),
        on_timeout="reject",
        **REVIEW,
    ).expand(held=held_pages(ocr))
