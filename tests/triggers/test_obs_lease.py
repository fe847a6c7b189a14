"""The lease trigger (``triggers/obs_lease.py``) and ``on_overlap="defer"``: the trigger serializes to
plain JSON, fires on a released, expired, replaced or missing lease and times out; it tries failed looks
again (throttling, 5xx) until its deadline or error timeout, and gives up at once on access denied; a batch in a DAG
defers while another run's lease is live, resumes when it is released, and bills each image once."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter

import pytest

from airflow_provider_hwocr.triggers.obs_lease import HuaweiObsLeaseReleasedTrigger
from tests.helpers.batch_env import PNG, SLUG
from tests.helpers.c_obs_keys import first_event
from tests.helpers.d2_stages import start

KEY = "ocr/_hwocr/lease.json"
OWNER = {"dag_id": "invoices", "task_id": "batch", "run_id": "backfill__2026-03-01", "map_index": None}


@pytest.fixture
def obs(obs_conn):
    """An OBS hook on the local object server (closed after the test)."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    hook = HuaweiObsHook(obs_conn)
    yield hook
    hook.close()


def _plant(obs, bucket: str, key: str = KEY, *, token: str = "t" * 32, expires_in: float = 120.0) -> None:
    doc = {"format": "hwocr-lease/1", "owner": OWNER, "token": token, "expires": time.time() + expires_in}
    obs.put_bytes(bucket, key, json.dumps(doc).encode())


def _trigger(bucket: str, **kwargs) -> HuaweiObsLeaseReleasedTrigger:
    kwargs.setdefault("poll_interval", 0.1)
    return HuaweiObsLeaseReleasedTrigger(bucket=bucket, key=KEY, token="t" * 32, owner=OWNER, **kwargs)


def _event(trigger, limit: float = 10.0) -> dict:
    return asyncio.run(first_event(trigger, limit)).payload


def test_lease_trigger_serialize_round_trip():
    from airflow.sdk.module_loading import import_string

    trigger = _trigger("b-1", huaweicloud_ocr_conn_id="c", region="cn-north-4", deadline=123.5, since=100.0)
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_hwocr.triggers.obs_lease.HuaweiObsLeaseReleasedTrigger"
    kwargs = json.loads(json.dumps(kwargs))  # plain JSON data only
    rebuilt = import_string(path)(**kwargs)
    assert rebuilt == trigger and rebuilt.serialize() == trigger.serialize()
    assert kwargs["error_timeout"] == 600.0
    assert (
        kwargs["deadline"] == 123.5
        and kwargs["since"] == 100.0
        and kwargs["owner"] == OWNER
        and kwargs["token"] == "t" * 32
    )
    with pytest.raises(ValueError, match="poll_interval"):
        _trigger("b-1", poll_interval=0)


def test_lease_trigger_fires_on_a_missing_lease(obs, obs_bucket):
    assert _event(_trigger(obs_bucket)) == {
        "status": "released",
        "why": "released",
        "owner": OWNER,
        "waited": 0.0,
    }


def test_lease_trigger_fires_when_the_lease_is_released(obs, obs_bucket):
    _plant(obs, obs_bucket)
    timer = threading.Timer(0.5, obs.delete, args=(obs_bucket, KEY))
    began = time.monotonic()
    timer.start()
    try:
        event = _event(_trigger(obs_bucket, since=time.time()))
    finally:
        timer.join()
    assert event["status"] == "released" and event["why"] == "released" and event["waited"] >= 0.5
    assert time.monotonic() - began >= 0.5


def test_lease_trigger_fires_when_the_lease_expires_or_is_replaced(obs, obs_bucket):
    _plant(obs, obs_bucket, expires_in=0.6)  # nobody renews it
    began = time.monotonic()
    assert _event(_trigger(obs_bucket, poll_interval=30))["why"] == "expired"
    assert 0.5 <= time.monotonic() - began < 5  # woke at the expiry, not after the 30 s poll
    _plant(obs, obs_bucket, token="u" * 32)  # another run took it: the task decides again
    assert _event(_trigger(obs_bucket))["why"] == "replaced"


