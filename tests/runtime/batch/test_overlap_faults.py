"""Overlapping runs and a failing object store, measured from outside: the operator's ``execute()`` against
the OCR emulator (whose call log counts the billable calls per image) and the fast local object server,
with faults injected on its answers (``testing/fast_object_server.py``).

* two runs of one day whose first lease write is delayed ~1.4 s by three 503s (the OBS SDK retries after
  0.2, 0.4 and 0.8 s), the second started 0-0.5 s after the first: no image paid twice, on a store that
  ignores conditional writes (the read-back protocol alone) and on one that honours them;
* a retry of the same task started while try 1 still sends (zombie detection): no image paid twice;
* a holder paused (SIGSTOP) past ``lease_ttl`` while its calls are in flight, another run taking over:
  every image paid twice is named in a manifest;
* 5 % of result keys refused on every try, then a re-run on a healthy store: no answer paid twice, no
  result missing, the re-run's manifest says it recovered them;
* a 10-s write outage: the batch pauses and finishes with every image stored;
* every progress-part write refused: the batch finishes and records.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter
from typing import Any

import pytest

from airflow_provider_hwocr.errors import HuaweiOcrBatchFailedError
from tests.helpers.d2_stages import PNG, SLUG, batch_op, run_in_thread, task_context


def _billed_per_image(emulator) -> Counter[str]:
    """Billable calls per image: the image's key in its signed URL (each run signs its own)."""
    return Counter(
        call.body["url"].split("?", 1)[0].rsplit("/", 1)[-1] for call in emulator.calls(SLUG) if call.billable
    )


def _day(server, n: int) -> str:
    bucket = f"ovl-{uuid.uuid4().hex[:10]}"
    server.create_bucket(bucket)
    for i in range(n):
        server.put_object(bucket, f"day/{i:04d}.png", PNG)
    return bucket


def _results(server, bucket: str) -> list[str]:
    keys = list(server.buckets[bucket].objects)
    return [k for k in keys if k.startswith("ocr/") and k.endswith(f".{SLUG}.json") and "_hwocr" not in k]


def _records(server, bucket: str) -> list[dict[str, Any]]:
    """Every run record (history) of the day, oldest first."""
    objects = server.buckets[bucket].objects
    keys = sorted(k for k in objects if "_hwocr/" in k and "/runs/" in k)
    return [json.loads(objects[k].data) for k in keys]


def _wait_for(condition, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition(), "timed out"


# --- two runs, the first lease write delayed by 503s -------------------------------------------------------


def _race(
    server, emulator, offset: float, n: int = 40, latency_ms: int = 20
) -> tuple[Counter[str], dict[str, Any], str]:
    """Two runs of one day, the second ``offset`` s after the first, whose first lease write is delayed."""
    bucket = _day(server, n)
    emulator.reset()
    emulator.config.latency_ms = latency_ms
    # The first run's first lease write lands ~1.4 s late: three 503s, retried by the OBS SDK.
    server.add_fault(rf"^{bucket}/.*lease\.json$", status=503, count=3, body='"run_id": "backfill')
    out: dict[str, Any] = {}
    settings = {"max_concurrency": 4, "lease_ttl": 6.0, "on_overlap": "wait"}
    first = run_in_thread(bucket, "backfill__2026-03-01", out, **settings)
    time.sleep(offset)
    second = run_in_thread(bucket, "manual__2026-03-01", out, **settings)
    first.join(90)
    second.join(90)
    server.clear_faults()
    return _billed_per_image(emulator), out, bucket


@pytest.fixture
def sdk_retries(fast_conn, emulator, monkeypatch):
    """The connection's default retries (4 tries): the OBS SDK retries a 503 after 0.2, 0.4 and 0.8 s."""
    from airflow_provider_hwocr.testing import object_server_extras
    from tests.helpers.airflow_env import CONN_ENV, conn_json

    extra = {**object_server_extras(fast_conn.url), "max_retries": 4}
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra=extra))
    return fast_conn


