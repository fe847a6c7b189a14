#!/usr/bin/env python3
"""How fast the OCR emulator answers: requests/s at zero latency, and concurrency under latency.

Starts ``hwocr-emulator`` (``python -m airflow_provider_hwocr.emulator``) as a
child process on 127.0.0.1 for each scenario, so that the emulator has its
own interpreter and the client threads here do not share its GIL. Every
request is a real AK/SK-signed OCR call (signed with the provider's client
signer, checked by the emulator's independent verifier) with a small PNG.

Scenarios (all bounded; only 127.0.0.1 is contacted):

1. throughput: passport (structured answer) and general-text (synthetic
   reader) at zero latency, with 1..N client threads on keep-alive connections;
2. concurrency: M requests sent at once to an emulator with L ms latency;
   the wall time and the peak concurrency the emulator itself recorded;
3. Tesseract (if installed): time per distinct image, sequential and with
   the client sending 4 at once.

    python bench/emulator_throughput.py            # about a minute
    python bench/emulator_throughput.py --quick    # about 25 s
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_hwocr.client.signer import sign_request

AK = "BENCH" + secrets.token_hex(6).upper()
SK = secrets.token_urlsafe(30)
PROJECT_ID = secrets.token_hex(16)


def _png(text: str, size: tuple[int, int] = (200, 80)) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, "white")
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 22)
    except OSError:
        font = ImageFont.load_default()
    ImageDraw.Draw(image).text((10, 20), text, font=font, fill="black")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


@contextmanager
def emulator(*flags: str):
    """Run the emulator CLI with ``flags``; yield (host, port). Stops it (by its pid) afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_hwocr.emulator", "--host", "127.0.0.1", "--port", "0",
         "--ak", AK, "--sk", SK, "--project-id", PROJECT_ID, *flags],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        first = process.stdout.readline()
        match = re.search(r"http://(127\.0\.0\.1):(\d+)", first)
        if not match:
            raise RuntimeError(f"emulator did not start: {first!r}")
        yield match.group(1), int(match.group(2))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


