#!/usr/bin/env python3
"""What one poll of the OBS new-object trigger costs over a large prefix, before and after the
trigger fired one event per poll.

A separate process serves the object store (moto's S3 app on 127.0.0.1 behind a listener that
counts every request and the bytes of every answer), holding ``--objects`` old objects under
``incoming/`` (timestamped names, one day old). This process runs the trigger, as the
triggerer does, one variant after the other, each with its own watermark:

``before``  the trigger of ``--base`` (default ``c498ca1``, main before this change), read from git: one event per object,
            the whole prefix listed every poll, the watermark pruned against the newest object;
``name``    this tree, ``key_order="name"`` (the default): polls list after a marker;
``none``    this tree, ``key_order="none"``: every poll lists the whole prefix (the fallback).

For each: the first start (requests, MB answered, CPU, the watermark's size), then ``--polls``
polls, each after one new upload (requests, KB answered and CPU per poll, counted at the server
and with ``time.process_time`` here; the object server's CPU is in the other process). Prints
the table and the ratios after/before, with the load average.

    PYTHONPATH=. .venv/bin/python bench/trigger_poll.py [--objects 50000] [--polls 4] [--base c498ca1]
        [--variants before,name,none]

A full listing of 50,000 objects is 51 pages, and moto's server spends about a second of CPU on
each: ``before`` and ``none`` take minutes per poll on a loaded machine (``--polls 2`` halves it).

``--hour``: instead, an hour of polls at ``--sim-poke`` seconds (default 60) on a simulated clock
(the trigger module's ``datetime.now`` advances one poke per poll; the polls themselves run back to
back), no uploads: what the safety net costs per poll on average. ``before`` is then the trigger of
``--base`` with its whole listing every ``full_listing_interval`` (600 s), ``name`` this tree's
sweep; the bench exits 1 unless ``name`` averages at most 2 requests per poll.

    PYTHONPATH=. .venv/bin/python bench/trigger_poll.py --hour --base b8ac82c --variants before,name
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "bench"
AK, SK = "HWOCRBENCHAK00000001", "hwocr-bench-secret-key-0000000000001"


# --- the object server (its own process) -----------------------------------------------------


def serve(port_file: str, objects: int) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.s3.models import s3_backends
    from werkzeug.serving import make_server

    backend = s3_backends["123456789012"]["aws"]
    backend.create_bucket(BUCKET, "us-east-1")
    day = datetime.now(timezone.utc) - timedelta(days=1)
    store = backend.buckets[BUCKET].keys
    for i in range(objects):
        stamp = (day + timedelta(seconds=i)).strftime("%Y%m%dT%H%M%SZ")
        key = f"incoming/{stamp}-{i:06d}.png"
        backend.put_object(BUCKET, key, b"old scan bytes")
        store[key].last_modified = (day + timedelta(seconds=i * 0.001)).replace(tzinfo=None)
    app = DomainDispatcherApplication(create_backend_app)
    counts = {"requests": 0, "bytes": 0, "lists": 0, "puts": 0}
    lock = threading.Lock()

    def counting(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_bench/"):  # the bench's own requests: not counted
            key = environ.get("QUERY_STRING", "").partition("key=")[2]
            if path == "/_bench/put":  # an upload, made here so it costs the trigger nothing
                backend.put_object(BUCKET, key, b"new scan bytes")
                body = b"{}"
            elif path == "/_bench/size":
                found = backend.buckets[BUCKET].keys.get(key)
                body = json.dumps({"size": found.size if found else None}).encode()
            else:
                with lock:
                    body = json.dumps(counts).encode()
                    if environ["REQUEST_METHOD"] == "POST":
                        counts.update(dict.fromkeys(counts, 0))
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        answer = b"".join(app(environ, start_response))
        with lock:
            counts["requests"] += 1
            counts["bytes"] += len(answer)
            counts["lists"] += environ["REQUEST_METHOD"] == "GET" and path.count("/") == 1
            counts["puts"] += environ["REQUEST_METHOD"] == "PUT"
        return [answer]

    from airflow_provider_hwocr.testing.object_server import _sigv2_always_s3

    class Quiet(MotoRequestHandler):
        def log_request(self, *args, **kwargs) -> None:  # tens of thousands of lines otherwise
            pass

    server = make_server("127.0.0.1", 0, counting, threaded=True, request_handler=Quiet)
    Path(port_file).write_text(str(server.server_port))
    with _sigv2_always_s3():  # moto misroutes ~1 in 1,400 SigV2-signed requests otherwise
        server.serve_forever()


def bench_call(url: str, what: str, key: str = "", post: bool = False) -> dict:
    request = urllib.request.Request(f"{url}/_bench/{what}?key={key}", method="POST" if post else "GET")
    with urllib.request.urlopen(request, timeout=60) as resp:  # loopback only
        return json.loads(resp.read())


def counts(url: str, reset: bool = False) -> dict[str, int]:
    return bench_call(url, "counts", post=reset)


# --- the variants --------------------------------------------------------------------------------


def _module_at(base: str, path: str, name: str):
    """``path`` as it was at git revision ``base``, loaded as module ``name`` (``None`` if absent)."""
    shown = subprocess.run(
        ["git", "show", f"{base}:{path}"], check=False, cwd=ROOT, capture_output=True, text=True
    )
    if shown.returncode != 0:
        return None
    source = shown.stdout.replace(
        "from airflow_provider_hwocr.triggers.obs_watermark import", "from obs_watermark_before import"
    )
    file = Path(tempfile.mkdtemp()) / f"{name}.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def before_class(base: str):
    """The trigger class of ``base`` (git), loaded as its own module, with the watermark rules of
    ``base`` where it had them in a module of their own."""
    _module_at(base, "airflow_provider_hwocr/triggers/obs_watermark.py", "obs_watermark_before")
    return _module_at(
        base, "airflow_provider_hwocr/triggers/obs_event.py", "obs_event_before"
    ).HuaweiObsNewObjectTrigger


class Counted:
    """Wraps the method a trigger lists with: per completed listing, the requests and bytes the
    object server answered (asked of the server before and after it)."""

    def __init__(self, trigger, method: str, url: str) -> None:
        self.polls: list[tuple[int, int]] = []  # (requests, bytes) of each listing
        inner = getattr(trigger, method)

        def listing(*args, **kwargs):
            before = counts(url)
            try:
                return inner(*args, **kwargs)
            finally:
                after = counts(url)
                self.polls.append((after["requests"] - before["requests"], after["bytes"] - before["bytes"]))

        setattr(trigger, method, listing)


async def measure(trigger, method: str, url: str, polls: int) -> dict[str, float]:
    """The first start, then ``polls`` polls each after one new upload (see the module doc)."""
    counter = Counted(trigger, method, url)
    wm_key = trigger.watermark_uri[len("obs://") :].split("/", 1)[1]
    counts(url, reset=True)
    agen = trigger.run()
    nxt = asyncio.ensure_future(agen.__anext__())
    cpu, started = time.process_time(), time.monotonic()
    while counts(url)["puts"] < 1:  # the first start: one full listing, then the first watermark
        await asyncio.sleep(0.05)
        if time.monotonic() - started > 900:
            raise TimeoutError("the trigger did not start")
    # No reset here: a poll may already be listing, and each listing is counted around itself.
    start = {"cpu": time.process_time() - cpu, **counts(url)}
    start["watermark"] = bench_call(url, "size", wm_key)["size"]
    first, cpu, events = len(counter.polls), time.process_time(), 0
    for i in range(polls):
        bench_call(url, "put", f"incoming/{datetime.now(timezone.utc):%Y%m%dT%H%M%S}Z-new-{i:03d}.png")
        done = len(counter.polls)
        await asyncio.wait({nxt}, timeout=900)
        if nxt.done():
            nxt.result()
            events += 1
            nxt = asyncio.ensure_future(agen.__anext__())
        while len(counter.polls) < done + 2:  # a whole poll after the event's
            await asyncio.sleep(0.05)
    steady = counter.polls[first:]
    n = len(steady)
    result = {
        "start_requests": start["requests"],
        "start_mb": start["bytes"] / 1e6,
        "start_cpu_s": start["cpu"],
        "polls": n,
        "events": events,
        "requests_of_each_listing": [r for r, _ in steady],
        "lists_per_poll": sum(r for r, _ in steady) / n,
        "puts_per_poll": (counts(url)["puts"] - start["puts"]) / n,  # the watermark's, since the start
        "kb_per_poll": sum(b for _, b in steady) / n / 1e3,
        "cpu_ms_per_poll": (time.process_time() - cpu) / n * 1e3,
        "watermark_bytes": bench_call(url, "size", wm_key)["size"],
        "watermark_after_start": start["watermark"],
    }
    result["requests_per_poll"] = result["lists_per_poll"] + result["puts_per_poll"]
    nxt.cancel()
    with contextlib.suppress(BaseException):  # the cancelled generator
        await nxt
    return result


class SimClock:
    """The trigger module's clock, one poke later at every reading (a poll reads it once)."""

    def __init__(self, module, poke: float) -> None:
        self.module, self.real, self.poke = module, module.datetime, poke
        self.now_at = datetime.now(timezone.utc)

    def __enter__(self) -> None:
        clock = self

        class Simulated(datetime):
            @classmethod
            def now(cls, tz=None):
                clock.now_at += timedelta(seconds=clock.poke)
                return clock.now_at

        self.module.datetime = Simulated

    def __exit__(self, *exc: object) -> None:
        self.module.datetime = self.real