@pytest.mark.parametrize(
    ("conditional", "offsets"),
    [("ignore", [round(i * 0.5 / 9, 3) for i in range(10)]), ("honour", [0.0, 0.25, 0.5])],
    ids=["without-conditional-writes", "with-conditional-writes"],
)
def test_two_runs_whose_first_lease_write_is_delayed_pay_each_image_once(
    fast_conn, sdk_retries, emulator, conditional, offsets
):
    """The second run takes the lease at once and sends for ~1.5 s, so it still sends when the first run's
    delayed write lands. Without conditional writes that write replaces its lease: it stops at its next
    look and names what it finished since (possibly, not surely, billed twice), while the first run waits
    long enough before deciding. With them, the delayed write is refused and the second run finishes."""
    fast_conn.conditional = conditional
    n = 120
    for offset in offsets:
        billed, out, bucket = _race(fast_conn, emulator, offset, n, latency_ms=50)
        twice = {image: count for image, count in billed.items() if count > 1}
        assert twice == {} and len(billed) == n, (offset, twice, out)
        assert len(_results(fast_conn, bucket)) == n
        lost = [record for record in _records(fast_conn, bucket) if record["overlap"]["lost"]]
        if conditional == "honour":
            assert lost == [] and all(isinstance(value, dict) for value in out.values()), (offset, out)
        for record in lost:  # it says so, and names what it may have shared
            named = record["overlap"]["possibly_billed_twice"]
            assert record["totals"]["images_possibly_billed_twice"] == named["count"] == len(named["images"])


# --- a retry of the same task while try 1 still sends --------------------------------------------------------


def test_a_retry_started_while_try_1_sends_pays_nothing_twice(fast_conn, emulator):
    n = 40
    bucket = _day(fast_conn, n)
    emulator.config.latency_ms = 60
    out_1: dict[str, Any] = {}
    out_2: dict[str, Any] = {}
    settings = {"max_concurrency": 2, "lease_ttl": 6.0, "on_overlap": "wait"}
    try_1 = run_in_thread(bucket, "scheduled__2026-03-01", out_1, try_number=1, **settings)
    _wait_for(lambda: emulator.count(SLUG, 200) >= 8)  # try 1 is sending: zombie detection starts try 2
    try_2 = run_in_thread(bucket, "scheduled__2026-03-01", out_2, try_number=2, **settings)
    try_1.join(90)
    try_2.join(90)
    assert all(isinstance(v, dict) for v in (*out_1.values(), *out_2.values())), (out_1, out_2)
    billed = _billed_per_image(emulator)
    assert len(billed) == n and max(billed.values()) == 1, billed.most_common(3)
    records = _records(fast_conn, bucket)
    assert [r["try_number"] for r in records] == [1, 2]
    second = records[1]
    assert second["totals"]["skipped"] == n and second["totals"]["done"] == 0
    assert second["overlap"]["waited"] is True and second["overlap"]["held_by"][0]["try_number"] == 1


# --- a holder paused past lease_ttl ------------------------------------------------------------------------

_PAUSED_HOLDER = """
import json, os, sys
conn = os.environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"]
from tests.helpers.d2_stages import batch_op, task_context
os.environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"] = conn  # the test helpers take it out when imported
try:
    out = batch_op(sys.argv[1], max_concurrency=4, lease_ttl=6.0, on_overlap="wait").execute(
        task_context("backfill__2026-03-01")
    )
    print(json.dumps({"ok": out["totals"]}))
except Exception as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
"""


