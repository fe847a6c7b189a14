"""Where a table's files go: ``<prefix>/<table>/dt=YYYY-MM-DD/part-<shard>.<format>``.

Hive-style partitions (``dt=2026-11-30``), which DuckDB (``hive_partitioning``), Spark and Trino
read as a ``dt`` column. One file per table, partition and shard: a run (or a shard of a mapped
batch) writes its whole part of the day and replaces the file whole, by one PUT. An object
store's PUT is atomic, so a reader sees the old file or the new one, never a mix, and a rerun
replaces its own file instead of adding rows twice. Shards never write each other's files.
"""

from __future__ import annotations

import re
from datetime import date, datetime

__all__ = ["PARTITION_KEY", "file_name", "partition", "table_key"]

#: The partition column.
PARTITION_KEY = "dt"
_SHARD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_EXTENSIONS = {"parquet": "parquet", "csv": "csv", "xlsx": "xlsx"}


def partition(day: date | datetime | str) -> str:
    """``dt=YYYY-MM-DD`` for a date, a datetime (its date) or an ISO date string."""
    if isinstance(day, datetime):
        day = day.date()
    elif isinstance(day, str):
        day = date.fromisoformat(day[:10])
    return f"{PARTITION_KEY}={day.isoformat()}"


def file_name(shard: int | str, fmt: str = "parquet") -> str:
    """``part-00003.parquet`` for shard 3 (five digits: names sort as numbers), ``part-<name>.csv``."""
    if fmt not in _EXTENSIONS:
        raise ValueError(f"unknown table format {fmt!r}; one of {', '.join(_EXTENSIONS)}")
    if isinstance(shard, bool) or (isinstance(shard, int) and shard < 0):
        raise ValueError(f"a shard is a number >= 0 or a name, not {shard!r}")
    if isinstance(shard, int):
        label = f"{shard:05d}"
    elif _SHARD.fullmatch(shard):
        label = shard
    else:
        raise ValueError(f"a shard name is letters, digits, '_', '.' and '-': {shard!r}")
    return f"part-{label}.{_EXTENSIONS[fmt]}"


def table_key(
    prefix: str, table: str, day: date | datetime | str, shard: int | str, fmt: str = "parquet"
) -> str:
    """The key (or URI, with a URI prefix) of one table's file for one day and shard.

    ``table_key("obs://bucket/tables/", "vat-invoice__item_list", "2026-11-30", 0)`` is
    ``obs://bucket/tables/vat-invoice__item_list/dt=2026-11-30/part-00000.parquet``.
    """
    base = prefix.rstrip("/")
    return (
        f"{base}/{table}/{partition(day)}/{file_name(shard, fmt)}"
        if base
        else f"{table}/{partition(day)}/{file_name(shard, fmt)}"
    )
