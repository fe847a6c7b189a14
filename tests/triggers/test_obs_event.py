"""The OBS new-object event trigger for AssetWatcher (``triggers/obs_event.py``) against the local
object server: serialization, one event per poll naming every new object, at-least-once delivery
when the trigger is dropped right after a poll, the cost of a poll, and restarts."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json

import pytest

from airflow_provider_hwocr.triggers.obs_event import (
    HuaweiObsNewObjectTrigger,
    default_watermark_uri,
    event_uris,
)
from airflow_provider_hwocr.triggers.obs_watermark import Watermark
from tests.helpers.obs_env import bulk_put
from tests.helpers.r_watch import Driver, age, events_of, put_old, uris

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
    "key_order": "folder",
    "full_listing_interval": 900.0,
    "max_keys_per_event": 100,
    "commit_delay": 12.0,
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
    assert (trigger.key_order, trigger.full_listing_interval, trigger.commit_delay) == ("name", 600.0, 30.0)
    for bad in (
        {"start_from": "yesterday"},
        {"poke_interval": 0},
        {"bucket": ""},
        {"watermark_uri": "s3://x/y"},
        {"key_order": "time"},
        {"full_listing_interval": 0},
        {"max_keys_per_event": 0},
        {"max_keys_per_event": True},
        {"commit_delay": -1},
    ):
        with pytest.raises(ValueError):
            HuaweiObsNewObjectTrigger(**{"bucket": "scans", **bad})


def test_event_uris_reads_every_event_once_in_order():
    class Event:
        def __init__(self, payload):
            self.extra = {"payload": payload}

    events = [
        Event({"uris": ["obs://b/1.png", "obs://b/2.png"]}),
        Event({"uris": ["obs://b/2.png", "obs://b/3.png"]}),  # delivered again: at least once
        Event({"uri": "obs://b/0.png", "key": "0.png"}),  # one object per event: the earlier payload
        Event({}),
    ]
    assert event_uris(events) == ["obs://b/1.png", "obs://b/2.png", "obs://b/3.png", "obs://b/0.png"]


def _watch(bucket, **kwargs):
    settings = {
        "bucket": bucket,
        "prefix": "incoming/",
        "pattern": "*.png",
        "poke_interval": 0.2,
        "grace_seconds": 5.0,
        "commit_delay": 1.0,
    }
    settings.update(kwargs)
    return HuaweiObsNewObjectTrigger(**settings)


def _stored(hook, trigger) -> Watermark | None:
    return trigger.load_watermark(hook)


def test_a_burst_within_one_poll_is_one_event_naming_every_object(obs_conn, obs_bucket):
    """Regression: 3 uploads within one poll started one run with 1 file; the other 2 waited."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    hook = HuaweiObsHook()
    put_old(obs_bucket, ["incoming/old.png"])
    trigger = _watch(obs_bucket, poke_interval=1.0)

    async def scenario():
        await events_of(trigger, until=1, timeout=2.5)  # first start: nothing new yet
        driver = Driver(trigger)  # resumes from the stored watermark
        try:
            pending = asyncio.ensure_future(driver.next(10))
            await asyncio.sleep(0.3)
            bulk_put(obs_bucket, [f"incoming/scan-{i}.png" for i in range(3)], b"png bytes")
            hook.put_bytes(obs_bucket, "incoming/notes.txt", b"not an image")
            hook.put_bytes(obs_bucket, "elsewhere/x.png", b"outside the prefix")
            first = await pending
            second = await driver.next(2.5)
        finally:
            await driver.drop()
        return first, second

    first, second = asyncio.run(scenario())
    assert first["count"] == 3 and first["pending"] == 0
    assert first["uris"] == [f"obs://{obs_bucket}/incoming/scan-{i}.png" for i in range(3)]
    assert [o["key"] for o in first["objects"]] == [f"incoming/scan-{i}.png" for i in range(3)]
    assert first["objects"][0]["size"] == len(b"png bytes") and first["objects"][0]["etag"]
    assert second is None  # nothing else: not the .txt, not the other prefix, not the watermark
    assert json.loads(json.dumps(first)) == first  # JSON: it becomes the asset event's extra


