#!/usr/bin/env python3
"""Batch OCR at cloud speed: the batch side by side with a hand-written anchor, connections, re-runs.

Starts on 127.0.0.1, **each in its own process**: the OCR emulator (documented answers, latency
L = 50 ms) and the fast object server (``airflow_provider_hwocr.testing.fast_object_server``:
about 0.7 ms of CPU per image, so it is never what limits the run; moto stays for correctness
tests). The object server adds a delay to every answer to the provider (``RTT``: a real OBS
round trip from the task's machine) and, optionally, to the first answer on each new connection
(a TLS handshake); the emulator's own downloads of signed URLs are not delayed (the service
fetches inside the cloud) and are not counted as the provider's. Connections are counted at the
object server.

1. **Throughput**, for RTT 0 and 20 ms, C = ``max_concurrency`` 4 and 16, qps None and 100:
   images/s while sending (first OCR call at the emulator to the last result PUT at the object
   server) ÷ min(C/L, qps), for the batch (``HuaweiOcrBatchOperator.execute()``, ``obs://``
   sources, ``image_source="signed_url"``) and for a **hand-written anchor** in the same run:
   C threads calling the official SDK (``huaweicloudsdkocr``) with signed URLs from esdk-obs,
   handing each answer to C writer threads that call esdk-obs ``putContent`` (keep-alive on).
   Medians of ``--repeats`` runs, N images each; provider connections per batch.
2. **Connections per batch** of ``--conn-n`` images (C = 16), with 40 ms per new connection.
3. **Re-run of ``--rerun-n`` finished images**, in a child process: OCR calls, object-server
   requests, bytes written, peak RSS (``getrusage``) and its growth over the child's baseline,
   and the same for the first run that made them.
4. **Fixed cost of a run**: a one-image batch's ``execute()`` (median of ``--fixed-runs``),
   beside the anchor on one image, at RTT 0: what a small event-triggered run pays.

Every load is bounded by the counts below; everything started is stopped at the end.

    python bench/batch_throughput.py               # all parts, about 30 minutes on 2 idle cores
    python bench/batch_throughput.py --quick       # smaller counts, one repeat
    python bench/batch_throughput.py --parts 1     # only the throughput table
    python bench/batch_throughput.py --parts 1 --rtt 20 --qps none   # the target cells (20 ms RTT, no rate)
    python bench/batch_throughput.py --parts 4     # a one-image run's fixed cost
    python bench/batch_throughput.py --parts 1 --rtt 20 --qps none --conc 16 --latency-ms 200
                                                   # C = 16 at the CPU load of C = 4 with L = 50 ms
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AK = "BENCH" + secrets.token_hex(6).upper()
SK = secrets.token_urlsafe(30)
PROJECT_ID = secrets.token_hex(16)
REGION = "ap-southeast-1"
SLUG = "general-text"
LATENCY = 0.05  # the default L; --latency-ms sets another


def _png() -> bytes:
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (320, 120), "white")
    ImageDraw.Draw(img).text((10, 10), "INVOICE 2026-11-30 total 42.00", fill="black")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# --- the two servers, each in its own process --------------------------------------------------


def _object_server(port_q: mp.Queue) -> None:
    from airflow_provider_hwocr.testing.fast_object_server import serve

    serve(port_q)


def _emulator(port_q: mp.Queue, ak: str, sk: str, project_id: str, latency: float) -> None:
    from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator

    config = EmulatorConfig(
        credentials={ak: sk},  # this module's AK/SK are drawn again in a spawned child
        project_id=project_id,
        region=REGION,
        results="documented",
        latency_ms=latency * 1000,
        fetch_timeout=10.0,
        max_recorded_calls=100,
        max_timestamps=20_000,
    )
    with OcrEmulator(config) as emu:
        port_q.put(emu.url)
        while True:
            time.sleep(3600)


def _post(url: str, data: bytes = b"") -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST"), timeout=600) as r:
        return r.read()


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


class Servers:
    def __init__(self, latency: float = LATENCY) -> None:
        self.latency = latency
        ctx = mp.get_context("spawn")
        q1: mp.Queue = ctx.Queue()
        q2: mp.Queue = ctx.Queue()
        self.obs = ctx.Process(target=_object_server, args=(q1,), daemon=True)
        self.emu = ctx.Process(target=_emulator, args=(q2, AK, SK, PROJECT_ID, latency), daemon=True)
        self.obs.start()
        self.emu.start()
        self.obs_url = f"http://127.0.0.1:{q1.get(timeout=60)}"
        self.emu_url = q2.get(timeout=60)

    def stop(self) -> None:
        for p in (self.obs, self.emu):
            if p.is_alive():
                p.terminate()
                p.join(5)

    def configure(self, *, delay: float = 0.0, connect_delay: float = 0.0) -> None:
        _post(f"{self.obs_url}/_fast/config?delay={delay}&connect_delay={connect_delay}")

    def reset(self) -> None:
        _post(f"{self.obs_url}/_fast/reset")
        _post(f"{self.emu_url}/_emulator/reset")

    def stats(self) -> dict:
        return _get_json(f"{self.obs_url}/_fast/stats")

    def puts(self, prefix: str) -> dict:
        return _get_json(f"{self.obs_url}/_fast/puts?prefix={prefix}")

    def bucket(self) -> str:
        name = f"bench-{secrets.token_hex(6)}"
        _post(f"{self.obs_url}/_fast/bucket?bucket={name}")
        return name

    def fill(self, bucket: str, prefix: str, n: int) -> None:
        _post(f"{self.obs_url}/_fast/fill?bucket={bucket}&prefix={prefix}&n={n}", _png())

    def ocr_window(self) -> tuple[int, float]:
        """(calls, time of the first call's arrival) since the last reset, from the emulator's own clock."""
        stamps = _get_json(f"{self.emu_url}/_emulator/stats")["timestamps"].get(SLUG, [])
        return len(stamps), min((start for start, _, _ in stamps), default=0.0)

    def calls(self) -> int:
        return _get_json(f"{self.emu_url}/_emulator/stats")["total"]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as the benches print them."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _cpu_of(pid: int) -> float:
    """User+system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _connection(servers: Servers) -> dict:
    from airflow_provider_hwocr.testing.connections import local_connection

    return local_connection(
        ak=AK,
        sk=SK,
        region=REGION,
        project_id=PROJECT_ID,
        ocr_endpoint=servers.emu_url,
        obs_endpoint=servers.obs_url,
    )


# --- the two contestants -------------------------------------------------------------------------


def run_batch(bucket: str, prefix: str, out: str, *, qps: float | None, conc: int) -> float:
    """The provider's batch; returns its wall time."""
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    op = HuaweiOcrBatchOperator(
        task_id=f"bench_{secrets.token_hex(3)}",
        api=SLUG,
        source_uri=f"obs://{bucket}/{prefix}",
        output_uri=f"obs://{bucket}/{out}",
        max_concurrency=conc,
        qps=qps,
        progress_interval=3600,
    )
    started = time.perf_counter()
    result = op.execute({})
    assert result["totals"]["done"] + result["totals"]["skipped"] > 0, result
    return time.perf_counter() - started


def run_anchor(
    servers: Servers, bucket: str, prefix: str, out: str, *, qps: float | None, conc: int
) -> float:
    """A hand-written pool: the official OCR SDK in C threads, esdk-obs putContent in C writer threads."""
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkocr.v1 import GeneralTextRequestBody, OcrClient, RecognizeGeneralTextRequest
    from obs import ObsClient

    started = time.perf_counter()
    obs = ObsClient(access_key_id=AK, secret_access_key=SK, server=servers.obs_url, signature="v2",
                    path_style=True, is_secure=False, long_conn_mode=True)  # fmt: skip
    ocr = (
        OcrClient.new_builder()
        .with_credentials(BasicCredentials(AK, SK, PROJECT_ID))
        .with_endpoints([servers.emu_url])
        .build()
    )
    keys, marker = [], None
    while True:
        page = obs.listObjects(bucket, prefix=prefix, marker=marker, max_keys=1000)
        keys += [c.key for c in page.body.contents]
        if not page.body.is_truncated:
            break
        marker = page.body.next_marker
    lock = threading.Lock()
    next_slot = [time.monotonic()]

    def pace() -> None:
        if qps is None:
            return
        with lock:
            slot = max(next_slot[0], time.monotonic())
            next_slot[0] = slot + 1.0 / qps
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    writers = ThreadPoolExecutor(conc)
    writes = []

    def one(key: str) -> None:
        url = obs.createSignedUrl("GET", bucket, key, expires=900).signedUrl
        pace()
        answer = ocr.recognize_general_text(RecognizeGeneralTextRequest(body=GeneralTextRequestBody(url=url)))
        body = json.dumps(answer.to_dict()["result"]).encode()
        writes.append(
            writers.submit(obs.putContent, bucket, f"{out}{key.rsplit('/', 1)[-1]}.json", content=body)
        )

    with ThreadPoolExecutor(conc) as pool:
        list(pool.map(one, keys))
    for done in writes:
        assert done.result().status < 300
    writers.shutdown()
    obs.close()
    return time.perf_counter() - started


def measure(servers: Servers, who: str, n: int, *, rtt: float, conc: int, qps: float | None) -> dict:
    bucket = servers.bucket()
    servers.fill(bucket, "day/", n)
    servers.configure(delay=rtt)
    servers.reset()
    cpu = time.process_time()
    if who == "batch":
        wall = run_batch(bucket, "day/", "out/", qps=qps, conc=conc)
    else:
        wall = run_anchor(servers, bucket, "day/", "out/", qps=qps, conc=conc)
    cpu = time.process_time() - cpu
    calls, first = servers.ocr_window()
    puts = servers.puts(f"{bucket}/out/img")  # the results (not progress parts or manifests)
    assert calls == n and puts["count"] >= n, (who, calls, puts)
    stats = servers.stats()
    bound = min(conc / servers.latency, qps or float("inf"))
    rate = n / (puts["last"] - first)
    return {
        "ratio": rate / bound,
        "rate": rate,
        "wall_ratio": n / wall / bound,
        "connections": stats["connections"].get("obs-sdk-python", 0),
        "cpu_ms": 1000 * cpu / n,
    }


THROUGHPUT_HEADER = [
    (
        "| L | RTT | C | qps | min(C/L, qps) | batch: sending ÷ bound | anchor: sending ÷ bound | batch ÷ anchor "
        "| whole task ÷ bound (batch, anchor) | connections (batch) | client CPU ms/img (batch, anchor) "
        "| load (1 min) |"
    ),
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
]


def _throughput_row(
    latency: float, rtt: float, conc: int, qps: float | None, got: dict[str, list[dict]]
) -> str:
    def med(who: str, field: str) -> float:
        return statistics.median(r[field] for r in got[who])

    def runs(who: str) -> str:
        return ", ".join(f"{r['ratio']:.2f}" for r in got[who])

    bound = min(conc / latency, qps or float("inf"))
    return (
        f"| {latency * 1000:.0f} ms | {rtt * 1000:.0f} ms | {conc} | {'None' if qps is None else f'{qps:g}'} | {bound:.0f}/s "
        f"| **{med('batch', 'ratio'):.2f}** ({runs('batch')}) | {med('anchor', 'ratio'):.2f} "
        f"({runs('anchor')}) | **{med('batch', 'ratio') / med('anchor', 'ratio'):.2f}** "
        f"| {med('batch', 'wall_ratio'):.2f}, {med('anchor', 'wall_ratio'):.2f} | {med('batch', 'connections'):.0f} "
        f"| {med('batch', 'cpu_ms'):.1f}, {med('anchor', 'cpu_ms'):.1f} | {os.getloadavg()[0]:.1f} |"
    )


def throughput(
    servers: Servers,
    n: int,
    repeats: int,
    *,
    rtts: tuple[float, ...] = (0.0, 0.02),
    concs: tuple[int, ...] = (4, 16),
    qpss: tuple[float | None, ...] = (None, 100.0),
) -> list[str]:
    rows = list(THROUGHPUT_HEADER)
    for who in ("batch", "anchor"):  # warm-up, not reported: imports, first connections
        measure(servers, who, 50, rtt=0.0, conc=4, qps=None)
    for rtt in rtts:
        for conc in concs:
            for qps in qpss:
                got: dict[str, list[dict]] = {"batch": [], "anchor": []}
                for _ in range(repeats):
                    for who in ("batch", "anchor"):  # alternating: machine noise hits both alike
                        got[who].append(measure(servers, who, n, rtt=rtt, conc=conc, qps=qps))
                rows.append(_throughput_row(servers.latency, rtt, conc, qps, got))
                print(rows[-1], flush=True)
    return rows


def fixed_cost(servers: Servers, runs: int) -> list[str]:
    """What every run pays before and after sending: a one-image batch's ``execute()``, end to end (its
    lease, listings, index, manifest), beside the anchor on one image, alternating, at RTT 0."""
    servers.configure(delay=0.0)
    took: dict[str, list[float]] = {"batch": [], "anchor": []}
    for i in range(runs + 1):
        for who in ("batch", "anchor"):
            bucket = servers.bucket()
            servers.fill(bucket, "day/", 1)
            servers.reset()
            if who == "batch":
                wall = run_batch(bucket, "day/", "out/", qps=None, conc=4)
            else:
                wall = run_anchor(servers, bucket, "day/", "out/", qps=None, conc=4)
            if i:  # the first of each is a warm-up: imports, first connections
                took[who].append(wall)
    batch, anchor = (statistics.median(took[who]) for who in ("batch", "anchor"))
    return [
        f"| one image, L = {servers.latency * 1000:.0f} ms, RTT 0 | batch execute() | anchor | batch − anchor | load (1 min) |",
        "|---|---|---|---|---|",
        f"| median of {runs} | **{batch:.3f} s** | {anchor:.3f} s | {batch - anchor:.3f} s | {os.getloadavg()[0]:.1f} |",
    ]


def connections(servers: Servers, n: int) -> list[str]:
    bucket = servers.bucket()
    servers.fill(bucket, "day/", n)
    servers.configure(delay=0.0, connect_delay=0.04)
    servers.reset()
    wall = run_batch(bucket, "day/", "out/", qps=None, conc=16)
    stats = servers.stats()
    servers.configure()
    provider = stats["connections"].get("obs-sdk-python", 0)
    requests = sum(stats["requests"].get("obs-sdk-python", {}).values())
    return [
        "| images | C | object-server requests (provider) | connections (provider) | wall s |",
        "|---|---|---|---|---|",
        f"| {n} | 16 | {requests} | **{provider}** | {wall:.1f} |",
    ]


# --- re-runs, in a child process (peak RSS) -------------------------------------------------------

CHILD = r"""
import json, os, resource, sys, time
def rss_now():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
import obs  # noqa: F401 - loaded before the baseline, as in any task that touches OBS
source, output, conc, warm = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
cold = rss_now()
if warm != "-":  # one image first, elsewhere: what the first execute() loads once is not per image
    HuaweiOcrBatchOperator(task_id="warm", api="general-text", source_uri=warm, output_uri=warm.rstrip("/") + "-out/",
                           max_concurrency=conc, qps=None).execute({})
print("WARM", flush=True)
sys.stdin.readline()  # the parent resets the servers' counters
op = HuaweiOcrBatchOperator(task_id="rerun", api="general-text", source_uri=source, output_uri=output,
                            max_concurrency=conc, qps=None, progress_interval=3600)
base = rss_now()
started = time.perf_counter()
out = op.execute({})
wall = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"totals": out["totals"], "wall": wall, "base": base, "cold": cold, "peak": peak}))
"""


def _child(servers: Servers, bucket: str, conc: int, *, warm: bool = True) -> dict:
    """One batch in a child process; with ``warm``, after a one-image run over ``warm/`` that is
    not counted (the servers' counters are reset after it, before the measured run)."""
    env = {**os.environ, "AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT": json.dumps(_connection(servers)),
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    warm_uri = f"obs://{bucket}/warm/" if warm else "-"
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, f"obs://{bucket}/day/", f"obs://{bucket}/out/", str(conc), warm_uri],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=tempfile.gettempdir(),
    ) as child:  # fmt: skip
        assert child.stdin is not None and child.stdout is not None
        for line in child.stdout:
            if line.strip() == "WARM":
                break
        servers.reset()
        child.stdin.write("go\n")
        child.stdin.flush()
        try:
            out, err = child.communicate(timeout=3600)
        except subprocess.TimeoutExpired:
            child.kill()
            raise
    if child.returncode != 0:
        raise RuntimeError(err[-3000:])
    return json.loads(out.strip().splitlines()[-1])


