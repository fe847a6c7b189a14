#!/usr/bin/env python3
"""What ``table_uri`` costs a batch: the same batch with and without tables, side by side, in one run.

Starts on 127.0.0.1, each in its own process (``bench/batch_throughput.py``'s ``Servers``): the
OCR emulator (documented answers, 0 ms per answer: the provider's own CPU is what is measured)
and the fast object server. For each N, N copies of one image are put under two prefixes; then,
each in a child process of its own (its own CPU clock and peak RSS),
``HuaweiOcrBatchOperator(api="vat-invoice", max_concurrency=8, qps=None)`` runs over one prefix
**without** ``table_uri`` and over the other **with** ``table_uri`` (Parquet). Both children
import pyarrow before their baseline, so the library itself is not counted as growth.

Printed, and meant for ``BENCHMARKS.md``:

* task CPU per image without and with tables, and their ratio (target: tables add at most 10 %);
* peak RSS over the child's baseline without and with tables, the difference per table row
  written (header and line-item rows), and, across two N, the slope of that difference per row
  (fixed costs cancel; target: at most 1 KB per row, row groups streamed, not one table held);
* the files in each table's partition (one per table, day and shard) and the rows in them.

The documented vat-invoice answer has one line item and placeholder amounts (``<total>``): each
row's amounts are not numbers and land in their ``_raw`` companions, which is the slower path of
the row builder.

    python bench/tables.py                     # N = 1,000 and 10,000
    python bench/tables.py --n 1000 10000 100000
    python bench/tables.py --n 1000 3000 --repeat 3   # each kind 3 times, alternated: the least CPU of each

In the child with tables, the writer threads' CPU clocks around ``RunRows.add`` (rows made and added to
the spooled files) and ``write_tables``' are summed: the tables' own CPU, measured inside the run,
printed per image and as a share of the task's CPU (less noisy than the ratio on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.batch_throughput import Servers, _connection, load_average

DAY = "2026-11-30"

CHILD = r"""
import json, resource, sys, time
def rss_now():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
source, output, table_uri, conc = sys.argv[1:5]
from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
import pyarrow, pyarrow.parquet  # noqa: F401 - loaded before the baseline in both children
import airflow_provider_hwocr.runtime.batch, airflow_provider_hwocr.runtime.tables.write  # noqa: F401
kwargs = {"table_uri": table_uri} if table_uri != "-" else {}
# The tables' own CPU, measured inside the run: each writer thread's clock around RunRows.add (rows made
# and added to the spooled files), and write_tables' (read back, Parquet, HEAD and PUT of each file).
import airflow_provider_hwocr.runtime.batch as batch, threading
from airflow_provider_hwocr.runtime.batch.tables import RunRows
spent = {"add": 0.0, "write_tables": 0.0}
lock = threading.Lock()
def timed(name, fn):
    def wrapper(*args, **kw):
        started = time.thread_time()
        try:
            return fn(*args, **kw)
        finally:
            took = time.thread_time() - started
            with lock:
                spent[name] += took
    return wrapper
RunRows.add = timed("add", RunRows.add)
batch.write_tables = timed("write_tables", batch.write_tables)
op = HuaweiOcrBatchOperator(task_id="tables", api="vat-invoice", source_uri=source, output_uri=output,
                            max_concurrency=int(conc), qps=None, progress_interval=3600, **kwargs)
base = rss_now()
started, cpu = time.perf_counter(), time.process_time()
out = op.execute({"ds": "__DAY__", "run_id": "bench"})
wall, cpu = time.perf_counter() - started, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"totals": out["totals"], "tables": out.get("tables", []), "wall": wall, "cpu": cpu,
                  "base": base, "peak": peak, "spent": spent}))
""".replace("__DAY__", DAY)


def _child(servers: Servers, bucket: str, prefix: str, tables: bool, conc: int, run: int = 0) -> dict:
    env = {**os.environ, "AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT": json.dumps(_connection(servers)),
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    argv = [
        f"obs://{bucket}/{prefix}/",
        f"obs://{bucket}/out-{prefix}-{run}/",
        f"obs://{bucket}/tables-{prefix}-{run}/" if tables else "-",
        str(conc),
    ]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *argv],
        env=env, capture_output=True, text=True, timeout=7200, check=False, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _partitions(servers: Servers, bucket: str, uris: list[str]) -> list[tuple[str, int, int]]:
    """(table, files in its partition, rows) for each table written, from the object server."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    obs = HuaweiObsHook()
    out = []
    for uri in uris:
        table, partition = uri.rsplit("/", 3)[1:3]
        folder = uri.split("/", 3)[3].rsplit("/", 1)[0] + "/"
        files = obs.list_keys(bucket, folder)
        rows = sum(int((obs.head(bucket, key).metadata or {}).get("hwocr-table-rows", 0)) for key in files)
        out.append((f"{table}/{partition}", len(files), rows))
    return out