async def measure_hour(trigger, method: str, url: str, polls: int, poke: float) -> dict[str, float]:
    """``polls`` polls of ``poke`` simulated seconds each, no uploads: requests per poll on average."""
    done = [0]
    inner = getattr(trigger, method)

    def counted(*args, **kwargs):
        try:
            return inner(*args, **kwargs)
        finally:
            done[0] += 1

    setattr(trigger, method, counted)
    with SimClock(sys.modules[type(trigger).__module__], poke):
        counts(url, reset=True)
        agen = trigger.run()
        nxt = asyncio.ensure_future(agen.__anext__())
        started = time.monotonic()
        while counts(url)["puts"] < 1:  # the first start: one whole listing, then the first watermark
            await asyncio.sleep(0.05)
            if time.monotonic() - started > 900:
                raise TimeoutError("the trigger did not start")
        first = done[0]
        base = counts(url)
        while done[0] < first + polls:
            await asyncio.sleep(0.05)
            if nxt.done():
                raise RuntimeError(f"an event fired with no upload: {nxt.result()}")
            if time.monotonic() - started > 3600:
                raise TimeoutError("the polls did not finish within an hour of real time")
        end = counts(url)
        nxt.cancel()
        with contextlib.suppress(BaseException):  # the cancelled generator
            await nxt
    n = done[0] - first
    return {
        "polls": n,
        "requests_per_poll": (end["requests"] - base["requests"]) / n,
        "lists_per_poll": (end["lists"] - base["lists"]) / n,
        "puts_per_poll": (end["puts"] - base["puts"]) / n,
        "kb_per_poll": (end["bytes"] - base["bytes"]) / n / 1e3,
    }


