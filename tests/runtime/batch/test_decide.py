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
