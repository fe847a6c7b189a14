"""Load a day's VAT invoice tables into PostgreSQL, once per day however often it runs.

Scheduled on the header table's Asset, ``obs://{bucket}/tables/vat-invoice``, which a batch with
``table_uri`` (``ocr_tables_duckdb``) updates after writing the day; the event tells the day
(``extra["day"]``). Triggered by hand, it loads ``params.day`` (default: the run's date).

``load_day`` reads the day's partition of ``vat-invoice`` and ``vat-invoice__item_list`` (every
shard's file) from OBS and, in **one transaction**, deletes that day from ``vat_invoice`` and
``vat_invoice_item`` and inserts it again: a rerun, a retry or a backfill of the day leaves the
same rows, never twice, and a reader sees the old day or the new one. The tables are created on
first use with the columns and types of the provider's catalog (amounts ``numeric(18,2)``, dates
``date``), plus ``dt``; the primary keys (``dt, source, page`` and ``..., item_index``) refuse a
duplicate. ``seller_totals`` then prints the day's totals per seller, from PostgreSQL.

The warehouse is the Airflow connection ``hwocr_warehouse`` (a ``postgres`` connection:
``AIRFLOW_CONN_HWOCR_WAREHOUSE='postgresql://user:password@host:5432/database'``). With the
Postgres provider installed its hook gives the engine; without it, SQLAlchemy with psycopg2 from
the connection's fields. Needs the ``tables`` and ``obs-fs`` extras and ``psycopg2``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, Param, task

BUCKET = os.environ.get("HWOCR_EXAMPLE_BUCKET", "hwocr-demo")
TABLE_URI = f"obs://{BUCKET}/tables/"
CONN_ID = "huaweicloud_ocr_default"  # the OBS that holds the tables
WAREHOUSE_CONN_ID = "hwocr_warehouse"
#: The day's tables in OBS -> the tables in PostgreSQL.
LOADS = {"vat-invoice": "vat_invoice", "vat-invoice__item_list": "vat_invoice_item"}
HEADER = Asset(f"{TABLE_URI}vat-invoice")


def warehouse_engine() -> Any:
    """An SQLAlchemy engine on the warehouse connection."""
    try:
        from airflow.providers.postgres.hooks.postgres import PostgresHook
    except ImportError:  # no Postgres provider: SQLAlchemy and psycopg2 from the connection's fields
        from airflow.sdk import BaseHook
        from sqlalchemy import URL, create_engine

        conn = BaseHook.get_connection(WAREHOUSE_CONN_ID)
        url = URL.create(
            "postgresql+psycopg2",
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=conn.port or None,
            database=conn.schema or None,
        )
        return create_engine(url)
    return PostgresHook(postgres_conn_id=WAREHOUSE_CONN_ID).get_sqlalchemy_engine()


def sql_table(name: str, table: Any, metadata: Any) -> Any:
    """The SQLAlchemy table for a catalog table: ``dt`` and its columns, keyed by ``dt`` and its keys."""
    from sqlalchemy import Column, Date, Table

    columns = [Column("dt", Date, primary_key=True)]
    for column in table.columns:
        key = column.role == "key" and not column.nullable
        columns.append(Column(column.name, _sql_type(column.type), primary_key=key, nullable=not key))
    return Table(name, metadata, *columns)


def _sql_type(logical: str) -> Any:
    """The SQLAlchemy type of a catalog column type (``decimal(18,2)`` -> ``NUMERIC(18,2)``)."""
    from sqlalchemy import BigInteger, Boolean, Date, DateTime, Float, Numeric, Text

    if logical.startswith("decimal"):
        precision, scale = logical[len("decimal(") : -1].split(",")
        return Numeric(int(precision), int(scale), asdecimal=True)
    return {
        "string": Text(),
        "int64": BigInteger(),
        "float64": Float(precision=53),
        "bool": Boolean(),
        "date": Date(),
        "timestamp": DateTime(timezone=True),
    }[logical]


with DAG(
    dag_id="ocr_tables_to_postgres",
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    schedule=[HEADER],
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one load of a day at a time
    params={"day": Param(None, type=["null", "string"], format="date")},
    tags=["hwocr", "example", "tables", "postgres"],
) as dag:

    @task
    def load_day(**context: Any) -> dict:
        from datetime import date

        import pyarrow.parquet as pq
        from airflow.sdk import ObjectStoragePath
        from sqlalchemy import MetaData, delete, insert

        from airflow_provider_hwocr.catalog.tables import find_table

        day = _day(context)
        fs = ObjectStoragePath(f"obs://{CONN_ID}@{BUCKET}/").fs
        fs.invalidate_cache()  # a file rewritten since this process last listed it: not its old size
        metadata = MetaData()
        loaded = {}
        engine = warehouse_engine()
        with engine.begin() as conn:  # one transaction: the old day or the new one, never a mix
            for name, target in LOADS.items():
                table = sql_table(target, find_table(name), metadata)
                table.create(conn, checkfirst=True)
                files = fs.glob(f"{TABLE_URI}{name}/dt={day}/*.parquet")
                rows = [
                    {"dt": date.fromisoformat(day), **row}
                    for path in sorted(files)
                    for row in pq.read_table(path, filesystem=fs).to_pylist()
                ]
                conn.execute(delete(table).where(table.c.dt == date.fromisoformat(day)))
                if rows:
                    conn.execute(insert(table), rows)
                loaded[target] = len(rows)
                print(f"HWOCR_LOAD {day}: {target} <- {len(rows)} row(s) from {len(files)} file(s) of {name}")
        engine.dispose()
        return {"day": day, "rows": loaded}

    @task
    def seller_totals(loaded: dict) -> list:
        from sqlalchemy import text

        engine = warehouse_engine()
        with engine.connect() as conn:
            totals = conn.execute(
                text(
                    "select seller_name, count(*), sum(total) from vat_invoice "
                    "where dt = cast(:day as date) and status = 'ok' group by seller_name order by 3 desc nulls last"
                ),
                {"day": loaded["day"]},
            ).fetchall()
        engine.dispose()
        for seller, invoices, total in totals:
            print(f"HWOCR_LOAD {loaded['day']}: seller {seller!r}: {invoices} invoice(s), total {total}")
        return [[seller, invoices, str(total)] for seller, invoices, total in totals]

    seller_totals(load_day())


def _day(context: Any) -> str:
    """The day to load: the triggering table event's, else ``params.day``, else the run's date."""
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in reversed(list(events)):
            if (event.extra or {}).get("day"):
                return str(event.extra["day"])
    if context["params"].get("day"):
        return str(context["params"]["day"])[:10]
    run = context["dag_run"]
    when = context.get("logical_date") or run.run_after
    return when.date().isoformat()
