#!/usr/bin/env python3
"""What one OCR call costs the task's process: the provider's client beside bare HTTP stacks.

Starts the OCR emulator on 127.0.0.1 in a process of its own (answer time L, default 50 ms) and
sends the **same signed request** (general-text, an image URL on the fast object server) through:

* ``provider``: ``HuaweiOcrHook.call`` (body checks done, AK/SK signing per call, a signed OBS URL
  made per call, the retry loop, response parsing), as the batch's OCR slots call it;
* ``requests``: a bare ``requests.Session().post`` with the headers the provider signed once;
* ``urllib3``: ``PoolManager.request``, same headers;
* ``http.client``: one kept-alive ``HTTPConnection`` per thread, same headers: the floor of a
  Python client on this machine, and what the emulator and the kernel cost (the rig).

For C = 1, 4 and 16 threads: CPU of this process per call, mean time over L per call, and
calls/s ÷ (C/L). Alternated by stack within each C, so machine noise hits all alike. Bounded:
``--calls`` per thread per stack.

    python bench/client_cost.py                  # C = 1, 4, 16; about 2 minutes
    python bench/client_cost.py --conc 16 --latency-ms 50 --calls 40
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import batch_throughput as bt  # the servers and the connection of the batch bench

Call = Callable[[], None]


def stacks(servers: bt.Servers) -> dict[str, Call]:
    import requests
    import urllib3

    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

    bucket = servers.bucket()
    servers.fill(bucket, "day/", 1)
    key = "day/img000000.png"
    ocr, obs = HuaweiOcrHook(), HuaweiObsHook()

    def provider() -> None:
        ocr.call(bt.SLUG, {"url": obs.signed_get_url(bucket, key, expires=900)})

    sent: dict[str, Any] = {}
    direct = ocr.client._send_direct

    def record(method: str, url: str, headers: dict[str, str], body: Any, *rest: Any) -> Any:
        sent.update(url=url, headers=dict(headers), body=bytes(body))
        return direct(method, url, headers, body, *rest)

    ocr.client._send_direct = record  # type: ignore[method-assign]  # one call, to copy what is sent
    provider()
    ocr.client._send_direct = direct  # type: ignore[method-assign]
    url, headers, body = sent["url"], sent["headers"], sent["body"]  # a signature stays valid 15 min

    session = requests.Session()

    def bare_requests() -> None:
        assert session.post(url, data=body, headers=headers, timeout=30).status_code == 200

    pool = urllib3.PoolManager(maxsize=32)

    def bare_urllib3() -> None:
        assert pool.request("POST", url, body=body, headers=headers, timeout=30).status == 200

    parts = urlsplit(url)
    local = threading.local()

    def bare_http_client() -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        conn.request("POST", parts.path, body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 200

    return {
        "provider": provider,
        "requests": bare_requests,
        "urllib3": bare_urllib3,
        "http.client": bare_http_client,
    }


def measure(call: Call, conc: int, n: int, latency: float) -> dict[str, float]:
    times: list[float] = []

    def timed(_: int) -> None:
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)

    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(conc) as pool:
        list(pool.map(timed, range(n)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "cpu_ms": 1000 * cpu / n,
        "over_ms": 1000 * (statistics.mean(times) - latency),
        "ratio": n / wall / (conc / latency),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conc", default="1,4,16", help="thread counts (default 1,4,16)")
    parser.add_argument("--calls", type=int, default=60, help="calls per thread per stack (default 60)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell, medians reported (default 3)")
    parser.add_argument(
        "--latency-ms", type=float, default=50.0, help="the emulator's answer time L (default 50)"
    )
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="hwocr-bench-"))
    latency = args.latency_ms / 1000
    print(f"machine: {os.cpu_count()} cores; load average {bt.load_average()}")
    servers = bt.Servers(latency)
    try:
        os.environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"] = json.dumps(bt._connection(servers))
        calls = stacks(servers)
        for call in calls.values():  # warm-up: connections, imports
            measure(call, 4, 20, latency)
        print(f"L = {args.latency_ms:g} ms, {args.calls} calls per thread, medians of {args.repeats}")
        print("| C | stack | CPU ms per call | time over L per call, ms | calls/s ÷ (C/L) |")
        print("|---|---|---|---|---|")
        for conc in (int(c) for c in args.conc.split(",")):
            got: dict[str, list[dict[str, float]]] = {name: [] for name in calls}
            for _ in range(args.repeats):
                for name, call in calls.items():
                    got[name].append(measure(call, conc, conc * args.calls, latency))
            for name, runs in got.items():
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                print(
                    f"| {conc} | {name} | {med['cpu_ms']:.2f} | {med['over_ms']:.1f} | {med['ratio']:.2f} |",
                    flush=True,
                )
        print(f"load average after: {bt.load_average()}")
    finally:
        servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