def reruns(servers: Servers, n: int, repeats: int) -> list[str]:
    bucket = servers.bucket()
    servers.fill(bucket, "day/", n)
    servers.fill(bucket, "warm/", 1)
    servers.configure()
    rows = [
        (
            "| run | images | OCR calls | object-server requests | bytes written | per image | peak RSS "
            "| RSS over warm baseline | per image | over cold baseline | per image | wall s |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def row(label: str, result: dict, calls: int, stats: dict) -> str:
        requests = stats["requests"].get("obs-sdk-python", {})
        grown, cold = result["peak"] - result["base"], result["peak"] - result["cold"]
        written = stats["bytes"]["written"]
        return (
            f"| {label} | {n} | {calls} | {sum(requests.values())} ({', '.join(f'{k} {v}' for k, v in sorted(requests.items()))}) "
            f"| {written:,} | {written / n:,.0f} B | {result['peak'] / 2**20:.0f} MB | {grown / 2**20:.1f} MB "
            f"| {grown / n:,.0f} B | {cold / 2**20:.1f} MB | {cold / n:,.0f} B | {result['wall']:.1f} |"
        )

    servers.reset()
    first = _child(servers, bucket, 32)
    assert first["totals"]["done"] == n, first["totals"]
    rows.append(row("first run", first, servers.calls(), servers.stats()))
    print(rows[-1], flush=True)
    for i in range(repeats):
        servers.reset()
        again = _child(servers, bucket, 16)
        assert again["totals"]["skipped"] == n, again["totals"]
        rows.append(row(f"re-run {i + 1}", again, servers.calls(), servers.stats()))
        print(rows[-1], flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts, one repeat (a smoke run)")
    parser.add_argument("--parts", default="1,2,3,4", help="which parts to run, e.g. 1 or 2,3")
    parser.add_argument("--fixed-runs", type=int, default=15, help="one-image runs of part 4 (default 15)")
    parser.add_argument("--n", type=int, default=500, help="images per throughput run (default 500)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell, medians reported (default 3)")
    parser.add_argument("--conn-n", type=int, default=10_000, help="images of the connection count (part 2)")
    parser.add_argument("--rerun-n", type=int, default=100_000, help="finished images re-run (part 3)")
    parser.add_argument("--rtt", default="0,20", help="part 1: round trips in ms (default 0,20)")
    parser.add_argument("--conc", default="4,16", help="part 1: max_concurrency values (default 4,16)")
    parser.add_argument("--qps", default="none,100", help="part 1: qps values, none for no limit")
    parser.add_argument(
        "--latency-ms", type=float, default=LATENCY * 1000, help="the emulator's answer time L (default 50)"
    )
    args = parser.parse_args()
    if args.quick:
        args.n, args.repeats, args.conn_n, args.rerun_n = 300, 1, 2000, 10_000
    parts = {int(p) for p in args.parts.split(",")}
    home = tempfile.mkdtemp(prefix="hwocr-bench-")
    os.environ.setdefault("AIRFLOW_HOME", home)
    logging.basicConfig(level=logging.WARNING)
    print(
        f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; load average {load_average()}",
        flush=True,
    )
    servers = Servers(args.latency_ms / 1000)
    try:
        os.environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"] = json.dumps(_connection(servers))
        out: list[str] = []
        if 1 in parts:
            print(
                f"1. throughput, L = {servers.latency * 1000:.0f} ms, N = {args.n}, medians of {args.repeats}",
                flush=True,
            )
            out += [
                "",
                *throughput(
                    servers,
                    args.n,
                    args.repeats,
                    rtts=tuple(float(x) / 1000 for x in args.rtt.split(",")),
                    concs=tuple(int(x) for x in args.conc.split(",")),
                    qpss=tuple(None if x.lower() == "none" else float(x) for x in args.qps.split(",")),
                ),
            ]
        if 2 in parts:
            print(f"2. connections per batch of {args.conn_n} (40 ms per new connection)", flush=True)
            out += ["", *connections(servers, args.conn_n)]
        if 3 in parts:
            print(f"3. re-run of {args.rerun_n} finished images (child processes)", flush=True)
            out += ["", *reruns(servers, args.rerun_n, args.repeats)]
        if 4 in parts:
            print(f"4. fixed cost of a run: one image, medians of {args.fixed_runs}", flush=True)
            out += ["", *fixed_cost(servers, args.fixed_runs)]
        print("\n".join(out))
        print(f"load average after: {load_average()}")
    finally:
        servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