def run_hour(args: argparse.Namespace, url: str) -> int:
    from airflow_provider_hwocr.triggers.obs_event import HuaweiObsNewObjectTrigger

    common = {"bucket": BUCKET, "prefix": "incoming/", "pattern": "*.png", "poke_interval": 0.01}
    polls = round(3600 / args.sim_poke)
    made = {
        "before": lambda: (before_class(args.base)(**common, watermark_uri=f"obs://{BUCKET}/wm/hb.json", commit_delay=0.0), "listing"),
        "name": lambda: (HuaweiObsNewObjectTrigger(**common, watermark_uri=f"obs://{BUCKET}/wm/hn.json", commit_delay=0.0), "_poll_listings"),
    }  # fmt: skip
    results = {}
    for variant in [v.strip() for v in args.variants.split(",") if v.strip() in made]:
        name = f"before ({args.base})" if variant == "before" else variant
        print(
            f"measuring {name}: {polls} polls of {args.sim_poke:.0f} s over {args.objects:,} objects ...",
            flush=True,
        )
        trigger, method = made[variant]()
        results[name] = asyncio.run(measure_hour(trigger, method, url, polls, args.sim_poke))
        print(json.dumps(results[name]), flush=True)
    load = os.getloadavg()
    print(f"\n{args.objects:,} old objects, an hour of polls at {args.sim_poke:.0f} s (simulated clock), "
          f"no uploads; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")  # fmt: skip
    print("| variant | polls | requests/poll | LISTs/poll | PUTs/poll | KB/poll |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['polls']} | {r['requests_per_poll']:.2f} | {r['lists_per_poll']:.2f} | "
              f"{r['puts_per_poll']:.2f} | {r['kb_per_poll']:,.1f} |")  # fmt: skip
    after = results.get("name")
    before = results.get(f"before ({args.base})")
    if before and after:
        print(
            f"\nratio name/before, requests per poll: {after['requests_per_poll'] / before['requests_per_poll']:.3f}"
        )
    if not after:
        return 0
    ok = after["requests_per_poll"] <= 2
    print(f"name: at most 2 requests per poll on average: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=50_000)
    parser.add_argument("--polls", type=int, default=4)
    parser.add_argument("--poke", type=float, default=1.0, help="poke_interval of the triggers (s)")
    parser.add_argument(
        "--base",
        default="c498ca1",
        help="git revision of the 'before' trigger (default: main before one event per poll)",
    )
    parser.add_argument(
        "--variants", default="before,name,none", help="which to measure, in this order (before, name, none)"
    )
    parser.add_argument("--hour", action="store_true", help="an hour of polls on a simulated clock")
    parser.add_argument("--sim-poke", type=float, default=60.0, help="simulated seconds per poll (--hour)")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.objects)
        return 0
    port_file = Path(tempfile.mkdtemp()) / "port"
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port_file), "--objects", str(args.objects)]
    )
    try:
        deadline = time.time() + 600
        while not port_file.exists() or not port_file.read_text():
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError("the object server did not start")
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port_file.read_text()}"
        os.environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"] = json.dumps(
            {
                "conn_type": "huaweicloud_ocr",
                "login": AK,
                "password": SK,
                "extra": {
                    "region": "cn-north-4", "project_id": "0" * 32, "obs_endpoint": url,
                    "obs_path_style": True, "obs_signature": "sigv2", "verify": False,
                },
            }
        )  # fmt: skip
        return run_hour(args, url) if args.hour else run_variants(args, url)
    finally:
        server.terminate()
        server.wait(30)


