"""The OBS new-object event trigger for AssetWatcher (``triggers/obs_event.py``): serialization, the
watermark rules, and one event per new object across restarts, against the local object server."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_hwocr.hooks.obs import ObsObjectInfo
from airflow_provider_hwocr.triggers.obs_event import (
    HuaweiObsNewObjectTrigger,
    Watermark,
    default_watermark_uri,
    new_objects,
)

KWARGS = {
    "bucket": "scans",
    "prefix": "incoming/",
    "pattern": "*.png",
    "huaweicloud_ocr_conn_id": "my_conn",
    "region": "ap-southeast-2",
    "poke_interval": 7.0,
    "watermark_uri": "obs://state/wm.json",
    "start_from": "beginning",
    "min_size": 3,
    "grace_seconds": 60.0,
}


def test_serialize_round_trips_every_argument_as_json():
    classpath, kwargs = HuaweiObsNewObjectTrigger(**KWARGS).serialize()
    assert classpath == "airflow_provider_hwocr.triggers.obs_event.HuaweiObsNewObjectTrigger"
    assert kwargs == KWARGS
    # every constructor parameter, hook parameters included, is carried (Amazon #72144 class of bug)
    params = set(inspect.signature(HuaweiObsNewObjectTrigger.__init__).parameters) - {"self"}
    assert set(kwargs) == params
    again = HuaweiObsNewObjectTrigger(**json.loads(json.dumps(kwargs)))
    assert again.serialize() == (classpath, kwargs)
    # and through Airflow's own trigger encoding, as the triggerer stores it
    from airflow.triggers.base import BaseEventTrigger

    assert BaseEventTrigger.hash(classpath, kwargs) == BaseEventTrigger.hash(classpath, again.serialize()[1])
    assert isinstance(again, BaseEventTrigger)


def test_defaults_and_argument_checks():
    trigger = HuaweiObsNewObjectTrigger(bucket="scans", prefix="in/")
    assert trigger.watermark_uri == default_watermark_uri("scans", "in/", None)
    assert trigger.watermark_uri.startswith("obs://scans/.hwocr-watermarks/")
    assert trigger.serialize()[1]["watermark_uri"] == trigger.watermark_uri  # stable across restarts
    for bad in (
        {"start_from": "yesterday"},
        {"poke_interval": 0},
        {"bucket": ""},
        {"watermark_uri": "s3://x/y"},
    ):
        with pytest.raises(ValueError):
            HuaweiObsNewObjectTrigger(**{"bucket": "scans", **bad})


def _obj(key, seconds, etag="e"):
    t = datetime(2026, 12, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    return ObsObjectInfo(bucket="b", key=key, size=10, last_modified=t, etag=etag)


def test_watermark_logic_late_arrivals_overwrites_and_pruning():
    grace = timedelta(seconds=60)
    mark = Watermark()
    first = [_obj("a", 0), _obj("b", 10)]
    assert new_objects(first, mark, grace) == first  # nothing seen yet
    for o in first:
        mark.seen(o)
    assert new_objects(first, mark, grace) == []
    late = _obj("c", -30)  # listed late, but within the grace window: still new
    too_old = _obj("d", -3600)  # older than the window: taken as old
    overwritten = _obj("a", 20, etag="e2")
    assert new_objects([*first, late, too_old, overwritten], mark, grace) == [late, overwritten]
    mark.seen(_obj("z", 500))
    mark.prune(grace)
    assert set(mark.recent) == {"z"}
    assert Watermark.from_json(json.loads(json.dumps(mark.to_json()))).recent == mark.recent


async def _next(agen, timeout):
    return await asyncio.wait_for(agen.__anext__(), timeout)


async def _collect(trigger, *, until, timeout=10.0):
    """Run the trigger until ``until`` events arrived (or the time is up); always closes it."""
    agen = trigger.run()
    events = []
    try:
        while len(events) < until:
            events.append((await _next(agen, timeout)).payload)
    except asyncio.TimeoutError:
        pass
    finally:
        await agen.aclose()
    return events


def test_one_event_per_new_object_and_restarts_resume_from_the_watermark(obs_conn, obs_bucket):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    hook = HuaweiObsHook()
    hook.put_bytes(obs_bucket, "incoming/old.png", b"old image")
    kwargs = {"bucket": obs_bucket, "prefix": "incoming/", "pattern": "*.png", "poke_interval": 0.2}

    async def scenario():
        # first start, start_from="now": what is there is taken as seen, nothing fires
        assert await _collect(HuaweiObsNewObjectTrigger(**kwargs), until=1, timeout=1.5) == []
        wm_bucket, wm_key = HuaweiObsNewObjectTrigger(**kwargs).watermark_uri[6:].split("/", 1)
        assert hook.exists(wm_bucket, wm_key)

        trigger = HuaweiObsNewObjectTrigger(**kwargs)
        agen = trigger.run()
        try:
            pending = asyncio.ensure_future(_next(agen, 10))
            await asyncio.sleep(0.5)
            hook.put_bytes(obs_bucket, "incoming/new-1.png", b"png one")
            hook.put_bytes(obs_bucket, "incoming/skip.txt", b"not an image")
            hook.put_bytes(obs_bucket, "elsewhere/new.png", b"outside the prefix")
            first = (await pending).payload
            hook.put_bytes(obs_bucket, "incoming/new-2.png", b"png two")
            second = (await _next(agen, 10)).payload
            with contextlib.suppress(asyncio.TimeoutError):  # the triggerer takes the event, goes on
                await _next(agen, 0.8)
        finally:
            await agen.aclose()
        # a restarted triggerer rebuilds the trigger from its kwargs and reads the watermark back
        after_restart = await _collect(HuaweiObsNewObjectTrigger(**kwargs), until=1, timeout=1.5)
        hook.put_bytes(obs_bucket, "incoming/new-1.png", b"png one, rescanned")  # new content
        again = await _collect(HuaweiObsNewObjectTrigger(**kwargs), until=2, timeout=3)
        # stopped right after handing over an event, before the watermark was written:
        # the next start reports it again (at least once, never lost)
        hook.put_bytes(obs_bucket, "incoming/new-3.png", b"png three")
        cut = await _collect(HuaweiObsNewObjectTrigger(**kwargs), until=1, timeout=5)
        redelivered = await _collect(HuaweiObsNewObjectTrigger(**kwargs), until=2, timeout=1.5)
        return first, second, after_restart, again, cut, redelivered

    first, second, after_restart, again, cut, redelivered = asyncio.run(scenario())
    assert first["uri"] == f"obs://{obs_bucket}/incoming/new-1.png"
    assert first["key"] == "incoming/new-1.png" and first["size"] == len(b"png one")
    assert second["uri"] == f"obs://{obs_bucket}/incoming/new-2.png"
    assert after_restart == []
    assert [e["key"] for e in again] == ["incoming/new-1.png"]
    assert [e["key"] for e in cut] == [e["key"] for e in redelivered] == ["incoming/new-3.png"]
    assert json.loads(json.dumps(first)) == first  # payload is JSON (it becomes the asset event's extra)


def test_start_from_beginning_reports_existing_objects_but_never_the_watermark(obs_conn, obs_bucket):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    hook = HuaweiObsHook()
    for name in ("a.png", "b.png"):
        hook.put_bytes(obs_bucket, name, b"image bytes")
    hook.put_bytes(obs_bucket, "folder/", b"")
    trigger = HuaweiObsNewObjectTrigger(bucket=obs_bucket, start_from="beginning", poke_interval=0.2)
    events = asyncio.run(_collect(trigger, until=3, timeout=2))
    assert [e["key"] for e in events] == ["a.png", "b.png"]
    # the watermark now sits in the watched bucket; a second trigger does not report it either
    assert (
        asyncio.run(_collect(HuaweiObsNewObjectTrigger(**trigger.serialize()[1]), until=1, timeout=1.5)) == []
    )