def test_dropped_right_after_a_poll_the_next_start_reports_the_objects_again(obs_conn, obs_bucket):
    """At least once: the watermark covers an event only ``commit_delay`` after it was yielded."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    hook = HuaweiObsHook()
    trigger = _watch(obs_bucket, commit_delay=1.5)

    async def killed_after_the_poll(seconds: float):
        """The triggerer takes the event and goes on polling; it is killed ``seconds`` later."""
        driver = Driver(trigger)
        try:
            event = await driver.next(5)
            assert await driver.next(seconds) is None  # about three more polls
            return event
        finally:
            await driver.drop()

    asyncio.run(events_of(trigger, until=1, timeout=1.0))  # first start: the watermark is written
    before = _stored(hook, trigger)
    lost = 0
    for trial in range(5):
        names = [f"incoming/t{trial}-{i}.png" for i in range(3)]
        bulk_put(obs_bucket, names, b"png bytes")
        cut = asyncio.run(killed_after_the_poll(0.6))  # before the triggerer may have persisted it
        (again,) = asyncio.run(events_of(trigger, until=1, timeout=5))  # a new triggerer
        lost += len(set(names) - {o["key"] for o in again["objects"]})
        assert uris([cut]) == uris([again])
        assert _stored(hook, trigger) == before  # nothing committed yet
    assert lost == 0

    event = asyncio.run(killed_after_the_poll(3.0))  # long after: the watermark covers it
    assert event["count"] == 15
    assert asyncio.run(events_of(trigger, until=1, timeout=1.5)) == []  # committed: no repeat


def test_more_new_objects_than_one_event_holds_come_in_the_next_polls(obs_conn, obs_bucket):
    trigger = _watch(obs_bucket, max_keys_per_event=3)
    asyncio.run(events_of(trigger, until=1, timeout=1.0))
    bulk_put(obs_bucket, [f"incoming/{i:02d}.png" for i in range(7)], b"png bytes")
    events = asyncio.run(events_of(trigger, until=3, timeout=5))
    assert [(e["count"], e["pending"]) for e in events] == [(3, 4), (3, 1), (1, 0)]
    assert uris(events) == [f"obs://{obs_bucket}/incoming/{i:02d}.png" for i in range(7)]


async def _until(check, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_a_poll_costs_one_request_whatever_the_size_of_the_prefix(seen, obs_bucket):
    """Regression: 51 LISTs and 10 MB per poll at 50,000 objects, and a 5.8 MB first watermark."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    put_old(obs_bucket, [f"incoming/2026-11-{d:02d}/{i:04d}.png" for d in range(1, 4) for i in range(1500)])
    trigger = _watch(obs_bucket, poke_interval=0.3)

    async def polls():
        driver = Driver(trigger)
        try:
            first = asyncio.ensure_future(driver.next(60))
            await _until(lambda: seen.puts())  # the start listed everything once, then wrote the watermark
            seen.reset()
            bulk_put(obs_bucket, ["incoming/2026-12-01/0001.png"], b"png bytes")
            event = await first
            polled = len(seen.lists())
            more = asyncio.ensure_future(driver.next(60))  # the triggerer asks for the next event
            await _until(lambda: len(seen.lists()) >= polled + 3)  # three more polls
            more.cancel()
            return event
        finally:
            await driver.drop()

    event = asyncio.run(polls())
    assert event["uris"] == [f"obs://{obs_bucket}/incoming/2026-12-01/0001.png"]
    lists = seen.lists()
    assert len(lists) >= 4 and all("marker=" in query for query, _ in lists)  # one request per poll
    assert max(size for _, size in lists) < 2_000  # a page of the recent objects, not of 4,500
    assert HuaweiObsHook().get_bytes(*trigger.watermark_uri[6:].split("/", 1)).__len__() < 1024