class Caller:
    """One keep-alive connection that sends signed OCR calls."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=60)

    def call(self, slug: str, body: bytes) -> int:
        path = f"/v2/{PROJECT_ID}/ocr/{slug}"
        headers = sign_request(
            "POST",
            f"http://{self.host}:{self.port}{path}",
            {"Content-Type": "application/json;charset=UTF-8", "X-Project-Id": PROJECT_ID},
            body,
            AK,
            SK,
        )
        self.conn.request("POST", path, body=body, headers=headers)
        response = self.conn.getresponse()
        response.read()
        return response.status

    def close(self) -> None:
        self.conn.close()


def _stats(host: str, port: int) -> dict:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request("GET", "/_emulator/stats")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def throughput(slug: str, body: bytes, threads: int, seconds: float, flags: tuple[str, ...]) -> dict:
    """Requests/s with ``threads`` clients looping for ``seconds`` (bounded by a request cap too)."""
    cap = 200_000
    with emulator(*flags) as (host, port):
        Caller(host, port).call(slug, body)  # warm up (imports, first answer)
        stop_at = time.monotonic() + seconds
        counts, bad = [0] * threads, [0] * threads

        def loop(i: int) -> None:
            caller = Caller(host, port)
            try:
                while time.monotonic() < stop_at and counts[i] < cap:
                    if caller.call(slug, body) != 200:
                        bad[i] += 1
                    counts[i] += 1
            finally:
                caller.close()

        started = time.monotonic()
        workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.monotonic() - started
    total = sum(counts)
    return {"requests": total, "errors": sum(bad), "seconds": elapsed, "rps": total / elapsed}


def concurrency(requests_at_once: int, latency_ms: int) -> dict:
    body = json.dumps({"image": base64.b64encode(_png("latency")).decode()}).encode()
    with emulator("--latency-ms", str(latency_ms)) as (host, port):
        callers = [Caller(host, port) for _ in range(requests_at_once)]
        try:
            gate = threading.Barrier(requests_at_once + 1)

            def one(caller: Caller) -> int:
                gate.wait()
                return caller.call("passport", body)

            with ThreadPoolExecutor(max_workers=requests_at_once) as pool:
                futures = [pool.submit(one, c) for c in callers]
                gate.wait()
                started = time.monotonic()
                statuses = [f.result() for f in futures]
                elapsed = time.monotonic() - started
            stats = _stats(host, port)
        finally:
            for c in callers:
                c.close()
    stamps = stats["timestamps"]["passport"]
    return {
        "ok": statuses.count(200),
        "wall": elapsed,
        "peak": stats["peak_concurrency"],
        "server_span": max(e for _, e, _ in stamps) - min(s for s, _, _ in stamps),
    }


def tesseract_times(images: int) -> dict | None:
    if shutil.which("tesseract") is None:
        return None
    bodies = [
        json.dumps(
            {"image": base64.b64encode(_png(f"Invoice {i:04d} total {i * 3}.50", (520, 90))).decode()}
        ).encode()
        for i in range(images * 2)
    ]
    with emulator("--ocr", "tesseract") as (host, port):
        caller = Caller(host, port)
        started = time.monotonic()
        for body in bodies[:images]:
            assert caller.call("general-text", body) == 200
        sequential = (time.monotonic() - started) / images
        started = time.monotonic()
        for body in bodies[:images]:  # the same images again: answered from the cache
            caller.call("general-text", body)
        cached = (time.monotonic() - started) / images
        caller.close()

        def one(body: bytes) -> int:
            c = Caller(host, port)
            try:
                return c.call("general-text", body)
            finally:
                c.close()

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(one, bodies[images:]))
        parallel = (time.monotonic() - started) / images
    return {"sequential": sequential, "cached": cached, "parallel4": parallel}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--threads", default="1,4,8,16", help="client thread counts (comma-separated)")
    parser.add_argument("--latency-ms", type=int, default=500)
    parser.add_argument("--at-once", default="64,128", help="requests sent at once under latency")
    args = parser.parse_args()
    seconds = 1.5 if args.quick else 4.0

    print(f"machine: {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}")
    small = json.dumps({"image": base64.b64encode(_png("Hello")).decode()}).encode()
    print(
        f"\n1. throughput at zero latency ({len(small)}-byte signed bodies, keep-alive, {seconds:g} s each)"
    )
    print(f"   {'scenario':<34}threads  requests  errors    req/s")
    scenarios = [
        ("passport, fitted fields", "passport", ()),
        ("general-text, synthetic reader", "general-text", ("--ocr", "synthetic")),
        ("general-text, documented example", "general-text", ("--results", "documented")),
    ]
    for label, slug, flags in scenarios:
        for n in (int(x) for x in args.threads.split(",")):
            r = throughput(slug, small, n, seconds, flags)
            print(f"   {label:<34}{n:>7}{r['requests']:>10}{r['errors']:>8}{r['rps']:>9.0f}")

    print(f"\n2. concurrency with --latency-ms {args.latency_ms}")
    print("   sent at once   answered 200   wall time   peak concurrency (emulator's own timestamps)")
    for n in (int(x) for x in args.at_once.split(",")):
        r = concurrency(n, args.latency_ms)
        print(f"   {n:>12}{r['ok']:>15}{r['wall']:>11.2f} s{r['peak']:>10}")

    t = tesseract_times(4 if args.quick else 8)
    print("\n3. real OCR (Tesseract), general-text, 520x90 images")
    if t is None:
        print("   tesseract not installed: skipped")
    else:
        print(f"   new image, one at a time: {t['sequential'] * 1000:.0f} ms per image")
        print(f"   new images, 4 at a time:  {t['parallel4'] * 1000:.0f} ms per image")
        print(f"   same image again (cache): {t['cached'] * 1000:.1f} ms per image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
