"""A day of VAT invoices as typed tables, then read with DuckDB.

``ocr_invoices`` OCRs the scans of day D under ``obs://{bucket}/invoices/D/`` and, with
``table_uri``, writes the day's tables (docs: guides/tables.md): the header table
``obs://{bucket}/tables/vat-invoice/dt=D/part-00000.parquet``, one row per invoice page, amounts as
``DECIMAL(18,2)`` and dates as ``DATE``, and the line items next to it in
``vat-invoice__item_list``. ``day_totals`` reads that partition with DuckDB straight from OBS (the
provider's ``obs://`` filesystem registered with DuckDB, extra ``obs-fs``) and prints the day's
totals, per seller and over the line items; sums of decimals are exact.

D is the run's logical date, or the date the run was triggered for. The bucket is
``HWOCR_EXAMPLE_BUCKET`` (default ``hwocr-demo``), fixed when the DAG is parsed so that each table
is an Asset that other DAGs can be scheduled on (``ocr_tables_to_postgres`` is).

Needs on the workers: the ``tables`` extra (pyarrow), the ``obs-fs`` extra (s3fs) and ``duckdb``::

    pip install ".[tables,obs-fs]" duckdb -c constraints/airflow-3.3.2-py3.11.txt
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY

BUCKET = os.environ.get("HWOCR_EXAMPLE_BUCKET", "hwocr-demo")
#: Where the tables go: ``<TABLE_URI><table>/dt=YYYY-MM-DD/part-00000.parquet``.
TABLE_URI = f"obs://{BUCKET}/tables/"
#: The connection whose OBS holds the tables (the ``obs://`` filesystem reads it).
CONN_ID = "huaweicloud_ocr_default"
# The run's day: its logical date, or the time it was triggered for (``{{ ds }}`` alone is
# undefined in a run triggered without a logical date). The batch's tables use the same day.
RUN_DAY = "{{ (logical_date | default(dag_run.run_after, true)) | ds }}"

RETRIES: dict = {"retries": 2, "retry_delay": timedelta(seconds=30)}
if HWOCR_RETRY_POLICY is not None:
    RETRIES["retry_policy"] = HWOCR_RETRY_POLICY


def partition_glob(table: str, day: str) -> str:
    """Every file (one per shard) of ``table``'s partition for ``day``."""
    return f"{TABLE_URI}{table}/dt={day}/*.parquet"


with DAG(
    dag_id="ocr_tables_duckdb",
    default_args=RETRIES,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    tags=["hwocr", "example", "tables", "duckdb"],
) as dag:
    ocr = HuaweiOcrBatchOperator(
        task_id="ocr_invoices",
        api="vat-invoice",
        source_uri=f"obs://{BUCKET}/invoices/{RUN_DAY}/",
        output_uri=f"obs://{BUCKET}/ocr/{RUN_DAY}/",
        table_uri=TABLE_URI,
        table_format="parquet",
        max_concurrency=4,
        qps=5,
        allow_empty=True,  # an empty day still writes its (empty, fully typed) tables
    )

    @task
    def day_totals(day: str) -> dict:
        import duckdb
        from airflow.sdk import ObjectStoragePath

        con = duckdb.connect()
        # DuckDB reads obs:// paths through the provider's fsspec filesystem (the connection's
        # credentials and endpoint), with no copy on local disk.
        fs = ObjectStoragePath(f"obs://{CONN_ID}@{BUCKET}/").fs
        fs.invalidate_cache()  # a file rewritten since this process last listed it: not its old size
        con.register_filesystem(fs)
        header, items = partition_glob("vat-invoice", day), partition_glob("vat-invoice__item_list", day)
        pages, ok, total, tax = con.execute(
            "select count(*), count(*) filter (where status = 'ok'), "
            f"coalesce(sum(total), 0), coalesce(sum(sum_tax), 0) from read_parquet('{header}')"
        ).fetchone()
        lines, amount = con.execute(
            f"select count(*), coalesce(sum(amount), 0) from read_parquet('{items}')"
        ).fetchone()
        sellers = con.execute(
            f"select seller_name, count(*) as invoices, sum(total) as total from read_parquet('{header}') "
            "where status = 'ok' group by seller_name order by total desc nulls last, seller_name limit 10"
        ).fetchall()
        to_check = con.execute(
            f"select count(*) from read_parquet('{header}') where total is null and total_raw is not null"
        ).fetchone()[0]
        print(f"HWOCR_TABLES {day}: {pages} page(s), {ok} ok, total {total}, tax {tax}")
        print(f"HWOCR_TABLES {day}: {lines} line item(s), amount {amount}")
        for seller, invoices, seller_total in sellers:
            print(f"HWOCR_TABLES {day}: seller {seller!r}: {invoices} invoice(s), total {seller_total}")
        if to_check:
            print(f"HWOCR_TABLES {day}: {to_check} total(s) printed but not read as amounts (see total_raw)")
        return {
            "day": day,
            "pages": pages,
            "ok": ok,
            "total": str(total),
            "tax": str(tax),
            "line_items": lines,
            "line_amount": str(amount),
            "sellers": [[s, n, str(t)] for s, n, t in sellers],
        }

    ocr >> day_totals(RUN_DAY)