def test_a_holder_paused_past_its_ttl_names_every_image_paid_twice(fast_conn, emulator, tmp_path):
    n = 24
    bucket = _day(fast_conn, n)
    emulator.config.latency_ms = 400
    script = tmp_path / "holder.py"
    script.write_text(textwrap.dedent(_PAUSED_HOLDER))
    log = (tmp_path / "holder.out").open("w")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])),
    }
    holder = subprocess.Popen(
        [sys.executable, str(script), bucket], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    out: dict[str, Any] = {}
    try:
        _wait_for(lambda: emulator.count(SLUG, 200) >= 4 or holder.poll() is not None, 120)
        assert holder.poll() is None, (tmp_path / "holder.out").read_text()
        os.kill(holder.pid, signal.SIGSTOP)  # paused with its next calls in flight
        time.sleep(6.0 + 1.5)  # past lease_ttl: its lease expires
        other = run_in_thread(
            bucket, "manual__2026-03-01", out, max_concurrency=4, lease_ttl=6.0, on_overlap="wait"
        )
        _wait_for(lambda: emulator.count(SLUG, 200) >= 12)
        os.kill(holder.pid, signal.SIGCONT)  # it comes back: its answers in flight arrive
        other.join(90)
        holder.wait(90)
    finally:
        if holder.poll() is None:
            os.kill(holder.pid, signal.SIGCONT)
            holder.kill()
        log.close()
    printed = (tmp_path / "holder.out").read_text()
    assert '"error": "HuaweiOcrOverlapError"' in printed, printed  # it lost its lease, and says so
    billed = _billed_per_image(emulator)
    twice = {image for image, count in billed.items() if count > 1}
    assert twice, "nothing was in flight when the holder was paused"
    named: set[str] = set()
    for record in _records(fast_conn, bucket):
        overlap = record["overlap"]
        if overlap.get("possibly_billed_twice"):
            named.update(overlap["possibly_billed_twice"]["images"])
        for note in overlap.get("reported_by") or []:
            named.update(note["images"])
    named_images = {source.rsplit("/", 1)[-1] for source in named}
    assert twice <= named_images, (twice, named_images)
    assert len(named_images) <= 8  # what it had in flight (4 slots) and was storing, not its whole run
    assert len(_results(fast_conn, bucket)) == n and isinstance(out["manual__2026-03-01"], dict)


# --- results refused, then recovered without a call ---------------------------------------------------------


def test_refused_results_are_kept_and_a_rerun_stores_them_without_a_call(fast_conn, emulator):
    n = 40
    bucket = _day(fast_conn, n)
    fast_conn.refuse_writes(rf"^{bucket}/ocr/(0007|0031)\.png")  # 5 % of the result keys, on every try
    with pytest.raises(HuaweiOcrBatchFailedError):
        batch_op(bucket, max_concurrency=4).execute(task_context("scheduled__2026-03-01"))
    first = _records(fast_conn, bucket)[-1]
    kept = [e for e in first["images"] if e["status"] == "failed"]
    assert first["totals"]["failed"] == 2 and all(e["called"] and e["kept"] for e in kept)
    assert emulator.count(SLUG, 200) == n

    fast_conn.clear_faults()  # the store is healthy again
    xcom = batch_op(bucket, max_concurrency=4).execute(task_context("scheduled__2026-03-01", try_number=2))
    billed = _billed_per_image(emulator)
    assert len(billed) == n and max(billed.values()) == 1  # 0 answers paid twice
    assert len(_results(fast_conn, bucket)) == n  # 0 results missing
    assert (
        xcom["totals"]["recovered"] == 2
        and xcom["totals"]["done"] == 2
        and xcom["totals"]["skipped"] == n - 2
    )
    second = _records(fast_conn, bucket)[-1]
    recovered = [e for e in second["images"] if e.get("recovered")]
    assert sorted(e["source"].rsplit("/", 1)[-1] for e in recovered) == ["0007.png", "0031.png"]
    assert all(e["attempts"] == 0 and e["recovered"]["from"] in {k["kept"] for k in kept} for e in recovered)
    assert second["billing"]["estimated_cost"] in (None, 0, 0.0)
    assert not [k for k in fast_conn.buckets[bucket].objects if "_hwocr_progress" in k]  # parts used, deleted


# --- a write outage, and checkpoints refused ---------------------------------------------------------------------


def test_a_10_s_write_outage_pauses_the_batch_and_every_image_is_stored(fast_conn, emulator):
    n = 30
    bucket = _day(fast_conn, n)
    emulator.config.latency_ms = 50
    out: dict[str, Any] = {}
    run = run_in_thread(bucket, "scheduled__2026-03-01", out, max_concurrency=4, lease_ttl=30.0)
    _wait_for(lambda: emulator.count(SLUG, 200) >= 5)
    began = time.monotonic()
    fast_conn.write_outage(10.0)
    run.join(120)
    xcom = out["scheduled__2026-03-01"]
    assert isinstance(xcom, dict), xcom
    assert xcom["totals"]["done"] == n and xcom["totals"]["failed"] == 0
    assert time.monotonic() - began >= 9.5 and fast_conn.faults()["outage_hits"] > 0
    assert len(_results(fast_conn, bucket)) == n
    billed = _billed_per_image(emulator)
    assert len(billed) == n and max(billed.values()) == 1


def test_every_progress_part_refused_the_batch_finishes_and_records(fast_conn, emulator):
    n = 30
    bucket = _day(fast_conn, n)
    emulator.config.latency_ms = 20
    fast_conn.refuse_writes(rf"^{bucket}/ocr/_hwocr_progress/")
    xcom = batch_op(bucket, max_concurrency=4, checkpoint_every=5, checkpoint_interval=0.2).execute(
        task_context("scheduled__2026-03-01")
    )
    assert xcom["totals"]["done"] == n and len(_results(fast_conn, bucket)) == n
    assert fast_conn.faults()["faults"][0]["hits"] >= 2  # checkpoints were tried, and refused
    record = _records(fast_conn, bucket)[-1]
    assert record["totals"]["done"] == n and len(record["images"]) == n
