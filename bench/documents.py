#!/usr/bin/env python3
"""A batch over many 5-page PDFs: pages as the unit of work at scale, first documents and last side by side.

Starts on 127.0.0.1, each in its own process (as ``bench/batch_throughput.py`` does, whose
``Servers`` it uses): the OCR emulator (documented answers, ``--latency-ms`` per answer) and the
fast object server. ``--n`` scanned PDFs of 5 pages each (``testing.documents.numbered_pdf``,
pages of 100 dpi images, about 90 KB a document) are put under ``day/``; then, in a child
process (its own peak RSS), ``HuaweiOcrBatchOperator(api="general-text", source_uri=...)``
runs over them: each document is read once to count its pages, then each page is sent as the
object's signed URL with ``pdf_page_number``.

Printed, and meant for ``BENCHMARKS.md``:

* OCR calls (5 per document) and the object-server requests of the provider per document, for
  the first 100 documents and for the last 100 (the window from the first page stored to the
  500th, and from page 5N-500 to the last), with the CPU of the task process per page;
* the whole run: calls, requests by method, wall time, peak RSS over the child's baseline next
  to 2 x the largest document (the baseline is taken after a warm-up run over one document of its
  own, so what a task's first ``execute()`` loads and makes once is not counted per page; the
  growth over the process before the warm-up is printed too);
* a re-run: OCR calls and document downloads (both 0 when nothing is left to do), requests;
* the same number of pages as one-page images (``img/``), in a child of its own with the same
  warm-up: its peak RSS over its baseline, beside the documents'. Their difference is what reading
  documents adds to a batch's memory; what every page costs either way (its plan item, entry and
  index records) is the lean-runs figure of ``bench/batch_throughput.py``.

    python bench/documents.py                 # 1,000 documents, 5,000 pages
    python bench/documents.py --n 300         # smaller
    python bench/documents.py --heap          # the Python heap of both runs too (tracemalloc)
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

from bench.batch_throughput import AK, SK, Servers, _connection, _png, load_average

PAGES = 5
WINDOW = 100  # documents per window

CHILD = r"""
import json, os, resource, sys, threading, time, urllib.request
def rss_now():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
def get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())
obs_url, emu_url, source, output, conc, n, window, warm, pages, trace = sys.argv[1:11]
n, window, pages = int(n), int(window), int(pages)
from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
from airflow_provider_hwocr.runtime.pipeline import OcrPipeline
import obs, pypdf, pypdfium2  # noqa: F401 - loaded before the baseline, as in any task reading PDFs
marks = {1, window * pages, max(1, (n - window) * pages), n * pages}
snaps, lock, stored = {}, threading.Lock(), [0]
original = OcrPipeline.store_result
def store_result(self, *args, **kwargs):
    outcome = original(self, *args, **kwargs)
    with lock:
        stored[0] += 1
        at = stored[0]
    if at in marks:  # the process's CPU, the provider's requests and the OCR calls so far
        requests = get(f"{obs_url}/_fast/stats")["requests"].get("obs-sdk-python", {})
        snaps[at] = {"cpu": time.process_time(), "wall": time.perf_counter(), "requests": requests,
                     "calls": get(f"{emu_url}/_emulator/stats")["total"]}
    return outcome
OcrPipeline.store_result = store_result
op = HuaweiOcrBatchOperator(task_id="docs", api="general-text", source_uri=source, output_uri=output,
                            max_concurrency=int(conc), qps=None, progress_interval=3600)
cold = rss_now()
# A first run of one document (its own prefixes): what any task's first execute() loads and makes
# once (lazy imports, clients, pools, threads) is then in the baseline, not counted per page.
if warm == "warm":  # the re-run's child does not: its requests are the re-run's alone
  HuaweiOcrBatchOperator(task_id="warm", api="general-text", source_uri=source.rstrip("/") + "-warm/",
                         output_uri=output.rstrip("/") + "-warm/", max_concurrency=int(conc), qps=None,
                         progress_interval=3600).execute({})
