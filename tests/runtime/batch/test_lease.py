"""The lease: two runs of one batch (same output prefix, API and shard) never bill an image twice.

Run for real: the operator's ``execute()`` in two threads against the OCR emulator and the fast
local object server; the emulator counts the billable calls per image.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import pytest

from airflow_provider_hwocr.errors import HuaweiOcrOverlapError
from airflow_provider_hwocr.runtime.batch.lease import Lease, owner_of
from tests.helpers.d2_stages import PNG, SLUG, batch_op, full_run, start

# Waits, expiries and renewals against the wall clock.
pytestmark = pytest.mark.timing


class Ti:
    def __init__(
        self, run_id: str, *, task_id: str = "batch", map_index: int = -1, try_number: int = 1
    ) -> None:
        self.dag_id, self.task_id, self.run_id = "backfill_invoices", task_id, run_id
        self.map_index, self.try_number = map_index, try_number
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:  # the console links of the run
        self.xcom[key] = value


def _context(run_id: str, **ti: Any) -> dict[str, Any]:
    return {"run_id": run_id, "ti": Ti(run_id, **ti)}


def _billed_per_image(emulator) -> Counter[str]:
    """Billable calls per image (its URL without the query: each run signs its own)."""
    return Counter(call.body["url"].split("?", 1)[0] for call in emulator.calls(SLUG) if call.billable)


def _put_day(server, bucket: str, n: int) -> None:
    for i in range(n):
        server.put_object(bucket, f"day/{i:04d}.png", PNG)


def _history(obs, bucket: str, uri: str) -> dict[str, Any]:
    return obs.get_json(bucket, uri.removeprefix(f"obs://{bucket}/"))


def _lease_doc(obs, store) -> dict[str, Any] | None:
    from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsNotFoundError

    try:
        return json.loads(obs.get_bytes(store.bucket, store.lease_key))
    except HuaweiObsNotFoundError:
        return None


def _plant_lease(
    obs,
    store,
    *,
    run_id: str = "scheduled__2026-03-01",
    expires_in: float = 120.0,
    try_number: int | None = None,
    token: str = "0" * 32,
) -> float:
    """A lease of another run (or another try), as that run would have written it; returns its expiry
    (wall clock)."""
    owner = {"dag_id": "backfill_invoices", "task_id": "batch", "run_id": run_id, "map_index": None}
    if try_number is not None:
        owner["try_number"] = try_number
    doc = {"format": "hwocr-lease/2", "owner": owner, "token": token, "expires": time.time() + expires_in}
    obs.put_bytes(store.bucket, store.lease_key, json.dumps(doc).encode())
    return float(doc["expires"])


@pytest.fixture
def obs(fast_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


def test_two_overlapping_runs_of_600_images_bill_each_image_once(fast_conn, fast_bucket, obs, emulator):
    n = 600
    _put_day(fast_conn, fast_bucket, n)
    emulator.config.latency_ms = 10
    settings = {"max_concurrency": 8, "lease_ttl": 6.0, "checkpoint_every": 50, "on_overlap": "wait"}
    results: dict[str, Any] = {}

    def run(run_id: str) -> None:
        op = batch_op(fast_bucket, **settings)
        results[run_id] = op.execute(_context(run_id))

    backfill = threading.Thread(target=run, args=("backfill__2026-03-01",))
    backfill.start()
    deadline = time.monotonic() + 60
    while emulator.count(SLUG, 200) < 0.3 * n and time.monotonic() < deadline:
        time.sleep(0.01)
    at_start = emulator.count(SLUG, 200)
    manual = threading.Thread(target=run, args=("manual__2026-03-01",))
    manual.start()
    backfill.join(120)
    manual.join(120)
    assert 0.3 * n <= at_start < n, at_start  # the second run started while the first was sending

    billed = _billed_per_image(emulator)
    assert len(billed) == n and max(billed.values()) == 1, billed.most_common(3)  # 0 billed twice
    listed = [
        k
        for k in list(fast_conn.buckets[fast_bucket].objects)
        if k.startswith("ocr/") and k.endswith(f".{SLUG}.json")
    ]
    assert len(listed) == n

    first = _history(obs, fast_bucket, results["backfill__2026-03-01"]["history_uri"])
    second = _history(obs, fast_bucket, results["manual__2026-03-01"]["history_uri"])
    assert first["totals"]["done"] + second["totals"]["done"] == n
    assert second["totals"]["done"] + second["totals"]["skipped"] == n
    for doc in (first, second):
        assert doc["totals"]["images_possibly_billed_twice"] == 0 and doc["totals"]["failed"] == 0
    assert (
        first["overlap"]["owner"]["run_id"] == "backfill__2026-03-01" and first["overlap"]["waited"] is False
    )
    assert second["overlap"]["owner"]["run_id"] == "manual__2026-03-01"
    assert second["overlap"]["waited"] is True and second["overlap"]["waited_seconds"] > 0
    assert [o["run_id"] for o in second["overlap"]["held_by"]] == ["backfill__2026-03-01"]
    assert first["overlap"]["lost"] is None and second["overlap"]["lost"] is None
    assert _lease_doc(obs, start(fast_bucket).store) is None  # released


def test_on_overlap_fail_names_the_other_run_before_any_call(fast_conn, fast_bucket, obs, emulator):
    _put_day(fast_conn, fast_bucket, 5)
    op = batch_op(fast_bucket, on_overlap="fail")
    _plant_lease(obs, start(fast_bucket).store)
    with pytest.raises(HuaweiOcrOverlapError) as raised:
        op.execute(_context("manual__1"))
    message = str(raised.value)
    assert "scheduled__2026-03-01" in message and "nothing was called" in message
    assert raised.value.parameter == "on_overlap"
    assert emulator.count() == 0


def test_waiting_gives_up_after_overlap_timeout(fast_conn, fast_bucket, obs, emulator):
    _put_day(fast_conn, fast_bucket, 3)
    _plant_lease(obs, start(fast_bucket).store)
    began = time.monotonic()
    with pytest.raises(HuaweiOcrOverlapError, match="overlap_timeout=1"):
        batch_op(fast_bucket, on_overlap="wait", overlap_timeout=1.0, lease_ttl=6.0).execute(
            _context("manual__1")
        )
    assert 0.9 <= time.monotonic() - began < 10 and emulator.count() == 0


def test_a_dead_owners_lease_expires(fast_conn, fast_bucket, obs, emulator):
    _put_day(fast_conn, fast_bucket, 3)
    store = start(fast_bucket).store
    # its owner died: nobody renews it (4 s: still live when this run looks, even if the plant is slow)
    expires = _plant_lease(obs, store, expires_in=4.0)
    xcom = batch_op(fast_bucket, on_overlap="wait", lease_ttl=6.0).execute(_context("manual__1"))
    assert xcom["totals"]["done"] == 3 and time.time() >= expires
    doc = _history(obs, fast_bucket, xcom["history_uri"])
    assert (
        doc["overlap"]["waited"] is True and doc["overlap"]["held_by"][0]["run_id"] == "scheduled__2026-03-01"
    )


def test_a_retry_waits_until_the_earlier_try_s_heartbeat_has_expired(fast_conn, fast_bucket, obs, emulator):
    """Try 1 of this very task holds the lease and stopped renewing it (killed): try 2 waits for its expiry,
    even with on_overlap="fail" (try 1 is not another run), then sends."""
    _put_day(fast_conn, fast_bucket, 3)
    store = start(fast_bucket).store
    expires = _plant_lease(obs, store, run_id="manual__1", try_number=1, expires_in=4.0)
    xcom = batch_op(fast_bucket, on_overlap="fail").execute(_context("manual__1", try_number=2))
    assert xcom["totals"]["done"] == 3 and emulator.count(SLUG, 200) == 3
    # measured against the planted expiry, not from after the plant (its write may be slow under load)
    assert time.time() >= expires
    record = _history(obs, fast_bucket, xcom["history_uri"])["overlap"]
    assert record["waited"] is True and record["held_by"][0]["try_number"] == 1


def test_a_retry_fails_with_on_overlap_fail_when_the_earlier_try_renews_its_lease(
    fast_conn, fast_bucket, obs, emulator
):
    _put_day(fast_conn, fast_bucket, 3)
    store = start(fast_bucket).store
    _plant_lease(
        obs, store, run_id="manual__1", try_number=1, expires_in=5.0
    )  # renewed long before it expires, even under load
    renew = threading.Timer(
        0.3, _plant_lease, args=(obs, store), kwargs={"run_id": "manual__1", "try_number": 1}
    )
    renew.start()  # try 1 is alive: its heartbeat renews the lease
    try:
        with pytest.raises(HuaweiOcrOverlapError, match="try 1"):
            batch_op(fast_bucket, on_overlap="fail").execute(_context("manual__1", try_number=2))
    finally:
        renew.join()
    assert emulator.count() == 0


def test_another_map_index_or_try_is_another_owner():
    assert owner_of(_context("r", map_index=0)) != owner_of(_context("r", map_index=1))
    assert owner_of(_context("r", try_number=1)) != owner_of(_context("r", try_number=2))
    assert owner_of({}) == {
        "dag_id": None,
        "task_id": None,
        "run_id": None,
        "map_index": None,
        "try_number": None,
    }


def test_a_lost_lease_stops_the_batch_before_its_next_call(fast_conn, fast_bucket, obs, emulator):
    n = 40
    _put_day(fast_conn, fast_bucket, n)
    emulator.config.latency_ms = 100
    op = batch_op(fast_bucket, max_concurrency=1, lease_ttl=6.0)
    store = start(fast_bucket).store
    failure: list[BaseException] = []

    def run() -> None:
        try:
            op.execute(_context("backfill__1"))
        except BaseException as exc:  # noqa: BLE001 - inspected below
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    while emulator.count(SLUG, 200) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    _plant_lease(obs, store, run_id="manual__1")  # another run took it (as if ours had expired)
    thread.join(60)
    assert failure and isinstance(failure[0], HuaweiOcrOverlapError), failure
    assert "taken over by" in str(failure[0]) and "manual__1" in str(failure[0])
    calls = emulator.count(SLUG, 200)
    assert calls < n - 10  # heartbeat every 1 s, a call every 0.1 s: it stopped within ~1.5 s
    latest = obs.get_json(fast_bucket, store.latest_key)
    assert latest["totals"]["not_attempted"] == n - calls and latest["totals"]["done"] == calls
    assert latest["overlap"]["lost"].startswith("taken over by")
    assert _lease_doc(obs, store)["owner"]["run_id"] == "manual__1"  # not deleted: it is the other run's


def test_a_rerun_of_finished_work_takes_no_lease(obs_bucket, counted, emulator):
    from tests.helpers.obs_env import bulk_put

    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(5)], PNG)
    full_run(obs_bucket)
    emulator.reset()
    counted.reset()
    _, plan, sent, _ = full_run(obs_bucket, run_id="r2")
    assert sent.counts["skipped"] == 5 and emulator.count() == 0 and plan.lease is None
    assert not [path for _, path in counted.requests if "lease" in path]
    assert counted.total == 5  # the two listings, the index, history and latest manifest


def test_a_lease_renewed_by_its_heartbeat_outlives_its_ttl(fast_conn, fast_bucket, obs):
    store = start(fast_bucket).store
    lease = Lease(obs, store.bucket, store.lease_key, {"run_id": "a"}, ttl=6.0, log=start(fast_bucket).log)
    lease.take("fail", None)
    try:
        first = _lease_doc(obs, store)["expires"]
        time.sleep(2.5)  # two heartbeats
        assert lease.held and _lease_doc(obs, store)["expires"] > first
    finally:
        lease.release()
    assert not lease.held and _lease_doc(obs, store) is None


# --- the protocol, piece by piece ---------------------------------------------------------------------------


def _lease(obs, store, run_id: str = "a", ttl: float = 6.0) -> Lease:
    return Lease(obs, store.bucket, store.lease_key, {"run_id": run_id}, ttl=ttl, log=start(store.bucket).log)


def test_a_run_paused_for_most_of_its_ttl_looks_at_its_lease_and_goes_on(fast_conn, fast_bucket, obs):
    """No heartbeat for 0.9 x ttl (a paused worker): the next call reads the lease first, finds it still its
    own and renews it, rather than stopping the batch as "lost (None)"."""
    store = start(fast_bucket).store
    lease = _lease(obs, store)
    lease.take("fail", None)
    lease._stop.set()  # the heartbeat stops, as a paused process's would
    lease._thread.join()
    first = _lease_doc(obs, store)["expires"]
    time.sleep(0.9 * lease.ttl)
    try:
        assert lease.held and lease.record.lost is None
        assert _lease_doc(obs, store)["expires"] > first  # renewed by that look
    finally:
        lease.release()


def test_a_conditional_write_refuses_the_second_of_two_runs_that_read_the_lease_as_free(
    fast_conn, fast_bucket, obs
):
    from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsPreconditionFailedError

    store = start(fast_bucket).store
    a, b = _lease(obs, store, "a"), _lease(obs, store, "b")
    assert b._read() == (None, None)  # b reads it as free ...
    a.take("fail", None)  # ... a takes it meanwhile
    try:
        with pytest.raises(HuaweiObsPreconditionFailedError):
            b._write(create=True)
        assert b.try_take()["token"] == a.token and _lease_doc(obs, store)["token"] == a.token
    finally:
        a.release()


def test_a_store_that_does_not_implement_conditional_writes_is_written_plainly(
    fast_conn, fast_bucket, obs, monkeypatch
):
    from airflow_provider_hwocr.runtime.batch import lease as lease_module

    monkeypatch.setattr(lease_module, "_NO_CONDITIONAL", set())
    fast_conn.conditional = "refuse"  # 501 NotImplemented to If-None-Match / If-Match
    store = start(fast_bucket).store
    lease = _lease(obs, store)
    lease.take("fail", None)
    try:
        assert lease.held and _lease_doc(obs, store)["token"] == lease.token
        assert fast_bucket in lease_module._NO_CONDITIONAL
    finally:
        lease.release()


@pytest.mark.parametrize(("conditional", "checked"), [("honour", True), ("ignore", False), ("refuse", False)])
def test_a_take_reads_back_only_on_a_store_that_does_not_check_its_conditions(
    fast_conn, fast_bucket, obs, monkeypatch, conditional, checked
):
    """A store that refuses a failed condition (412): the take holds the lease as its conditional write
    returns, with no settle slept. One that ignores conditions or does not implement them: the take
    reads its write back after the settle, twice. Either way the lease is this run's."""
    from airflow_provider_hwocr.runtime.batch import lease as lease_module

    monkeypatch.setattr(lease_module, "_NO_CONDITIONAL", set())
    monkeypatch.setenv("HWOCR_LEASE_SETTLE", "0.5")
    fast_conn.conditional = conditional
    store = start(fast_bucket).store
    # An expired lease there (taken over If-Match its ETag), then none (released: If-None-Match).
    for planted in (True, False):
        if planted:
            _plant_lease(obs, store, expires_in=-1.0)
        lease = _lease(obs, store)
        began = time.monotonic()
        lease.take("fail", None)
        took = time.monotonic() - began
        try:
            assert lease.held and _lease_doc(obs, store)["token"] == lease.token
            if checked:
                assert took < lease.settle  # no settle slept, nothing read back
            else:
                assert took >= 2 * lease.settle  # read back twice, a settle apart
        finally:
            lease.release()


