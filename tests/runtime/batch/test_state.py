"""What a batch knows about earlier work (``runtime/batch/state.py``): the compact index (stored,
read once, damage detected), ``load_prior_state`` (one GET of the index, one paged listing, a GET
per leftover progress part; the index of an older release's manifest is read once), ``next_index``
(only results still listed, plus this run's), the manifest's bytes, history pruning and
``ProgressJournal``."""

from __future__ import annotations

import json

import pytest

from airflow_provider_hwocr.runtime.batch.state import (
    HISTORY_KEEP,
    INDEX_FORMAT,
    PROGRESS_FORMAT,
    Index,
    KeySet,
    ProgressJournal,
    etag_hash,
    index_record,
    key_hash,
    load_prior_state,
    made_hash,
    manifest_bytes,
    next_index,
    prune_history,
)
from airflow_provider_hwocr.runtime.store import ResultStore

API = "general-text"


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


def _done(key: str, n: int = 0, etag: str | None = None) -> dict:
    return {
        "source": f"obs://src-bkt/{key}",
        "status": "done",
        "key": key,
        "params_digest": "p" * 16,
        "source_etag": f"s{n}",
        "result_etag": etag or f"e{n}",
        "summary": {"api": API, "blocks": n},
    }


def _results(obs, bucket, store, names) -> dict[str, str]:
    """Put result objects; returns key -> ETag."""
    out = {}
    for name in names:
        key = f"{store.prefix}{name}.{API}.json"
        out[key] = obs.put_json(bucket, key, {"name": name})
    return out


def _write_index(obs, bucket, store, entries) -> Index:
    index = Index.from_records(index_record(e) for e in entries)
    obs.put_bytes(bucket, store.index_key, index.to_bytes({"api": API}))
    return index


# --- the index ------------------------------------------------------------------------------------


def test_the_index_is_24_bytes_per_result_round_trips_and_is_sorted():
    records = [(key_hash(f"k{i}"), etag_hash(f"e{i}"), made_hash("p", f"s{i}")) for i in range(1000)]
    index = Index.from_records(records)
    data = index.to_bytes({"api": API, "run_id": "r1"})
    header = json.loads(data.split(b"\n", 2)[1])
    assert header["format"] == INDEX_FORMAT and header["entries"] == 1000 and header["run_id"] == "r1"
    assert len(data) - len(data.split(b"\n", 2)[2]) < 300 and len(data.split(b"\n", 2)[2]) == 24 * 1000
    again = Index.from_bytes(data)
    assert list(again.keys) == sorted(k for k, _, _ in records)
    for key, result, made in records[::97]:
        at = again.find(key)
        assert (again.results[at], again.made[at]) == (result, made)
    assert again.find(key_hash("absent")) == -1 and len(Index.empty()) == 0


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: b"{not an index",
        lambda d: d[:-1],  # cut short
        lambda d: d[:-8] + b"\0" * 8,  # a flipped record: the checksum tells
        lambda d: d.replace(b'"entries":3', b'"entries":4'),
    ],
    ids=["garbage", "truncated", "flipped", "count"],
)
def test_a_damaged_index_is_refused(damage):
    data = Index.from_records([(1, 2, 3), (4, 5, 6), (7, 8, 9)]).to_bytes({})
    with pytest.raises(ValueError):
        Index.from_bytes(damage(data))


def test_a_later_record_for_a_key_wins_and_merging_keeps_what_is_flagged():
    index = Index.from_records([(5, 1, 1), (3, 1, 1), (5, 2, 2), (9, 1, 1)])
    assert list(index.keys) == [3, 5, 9] and index.results[index.find(5)] == 2
    merged = index.merged(bytearray([1, 0, 1]), {5: (7, 7), 1: (8, 8)})
    assert list(merged.keys) == [1, 3, 5, 9] and merged.made[merged.find(5)] == 7
    assert list(index.merged(bytearray([0, 1, 0]), {}).keys) == [5]


def test_merging_records_equals_a_dict_of_the_latest_record_per_key():
    """The merge runs in arrays; a dict of the latest record per key, sorted, is what it must equal."""
    import random

    rng = random.Random(7)
    for _ in range(50):
        old = Index.from_records((rng.randrange(40), rng.randrange(9), rng.randrange(9)) for _ in range(25))
        keep = bytearray(rng.randrange(2) for _ in range(len(old)))
        updates = [(rng.randrange(40), rng.randrange(9), rng.randrange(9)) for _ in range(rng.randrange(30))]
        expected = {k: (r, m) for k, r, m, flag in zip(old.keys, old.results, old.made, keep) if flag}
        for key, result, made in updates:  # later wins, over the kept records and the dropped alike
            expected[key] = (result, made)
        merged = old.merged(keep, iter(updates))
        assert list(merged.keys) == sorted(expected)
        assert [(merged.results[i], merged.made[i]) for i in range(len(merged))] == [
            expected[k] for k in sorted(expected)
        ]