def run_variants(args: argparse.Namespace, url: str) -> int:
    from airflow_provider_hwocr.triggers.obs_event import HuaweiObsNewObjectTrigger

    common = {"bucket": BUCKET, "prefix": "incoming/", "pattern": "*.png", "poke_interval": args.poke}
    chosen = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(chosen) - {"before", "name", "none"}
    if unknown:
        raise SystemExit(f"--variants: unknown {sorted(unknown)}; choose from before, name, none")
    made = {
        "before": lambda: (before_class(args.base)(**common, watermark_uri=f"obs://{BUCKET}/wm/before.json"), "candidates"),
        "name": lambda: (HuaweiObsNewObjectTrigger(**common, watermark_uri=f"obs://{BUCKET}/wm/name.json", key_order="name", commit_delay=1.0), "listing"),
        "none": lambda: (HuaweiObsNewObjectTrigger(**common, watermark_uri=f"obs://{BUCKET}/wm/none.json", key_order="none", commit_delay=1.0), "listing"),
    }  # fmt: skip
    variants = {(f"before ({args.base})" if v == "before" else v): made[v]() for v in chosen}
    results = {}
    for name, (trigger, method) in variants.items():
        print(f"measuring {name} over {args.objects:,} old objects ...", flush=True)
        results[name] = asyncio.run(measure(trigger, method, url, args.polls))
        print(json.dumps(results[name]), flush=True)
    load = os.getloadavg()
    print(f"\n{args.objects:,} old objects, {args.polls} uploads, one before each event; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")  # fmt: skip
    cols = [
        ("start: requests", "start_requests", "{:.0f}"),
        ("start: MB", "start_mb", "{:.1f}"),
        ("watermark after start: bytes", "watermark_after_start", "{:,.0f}"),
        ("requests/poll", "requests_per_poll", "{:.2f}"),
        ("LISTs/poll", "lists_per_poll", "{:.2f}"),
        ("PUTs/poll", "puts_per_poll", "{:.2f}"),
        ("KB/poll", "kb_per_poll", "{:.1f}"),
        ("CPU ms/poll", "cpu_ms_per_poll", "{:.0f}"),
        ("watermark: bytes", "watermark_bytes", "{:,.0f}"),
        ("events", "events", "{:.0f}"),
    ]
    print("| variant | " + " | ".join(c for c, _, _ in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for name, r in results.items():
        print(f"| {name} | " + " | ".join(fmt.format(r[k]) for _, k, fmt in cols) + " |")
    before, after = results.get(f"before ({args.base})"), results.get("name")
    if before and after:
        print(
            f"\nratios name/before: requests per poll {after['requests_per_poll'] / before['requests_per_poll']:.3f}, "
            f"bytes per poll {after['kb_per_poll'] / before['kb_per_poll']:.4f}, "
            f"CPU per poll {after['cpu_ms_per_poll'] / max(before['cpu_ms_per_poll'], 1e-9):.3f}, "
            f"first watermark {after['watermark_after_start'] / before['watermark_after_start']:.5f}"
        )
    if not after:
        return 0
    ok = after["requests_per_poll"] <= 3 and after["watermark_bytes"] <= 64 * 1024
    print(f"name: requests per poll <= 3 and watermark <= 64 KB: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
