"""The Arrow schema of each table, from the catalog's columns (``catalog/tables.py``).

pyarrow is the ``tables`` extra, loaded on first use (:func:`pyarrow`), so importing this module
costs nothing and a worker without it fails only when a table is written, with an error naming
the extra: ``pip install "airflow-provider-hwocr[tables]"``.

Each field carries where its values come from (``hwocr.source``, ``hwocr.role``, ``hwocr.raw``)
and the schema which table it is (``hwocr.format``, ``hwocr.table``, ``hwocr.api``), so a Parquet
file describes itself.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from airflow_provider_hwocr.catalog.tables import TABLE_FORMAT, Column, Table, api_tables
from airflow_provider_hwocr.errors import HuaweiCloudNonRetryableError

__all__ = [
    "INSTALL_HINT",
    "HuaweiOcrTablesExtraError",
    "api_schemas",
    "arrow_field",
    "arrow_schema",
    "arrow_type",
    "optional_module",
    "pyarrow",
]

INSTALL_HINT = 'pip install "airflow-provider-hwocr[tables]"'


class HuaweiOcrTablesExtraError(HuaweiCloudNonRetryableError, ImportError):
    """Writing tables needs the ``tables`` extra (pyarrow, openpyxl), which is not installed."""


def optional_module(name: str) -> ModuleType:
    """Module ``name`` of the ``tables`` extra, imported now (an error naming the extra if missing)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise HuaweiOcrTablesExtraError(
            f"writing tables needs {name.partition('.')[0]}, from the tables extra: {INSTALL_HINT}"
        ) from exc


def pyarrow() -> ModuleType:
    """The ``pyarrow`` module (imported on first use)."""
    return optional_module("pyarrow")


def arrow_type(logical: str) -> Any:
    """The Arrow type of a logical type of :data:`~airflow_provider_hwocr.catalog.tables.LOGICAL_TYPES`."""
    pa = pyarrow()
    plain = {
        "string": pa.string,
        "int64": pa.int64,
        "float64": pa.float64,
        "bool": pa.bool_,
        "date": pa.date32,
    }
    if logical in plain:
        return plain[logical]()
    if logical == "timestamp":
        return pa.timestamp("us", tz="UTC")
    probe = Column("probe", logical)
    if probe.scale is not None and probe.precision is not None:
        return pa.decimal128(probe.precision, probe.scale)
    raise ValueError(f"no Arrow type for the logical type {logical!r}")


def arrow_field(column: Column) -> Any:
    metadata: dict[str, str] = {"hwocr.role": column.role}
    if column.source is not None:
        metadata["hwocr.source"] = column.source
    if column.raw is not None:
        metadata["hwocr.raw"] = column.raw
    return pyarrow().field(column.name, arrow_type(column.type), nullable=column.nullable, metadata=metadata)


def arrow_schema(table: Table) -> Any:
    """The ``pyarrow.Schema`` of ``table``: its columns in order, with their types and provenance."""
    metadata = {"hwocr.format": TABLE_FORMAT, "hwocr.table": table.name, "hwocr.api": table.api}
    return pyarrow().schema([arrow_field(c) for c in table.columns], metadata=metadata)


def api_schemas(slug: str) -> dict[str, Any]:
    """Table name -> ``pyarrow.Schema``, for every table of API ``slug`` (the header table first)."""
    return {t.name: arrow_schema(t) for t in api_tables(slug)}
