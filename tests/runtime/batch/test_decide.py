"""Stage 2, decide: from one GET of the index and one listing of the results (no HEAD), each image is
skipped (listing and index agree; no entry is made), verified (listed, not indexed or rewritten) or
sent (no result, other parameters, a replaced source)."""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.runtime.batch import decide, select
from tests.helpers.d2_stages import PNG, SLUG, full_run, start
from tests.helpers.obs_env import bulk_put


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


def _actions(plan) -> dict[str, str]:
    return {item.source.rsplit("/", 1)[1]: item.action for item in plan.items}


def _decide(bucket, counted, **kwargs):
    """Select, then decide with the object-server requests of ``decide`` alone counted."""
    run = start(bucket, **kwargs)
    selection = select(run)
    counted.reset()
    return run, decide(run, selection)


@pytest.fixture
def done_before(obs_bucket, counted, emulator):
    """Five images, OCRed and recorded by a first run."""
    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(5)], PNG)
    full_run(obs_bucket)
    emulator.reset()
    return [f"{i}.png" for i in range(5)]


def test_listed_and_indexed_results_are_skipped_from_one_listing_and_one_get(
    obs_bucket, counted, emulator, done_before
):
    run, plan = _decide(obs_bucket, counted)
    assert set(_actions(plan).values()) == {"skip"} and plan.skipped == 5
    assert counted.by_method() == {"GET": 2}, counted.requests  # the index and the listing
    paths = sorted(path for _, path in counted.requests)
    assert any(path.endswith(run.store.index_key) for path in paths)
    assert all(item.entry is None for item in plan.items)  # counted, not listed
    assert emulator.count() == 0


def test_images_without_a_result_are_sent(obs_bucket, counted, done_before):
    bulk_put(obs_bucket, ["day/new.png"], PNG)
    _, plan = _decide(obs_bucket, counted)
    assert _actions(plan) == {**dict.fromkeys(done_before, "skip"), "new.png": "send"}
    assert counted.by_method() == {"GET": 2}


def test_listed_but_not_indexed_results_are_verified(obs_bucket, counted, obs, done_before):
    run = start(obs_bucket)
    obs.delete(obs_bucket, run.store.index_key)  # the index is gone, the results are still there
    _, plan = _decide(obs_bucket, counted)
    assert set(_actions(plan).values()) == {"verify"}
    assert "HEAD" not in counted.by_method()  # the HEAD of each is for the send stage, once


def test_a_result_rewritten_since_the_index_is_verified(obs_bucket, counted, obs, done_before):
    run = start(obs_bucket)
    key = run.store.result_key(f"obs://{obs_bucket}/day/2.png", "day/2.png")
    obs.put_json(obs_bucket, key, {"rewritten": True})  # a new ETag
    _, plan = _decide(obs_bucket, counted)
    assert _actions(plan) == {**dict.fromkeys(done_before, "skip"), "2.png": "verify"}


def test_other_parameters_send_everything_again(obs_bucket, counted, done_before):
    _, plan = _decide(obs_bucket, counted, parameters={"detect_direction": True})
    assert set(_actions(plan).values()) == {"send"}
    assert counted.by_method() == {"GET": 2}


def test_a_replaced_source_is_sent_again(obs_bucket, counted, done_before):
    bulk_put(obs_bucket, ["day/3.png"], PNG + b"\0")  # same key, new ETag
    _, plan = _decide(obs_bucket, counted)
    assert _actions(plan) == {**dict.fromkeys(done_before, "skip"), "3.png": "send"}


def test_skip_existing_off_sends_everything(obs_bucket, counted, done_before):
    _, plan = _decide(obs_bucket, counted, skip_existing=False)
    assert set(_actions(plan).values()) == {"send"}


def test_rejected_images_stay_rejected_and_duplicates_are_carried(obs_bucket, counted, done_before):
    bulk_put(obs_bucket, ["in/empty.png"], b"")
    images = [
        f"obs://{obs_bucket}/day/0.png",
        f"obs://{obs_bucket}/in/empty.png",
        f"obs://{obs_bucket}/day/0.png",
    ]
    _, plan = _decide(obs_bucket, counted, images=images)
    assert _actions(plan) == {"0.png": "skip", "empty.png": "reject"}
    assert plan.duplicates == 1
    # rejected items have their entry already; skipped ones get none; the rest get theirs when sent
    assert all((item.entry is not None) == (item.action == "reject") for item in plan.items)


def test_the_first_run_finds_nothing(obs_bucket, counted, obs, emulator):
    bulk_put(obs_bucket, ["day/a.png", "day/b.png"], PNG)
    _, plan = _decide(obs_bucket, counted)
    assert set(_actions(plan).values()) == {"send"} and plan.prior.others == {} and len(plan.prior.index) == 0
    assert counted.by_method() == {"GET": 3} and emulator.count(SLUG) == 0  # no index, no manifest, a listing


def test_the_key_hash_of_each_item_is_kept_by_position(obs_bucket, counted, done_before):
    from airflow_provider_hwocr.runtime.batch.state import key_hash

    _, plan = _decide(obs_bucket, counted)
    assert [plan.hashes[item.pos] for item in plan.items] == [key_hash(item.key) for item in plan.items]


# --- documents: their pages decided from the keys, without reading them ---------------------------


def _prior(store, stem, counts, *, indexed=(), listed=(), made=0):
    """A prior state whose listing named pages of ``stem`` of each count; ``indexed`` (page, count)
    pages are vouched for by the index as made from ``made``, ``listed`` ones are listed only."""
    from airflow_provider_hwocr.runtime.batch.state import Index, PriorState, key_hash

    records = [(key_hash(store.page_key(stem, p, c)), 1, made) for p, c in indexed]
    index = Index.from_records(records)
    prior = PriorState(index, bytearray([1] * len(index)))
    prior.page_counts[key_hash(stem)] = tuple(counts)
    for p, c in listed:
        prior.others[key_hash(store.page_key(stem, p, c))] = '"etag"'
    return prior


def test_a_documents_count_is_vouched_for_by_a_page_made_from_this_source():
    from airflow_provider_hwocr.runtime.batch.decide import _known_count
    from airflow_provider_hwocr.runtime.store import ResultStore

    store, stem = ResultStore("bkt", "ocr/", SLUG), "ocr/a.pdf-0123456789ab"
    prior = _prior(store, stem, (3,), indexed=[(1, 3), (3, 3)], made=7)
    assert _known_count(prior, store, stem, None, 7) == (3, [(1, "skip"), (2, "send"), (3, "skip")], True)
    assert _known_count(prior, store, stem, None, 8) is None  # another source or parameters: read it
    assert _known_count(prior, store, stem, "4-", 7) is None  # chosen pages past that count's end


def test_a_count_from_pages_listed_only_is_a_guess_to_verify():
    from airflow_provider_hwocr.runtime.batch.decide import _known_count
    from airflow_provider_hwocr.runtime.store import ResultStore

    store, stem = ResultStore("bkt", "ocr/", SLUG), "ocr/a.pdf-0123456789ab"
    prior = _prior(store, stem, (2, 4), listed=[(1, 4), (2, 4)], indexed=[(1, 2)], made=5)
    assert _known_count(prior, store, stem, None, 5) == (2, [(1, "skip"), (2, "send")], True)  # vouched wins
    assert _known_count(prior, store, stem, "3", 5) is None  # nothing of page 3 stored: read the document
    guess = _known_count(prior, store, stem, "1-2", 6)
    assert guess == (4, [(1, "verify"), (2, "verify")], False)
