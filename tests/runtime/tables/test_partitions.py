"""Where a table's files go (``runtime/tables/partitions.py``): Hive-style ``dt=`` partitions, one
file per table, day and shard."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from airflow_provider_hwocr.runtime.tables.partitions import PARTITION_KEY, file_name, partition, table_key


def test_a_day_is_a_hive_partition():
    assert PARTITION_KEY == "dt"
    assert partition(date(2026, 11, 30)) == "dt=2026-11-30"
    assert partition(datetime(2026, 11, 30, 23, 59, tzinfo=timezone.utc)) == "dt=2026-11-30"
    assert partition("2026-11-30T00:00:00+00:00") == partition("2026-11-30") == "dt=2026-11-30"


def test_a_shard_is_a_file_whose_names_sort_as_numbers():
    assert file_name(0) == "part-00000.parquet"
    assert file_name(12, "csv") == "part-00012.csv"
    assert file_name("eu-1", "xlsx") == "part-eu-1.xlsx"
    assert sorted(file_name(n) for n in (10, 9, 100)) == [file_name(9), file_name(10), file_name(100)]


@pytest.mark.parametrize(
    ("shard", "fmt"), [(-1, "parquet"), (True, "parquet"), ("a/b", "parquet"), ("", "csv"), (0, "json")]
)
def test_refused_shards_and_formats(shard, fmt):
    with pytest.raises(ValueError):
        file_name(shard, fmt)


def test_a_table_key_under_a_prefix_or_a_uri():
    assert (
        table_key("obs://bucket/tables/", "vat-invoice__item_list", "2026-11-30", 0)
        == "obs://bucket/tables/vat-invoice__item_list/dt=2026-11-30/part-00000.parquet"
    )
    assert table_key("tables", "vin", date(2026, 1, 2), 3, "csv") == "tables/vin/dt=2026-01-02/part-00003.csv"
    assert table_key("", "vin", "2026-01-02", 3) == "vin/dt=2026-01-02/part-00003.parquet"