def test_a_keyset_is_membership_by_bisection():
    keys = KeySet([9, 3, 7])
    assert 3 in keys and 4 not in keys and "3" not in keys and len(keys) == 3


# --- load_prior_state ---------------------------------------------------------------------------


def test_nothing_before_costs_a_listing_and_two_gets(obs_bucket, counted, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    counted.reset()
    prior = load_prior_state(obs, store)
    assert (len(prior.index), prior.others, prior.parts, prior.requests, prior.origin) == (
        0,
        {},
        [],
        3,
        "none",
    )
    assert counted.by_method() == {"GET": 3}  # the index, the (old-format) manifest, the listing


def test_the_index_object_is_read_once_and_matched_against_the_listing(obs_bucket, counted, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    listed = _results(obs, obs_bucket, store, ["a", "b", "c"])
    a, b, c = listed
    _write_index(
        obs, obs_bucket, store, [_done(a, 0, listed[a]), _done(b, 1, "an older etag"), _done("ocr/gone", 2)]
    )
    obs.put_json(obs_bucket, "ocr/x.other-api.json", {})  # not a result of this API
    counted.reset()
    prior = load_prior_state(obs, store, KeySet([key_hash(b), key_hash(c)]), log=None)
    assert prior.requests == 2 == counted.total and prior.origin == "index"
    assert prior.listed_results == 3 and prior.dropped == 2  # b was rewritten, ocr/gone is gone
    assert prior.made_of(key_hash(a)) == made_hash("p" * 16, "s0")
    assert prior.made_of(key_hash(b)) is None and prior.made_of(key_hash("ocr/gone")) is None
    assert prior.others == {key_hash(b): listed[b], key_hash(c): listed[c]}


def test_listed_results_outside_the_selection_are_not_kept(obs_bucket, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    listed = _results(obs, obs_bucket, store, ["mine", "another-shards"])
    mine = next(iter(listed))
    prior = load_prior_state(obs, store, KeySet([key_hash(mine)]))
    assert prior.others == {key_hash(mine): listed[mine]}


def test_an_older_releases_manifest_index_is_read_when_there_is_no_index_object(obs_bucket, counted, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    listed = _results(obs, obs_bucket, store, ["a"])
    (a,) = listed
    old = {a: {"p": "p" * 16, "s": "s0", "e": listed[a], "summary": {}}}
    obs.put_json(obs_bucket, store.latest_key, {"format": "hwocr-manifest/2", "index": old})
    counted.reset()
    prior = load_prior_state(obs, store)
    assert prior.origin == "manifest/2" and prior.requests == 3 == counted.total
    assert prior.made_of(key_hash(a)) == made_hash("p" * 16, "s0")
    _, changed = next_index(prior, [], {})
    assert changed  # rewritten in the new format


@pytest.mark.parametrize(
    "damage", [b"{not json", b"[1, 2]", b'{"format": "hwocr-manifest/2", "index": "lost"}']
)
def test_a_damaged_old_manifest_leaves_an_empty_index(obs_bucket, obs, damage):
    store = ResultStore(obs_bucket, "ocr/", API)
    listed = _results(obs, obs_bucket, store, ["a"])
    obs.put_bytes(obs_bucket, store.latest_key, damage)
    prior = load_prior_state(obs, store)
    assert len(prior.index) == 0 and list(prior.others.values()) == list(listed.values())  # HEADed instead


def test_a_damaged_index_object_counts_as_absent(obs_bucket, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    _results(obs, obs_bucket, store, ["a"])
    obs.put_bytes(obs_bucket, store.index_key, b"HWOCR-INDEX/1\n{}\n")
    prior = load_prior_state(obs, store)
    assert prior.origin == "damaged" and len(prior.others) == 1
    assert next_index(prior, [], {})[1] is True  # rewritten, so that it heals


def test_leftover_progress_parts_are_read_kept_for_deletion_and_recover_what_is_listed(
    obs_bucket, counted, obs
):
    store = ResultStore(obs_bucket, "ocr/", API)
    other_shard = ResultStore(obs_bucket, "ocr/", API, "s1of2")
    listed = _results(obs, obs_bucket, store, ["a", "b", "c"])
    a, b, c = listed
    killed = ProgressJournal(obs, store, header={"api": API}, every=1, interval=60)
    killed.add(_done(a, 1, listed[a]))
    killed.maybe_flush()
    killed.add({"source": "obs://src-bkt/x", "status": "failed", "key": b})  # not done: not indexed
    killed.add(_done(c, 3, "not what is listed"))  # rewritten after the part: not vouched for
    killed.maybe_flush()
    damaged = store.part_key("deadbeef0000", 1)
    obs.put_bytes(obs_bucket, damaged, b"{cut short")
    foreign = ProgressJournal(obs, other_shard, header={}, every=1, interval=60)
    foreign.add(_done(b, 2, listed[b]))
    foreign.maybe_flush()
    counted.reset()
    prior = load_prior_state(obs, store)
    assert sorted(prior.parts) == sorted([*killed.written, damaged])  # not the other shard's part
    assert prior.recovered == {key_hash(a): (etag_hash(listed[a]), made_hash("p" * 16, "s1"))}
    assert set(prior.others) == {key_hash(b), key_hash(c)}  # parts are not results
    assert prior.requests == 3 + 3 == counted.total  # index, manifest, listing, one GET per own part


# --- next_index ------------------------------------------------------------------------------------


def test_next_index_keeps_only_listed_records_and_adds_this_runs(obs_bucket, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    listed = _results(obs, obs_bucket, store, ["kept", "verified"])
    kept, verified = listed
    _write_index(obs, obs_bucket, store, [_done(kept, 0, listed[kept]), _done("ocr/gone", 1)])
    prior = load_prior_state(obs, store)
    checked = {key_hash(verified): (etag_hash(listed[verified]), made_hash("p" * 16, None))}
    entries = [
        _done("ocr/new", 5),
        {"source": "x", "status": "failed", "key": "ocr/failed.json"},
        {"source": "z", "status": "done"},  # no key: nothing to index
    ]
    index, changed = next_index(prior, entries, checked)
    assert changed and sorted(index.keys) == sorted(key_hash(k) for k in (kept, verified, "ocr/new"))
    assert index.results[index.find(key_hash("ocr/new"))] == etag_hash("e5")


def test_a_run_that_changes_nothing_keeps_the_stored_index(obs_bucket, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    listed = _results(obs, obs_bucket, store, ["a"])
    (a,) = listed
    _write_index(obs, obs_bucket, store, [_done(a, 0, listed[a])])
    prior = load_prior_state(obs, store)
    index, changed = next_index(prior, [], {})
    assert not changed and index is prior.index


def test_this_runs_result_replaces_the_old_record(obs_bucket, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    listed = _results(obs, obs_bucket, store, ["a"])
    (a,) = listed
    _write_index(obs, obs_bucket, store, [_done(a, 0, listed[a])])
    index, _ = next_index(load_prior_state(obs, store), [_done(a, 7)], {})
    assert len(index) == 1 and index.made[0] == made_hash("p" * 16, "s7")


# --- manifests and history -------------------------------------------------------------------------


def test_manifest_bytes_are_the_json_of_the_header_and_its_images():
    header = {"format": "x", "totals": {"done": 2}, "note": "reçu"}
    entries = [{"source": "a", "status": "done"}, {"source": "b", "status": "failed"}]
    assert json.loads(manifest_bytes(header, entries)) == {**header, "images": entries}
    assert json.loads(manifest_bytes(header, [])) == {**header, "images": []}
    assert "reçu".encode() in manifest_bytes(header, [])


def test_history_keeps_the_newest_records_of_its_own_shard(obs_bucket, obs):
    from datetime import datetime, timedelta, timezone

    store = ResultStore(obs_bucket, "ocr/", API)
    shard = ResultStore(obs_bucket, "ocr/", API, "s0of2")
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    mine = [store.history_key(f"r{i}", 1, start + timedelta(minutes=i)) for i in range(7)]
    for key in [*mine, shard.history_key("r0", 1, start), shard.history_key("r1", 1, start)]:
        obs.put_bytes(obs_bucket, key, b"{}")
    assert prune_history(obs, store, keep=3) == 4
    left = obs.list_keys(obs_bucket, store.history_prefix)
    assert [k for k in left if store.is_own_history(k)] == mine[-3:]
    assert len([k for k in left if shard.is_own_history(k)]) == 2  # another shard's are its own business
    assert prune_history(obs, store, keep=3) == 0 and HISTORY_KEEP == 100


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


# --- damage: no crash, no stale result kept, one WARNING that says what it costs ---------------------


class _Damage:
    """Five images done by a first run; then the stored state is damaged and a second run made."""

    def __init__(self, bucket: str, obs, emulator) -> None:
        from tests.helpers.d2_stages import PNG, full_run
        from tests.helpers.obs_env import bulk_put

        bulk_put(bucket, [f"day/{i}.png" for i in range(5)], PNG)
        self.first = full_run(bucket)
        self.bucket, self.obs, self.emulator = bucket, obs, emulator
        self.store = self.first[0].store
        emulator.reset()

    def rerun(self, caplog):
        """Stages 1 to 4 again, logging to a plain logger: (run, sent, report, the WARNINGs)."""
        import logging

        from airflow_provider_hwocr.runtime.batch import decide, guard, record, select, send
        from tests.helpers.d2_stages import start

        run = start(self.bucket, run_id="r2", log=logging.getLogger("hwocr.test.damage"))
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="hwocr.test.damage"):
            selection = select(run)
            plan = guard(run, selection, decide(run, selection))
            try:
                sent = send(run, plan)
                report = record(run, plan, sent)
            finally:
                if plan.lease is not None:
                    plan.lease.release()
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        return run, sent, report, warnings

    def damage(self, key: str, data: bytes | None) -> None:
        if data is None:
            self.obs.delete(self.bucket, key)
        else:
            self.obs.put_bytes(self.bucket, key, data)


@pytest.fixture
def damaged(obs_bucket, obs, emulator):
    return _Damage(obs_bucket, obs, emulator)


@pytest.mark.parametrize(
    ("what", "data", "says"),
    [
        ("truncated", "cut", "unreadable"),
        ("garbage", b"\x00\xffnot an index at all", "unreadable"),
        ("deleted", None, "missing"),
    ],
)
def test_a_damaged_index_costs_one_head_per_result_and_one_warning(damaged, caplog, what, data, says):
    stored = damaged.obs.get_bytes(damaged.bucket, damaged.store.index_key)
    damaged.damage(damaged.store.index_key, stored[: len(stored) // 2] if data == "cut" else data)
    _, sent, _, warnings = damaged.rerun(caplog)
    assert len(warnings) == 1, warnings
    assert says in warnings[0] and "1 HEAD per listed result" in warnings[0] and "5 request(s)" in warnings[0]
    assert sent.counts["skipped"] == 5 and damaged.emulator.count() == 0  # verified, not re-billed
    index = Index.from_bytes(damaged.obs.get_bytes(damaged.bucket, damaged.store.index_key))
    assert len(index) == 5  # written again: the next run is back to no HEAD and no WARNING
    _, _, _, warnings = damaged.rerun(caplog)
    assert warnings == []


@pytest.mark.parametrize("data", [b'{"format": "hwocr-manifest/3", "tot', b"\x89garbage", None])
def test_a_damaged_latest_manifest_without_an_index_warns_once(damaged, caplog, data):
    damaged.damage(damaged.store.index_key, None)
    damaged.damage(damaged.store.latest_key, data)
    _, sent, _, warnings = damaged.rerun(caplog)
    assert len(warnings) == 1 and "5 request(s)" in warnings[0], warnings
    if data is not None and data.startswith(b"{"):
        assert "unreadable" in warnings[0]
    assert sent.counts["skipped"] == 5 and damaged.emulator.count() == 0


def test_a_damaged_latest_manifest_next_to_an_intact_index_costs_nothing(damaged, caplog, counted):
    damaged.damage(damaged.store.latest_key, b'{"format": "hwocr-manif')
    counted.reset()
    _, sent, _, warnings = damaged.rerun(caplog)
    # The manifest is a record, not an input, while the index is intact: nothing to warn about.
    assert warnings == [] and sent.counts["skipped"] == 5 and "HEAD" not in counted.by_method()
    assert damaged.obs.get_json(damaged.bucket, damaged.store.latest_key)["totals"]["skipped"] == 5


def _legacy(damaged, index: dict) -> None:
    damaged.damage(damaged.store.index_key, None)
    damaged.obs.put_json(
        damaged.bucket, damaged.store.latest_key, {"format": "hwocr-manifest/2", "index": index}
    )


def test_malformed_and_etagless_entries_of_an_old_index_are_verified_never_skipped(damaged, caplog, counted):
    run = damaged.first[0]
    entries = {e["key"]: e for e in damaged.first[2].entries}
    keys = sorted(entries)
    old = {
        key: {"p": run.pipeline.digest, "s": entries[key]["source_etag"], "e": entries[key]["result_etag"]}
        for key in keys
    }
    old[keys[0]] = "a string"  # malformed
    old[keys[1]] = {"p": run.pipeline.digest, "s": entries[keys[1]]["source_etag"]}  # no result ETag
    old[keys[2]] = {"p": ["not", "text"], "s": 7, "e": {"x": 1}}  # wrong types
    _legacy(damaged, old)
    counted.reset()
    _, sent, _, warnings = damaged.rerun(caplog)
    assert len(warnings) == 1 and "3 malformed entries" in warnings[0] and "3 request(s)" in warnings[0], (
        warnings
    )
    assert (
        counted.by_method()["HEAD"] == 3
    )  # the three, once each; the two good ones are skipped from the listing
    assert sent.counts["skipped"] == 5 and damaged.emulator.count() == 0


def test_a_stale_result_behind_an_etagless_entry_is_recomputed(damaged, caplog, obs):
    run = damaged.first[0]
    entry = damaged.first[2].entries[0]
    # The result was replaced by one made with other parameters, and the index lost its ETag.
    obs.put_bytes(damaged.bucket, entry["key"], b'{"stale": true}', metadata={"hwocr-params": "other"})
    _legacy(damaged, {entry["key"]: {"p": run.pipeline.digest, "s": entry["source_etag"]}})
    _, sent, _, warnings = damaged.rerun(caplog)
    assert damaged.emulator.count(status=200) == 1 and sent.counts["done"] == 1  # recomputed, not skipped
    assert obs.head(damaged.bucket, entry["key"]).metadata["hwocr-params"] == run.pipeline.digest
    assert len(warnings) == 1


@pytest.mark.parametrize(
    "part",
    [
        {"entries": "not a list"},
        {"entries": 42},
        {"entries": [{"status": "done", "key": 5, "result_etag": None}, "x", {"status": "done"}]},
        ["a", "list"],
    ],
)
def test_a_malformed_progress_part_never_crashes_a_rerun(damaged, caplog, part):
    damaged.obs.put_json(damaged.bucket, damaged.store.part_key("deadbeef0000", 1), part)
    _, sent, _, warnings = damaged.rerun(caplog)
    assert sent.counts["skipped"] == 5 and damaged.emulator.count() == 0 and warnings == []
    assert (
        damaged.obs.list_keys(damaged.bucket, damaged.store.progress_prefix) == []
    )  # cleaned up under the lease


def test_an_empty_listed_etag_never_matches_an_etagless_record(obs_bucket, obs):
    store = ResultStore(obs_bucket, "out/", API)
    obs.put_json(obs_bucket, f"out/a.{API}.json", {})
    index = Index.from_records([(key_hash(f"out/a.{API}.json"), etag_hash(None), made_hash("d", "s"))])
    obs.put_bytes(obs_bucket, store.index_key, index.to_bytes({}))
    prior = load_prior_state(obs, store)
    assert prior.made_of(key_hash(f"out/a.{API}.json")) is None  # not vouched for: verified by a HEAD


def test_the_listing_tells_each_documents_page_count_and_keeps_its_pages_to_verify(obs_bucket, obs):
    store = ResultStore(obs_bucket, "ocr/", API)
    ours, other = "ocr/a.pdf-0123456789ab", "ocr/b.pdf-ba9876543210"
    for stem, count in ((ours, 3), (ours, 2), (other, 4)):
        obs.put_json(obs_bucket, store.page_key(stem, 1, count), {})
    obs.put_json(obs_bucket, store.text_key(store.page_key(ours, 2, 3)), {})  # a text export: not a result
    prior = load_prior_state(obs, store, KeySet([]), stems=KeySet([key_hash(ours)]))
    assert prior.page_counts == {key_hash(ours): (2, 3)}  # listed in key order; the other document's left out
    assert set(prior.others) == {key_hash(store.page_key(ours, 1, 3)), key_hash(store.page_key(ours, 1, 2))}
    every = load_prior_state(obs, store)
    assert every.page_counts[key_hash(other)] == (4,)