def _measure(servers: Servers, n: int, conc: int, repeat: int = 1, only: str | None = None) -> dict:
    """Both children over N images, ``repeat`` times alternated (each time into new output prefixes); the
    run of each kind with the least CPU is the one reported (the least disturbed by other work). ``only``
    ``"tables"``: the child with tables alone (no ratio; the tables' CPU measured inside the run)."""
    bucket = servers.bucket()
    if only != "tables":
        servers.fill(bucket, "plain/", n)
    servers.fill(bucket, "tables/", n)
    plains, tabled = [], []
    for run in range(repeat):
        if only == "tables":
            tabled.append(_child(servers, bucket, "tables", True, conc, run))
            assert tabled[-1]["totals"]["done"] == n, tabled[-1]["totals"]
            continue
        plains.append(_child(servers, bucket, "plain", False, conc, run))
        tabled.append(_child(servers, bucket, "tables", True, conc, run))
        for done in (plains[-1], tabled[-1]):
            assert done["totals"]["done"] == n, done["totals"]
        if repeat > 1:
            print(
                f"  N={n:,} run {run + 1}: cpu {plains[-1]['cpu']:.1f} s -> {tabled[-1]['cpu']:.1f} s, "
                f"ratio {tabled[-1]['cpu'] / plains[-1]['cpu']:.3f}, load {load_average()}",
                flush=True,
            )
    with_tables = min(tabled, key=lambda r: r["cpu"])
    plain = min(plains, key=lambda r: r["cpu"]) if plains else None
    parts = _partitions(servers, bucket, with_tables["tables"])
    rows = sum(r for _, _, r in parts)
    ratios = [b["cpu"] / a["cpu"] for a, b in zip(plains, tabled)]
    return {"n": n, "plain": plain, "tables": with_tables, "parts": parts, "rows": rows, "ratios": ratios,
            "runs": tabled}  # fmt: skip


def _report(results: list[dict]) -> str:
    lines = [
        (
            "| images | task CPU per image, no tables | with tables | ratio | wall, no tables | with tables "
            "| peak RSS growth, no tables | with tables | difference per table row | table rows |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        n, a, b = r["n"], r["plain"], r["tables"]
        if a is None:  # --only tables
            lines.append(
                f"| {n:,} | - | {1000 * b['cpu'] / n:.2f} ms | - | - | {b['wall']:.1f} s | - "
                f"| {(b['peak'] - b['base']) / 2**20:.1f} MB | {(b['peak'] - b['base']) / r['rows'] / 1024:.2f} KB"
                f" (all growth) | {r['rows']:,} |"
            )
            continue
        grow_a, grow_b = a["peak"] - a["base"], b["peak"] - b["base"]
        lines.append(
            f"| {n:,} | {1000 * a['cpu'] / n:.2f} ms | {1000 * b['cpu'] / n:.2f} ms | **{b['cpu'] / a['cpu']:.3f}** "
            f"| {a['wall']:.1f} s | {b['wall']:.1f} s | {grow_a / 2**20:.1f} MB | {grow_b / 2**20:.1f} MB "
            f"| {(grow_b - grow_a) / r['rows'] / 1024:.2f} KB | {r['rows']:,} |"
        )
    if len(results) >= 2 and all(r["plain"] is not None for r in results):
        lo, hi = results[0], results[-1]
        extra = [
            (r["tables"]["peak"] - r["tables"]["base"]) - (r["plain"]["peak"] - r["plain"]["base"])
            for r in (lo, hi)
        ]
        slope = (extra[1] - extra[0]) / max(1, hi["rows"] - lo["rows"])
        lines += [
            "",
            f"slope of the RSS difference from {lo['n']:,} to {hi['n']:,} images: {slope / 1024:.3f} KB per table row",
        ]
    lines += [
        "",
        (
            "tables' own CPU inside the run (writer threads' clocks around RunRows.add; write_tables'), "
            "per image, each run with tables:"
        ),
    ]
    for r in results:
        n = r["n"]
        shown = "; ".join(
            f"add {1000 * t['spent']['add'] / n:.3f} ms + write_tables {1000 * t['spent']['write_tables'] / n:.3f} ms"
            f" = {1000 * sum(t['spent'].values()) / n:.3f} ms"
            f" ({sum(t['spent'].values()) / (t['cpu'] - sum(t['spent'].values())):.1%} of the rest of the task's CPU)"
            for t in r["runs"]
        )
        lines.append(f"- {n:,} images: {shown}")
        if len(r["ratios"]) > 1:
            lines.append(f"  pairwise CPU ratios: {', '.join(f'{x:.3f}' for x in r['ratios'])}")
    lines += ["", "files per partition (table/partition: files, rows):"]
    for r in results:
        shown = "; ".join(f"{name}: {files} file(s), {rows:,} rows" for name, files, rows in r["parts"])
        lines.append(f"- {r['n']:,} images: {shown}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, nargs="+", default=[1000, 10000], help="images per batch (default 1,000 10,000)"
    )
    parser.add_argument("--conc", type=int, default=8, help="max_concurrency (default 8)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each kind per N, alternated; the least CPU of each kind is reported (default 1)",
    )
    parser.add_argument(
        "--only",
        choices=["tables"],
        help="run only the child with tables (a large N in less time: no ratio, the in-run CPU and RSS)",
    )
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="hwocr-bench-"))
    print(
        f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; load {load_average()}", flush=True
    )
    servers = Servers(0.0)
    os.environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"] = json.dumps(_connection(servers))
    try:
        results = []
        for n in args.n:
            results.append(_measure(servers, n, args.conc, args.repeat, args.only))
            r = results[-1]
            a, b = r["plain"] or {"cpu": float("nan"), "wall": float("nan")}, r["tables"]
            print(
                f"N={n:,}: cpu {a['cpu']:.1f} s -> {b['cpu']:.1f} s, "
                f"wall {a['wall']:.1f} s -> {b['wall']:.1f} s, load {load_average()}",
                flush=True,
            )
        print(_report(results), flush=True)
    finally:
        servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
