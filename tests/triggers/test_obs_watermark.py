"""The new-object trigger's decisions (``triggers/obs_watermark.py``), poll by poll, with no I/O:
what is new, what the watermark keeps (bounded, pruned against the clock), where the next listing
starts for each key order, the safety net, bursts larger than one event, and old watermarks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_hwocr.hooks.obs import ObsObjectInfo
from airflow_provider_hwocr.triggers.obs_watermark import (
    MAX_WATERMARK_BYTES,
    Scan,
    Sweep,
    Watermark,
    digest,
)

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
GRACE = timedelta(seconds=60)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def obj(key: str, seconds: float, etag: str = "e") -> ObsObjectInfo:
    return ObsObjectInfo(bucket="b", key=key, size=10, last_modified=at(seconds), etag=etag)


def scan(**kwargs) -> Scan:
    kwargs.setdefault("prefix", "in/")
    kwargs.setdefault("grace", GRACE)
    return Scan(**kwargs)


def keys(poll) -> list[str]:
    return [o.key for o in poll.report]


def test_what_is_there_at_the_start_is_not_new_and_late_listings_overwrites_and_new_keys_are():
    s = scan(key_order="none")
    old = [obj("in/a.png", -7200), obj("in/b.png", -30)]  # b: inside the grace window
    state = s.start(old, at(0))
    assert set(state.seen) == {digest("in/b.png", "e")}  # a is simply older than the line
    poll = s.take(state, old, at(10), full=True)
    assert poll.report == []
    late = obj("in/late.png", -40)  # uploaded before the start, listed only now: within grace
    overwritten = obj("in/a.png", 15, etag="e2")
    poll = s.take(state, [*old, late, overwritten, obj("in/new.png", 20)], at(30), full=True)
    assert keys(poll) == ["in/late.png", "in/a.png", "in/new.png"]  # oldest first
    again = s.take(poll.state, [*old, late, overwritten, obj("in/new.png", 20)], at(40), full=True)
    assert again.report == []


def test_the_watermark_is_pruned_against_the_clock_not_against_the_newest_object():
    """Regression: 50,000 objects uploaded close together made a 5.8 MB first watermark."""
    s = scan(key_order="none")
    burst = [obj(f"in/{i:05d}.png", -3600 + i * 0.01) for i in range(50_000)]  # an hour ago, in 8 min
    state = s.start(burst, at(0))
    assert state.seen == {} and state.size() < 300
    poll = s.take(state, [*burst, obj("in/z.png", 5)], at(10), full=True)
    assert keys(poll) == ["in/z.png"]
    later = s.take(poll.state, [*burst, obj("in/z.png", 5)], at(120), full=True)
    assert later.report == [] and later.state.seen == {}  # z is older than the line now: forgotten


def test_the_watermark_stays_under_64_kb_whatever_arrives_within_the_grace_window():
    s = scan(key_order="none", grace=timedelta(hours=1), max_report=100_000)
    flood = [obj(f"in/{i:05d}.png", -1800 + i * 0.01) for i in range(20_000)]
    poll = s.take(Watermark(horizon=at(-1)), flood, at(0), full=True)
    assert len(poll.report) == 20_000 and poll.capped
    assert poll.state.size() <= MAX_WATERMARK_BYTES
    assert poll.state.floor is not None  # what was cut counts as old, and the next poll agrees
    assert s.take(poll.state, flood, at(5), full=True).report == []


def test_a_burst_larger_than_one_event_is_reported_over_the_next_polls_and_never_dropped():
    s = scan(key_order="name", max_report=3)
    state = s.start([], at(0))
    burst = [obj(f"in/{i}.png", 1 + i) for i in range(7)]
    seen = []
    for second in (10, 200, 900):  # even when the polls are far apart: the rest stays new
        poll = s.take(state, burst, at(second), full=True)
        seen.append((keys(poll), poll.deferred))
        state = poll.state
    assert seen == [
        (["in/0.png", "in/1.png", "in/2.png"], 4),
        (["in/3.png", "in/4.png", "in/5.png"], 1),
        (["in/6.png"], 0),
    ]
    assert s.take(state, burst, at(1000), full=True).report == []


def test_name_order_lists_from_the_greatest_settled_key():
    s = scan(key_order="name", full_interval=600)
    old = [obj(f"in/2026-11-30T{h:02d}.png", -86400 + h * 3600) for h in range(24)]
    state = s.start(old, at(0))
    assert state.marker == "in/2026-11-30T23.png"
    assert not s.is_full(state)  # the safety net is a sweep (below), never a whole listing at once
    fresh = [obj("in/2026-12-01T08-a.png", 5), obj("in/2026-12-01T08-b.png", 6)]
    poll = s.take(state, fresh, at(10), full=False)  # the listing after the marker: only these
    assert keys(poll) == ["in/2026-12-01T08-a.png", "in/2026-12-01T08-b.png"]
    assert poll.state.marker == state.marker  # both are recent: the marker waits for them to settle
    settled = s.take(poll.state, fresh, at(100), full=False)
    assert settled.report == [] and settled.state.marker == "in/2026-12-01T08-b.png"
    assert settled.state.horizon == state.horizon  # between full listings the horizon stays


def test_folder_order_lists_the_newest_folder_whole():
    s = scan(key_order="folder")
    old = [obj("in/2026/11/30/IMG_9.png", -86400), obj("in/2026/11/30/IMG_1.png", -86000)]
    state = s.start(old, at(0))
    assert state.marker == "in/2026/11/30/"  # names inside a folder do not sort by time
    poll = s.take(state, [*old, obj("in/2026/11/30/IMG_0.png", 5)], at(10), full=False)
    assert keys(poll) == ["in/2026/11/30/IMG_0.png"]


def test_the_full_listing_catches_keys_that_break_the_order_late_never_lost():
    s = scan(key_order="name", full_interval=600)
    state = s.start([obj("in/m.png", -3600)], at(0))
    assert state.marker == "in/m.png"
    early_name = obj("in/a.png", 30)  # sorts before the marker: the listings after it miss it
    poll = s.take(state, [], at(60), full=False)
    assert poll.report == []
    poll = s.take(poll.state, [obj("in/m.png", -3600), early_name], at(600), full=True)
    assert keys(poll) == ["in/a.png"] and [o.key for o in poll.late] == ["in/a.png"]
    assert poll.state.full_at == at(600) and poll.state.horizon == at(600)


def test_trusting_the_order_moves_the_horizon_at_every_poll():
    s = scan(key_order="name", full_interval=None)
    state = s.start([obj("in/a.png", -3600)], at(0))
    assert not s.is_full(state) and not Sweep(None).due(state, at(10_000))
    poll = s.take(state, [obj("in/b.png", 100)], at(200), full=False)
    assert keys(poll) == ["in/b.png"] and poll.state.horizon == at(200)


def test_start_from_the_beginning_reports_everything_once():
    s = scan(key_order="name")
    existing = [obj("in/a.png", -7200), obj("in/b.png", -3600)]
    poll = s.take(Watermark(), existing, at(0), full=s.is_full(Watermark()))
    assert keys(poll) == ["in/a.png", "in/b.png"]
    assert s.take(poll.state, existing, at(10), full=True).report == []


def test_the_stored_document_round_trips_and_reads_the_previous_format():
    s = scan(key_order="name")
    state = s.take(s.start([obj("in/a.png", -3600)], at(0)), [obj("in/b.png", 5)], at(10), full=True).state
    assert Watermark.from_json(json.loads(json.dumps(state.to_json()))) == state
    v1 = {
        "format": "hwocr-watermark/1",
        "time": at(-10).isoformat(),
        "recent": {"in/x.png": {"etag": "e", "last_modified": at(-10).isoformat()}},
    }
    upgraded = Watermark.from_json(v1)
    assert upgraded.horizon == at(-10) and digest("in/x.png", "e") in upgraded.seen
    assert scan(key_order="none").take(upgraded, [obj("in/x.png", -10)], at(0), full=True).report == []
    with pytest.raises(ValueError):
        Watermark.from_json({"format": "something/else"})


def test_key_order_is_checked():
    with pytest.raises(ValueError, match="key_order"):
        scan(key_order="time")


def test_a_sweep_lists_the_prefix_a_page_every_other_poll_and_moves_the_horizon_to_its_start():
    s = scan(key_order="name", full_interval=600)
    old = [obj(f"in/{i:04d}.png", -3600) for i in range(25)]
    state = s.start(old, at(0))
    sweep = Sweep(600, page=10)
    assert not sweep.due(state, at(300))  # the start listed everything: no sweep before 600 s
    early_name = obj("in/0003a.png", 650)  # sorts among the old keys: the listing after the marker misses it
    everything = sorted([*old, early_name], key=lambda o: o.key)
    pages, second, covered, found = 0, 600, None, []
    while covered is None and pages < 10:
        if sweep.due(state, at(second)):
            page = [o for o in everything if o.key > (sweep.marker or "")][: sweep.page]
            pages += 1
            covered = sweep.advance(page)
            poll = s.take(state, page, at(second), full=covered is not None, covered_from=covered)
            found += [o.key for o in poll.late]
            state = poll.state
        second += 60
    assert pages == 3 and second == 600 + 5 * 60  # 26 keys, pages of 10, one every other poll
    assert found == ["in/0003a.png"]  # reported late by the sweep, never lost
    assert state.full_at == at(600) and state.horizon == at(600)  # covers from when the sweep began
    assert not sweep.due(state, at(1100)) and sweep.due(state, at(1200))  # the next, 600 s after


def test_a_key_that_breaks_the_order_behind_the_sweep_is_new_for_the_next_one():
    s = scan(key_order="name", full_interval=600)
    state = s.start([obj("in/m.png", -3600)], at(0))
    sweep = Sweep(600, every=1, page=1)
    assert sweep.due(state, at(600))
    first = [obj("in/a.png", -3600)]  # an old key, listed by the first page
    assert sweep.advance(first) is None
    state = s.take(state, first, at(600), full=False).state
    behind = obj("in/0.png", 630)  # uploaded during the sweep, sorts before where it has been
    assert sweep.due(state, at(660))
    covered = sweep.advance([])  # the last page: nothing after in/m.png
    state = s.take(state, [], at(660), full=True, covered_from=covered).state
    assert state.horizon == at(600) and behind.last_modified >= state.low(GRACE)
    assert [o.key for o in s.take(state, [behind], at(1200), full=False).report] == ["in/0.png"]
