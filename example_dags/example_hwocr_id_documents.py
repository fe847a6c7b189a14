"""Read a batch of passports in parallel with dynamic task mapping.

One mapped task instance per image; each pushes the API's result to XCom and
a final task collects the passport numbers. The list of images would usually
come from an upstream task (for example an OBS sensor), here it is a param.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_hwocr.operators.ocr import HuaweiOcrOperator, HuaweiOcrPassportOperator
from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY

#: Retries for transient failures and lost workers (a killed worker's task is failed by Airflow's
#: heartbeat timeout, then retried; a retry skips the images already done). On Airflow 3.3+ the
#: provider's retry policy fails fast on what a retry cannot fix (bad input, auth, budget).
RETRIES: dict = {"retries": 3, "retry_delay": timedelta(seconds=30)}
if HWOCR_RETRY_POLICY is not None:
    RETRIES["retry_policy"] = HWOCR_RETRY_POLICY

with DAG(
    dag_id="hwocr_id_documents",
    default_args=RETRIES,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "passports": Param(
            [
                "https://my-bucket.obs.cn-north-4.myhuaweicloud.com/passports/001.jpg",
                "https://my-bucket.obs.cn-north-4.myhuaweicloud.com/passports/002.jpg",
            ],
            type="array",
        ),
        "plate": Param(
            "https://my-bucket.obs.ap-southeast-2.myhuaweicloud.com/plates/car.jpg", type="string"
        ),
    },
    tags=["hwocr", "example"],
) as dag:

    @task
    def list_images(**context) -> list[str]:
        return list(context["params"]["passports"])

    passports = HuaweiOcrPassportOperator.partial(
        task_id="passport",
        country_code="GENERAL",
        max_active_tis_per_dag=4,  # stay well under the account's rate limit
    ).expand(image=list_images())

    # The generic operator takes the API by name and its parameters as a dict.
    plate = HuaweiOcrOperator(
        task_id="license_plate",
        api="thailand-license-plate",
        image="{{ params.plate }}",
        region="ap-southeast-2",
    )

    @task
    def collect(results: list[dict], plates: list[dict]) -> dict:
        # The mapped results in one read: iterating them asks for one past the last, and Airflow
        # logs that miss as an error ("XCom not found").
        results = list(results[:])
        return {
            "passport_numbers": [r.get("passport_number") for r in results],
            "plates": [p.get("plate_number") for p in plates],
        }

    collect(passports.output, plate.output)