stored[0] = 0
base = rss_now()
if trace == "trace":  # the Python heap the run holds at its peak (slower; no RSS noise of the allocator)
    import tracemalloc
    tracemalloc.start()
started, cpu = time.perf_counter(), time.process_time()
out = op.execute({})
wall, cpu = time.perf_counter() - started, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
heap = tracemalloc.get_traced_memory()[1] if trace == "trace" else None
print(json.dumps({"totals": out["totals"], "wall": wall, "cpu": cpu, "base": base, "cold": cold, "peak": peak,
                  "heap": heap, "snaps": {str(k): v for k, v in snaps.items()}}))
"""


def _child(
    servers: Servers,
    bucket: str,
    conc: int,
    n: int,
    warm: bool = True,
    *,
    folder: str = "day",
    pages: int = PAGES,
    trace: bool = False,
) -> dict:
    env = {**os.environ, "AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT": json.dumps(_connection(servers)),
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    argv = [
        servers.obs_url,
        servers.emu_url,
        f"obs://{bucket}/{folder}/",
        f"obs://{bucket}/{folder}-out/",
        str(conc),
        str(n),
    ]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *argv, str(WINDOW), "warm" if warm else "cold", str(pages),
         "trace" if trace else "-"],
        env=env, capture_output=True, text=True, timeout=7200, check=False, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _upload(servers: Servers, bucket: str, n: int) -> int:
    """``n`` scanned 5-page PDFs under ``day/`` and ``5 n`` one-page images under ``img/`` (through the
    OBS SDK), and one document for each run's warm-up; returns the largest document's size."""
    from obs import ObsClient

    from airflow_provider_hwocr.testing.documents import numbered_pdf

    data, image = numbered_pdf(PAGES, scanned=True).data, _png()
    objects = [
        *((f"day/doc{i:05d}.pdf", data) for i in range(n)),
        *((f"img/{i:06d}.png", image) for i in range(PAGES * n)),
        *((f"{folder}-warm/doc.pdf", data) for folder in ("day", "img")),  # each run's warm-up
    ]
    client = ObsClient(access_key_id=AK, secret_access_key=SK, server=servers.obs_url, signature="v2",
                       path_style=True, is_secure=False, long_conn_mode=True)  # fmt: skip
    try:
        for key, body in objects:
            resp = client.putContent(bucket, key, content=body)
            assert resp.status < 300, resp.errorMessage
    finally:
        client.close()
    return len(data)


def _delta(a: dict, b: dict) -> dict[str, int]:
    return {k: b.get(k, 0) - a.get(k, 0) for k in sorted(set(a) | set(b)) if b.get(k, 0) - a.get(k, 0)}


def _window(label: str, first: dict, last: dict, docs: int) -> str:
    requests = _delta(first["requests"], last["requests"])
    per_doc = sum(requests.values()) / docs
    calls = last["calls"] - first["calls"]
    cpu_ms = 1000 * (last["cpu"] - first["cpu"]) / (docs * PAGES)
    shown = ", ".join(f"{k} {v / docs:.2f}" for k, v in requests.items())
    return f"| {label} | {calls} | {calls / docs:.2f} | {per_doc:.2f} ({shown}) | {cpu_ms:.2f} |"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000, help="5-page PDFs (default 1,000)")
    parser.add_argument("--conc", type=int, default=8, help="max_concurrency (default 8)")
    parser.add_argument(
        "--latency-ms", type=float, default=20.0, help="the emulator's answer time (default 20)"
    )
    parser.add_argument(
        "--heap",
        action="store_true",
        help="trace the Python heap of both runs (tracemalloc: slower, and RSS then includes the tracing)",
    )
    args = parser.parse_args()
    if args.n < 2 * WINDOW:
        parser.error(f"--n must be at least {2 * WINDOW} (two windows of {WINDOW} documents)")
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="hwocr-bench-"))
    print(
        f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; load {load_average()}", flush=True
    )
    servers = Servers(args.latency_ms / 1000)
    try:
        bucket = servers.bucket()
        largest = _upload(servers, bucket, args.n)
        servers.reset()
        first = _child(servers, bucket, args.conc, args.n, trace=args.heap)
        stats = servers.stats()["requests"].get("obs-sdk-python", {})
        calls = servers.calls()
        totals = first["totals"]
        # the warm-up's document: its pages are paid once, in the first child
        assert totals["done"] == PAGES * args.n and calls == PAGES * (args.n + 1), (totals, calls)
        snaps = first["snaps"]
        n_pages = PAGES * args.n
        lo, hi = str(max(1, (args.n - WINDOW) * PAGES)), str(n_pages)
        grown = first["peak"] - first["base"]
        rows = [
            (
                f"{args.n} documents of {PAGES} pages ({largest:,} bytes each), max_concurrency {args.conc}, "
                f"emulator answer {args.latency_ms:.0f} ms, load {load_average()}"
            ),
            "",
            "| documents | OCR calls | calls per document | provider requests per document | task CPU ms per page |",
            "|---|---|---|---|---|",
            _window(f"first {WINDOW}", snaps["1"], snaps[str(WINDOW * PAGES)], WINDOW),
            _window(f"last {WINDOW}", snaps[lo], snaps[hi], WINDOW),
            "",
            (
                f"whole run: {calls} OCR calls, {sum(stats.values())} provider requests "
                f"({', '.join(f'{k} {v}' for k, v in sorted(stats.items()))}), {first['wall']:.1f} s, "
                f"task CPU {1000 * first['cpu'] / n_pages:.2f} ms per page; peak RSS {first['peak'] / 2**20:.0f} MB, "
                f"{grown / 2**20:.1f} MB over the baseline taken after a warm-up run of one document "
                f"({(first['peak'] - first['cold']) / 2**20:.1f} MB over the process before it; "
                f"2 x the largest document: {2 * largest / 2**20:.2f} MB)"
            ),
        ]
        servers.reset()
        again = _child(servers, bucket, args.conc, args.n, warm=False)
        stats = servers.stats()["requests"].get("obs-sdk-python", {})
        assert again["totals"]["skipped"] == n_pages, again["totals"]
        rows.append(
            f"re-run: {servers.calls()} OCR calls, {stats.get('GET', 0)} GETs (listings, the index; no document), "
            f"{sum(stats.values())} provider requests ({', '.join(f'{k} {v}' for k, v in sorted(stats.items()))}), "
            f"{again['wall']:.1f} s"
        )
        # The same pages as one-page images, in a child of their own (same warm-up: one document), so
        # what documents add to a batch's memory is told apart from what every page costs.
        servers.reset()
        images = _child(servers, bucket, args.conc, PAGES * args.n, folder="img", pages=1, trace=args.heap)
        assert images["totals"]["done"] == n_pages, images["totals"]
        by_images = images["peak"] - images["base"]
        rows.append(
            f"the same {n_pages:,} pages as one-page images: peak RSS {images['peak'] / 2**20:.0f} MB, "
            f"{by_images / 2**20:.1f} MB over its warm baseline ({by_images / n_pages:,.0f} B per page; documents "
            f"{grown / n_pages:,.0f} B per page); documents over images: {(grown - by_images) / 2**20:+.2f} MB "
            f"(2 x the largest document: {2 * largest / 2**20:.2f} MB); task CPU {1000 * images['cpu'] / n_pages:.2f} "
            f"ms per page, {images['wall']:.1f} s"
        )
        if args.heap:
            docs_heap, images_heap = first["heap"], images["heap"]
            rows.append(
                f"Python heap at its peak (tracemalloc, from the baseline): documents {docs_heap / 2**20:.2f} MB "
                f"({docs_heap / n_pages:,.0f} B per page), images {images_heap / 2**20:.2f} MB "
                f"({images_heap / n_pages:,.0f} B per page); documents over images "
                f"{(docs_heap - images_heap) / 2**20:+.2f} MB (2 x the largest document: {2 * largest / 2**20:.2f} MB)"
            )
        print("\n".join(rows), flush=True)
    finally:
        servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