def test_lease_trigger_times_out_naming_the_owner(obs, obs_bucket):
    _plant(obs, obs_bucket)
    began = time.monotonic()
    event = _event(_trigger(obs_bucket, poll_interval=30, deadline=time.time() + 0.5))
    assert event["status"] == "timeout" and event["owner"] == OWNER
    assert "backfill__2026-03-01" in event["message"] and 0.4 <= time.monotonic() - began < 5


# --- storage errors, injected at the fast object server -----------------------------------------------


@pytest.fixture
def fast_obs(fast_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    hook = HuaweiObsHook()
    yield hook
    hook.close()


def test_lease_trigger_retries_storage_errors_and_fires_when_the_lease_ends(fast_conn, fast_bucket, fast_obs):
    _plant(fast_obs, fast_bucket, expires_in=2.5)
    fast_conn.add_fault(r"lease\.json$", methods="GET", status=503, count=6)  # two looks or more fail
    began = time.monotonic()
    event = _event(_trigger(fast_bucket, poll_interval=30), limit=20)
    assert event["status"] == "released" and event["why"] == "expired"
    assert 2.0 <= time.monotonic() - began < 20
    assert fast_conn.faults()["faults"][0]["hits"] == 6  # every injected 503 was answered, none ended it


def test_lease_trigger_gives_up_after_its_error_timeout(fast_conn, fast_bucket, fast_obs):
    _plant(fast_obs, fast_bucket)
    fast_conn.add_fault(r"lease\.json$", methods="GET", status=500, count=None)
    began = time.monotonic()
    event = _event(_trigger(fast_bucket, error_timeout=1.5), limit=30)
    assert event["status"] == "error" and event["error_type"] == "HuaweiObsTransientError"
    assert 1.0 <= time.monotonic() - began < 15


def test_lease_trigger_gives_up_at_its_deadline_while_storage_fails(fast_conn, fast_bucket, fast_obs):
    _plant(fast_obs, fast_bucket)
    fast_conn.add_fault(r"lease\.json$", methods="GET", status=503, count=None)
    began = time.monotonic()
    event = _event(_trigger(fast_bucket, deadline=time.time() + 1.0, error_timeout=None), limit=30)
    assert event["status"] == "error" and time.monotonic() - began < 10


def test_lease_trigger_fails_at_once_on_an_error_trying_again_cannot_mend(fast_conn, fast_bucket, fast_obs):
    _plant(fast_obs, fast_bucket)
    fast_conn.add_fault(r"lease\.json$", methods="GET", status=403, count=None)
    began = time.monotonic()
    event = _event(_trigger(fast_bucket))
    assert event["status"] == "error" and event["error_type"] == "HuaweiObsAccessDeniedError"
    assert time.monotonic() - began < 2 and fast_conn.faults()["faults"][0]["hits"] == 1


def test_execute_complete_on_timeout_names_the_other_run():
    from airflow_provider_hwocr.errors import HuaweiOcrOverlapError
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    op = HuaweiOcrBatchOperator(
        task_id="t", api=SLUG, output_uri="obs://b-1/ocr/", source_uri="obs://b-1/d/", overlap_timeout=5
    )
    assert op.on_overlap == "defer"  # the default
    event = {
        "status": "timeout",
        "owner": OWNER,
        "message": "dag 'invoices', run 'backfill__2026-03-01' holds x",
    }
    with pytest.raises(HuaweiOcrOverlapError, match="backfill__2026-03-01.*overlap_timeout=5"):
        op.execute_complete({}, {**event, "waited": 5.1})


# --- in a DAG ----------------------------------------------------------------------------------------

_DAG_FILE = """
import datetime as dt

from airflow.sdk import DAG, Param

from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

with DAG(
    "hwocr_batch_defers_on_overlap",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1),
    catchup=False,
    params={"bucket": Param("", type="string")},
) as dag:
    HuaweiOcrBatchOperator(
        task_id="batch",
        api="%s",
        source_uri="obs://{{ params.bucket }}/day/",
        output_uri="obs://{{ params.bucket }}/ocr/",
        qps=None,
        lease_ttl=6,
    )
"""


def test_dag_batch_defers_while_another_run_holds_the_lease(
    airflow_db, emulator, obs, obs_bucket, tmp_path, monkeypatch
):
    import importlib.util

    import airflow.settings

    (tmp_path / "hwocr_batch_defers_on_overlap.py").write_text(_DAG_FILE % SLUG)
    monkeypatch.setattr(airflow.settings, "DAGS_FOLDER", str(tmp_path))
    spec = importlib.util.spec_from_file_location(
        "hwocr_batch_defers", tmp_path / "hwocr_batch_defers_on_overlap.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    for i in range(4):
        obs.put_bytes(obs_bucket, f"day/{i}.png", PNG, content_type="image/png")
    store = start(obs_bucket).store
    _plant(obs, obs_bucket, store.lease_key)  # a live lease of another run
    deferred_at: list[float] = []
    in_trigger = threading.Event()
    real_run = HuaweiObsLeaseReleasedTrigger.run

    async def watched_run(self):  # the real trigger; the test only learns that it started
        in_trigger.set()
        async for event in real_run(self):
            yield event

    monkeypatch.setattr(HuaweiObsLeaseReleasedTrigger, "run", watched_run)

    def finish_other_run() -> None:  # ~1 s after the batch deferred, the other run releases its lease
        if in_trigger.wait(60):
            deferred_at.append(time.monotonic())
        time.sleep(1.0)
        obs.delete(obs_bucket, store.lease_key)

    releaser = threading.Thread(target=finish_other_run)
    releaser.start()
    try:
        dag_run = module.dag.test(run_conf={"bucket": obs_bucket})
    finally:
        releaser.join()

    assert dag_run.state == "success" and deferred_at  # it deferred (in the DB) before it resumed
    billed = Counter(c.body["url"].split("?", 1)[0] for c in emulator.calls(SLUG) if c.billable)
    assert len(billed) == 4 and set(billed.values()) == {1}
    manifest = json.loads(obs.get_bytes(obs_bucket, store.manifest_key(None)))
    overlap = manifest["overlap"]
    assert overlap["waited"] is True and overlap["deferred"] is True and overlap["waited_seconds"] >= 0.9
    assert [o["run_id"] for o in overlap["held_by"]] == ["backfill__2026-03-01"]
    assert manifest["totals"]["done"] == 4


def test_a_run_resumed_after_the_other_run_did_everything_records_its_deferred_wait(
    emulator, obs, obs_bucket
):
    """Deferred while another run sends the day; resumed, it finds everything done: no call, no
    lease taken, and its manifest still says it waited deferred, and behind whom."""
    from airflow_provider_hwocr._compat import TaskDeferred
    from tests.helpers.d2_stages import batch_op

    for i in range(4):
        obs.put_bytes(obs_bucket, f"day/{i}.png", PNG, content_type="image/png")
    store = start(obs_bucket).store
    _plant(obs, obs_bucket, store.lease_key)  # the other run holds the lease
    second = batch_op(obs_bucket, lease_ttl=6)
    with pytest.raises(TaskDeferred) as deferred:
        second.execute({"run_id": "manual__second"})
    trigger = deferred.value.trigger
    assert isinstance(trigger, HuaweiObsLeaseReleasedTrigger) and emulator.count(SLUG) == 0

    obs.delete(obs_bucket, store.lease_key)  # the other run: gone from the lease ...
    batch_op(obs_bucket).execute({"run_id": "backfill__2026-03-01"})  # ... it did the whole day
    assert emulator.count(SLUG) == 4
    event = _event(trigger)
    assert event["status"] == "released"

    second.execute_complete({"run_id": "manual__second"}, event)
    assert emulator.count(SLUG) == 4  # the resumed run called nothing
    manifest = json.loads(obs.get_bytes(obs_bucket, store.manifest_key(None)))
    assert manifest["run_id"] == "manual__second" and manifest["totals"]["skipped"] == 4
    overlap = manifest["overlap"]
    assert overlap["lease"] is None  # nothing to send: no lease taken
    assert overlap["waited"] is True and overlap["deferred"] is True and overlap["waited_seconds"] > 0
    assert [o["run_id"] for o in overlap["held_by"]] == ["backfill__2026-03-01"]
