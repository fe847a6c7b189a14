"""Two overlapping runs of one day that both write its tables (``table_uri``), measured from outside: the
operator's ``execute()`` in two threads against the OCR emulator and the fast local object server, and a
reader polling the day's table the whole time.

The day's table ends with exactly one row per image; every version a reader could have fetched during the
runs is a whole Parquet file without a page twice (one PUT per table and day: old or new, never a mix);
and each image is paid once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from typing import Any

from tests.helpers.d2_stages import PNG, SLUG, run_in_thread, task_context

DAY = "2026-03-01"


def _rows(path) -> tuple[int, int]:
    """(rows, distinct sources) of a Parquet file."""
    import duckdb

    return duckdb.sql(f"select count(*), count(distinct source) from read_parquet('{path}')").fetchall()[0]


def test_two_overlapping_runs_writing_tables_leave_one_row_per_image(fast_conn, emulator, tmp_path):
    n = 60
    bucket = f"ovt-{uuid.uuid4().hex[:10]}"
    fast_conn.create_bucket(bucket)
    for i in range(n):
        fast_conn.put_object(bucket, f"day/{i:04d}.png", PNG)
    emulator.reset()
    emulator.config.latency_ms = 30
    table_key = f"tables/{SLUG}/dt={DAY}/part-00000.parquet"
    objects = fast_conn.buckets[bucket].objects

    versions: list[bytes] = []
    stop = threading.Event()

    def read() -> None:  # every version of the day's table a reader could fetch
        deadline = time.monotonic() + 120
        while not stop.is_set() and time.monotonic() < deadline:
            found = objects.get(table_key)
            if found is not None and (not versions or versions[-1] != found.data):
                versions.append(bytes(found.data))
            time.sleep(0.002)

    reader = threading.Thread(target=read, name="reader")
    reader.start()
    out: dict[str, Any] = {}
    settings = {
        "max_concurrency": 4,
        "lease_ttl": 6.0,
        "on_overlap": "wait",
        "table_uri": f"obs://{bucket}/tables/",
    }
    first = run_in_thread(
        bucket,
        "scheduled__2026-03-01",
        out,
        context=task_context("scheduled__2026-03-01", ds=DAY),
        **settings,
    )
    time.sleep(0.2)  # the colleague's manual run of the same day, while the first one sends
    second = run_in_thread(
        bucket, "manual__2026-03-01", out, context=task_context("manual__2026-03-01", ds=DAY), **settings
    )
    first.join(120)
    second.join(120)
    stop.set()
    reader.join(10)

    assert all(isinstance(value, dict) for value in out.values()), out
    billed = Counter(
        call.body["url"].split("?", 1)[0].rsplit("/", 1)[-1] for call in emulator.calls(SLUG) if call.billable
    )
    assert len(billed) == n and set(billed.values()) == {1}, billed
    final = tmp_path / "final.parquet"
    final.write_bytes(objects[table_key].data)
    assert _rows(final) == (n, n)
    assert versions, "the reader never saw the table"
    for i, data in enumerate(versions):
        path = tmp_path / f"seen-{i}.parquet"
        path.write_bytes(data)
        rows, distinct = _rows(path)  # a whole file (DuckDB reads it), no page twice
        assert rows == distinct and rows in range(1, n + 1), (i, rows, distinct)