def test_the_safety_net_sweeps_a_page_every_other_poll_whatever_the_size_of_the_prefix(seen, obs_bucket):
    """Regression: a whole listing every full_listing_interval cost 51 LISTs at once at 50,000 objects
    (6 per poll on average at 60 s polls); a sweep adds half a page per poll, however large the prefix."""
    keys = [f"incoming/2026-11-{d:02d}/{i:04d}.png" for d in range(1, 4) for i in range(1500)]
    put_old(obs_bucket, keys)
    trigger = _watch(obs_bucket, poke_interval=0.2, full_listing_interval=0.5)
    recent_marker = f"marker={keys[-1]}&"

    def recent() -> int:  # one per poll: the listing after the marker (nothing new arrives)
        return sum(recent_marker in query for query, _ in seen.lists())

    async def polls():
        driver = Driver(trigger)
        try:
            pending = asyncio.ensure_future(driver.next(60))
            await _until(lambda: seen.puts())  # the start listed everything once, then wrote the watermark
            seen.reset()
            await _until(lambda: recent() >= 16, timeout=60)
            pending.cancel()
        finally:
            await driver.drop()

    asyncio.run(polls())
    lists = seen.lists()
    polled = recent()
    sweep_pages = [size for query, size in lists if recent_marker not in query]
    assert polled >= 16 and len(lists) <= polled * 1.5 + 1  # at most 1.5 LISTs per poll
    assert len(sweep_pages) >= 5  # 4,500 keys: a whole sweep is 5 pages, each in a poll of its own
    assert sum(size > 50_000 for size in sweep_pages) >= 4  # four full pages of 1,000 keys


def test_key_order_none_lists_the_whole_prefix_every_poll(seen, obs_bucket):
    put_old(obs_bucket, [f"incoming/{i:04d}.png" for i in range(2500)])
    trigger = _watch(obs_bucket, key_order="none", poke_interval=0.3)

    def starts() -> list[int]:
        return [i for i, (query, _) in enumerate(seen.lists()) if "marker=" not in query]

    async def polls():
        driver = Driver(trigger)
        try:
            pending = asyncio.ensure_future(driver.next(60))
            await _until(lambda: len(starts()) >= 4)  # three whole polls after the start
            pending.cancel()
        finally:
            await driver.drop()

    asyncio.run(polls())
    first_four = starts()[:4]
    assert [b - a for a, b in itertools.pairwise(first_four)] == [3, 3, 3]  # 3 pages, every poll


def test_the_safety_net_reports_keys_that_break_the_order(obs_conn, obs_bucket, capfd):
    put_old(obs_bucket, ["incoming/m.png"])
    trigger = _watch(obs_bucket, full_listing_interval=1.5)
    asyncio.run(events_of(trigger, until=1, timeout=1.0))
    bulk_put(obs_bucket, ["incoming/a.png"], b"png bytes")  # sorts before the marker
    age(obs_bucket, ["incoming/a.png"], 0)
    events = asyncio.run(events_of(trigger, until=1, timeout=5))
    assert uris(events) == [f"obs://{obs_bucket}/incoming/a.png"]
    out = capfd.readouterr()
    assert "found only by the safety-net sweep" in out.out + out.err


def test_restarts_resume_overwrites_fire_again_and_the_watermark_is_never_reported(obs_conn, obs_bucket):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    hook = HuaweiObsHook()
    trigger = HuaweiObsNewObjectTrigger(
        bucket=obs_bucket, start_from="beginning", poke_interval=0.2, commit_delay=0.3
    )
    for name in ("a.png", "b.png"):
        hook.put_bytes(obs_bucket, name, b"image bytes")
    hook.put_bytes(obs_bucket, "folder/", b"")

    async def until_committed():
        driver = Driver(trigger)
        try:
            event = await driver.next(3)
            assert await driver.next(1.5) is None
            return event
        finally:
            await driver.drop()

    first = asyncio.run(until_committed())
    assert [o["key"] for o in first["objects"]] == ["a.png", "b.png"]
    rebuilt = HuaweiObsNewObjectTrigger(**trigger.serialize()[1])
    assert asyncio.run(events_of(rebuilt, until=1, timeout=1.0)) == []  # the watermark object is not new
    hook.put_bytes(obs_bucket, "a.png", b"image bytes, rescanned")  # new content: fires again
    again = asyncio.run(events_of(rebuilt, until=1, timeout=3))
    assert [o["key"] for o in again[0]["objects"]] == ["a.png"]
