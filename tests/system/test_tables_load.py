"""System test: a day of VAT invoices as tables, read with DuckDB and loaded into a real PostgreSQL.

Both table examples run with ``dag.test()`` against the OCR emulator and the local object server:

* ``ocr_tables_duckdb`` OCRs the day's invoices with ``table_uri`` and totals the day's partition
  with DuckDB, read through the ``obs://`` filesystem;
* ``ocr_tables_to_postgres`` loads the day's header and line-item tables into a PostgreSQL started
  here from its binaries on 127.0.0.1 (as ``test_celery.py`` does; skipped when they are missing,
  unless ``HWOCR_REQUIRE_CELERY_TEST=1``, which CI sets).

Checked: the rows in PostgreSQL are the rows of the Parquet files (every column, read with DuckDB),
the DuckDB totals are the sums of the stored results, and a second load of the same day leaves the
same rows (deleted and inserted again in one transaction), not twice as many.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers.c_integration import xcom_rows
from tests.helpers.paths import REPO

DAY = "2026-11-30"
INVOICES = 12
#: Of which read from the image by the emulator's OCR (slow: its model loads, then seconds each).
READ = 2
REQUIRED = os.environ.get("HWOCR_REQUIRE_CELERY_TEST", "") not in ("", "0")
KEYS = {"vat_invoice": ("source", "page"), "vat_invoice_item": ("source", "page", "item_index")}
TABLES = {"vat_invoice": "vat-invoice", "vat_invoice_item": "vat-invoice__item_list"}


def _example(name: str):
    """The DAG of ``example_dags/{name}.py``, loaded from its file (and only that one)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"example_{name}", REPO / "example_dags" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def _missing() -> str | None:
    from tests.system.test_celery import _postgres_bin

    if _postgres_bin() is None:
        return "PostgreSQL server binaries (apt-get install postgresql)"
    for module in ("duckdb", "psycopg2", "pyarrow", "s3fs", "sqlalchemy"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} (the test extra: python3 scripts/dev.py env)"
    return None


@pytest.fixture(scope="module")
def warehouse():
    """A PostgreSQL on 127.0.0.1 with an empty ``warehouse`` database; yields ``host:port``."""
    missing = _missing()
    if missing is not None:
        if REQUIRED:
            pytest.fail(f"HWOCR_REQUIRE_CELERY_TEST=1 but {missing} is missing")
        pytest.skip(f"needs {missing}")
    import psycopg2

    from tests.system.test_celery import _start_postgres
    from tests.system.test_deployment import Deployment

    home = Path(tempfile.mkdtemp(prefix="hwocr-tables-"))
    os.chmod(home, 0o755)  # the postgres user reaches its data directory inside
    dep = Deployment(home)
    atexit.register(dep.stop_all)
    try:
        address = _start_postgres(dep)
        host, port = address.split(":")
        conn = psycopg2.connect(host=host, port=int(port), user="airflow", dbname="airflow")
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("create database warehouse")
        conn.close()
        yield address
    finally:
        dep.stop_all()
        shutil.rmtree(home, ignore_errors=True)


def _pg_rows(address: str, table: str) -> list[dict]:
    import psycopg2
    import psycopg2.extras

    host, port = address.split(":")
    conn = psycopg2.connect(host=host, port=int(port), user="airflow", dbname="warehouse")
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
            cursor.execute(f"select * from {table} where dt = %s order by {', '.join(KEYS[table])}", (DAY,))
            return [dict(row) for row in cursor.fetchall()]
    finally:
        conn.close()


