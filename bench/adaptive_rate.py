#!/usr/bin/env python3
"""Adaptive rate vs a fixed rate, against an emulator whose QPS limit is below the configured qps.

Huawei Cloud publishes no OCR rate quota, so the ``qps`` a user configures is a
guess. Here it is twice what the (emulated) service allows. Side by side, in
one run, the same number of calls is made through the provider's client by
``--threads`` threads sharing one pacer:

* ``fixed``: a token bucket at ``qps`` before each call (what the batch did
  before) and the client's own retry policy for throttled answers;
* ``adaptive``: :class:`~airflow_provider_hwocr.runtime.ratelimit.AdaptiveRateLimiter`
  starting at ``qps``;
* ``oracle``: a token bucket at exactly the emulator's limit (the best a user
  who knew the limit could do).

For each: the share of requests the emulator throttled (HTTP 429 APIG.0308, from
the emulator's own stats), and the successful calls per second divided by the
emulator's limit. The emulator runs in this process on 127.0.0.1; every run
is bounded by ``--calls``.

    python bench/adaptive_rate.py                   # limit 20/s, qps 40, 400 calls each: ~1 min
    python bench/adaptive_rate.py --limit 40 --calls 300
"""

from __future__ import annotations

import argparse
import base64
import io
import logging
import secrets
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_hwocr.client import AkSkCredentials, OcrClient, OcrRetryPolicy
from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator
from airflow_provider_hwocr.runtime.ratelimit import AdaptiveRateLimiter, TokenBucket

AK = "BENCH" + secrets.token_hex(6).upper()
SK = secrets.token_urlsafe(30)
PROJECT_ID = secrets.token_hex(16)
REGION = "ap-southeast-1"
SLUG = "general-text"


def _body() -> dict[str, str]:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (120, 60), "white").save(buf, format="PNG")
    return {"image": base64.b64encode(buf.getvalue()).decode("ascii")}


class _Before:
    """A fixed pace applied before each call only (the client's retries are not paced)."""

    def __init__(self, rate: float) -> None:
        self.bucket = TokenBucket(rate)


def run(emulator: OcrEmulator, mode: str, *, qps: float, limit: float, calls: int, threads: int) -> dict:
    emulator.reset()
    body = _body()
    limiter = AdaptiveRateLimiter(qps) if mode == "adaptive" else None
    before = _Before(qps if mode == "fixed" else limit) if mode in ("fixed", "oracle") else None
    client = OcrClient(
        region=REGION,
        project_id=PROJECT_ID,
        credentials=AkSkCredentials(AK, SK),
        endpoint=emulator.url,
        retry=OcrRetryPolicy(max_attempts=20, max_elapsed=600),
        rate_limiter=limiter,
        pool_size=threads,
    )
    done = failed = 0
    lock = threading.Lock()

    def one(_: int) -> None:
        nonlocal done, failed
        if before is not None:
            before.bucket.acquire()
        try:
            client.call(SLUG, body)
            ok = True
        except Exception:  # noqa: BLE001 - counted
            ok = False
        with lock:
            if ok:
                done += 1
            else:
                failed += 1

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(calls)))
    elapsed = time.monotonic() - started
    client.close()
    stats = emulator.stats()
    total = stats["total"]
    throttled = stats["by_status"].get("429", stats["by_status"].get(429, 0))
    return {
        "mode": mode,
        "calls": calls,
        "ok": done,
        "failed": failed,
        "requests": total,
        "throttled": throttled,
        "throttled_share": throttled / total if total else 0.0,
        "seconds": elapsed,
        "throughput_ratio": done / elapsed / limit,
        "final_rate": limiter.rate if limiter else None,
        "rate_changes": limiter.changes if limiter else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--limit", type=float, default=20.0, help="the emulator's QPS limit (--qps)")
    parser.add_argument("--qps", type=float, default=None, help="configured qps (default: 2 x limit)")
    parser.add_argument("--calls", type=int, default=400, help="successful calls wanted per mode")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--modes", default="fixed,adaptive,oracle")
    args = parser.parse_args()
    qps = args.qps or 2 * args.limit
    calls = max(1, min(args.calls, 5000))
    logging.basicConfig(level=logging.ERROR)
    config = EmulatorConfig(
        credentials={AK: SK}, project_id=PROJECT_ID, region=REGION, results="documented", qps_limit=args.limit
    )
    print(f"emulator limit {args.limit:g}/s, configured qps {qps:g}, {calls} calls, {args.threads} threads")
    print(
        f"{'mode':9} {'requests':>8} {'429s':>6} {'throttled':>10} {'seconds':>8} {'ok/s ÷ limit':>13} {'final rate':>10}"
    )
    with OcrEmulator(config) as emulator:
        for mode in args.modes.split(","):
            r = run(emulator, mode, qps=qps, limit=args.limit, calls=calls, threads=args.threads)
            final = f"{r['final_rate']:.2f}" if r["final_rate"] is not None else "-"
            print(
                f"{mode:9} {r['requests']:8d} {r['throttled']:6d} {r['throttled_share']:10.1%} "
                f"{r['seconds']:8.1f} {r['throughput_ratio']:13.1%} {final:>10}"
                + (f"  ({r['failed']} failed)" if r["failed"] else "")
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
