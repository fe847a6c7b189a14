"""What a batch knows about earlier work: ``load_prior_state`` (one listing, one manifest GET, a GET per
leftover progress part; a damaged manifest or part is no reason to stop), ``ProgressJournal`` and
``build_index`` (only results still listed, plus this run's)."""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.runtime.batch.state import (
    PROGRESS_FORMAT,
    PriorState,
    ProgressJournal,
    build_index,
    index_entry,
    load_prior_state,
)
from airflow_provider_hwocr.runtime.store import ResultStore

API = "general-text"


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


def _done(key: str, n: int = 0) -> dict:
    return {
        "source": f"obs://src-bkt/{key}",
        "status": "done",
        "key": key,
        "params_digest": "p" * 16,
        "source_etag": f"s{n}",
        "result_etag": f"e{n}",
        "summary": {"api": API, "blocks": n},
    }


def _results(obs, bucket, store, names) -> dict[str, str]:
    """Put result objects; returns key -> ETag."""
    out = {}
    for name in names:
        key = f"{store.prefix}{name}.{API}.json"
        out[key] = obs.put_json(bucket, key, {"name": name})
    return out


# --- load_prior_state ---------------------------------------------------------------------------


def test_nothing_before_costs_a_listing_and_a_get(obs_bucket, counted, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    counted.reset()
    prior = load_prior_state(obs, store)
    assert (prior.listed, prior.index, prior.parts, prior.requests) == ({}, {}, [], 2)
    assert counted.by_method() == {"GET": 2}


def test_the_index_comes_from_the_latest_manifest(obs_bucket, counted, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    listed = _results(obs, obs_bucket, store, ["a", "b"])
    index = {key: index_entry(_done(key, n)) for n, key in enumerate(listed)}
    obs.put_json(obs_bucket, store.latest_key, {"format": "hwocr-manifest/2", "index": index})
    counted.reset()
    prior = load_prior_state(obs, store)
    assert prior.listed == listed and prior.index == index and prior.parts == []
    assert prior.requests == 2 and counted.by_method() == {"GET": 2}


@pytest.mark.parametrize("damage", [b"{not json", b"[1, 2]", b'{"index": "lost"}'])
def test_a_damaged_manifest_leaves_an_empty_index(obs_bucket, obs, damage):
    store = ResultStore(obs_bucket, "ocr/", API)
    listed = _results(obs, obs_bucket, store, ["a"])
    obs.put_bytes(obs_bucket, store.latest_key, damage)
    prior = load_prior_state(obs, store)
    assert prior.listed == listed and prior.index == {}  # each result is HEADed instead


def test_leftover_progress_parts_are_read_and_kept_for_deletion(obs_bucket, counted, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    other_shard = ResultStore(obs_bucket, "ocr/", API, "s1of2")
    listed = _results(obs, obs_bucket, store, ["a", "b", "c"])
    a, b, c = listed
    killed = ProgressJournal(obs, store, header={"api": API}, every=1, interval=60)
    killed.add(_done(a, 1))
    killed.maybe_flush()
    killed.add({"source": "obs://src-bkt/x", "status": "failed", "key": b})  # not done: not indexed
    killed.add(_done(c, 3))
    killed.maybe_flush()
    damaged = store.part_key("deadbeef0000", 1)
    obs.put_bytes(obs_bucket, damaged, b"{cut short")
    foreign = ProgressJournal(obs, other_shard, header={}, every=1, interval=60)
    foreign.add(_done(b, 2))
    foreign.maybe_flush()
    counted.reset()
    prior = load_prior_state(obs, store)
    assert sorted(prior.parts) == sorted([*killed.written, damaged])  # not the other shard's part
    assert prior.index == {a: index_entry(_done(a, 1)), c: index_entry(_done(c, 3))}
    assert prior.listed == listed  # parts are not results
    assert prior.requests == 2 + 3 == counted.total  # listing, manifest, one GET per own part


def test_an_index_entry_is_what_decide_compares():
    assert index_entry(_done("k", 4)) == {
        "p": "p" * 16,
        "s": "s4",
        "e": "e4",
        "summary": {"api": API, "blocks": 4},
    }


# --- build_index ------------------------------------------------------------------------------------


def test_build_index_keeps_only_listed_entries_and_adds_this_runs():
    kept, gone, verified, new = "ocr/kept.json", "ocr/gone.json", "ocr/verified.json", "ocr/new.json"
    prior = PriorState(
        listed={kept: "e0", verified: "e9"},
        index={kept: index_entry(_done(kept, 0)), gone: index_entry(_done(gone, 1))},
    )
    checked = {verified: {"p": "p" * 16, "s": None, "e": "e9", "summary": None}}
    entries = [
        _done(new, 5),
        {"source": "x", "status": "failed", "key": "ocr/failed.json"},
        {"source": "y", "status": "skipped", "key": kept},
        {"source": "z", "status": "done"},  # no key: nothing to index
    ]
    index = build_index(prior, entries, checked)
    assert index == {
        kept: index_entry(_done(kept, 0)),
        verified: checked[verified],
        new: index_entry(_done(new, 5)),
    }


def test_this_runs_result_replaces_the_old_entry():
    key = "ocr/a.json"
    prior = PriorState(listed={key: "e0"}, index={key: index_entry(_done(key, 0))})
    assert build_index(prior, [_done(key, 7)], {}) == {key: index_entry(_done(key, 7))}


# --- ProgressJournal --------------------------------------------------------------------------------


def test_the_journal_writes_a_part_every_n_entries(obs_bucket, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    journal = ProgressJournal(obs, store, header={"run_id": "r1"}, every=2, interval=3600)
    journal.add(_done("ocr/1.json"))
    journal.maybe_flush()
    assert journal.written == []  # not due yet
    journal.add(_done("ocr/2.json"))
    journal.maybe_flush()
    journal.add(_done("ocr/3.json"))
    journal.maybe_flush(force=True)
    journal.maybe_flush(force=True)  # nothing pending: no empty part
    assert journal.written == [store.part_key(journal.token, 1), store.part_key(journal.token, 2)]
    first, second = (obs.get_json(obs_bucket, k) for k in journal.written)
    assert first == {
        "run_id": "r1",
        "format": PROGRESS_FORMAT,
        "token": journal.token,
        "seq": 1,
        "entries": [_done("ocr/1.json"), _done("ocr/2.json")],
    }
    assert second["seq"] == 2 and second["entries"] == [_done("ocr/3.json")]


def test_the_journal_writes_after_its_interval(obs_bucket, obs):
    journal = ProgressJournal(obs, ResultStore(obs_bucket, "ocr/", API), header={}, every=1000, interval=0.0)
    journal.add(_done("ocr/1.json"))
    journal.maybe_flush()
    assert len(journal.written) == 1


def test_a_disabled_journal_writes_nothing(obs_bucket, counted, obs):
    journal = ProgressJournal(
        obs, ResultStore(obs_bucket, "ocr/", API), header={}, every=1, interval=0, enabled=False
    )
    counted.reset()
    journal.add(_done("ocr/1.json"))
    journal.maybe_flush(force=True)
    assert journal.written == [] and counted.total == 0


def test_two_journals_never_share_a_part_key(obs_bucket, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    one, two = (ProgressJournal(obs, store, header={}, every=1, interval=60) for _ in range(2))
    assert one.token != two.token and store.part_key(one.token, 1) != store.part_key(two.token, 1)