def test_a_slow_take_reads_back_later(fast_conn, fast_bucket, obs):
    store = start(fast_bucket).store
    lease = _lease(obs, store)
    assert lease.slow_take_wait(lease.settle / 2) == 0.0
    assert lease.slow_take_wait(0.5) == pytest.approx(min(2 * 0.5 + lease.settle, lease.ttl / 6 + 0.5))
    assert lease.slow_take_wait(30.0) == pytest.approx(lease.ttl / 6 + 30.0)


def test_a_replaced_lease_is_fenced_and_the_run_that_took_it_reads_the_note(fast_conn, fast_bucket, obs):
    store = start(fast_bucket).store
    a = _lease(obs, store, "a")
    a.take("fail", None)
    finished: list[tuple[float, dict]] = []

    def since(when: float) -> list[dict]:
        return [entry for at, entry in finished if at >= when]

    finished.append((time.time() - 60, {"source": "early.png", "status": "done"}))  # seen by the other run
    b = _lease(obs, store, "b")
    b._taken_at = time.time()
    b._write()  # b's write lands over a's lease (a store without conditional writes, a late write)
    finished.append((time.time(), {"source": "after.png", "status": "done"}))
    finished.append((time.time(), {"source": "recovered.png", "status": "done", "recovered": {"from": "x"}}))
    finished.append((time.time(), {"source": "refused.png", "status": "failed", "called": False}))
    a._verdict_at -= a.ttl  # its verdict is stale: the next call looks first
    assert not a.held and a.record.lost.startswith("taken over by")
    a.wrap_up(since)
    assert a.record.possibly_billed_twice == ["after.png"]  # what it called once b may have decided without
    manifest = a.record.as_manifest()["possibly_billed_twice"]
    assert manifest["count"] == 1 and manifest["images"] == ["after.png"] and manifest["since"]
    assert (
        finished[1][1]["possibly_billed_twice"] == "lease lost"
        and "possibly_billed_twice" not in finished[0][1]
    )
    assert "1 image(s) that may have been billed twice" in str(a.lost_error())

    b._verdict, b._may_have_overwritten = True, True
    b_entries = [(time.time(), {"source": "after.png", "status": "done"})]
    b.wrap_up(lambda when: [entry for at, entry in b_entries if at >= when])
    assert b.record.reported_by == [
        {"owner": a.owner | {}, "since": manifest["since"], "images": ["after.png"]}
    ]
    assert b_entries[0][1]["possibly_billed_twice"] == "reported by the run that lost the lease"
    b.release()
    assert _lease_doc(obs, store) is None
    assert not [
        k for k in fast_conn.buckets[fast_bucket].objects if ".overlap-" in k
    ]  # the note read, deleted
