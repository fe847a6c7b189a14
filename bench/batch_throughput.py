#!/usr/bin/env python3
"""Batch OCR at scale: throughput against the bound, CPU per image, object-server requests.

Starts, on 127.0.0.1, the OCR emulator (50 ms latency, documented answers) and the local
object server (moto) in **separate processes**, so this process's CPU time is the client's
alone; the object server counts the requests it gets from the provider (the emulator's own
downloads of signed URLs are told apart by their User-Agent). Then, side by side in one run:

1. images/s / min(C/L, qps) for N images, C=16, L=50 ms, at qps=100, 50 and None, with
   ``obs://`` sources in the default mode (``signed_url``), plus the CPU each of the three
   processes spent per image. A run at L=200 ms (bound 80/s) shows the batch at the bound
   when the object server's CPU is not what limits it.
2. client CPU per image over the first and the last 200 of 2,000 images, in each
   ``image_source`` mode (``signed_url``, ``authorized``, ``inline``), and their ratio.
3. object-server requests per image on a first run, and in total on a re-run of 10,000
   finished images (0 OCR calls), with wall times side by side.

Every load is bounded by the image counts below; everything started is stopped at the end.

    python bench/batch_throughput.py            # about 6 minutes on 2 cores
    python bench/batch_throughput.py --quick    # smaller counts, about 2 minutes
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import secrets
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

AK = "BENCH" + secrets.token_hex(6).upper()
SK = secrets.token_urlsafe(30)
PROJECT_ID = secrets.token_hex(16)
REGION = "ap-southeast-1"
SLUG = "general-text"
ACCOUNT = "123456789012"  # moto's default account


def _png() -> bytes:
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (320, 120), "white")
    ImageDraw.Draw(img).text((10, 10), "INVOICE 2026-11-30 total 42.00", fill="black")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# --- the two servers, each in its own process ---------------------------------------


def _object_server(port_q: mp.Queue) -> None:
    """moto behind a WSGI layer that counts the provider's requests and can fill buckets fast."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.s3.models import s3_backends
    from werkzeug.serving import make_server

    from airflow_provider_hwocr.testing.object_server import _sigv2_always_s3

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()
    counts: dict[str, int] = {}

    def wrapper(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/__bench/count":
            with lock:
                body = json.dumps(counts).encode()
                counts.clear()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if path == "/__bench/fill":
            from urllib.parse import parse_qs

            q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            backend = s3_backends[ACCOUNT]["aws"]
            data = _png()
            for i in range(int(q["n"])):
                backend.put_object(q["bucket"], f"{q['prefix']}img{i:05d}.png", data)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if environ.get("HTTP_USER_AGENT") != "hwocr-emulator":
            with lock:
                method = environ["REQUEST_METHOD"]
                counts[method] = counts.get(method, 0) + 1
        return app(environ, start_response)

    with _sigv2_always_s3():
        server = make_server("127.0.0.1", 0, wrapper, threaded=True, request_handler=MotoRequestHandler)
        port_q.put(server.server_port)
        server.serve_forever()


def _emulator(port_q: mp.Queue, latency_ms: float, ak: str, sk: str, project_id: str) -> None:
    from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator

    config = EmulatorConfig(
        credentials={ak: sk},
        project_id=project_id,
        region=REGION,
        results="documented",
        latency_ms=latency_ms,
        fetch_timeout=10.0,
        max_recorded_calls=100,
        max_timestamps=20_000,
    )
    with OcrEmulator(config) as emu:
        port_q.put(emu.url)
        while True:
            time.sleep(3600)


class Servers:
    def __init__(self, latency_ms: float) -> None:
        ctx = mp.get_context("spawn")
        q1: mp.Queue = ctx.Queue()
        q2: mp.Queue = ctx.Queue()
        self.obs = ctx.Process(target=_object_server, args=(q1,), daemon=True)
        self.emu = ctx.Process(target=_emulator, args=(q2, latency_ms, AK, SK, PROJECT_ID), daemon=True)
        self.obs.start()
        self.emu.start()
        self.obs_url = f"http://127.0.0.1:{q1.get(timeout=60)}"
        self.emu_url = q2.get(timeout=60)

    def stop(self) -> None:
        for p in (self.obs, self.emu):
            if p.is_alive():
                p.terminate()
                p.join(5)

    def requests(self) -> dict[str, int]:
        """Requests the provider sent since the last call (and reset the count)."""
        with urllib.request.urlopen(f"{self.obs_url}/__bench/count", timeout=30) as r:
            return json.loads(r.read())

    def fill(self, bucket: str, prefix: str, n: int) -> None:
        url = f"{self.obs_url}/__bench/fill?bucket={bucket}&prefix={prefix}&n={n}"
        with urllib.request.urlopen(url, timeout=600) as r:
            r.read()

    def emulator_stats(self) -> dict:
        with urllib.request.urlopen(f"{self.emu_url}/_emulator/stats", timeout=30) as r:
            return json.loads(r.read())


def _cpu_of(pid: int) -> float:
    """User+system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the batch, in this process -----------------------------------------------------


def _connect(servers: Servers) -> None:
    os.environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"] = json.dumps(
        {
            "conn_type": "huaweicloud_ocr",
            "login": AK,
            "password": SK,
            "extra": {
                "region": REGION,
                "project_id": PROJECT_ID,
                "endpoint": servers.emu_url,
                "iam_endpoint": servers.emu_url,
                "obs_endpoint": servers.obs_url,
                "obs_path_style": True,
                "obs_signature": "sigv2",
                "verify": False,
            },
        }
    )


def _bucket(servers: Servers, public: bool = False) -> str:
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    name = f"bench-{secrets.token_hex(6)}"
    hook = HuaweiObsHook()
    client = hook.get_client()
    assert client.createBucket(name).status < 300
    if public:  # what OCR's OBS authorization grants on Huawei Cloud (for image_source="authorized")
        from airflow_provider_hwocr.testing import anonymous_read_policy

        assert client.setBucketPolicy(name, anonymous_read_policy(name)).status < 300
    hook.close()
    return name


class _Clock:
    """Client CPU time at every finished image (wraps the pipeline's send; no other change)."""

    def __init__(self) -> None:
        self.marks: list[float] = []
        self.lock = threading.Lock()

    def __enter__(self) -> _Clock:  # noqa: PYI034
        from airflow_provider_hwocr.runtime import pipeline as _pipeline

        self._orig = _pipeline.OcrPipeline.send
        clock = self

        def send(pipeline, src, key):
            out = clock._orig(pipeline, src, key)
            t = time.process_time()
            with clock.lock:
                clock.marks.append(t)
            return out

        _pipeline.OcrPipeline.send = send  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from airflow_provider_hwocr.runtime import pipeline as _pipeline

        _pipeline.OcrPipeline.send = self._orig  # type: ignore[method-assign]


def _run(
    bucket: str, prefix: str, out: str, *, mode: str = "signed_url", qps: float | None, conc: int = 16
) -> dict:
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    op = HuaweiOcrBatchOperator(
        task_id=f"bench_{secrets.token_hex(3)}",
        api=SLUG,
        source_uri=f"obs://{bucket}/{prefix}",
        output_uri=f"obs://{bucket}/{out}",
        image_source=mode,
        max_concurrency=conc,
        qps=qps,
        progress_interval=3600,
    )
    started = time.perf_counter()
    result = op.execute({})
    result["wall"] = time.perf_counter() - started
    return result


def throughput(servers: Servers, n: int, latency_s: float, label: str) -> list[str]:
    """One row per qps: the rate while sending (from the emulator's own call times) and over
    the whole task (wall clock, so including the batch's listings and manifests)."""
    rows = []
    bucket = _bucket(servers)
    for i, qps in enumerate((100.0, 50.0, None)):
        prefix = f"t{i}/"
        servers.fill(bucket, prefix, n)
        servers.requests()
        urllib.request.urlopen(
            urllib.request.Request(f"{servers.emu_url}/_emulator/reset", method="POST"), timeout=30
        ).read()
        cpu = (time.process_time(), _cpu_of(servers.obs.pid), _cpu_of(servers.emu.pid))
        result = _run(bucket, prefix, f"o{i}/", qps=qps)
        used = (
            time.process_time() - cpu[0],
            _cpu_of(servers.obs.pid) - cpu[1],
            _cpu_of(servers.emu.pid) - cpu[2],
        )
        assert result["totals"]["done"] == n, result["totals"]
        stamps = servers.emulator_stats()["timestamps"][SLUG]
        assert len(stamps) == n, len(stamps)
        sending = max(end for _, end, _ in stamps) - min(start for start, _, _ in stamps)
        rate, wall_rate = n / sending, n / result["wall"]
        bound = min(16 / latency_s, qps or float("inf"))
        rows.append(
            f"| {label} | {'None' if qps is None else f'{qps:g}'} | {n} | {rate:6.1f} | **{rate / bound:.2f}** | "
            f"{wall_rate:6.1f} | {wall_rate / bound:.2f} | {bound:4.0f} | "
            f"{1000 * used[0] / n:.1f} | {1000 * used[1] / n:.1f} | {1000 * used[2] / n:.1f} |"
        )
    return rows


HEADER = [
    (
        "| latency | qps | N | images/s sending | ratio | images/s whole task | ratio | min(C/L, qps) "
        "| client CPU ms/img | object server CPU ms/img | emulator CPU ms/img |"
    ),
    "|---|---|---|---|---|---|---|---|---|---|---|",
]


def cpu_flatness(servers: Servers, n: int) -> list[str]:
    rows = []
    for mode in ("signed_url", "authorized", "inline"):
        bucket = _bucket(servers, public=(mode == "authorized"))
        servers.fill(bucket, "day/", n)
        with _Clock() as clock:
            result = _run(bucket, "day/", "out/", mode=mode, qps=None)
        assert result["totals"]["done"] == n, result["totals"]
        m = clock.marks
        first = (m[199] - m[0]) / 199
        last = (m[-1] - m[-200]) / 199
        rows.append(
            f"| {mode} | {n} | {1000 * first:.2f} | {1000 * last:.2f} | **{last / first:.2f}** | {result['wall']:.1f} |"
        )
    return rows


def requests_per_image(servers: Servers, n: int) -> list[str]:
    bucket = _bucket(servers)
    servers.fill(bucket, "day/", n)
    servers.requests()
    first = _run(bucket, "day/", "out/", qps=None)
    r1 = servers.requests()
    stats_before = servers.emulator_stats()["total"]
    second = _run(bucket, "day/", "out/", qps=None)
    r2 = servers.requests()
    calls = servers.emulator_stats()["total"] - stats_before
    assert first["totals"]["done"] == n and second["totals"]["skipped"] == n
    pages = -(-n // 1000)

    def detail(r: dict[str, int]) -> str:
        return f"{sum(r.values())} ({', '.join(f'{k} {v}' for k, v in sorted(r.items()))})"

    first_row = f"| first run | {n} | {n} | {detail(r1)} | {sum(r1.values()) / n:.4f} | {first['wall']:.1f} |"
    rerun_row = (
        f"| re-run (all done) | {n} | {calls} | {detail(r2)} | bound 2*ceil(N/1000)+3 = {2 * pages + 3} | "
        f"{second['wall']:.1f} ({second['wall'] / first['wall']:.3f} of the first run) |"
    )
    return [first_row, rerun_row]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    args = parser.parse_args()
    n_rate, n_cpu, n_rerun = (300, 1000, 3000) if args.quick else (500, 2000, 10_000)
    home = tempfile.mkdtemp(prefix="hwocr-bench-")
    os.environ.setdefault("AIRFLOW_HOME", home)
    logging.basicConfig(level=logging.WARNING)
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}", flush=True)
    out: list[str] = []
    servers = Servers(latency_ms=50)
    try:
        _connect(servers)
        print("1. throughput (C=16, signed_url)", flush=True)
        out += HEADER
        out += throughput(servers, n_rate, 0.05, "50 ms")
        print("\n".join(out), flush=True)
        print("2. client CPU per image, first vs last 200", flush=True)
        flat = [
            "| image_source | N | first 200: CPU ms/img | last 200: CPU ms/img | last/first | wall s |",
            "|---|---|---|---|---|---|",
        ]
        flat += cpu_flatness(servers, n_cpu)
        print("\n".join(flat), flush=True)
        print("3. object-server requests", flush=True)
        reqs = [
            "| run | N | OCR calls | object-server requests | per image | wall s |",
            "|---|---|---|---|---|---|",
        ]
        reqs += requests_per_image(servers, n_rerun)
        print("\n".join(reqs), flush=True)
    finally:
        servers.stop()
    slow = Servers(latency_ms=200)
    try:
        _connect(slow)
        print(
            "1b. throughput where the object server is not the bottleneck (L=200 ms: bound 80/s)", flush=True
        )
        rows = throughput(slow, n_rate, 0.2, "200 ms")
        print("\n".join(rows), flush=True)
    finally:
        slow.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
