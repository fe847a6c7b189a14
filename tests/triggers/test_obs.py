"""The OBS key trigger (``triggers/obs.py``): it serializes to plain JSON and back, waits on the
local object server without blocking the event loop, and reports timeouts and errors as events."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from airflow_provider_hwocr.triggers.obs import HuaweiObsKeyTrigger
from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.c_obs_keys import first_event as _first_event
from tests.helpers.obs_env import moto_front, obs_client


def _trigger(**kwargs) -> HuaweiObsKeyTrigger:
    kwargs.setdefault("poke_interval", 0.05)
    return HuaweiObsKeyTrigger(**kwargs)


def test_trigger_serialize_round_trip():
    from airflow.sdk.module_loading import import_string

    trigger = _trigger(
        bucket="my-bucket",
        key=["in/*.png", "obs://my-bucket/ready.flag"],
        huaweicloud_ocr_conn_id="my_conn",
        region="cn-north-4",
        use_regex=False,
        wildcard_match=True,
        min_size=10,
        metadata_keys=["uri", "etag"],
        poke_interval=7,
        timeout=600,
    )
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_hwocr.triggers.obs.HuaweiObsKeyTrigger"
    kwargs = json.loads(json.dumps(kwargs))  # plain JSON data only
    rebuilt = import_string(path)(**kwargs)
    assert rebuilt == trigger and rebuilt.serialize() == trigger.serialize()
    assert kwargs["deadline"] == pytest.approx(time.time() + 600, abs=5)  # kept, not restarted
    assert {"huaweicloud_ocr_conn_id", "region", "bucket", "key", "use_regex", "prefix", "wildcard_match",
            "min_size", "metadata_keys", "poke_interval", "timeout"} <= set(kwargs)  # fmt: skip


@pytest.mark.timing
def test_trigger_waits_without_blocking_the_event_loop(monkeypatch, emulator, obs_bucket):
    """Every OBS answer takes 1 s here; a 20 ms ticker must keep ticking while the trigger waits.

    The ticker must tick inside every one of those seconds: a loop blocked by a lookup would
    not tick at all until the answer came. (Not a bound on the longest gap: a loaded machine
    can leave the whole process without a core for a second or two, lookup or none.)
    """
    waits: list[tuple[float, float]] = []
    with moto_front(delay=1.0, waits=waits) as slow_url:
        monkeypatch.setenv(
            CONN_ENV,
            conn_json(
                emulator, extra={"obs_endpoint": slow_url, "obs_path_style": True, "obs_signature": "v2"}
            ),
        )
        trigger = _trigger(bucket=obs_bucket, key="late/", timeout=20)

        async def scenario():
            ticks = []
            stop = asyncio.Event()

            async def ticker():
                while not stop.is_set():
                    ticks.append(time.monotonic())
                    await asyncio.sleep(0.02)

            def upload_later():
                time.sleep(0.8)
                client = obs_client()
                client.putContent(obs_bucket, "late/a.png", content=b"1")
                client.close()

            tick_task = asyncio.create_task(ticker())
            uploader = threading.Thread(target=upload_later)
            uploader.start()
            started = time.monotonic()
            event = await _first_event(trigger)
            waited = time.monotonic() - started
            stop.set()
            await tick_task
            uploader.join()
            return event, ticks, waited

        event, ticks, waited = asyncio.run(scenario())

    assert event.payload["status"] == "success"
    assert event.payload["matches"] == [f"obs://{obs_bucket}/late/a.png"]
    assert waited >= 0.8  # it really waited for the upload, several slow lookups long
    assert waits, "no lookup went to the slow listener"
    # The uploader's own request is slow too: only the trigger's lookups count, but every wait
    # of a second must have seen the loop go on (a tick strictly inside it; a blocked loop has none).
    for start, end in waits:
        inside = sum(1 for t in ticks if start < t < end)
        assert inside >= 1, (start, end, inside)


def test_trigger_timeout_and_error_events(obs_conn, obs_bucket):
    event = asyncio.run(_first_event(_trigger(bucket=obs_bucket, key="never/", timeout=0.3)))
    assert event.payload["status"] == "timeout" and "never/" in event.payload["message"]

    event = asyncio.run(_first_event(_trigger(bucket="hwocr-no-such-bucket", key="x/", timeout=5)))
    assert event.payload["status"] == "error"
    assert event.payload["error_type"] == "HuaweiObsNotFoundError"
    assert "NoSuchBucket" in event.payload["message"]


def test_first_only_reports_one_object_per_key_and_round_trips(obs_conn, obs_bucket):
    from tests.helpers.obs_env import bulk_put

    bulk_put(obs_bucket, [f"day/{i:04d}.png" for i in range(1200)])
    trigger = _trigger(bucket=obs_bucket, key=["day/*.png", "day/0500.png"], first_only=True, timeout=10)
    assert HuaweiObsKeyTrigger(**json.loads(json.dumps(trigger.serialize()[1]))) == trigger
    event = asyncio.run(_first_event(trigger)).payload
    assert event["status"] == "success" and event["first_only"] is True
    assert event["matches"] == [f"obs://{obs_bucket}/day/0000.png", f"obs://{obs_bucket}/day/0500.png"]
    assert event["count"] == 2  # not 1,201: nothing else was listed


def test_a_sensor_selection_defers_with_first_only_and_completes_without_a_count(obs_conn, obs_bucket):
    from airflow_provider_hwocr._compat import TaskDeferred
    from tests.helpers.c_obs_keys import make_sensor, task_context

    sensor = make_sensor(bucket=obs_bucket, key="late/*.png", return_selection=True, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:  # nothing there yet
        sensor.execute(task_context())
    trigger = deferred.value.trigger
    assert trigger.first_only is True and trigger.max_matches is None
    value = sensor.execute_complete(
        task_context(),
        {"status": "success", "matches": [f"obs://{obs_bucket}/late/a.png"], "files": [], "count": 1,
         "deadline": None, "first_only": True},
    )  # fmt: skip
    assert value["count"] is None and value["first"] == [f"obs://{obs_bucket}/late/a.png"]
    with pytest.raises(ValueError, match="^return_selection: "):
        make_sensor(bucket=obs_bucket, key="late/", return_selection="maybe")
    assert make_sensor(bucket=obs_bucket, key="late/", return_selection="no").return_selection is False