def _parquet_rows(obs, bucket: str, table: str, tmp_path: Path) -> list[dict]:
    """The rows of the day's Parquet files of ``table``, read with DuckDB from a download."""
    import duckdb

    keys = obs.list_keys(bucket, f"tables/{TABLES[table]}/dt={DAY}/")
    assert keys and all(k.endswith(".parquet") for k in keys)
    paths = []
    for key in keys:
        path = tmp_path / key.replace("/", "_")
        path.write_bytes(obs.get_bytes(bucket, key))
        paths.append(f"'{path}'")
    con = duckdb.connect()
    result = con.sql(f"select * from read_parquet([{', '.join(paths)}]) order by {', '.join(KEYS[table])}")
    names = [d[0] for d in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


def test_a_day_of_invoices_is_read_with_duckdb_and_loaded_into_postgres_once(
    warehouse, airflow_db, emulator, obs_conn, obs_bucket, monkeypatch, tmp_path
):
    import pendulum

    from airflow_provider_hwocr.emulator.samples import vat_invoice
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from tests.helpers.obs_env import bulk_put

    obs = HuaweiObsHook()
    monkeypatch.setenv("HWOCR_EXAMPLE_BUCKET", obs_bucket)  # read when the examples are parsed
    monkeypatch.setenv("AIRFLOW_CONN_HWOCR_WAREHOUSE", f"postgresql://airflow@{warehouse}/warehouse")
    ocr_and_read = _example("ocr_tables_duckdb")
    day = pendulum.parse(f"{DAY}T00:00:00+00:00")

    # 1. the morning's invoices, their printed amounts read from the image (slow: a few of them)
    emulator.config.results = "computed"
    bulk_put(obs_bucket, [f"invoices/{DAY}/a{i}.png" for i in range(READ)], vat_invoice().png)
    assert ocr_and_read.test(logical_date=day).state == "success"
    # 2. later ones, answered with the documented example: line items, amounts that are not numbers
    emulator.config.results = "documented"
    bulk_put(obs_bucket, [f"invoices/{DAY}/b{i}.png" for i in range(INVOICES - READ)], vat_invoice().png)
    read = ocr_and_read.test(logical_date=day)  # skips the first ones, rewrites the day's partition whole
    assert read.state == "success"

    totals = xcom_rows(read, task_id="day_totals", key="return_value")[-1]
    results = [k for k in obs.list_keys(obs_bucket, f"ocr/{DAY}/") if k.endswith(".json")]
    assert len(results) == INVOICES == totals["pages"] == totals["ok"]
    stored = [obs.get_json(obs_bucket, k)["result"] for k in results]
    header = _parquet_rows(obs, obs_bucket, "vat_invoice", tmp_path)
    items = _parquet_rows(obs, obs_bucket, "vat_invoice_item", tmp_path)
    printed = [Decimal(r["total"]) for r in stored if str(r.get("total"))[:1].isdigit()]
    assert len(printed) == READ and sorted(r["total"] for r in header if r["total"] is not None) == sorted(
        printed
    )
    assert Decimal(totals["total"]) == sum(printed) > 0  # exact: decimals, not floats
    assert [r["total_raw"] for r in header if r["total"] is None] == ["<total>"] * (INVOICES - READ)  # kept
    assert totals["line_items"] == len(items) == sum(len(r.get("item_list") or []) for r in stored) > 0

    # 2. the load, twice: the same rows, once
    load = _example("ocr_tables_to_postgres")
    for attempt in range(2):
        run = load.test(run_conf={"day": DAY})
        assert run.state == "success", attempt
        loaded = xcom_rows(run, task_id="load_day", key="return_value")[-1]
        assert loaded == {"day": DAY, "rows": {"vat_invoice": INVOICES, "vat_invoice_item": len(items)}}
        for table, parquet in (("vat_invoice", header), ("vat_invoice_item", items)):
            rows = _pg_rows(warehouse, table)
            assert len(rows) == len(parquet), (attempt, table)
            assert [{k: v for k, v in r.items() if k != "dt"} for r in rows] == parquet, (attempt, table)
            assert {str(r["dt"]) for r in rows} == {DAY}
    sellers = xcom_rows(run, task_id="seller_totals", key="return_value")[-1]
    assert sum(n for _, n, _ in sellers) == INVOICES
    assert sum(Decimal(t) for _, _, t in sellers if t != "None") == sum(
        printed
    )  # per seller, from PostgreSQL
