"""Stage 4, record: the index (when it changed), the history and latest manifests are written, old history
pruned and the progress parts deleted; a run that changes nothing writes two small records; then the
failure policy (fatal error, budget, ``max_failures`` / ``max_failure_ratio``) fails
the task, after the manifest is written; a dry run's report counts what would happen."""

from __future__ import annotations

import re

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrAuthError
from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError, HuaweiOcrBatchFailedError
from airflow_provider_hwocr.runtime.batch import dry_report, raise_for_failures, record
from airflow_provider_hwocr.runtime.batch.state import (
    MANIFEST_FORMAT,
    Index,
    ProgressJournal,
    etag_hash,
    key_hash,
    made_hash,
)
from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.d2_stages import PNG, SLUG, full_run, start, through_send
from tests.helpers.obs_env import bulk_put


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


class Ti:
    try_number = 2


def test_history_and_latest_manifests_and_the_index_are_written(obs_bucket, obs, emulator):
    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(4)], PNG)
    run = start(
        obs_bucket, price_per_call=0.5, checkpoint_every=1, context={"run_id": "manual__1", "ti": Ti()}
    )
    _, plan, sent = through_send(run)
    assert sent.journal.written  # parts were written ...
    report = record(run, plan, sent)
    assert obs.list_keys(obs_bucket, run.store.progress_prefix) == []  # ... and are deleted now
    history_key = report.history_uri.removeprefix(f"obs://{obs_bucket}/")
    assert history_key.startswith(f"ocr_hwocr/{SLUG}/runs/") and re.search(
        r"-manual__1-try2-[0-9a-f]{8}\.json$", history_key
    )
    assert report.manifest_uri == run.store.uri(run.store.latest_key)
    history = obs.get_json(obs_bucket, history_key)
    latest = obs.get_json(obs_bucket, run.store.latest_key)
    assert latest["history_uri"] == report.history_uri and "index" not in latest
    assert latest == history and history["index_uri"] == run.store.uri(run.store.index_key)
    assert history["format"] == MANIFEST_FORMAT and history["run_id"] == "manual__1"
    assert history["try_number"] == 2 and history["params_digest"] == run.pipeline.digest
    assert history["totals"] == {
        "total": 4, "done": 4, "skipped": 0, "failed": 0, "not_attempted": 0,
        "duplicates": 0, "billed_retries": 0, "images_possibly_billed_twice": 0,
    }  # fmt: skip
    assert history["billing"] == {
        "requests_sent": 4, "billed_retries": 0, "price_per_call": 0.5, "estimated_cost": 2.0,
    }  # fmt: skip
    assert history["images"] == sent.entries and history["index_entries"] == 4
    listed = {i.key: i.etag for i in obs.list_objects(obs_bucket, "ocr/")}
    index = Index.from_bytes(obs.get_bytes(obs_bucket, run.store.index_key))
    assert sorted(index.keys) == sorted(key_hash(e["key"]) for e in sent.entries)
    for e in sent.entries:
        at = index.find(key_hash(e["key"]))
        assert index.results[at] == etag_hash(listed[e["key"]])
        assert index.made[at] == made_hash(run.pipeline.digest, e["source_etag"])
    assert report.xcom == {
        "manifest_uri": report.manifest_uri,
        "history_uri": report.history_uri,
        "totals": history["totals"],
        "billing": history["billing"],
        "this_run": {
            "calls": history["billing"]["requests_sent"],
            "billed_retries": history["billing"]["billed_retries"],
            "estimated_cost": history["billing"]["estimated_cost"],
        },
    }
    assert list(report.results) == [*(e["result_uri"] for e in sent.entries), report.manifest_uri]
    assert report.results[-1] == report.manifest_uri and len(report.results) == 5


def test_a_run_that_changes_nothing_writes_two_small_records_and_nothing_else(
    obs_bucket, obs, emulator, counted
):
    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(30)], PNG)
    full_run(obs_bucket)
    index_before = obs.head(obs_bucket, start(obs_bucket).store.index_key).etag
    counted.reset()
    run, plan, sent, report = full_run(obs_bucket, run_id="again")
    assert report.totals["skipped"] == 30 and sent.entries == [] and emulator.count(SLUG) == 30
    puts = [path for method, path in counted.requests if method == "PUT"]
    assert len(puts) == 2 and counted.total == 2 + 1 + 2  # listings, the index GET, two records
    assert obs.head(obs_bucket, run.store.index_key).etag == index_before  # not rewritten
    for key in (run.store.latest_key, report.history_uri.removeprefix(f"obs://{obs_bucket}/")):
        assert obs.head(obs_bucket, key).size < 2000
    assert len(report.results) == 31 and report.results[0].endswith(".general-text.json")  # 30 + the manifest
    assert report.sources == [item.source for item in plan.items]


def test_history_is_pruned_by_runs_that_write_results(obs_bucket, obs, emulator, monkeypatch):
    from airflow_provider_hwocr.runtime.batch import state

    monkeypatch.setattr(state, "HISTORY_KEEP", 2)
    for i in range(3):
        bulk_put(obs_bucket, [f"day/{i}.png"], PNG)
        full_run(obs_bucket, run_id=f"r{i}")
    store = start(obs_bucket).store
    assert len(obs.list_keys(obs_bucket, store.history_prefix)) == 2
    full_run(obs_bucket, run_id="noop")  # changes nothing: prunes nothing
    assert len(obs.list_keys(obs_bucket, store.history_prefix)) == 3


def test_parts_a_killed_run_left_are_deleted_and_their_results_indexed(obs_bucket, obs, emulator):
    bulk_put(obs_bucket, ["day/a.png", "day/b.png"], PNG)
    _, _, first, _ = full_run(obs_bucket)
    run = start(obs_bucket)
    obs.delete(obs_bucket, run.store.index_key)  # as if the first run was killed before its index ...
    left = ProgressJournal(obs, run.store, header={}, every=1, interval=60)
    for entry in first.entries:
        left.add(entry)
    left.maybe_flush(force=True)  # ... having checkpointed its results
    emulator.reset()
    _, plan, sent = through_send(run)
    assert plan.prior.parts == left.written and sent.entries == [] and sent.counts["skipped"] == 2
    record(run, plan, sent)
    assert obs.list_keys(obs_bucket, run.store.progress_prefix) == [] and emulator.count() == 0
    index = Index.from_bytes(obs.get_bytes(obs_bucket, run.store.index_key))
    assert sorted(index.keys) == sorted(key_hash(e["key"]) for e in first.entries)


def test_a_manifest_uri_gets_a_copy_of_the_runs_manifest(obs_bucket, obs, emulator):
    bulk_put(obs_bucket, ["day/a.png"], PNG)
    _, _, _, report = full_run(obs_bucket, manifest_uri=f"obs://{obs_bucket}/reports/today.json")
    copy = obs.get_json(obs_bucket, "reports/today.json")
    assert copy == obs.get_json(obs_bucket, report.history_uri.removeprefix(f"obs://{obs_bucket}/"))
    assert copy["totals"]["done"] == 1 and "index" not in copy


def _sent_records(monkeypatch) -> list[str]:
    """The keys whose bytes the hook sends from a spooled file (the records), as they are sent."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    sent: list[str] = []
    real = HuaweiObsHook.put_file

    def put_file(self, bucket, key, file, **kwargs):
        sent.append(key)
        return real(self, bucket, key, file, **kwargs)

    monkeypatch.setattr(HuaweiObsHook, "put_file", put_file)
    return sent


def test_the_runs_record_is_sent_once_and_copied_by_obs_as_the_latest_and_to_manifest_uri(
    obs_bucket, obs, emulator, monkeypatch
):
    bulk_put(obs_bucket, ["day/a.png", "day/b.png"], PNG)
    sent = _sent_records(monkeypatch)
    run, _, _, report = full_run(obs_bucket, manifest_uri=f"obs://{obs_bucket}/reports/today.json")
    history = report.history_uri.removeprefix(f"obs://{obs_bucket}/")
    assert sent == [history]  # the latest manifest and manifest_uri: copies made by OBS
    record = obs.get_bytes(obs_bucket, history)
    assert (
        obs.get_bytes(obs_bucket, run.store.latest_key)
        == record
        == obs.get_bytes(obs_bucket, "reports/today.json")
    )
    assert obs.head(obs_bucket, run.store.latest_key).content_type == "application/json"


def test_a_copy_obs_refuses_is_sent_instead(obs_bucket, obs, emulator, monkeypatch):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsRequestError

    def refuse(self, bucket, key, to_bucket, to_key):  # a store without copies, a bucket elsewhere
        raise HuaweiObsRequestError("copy not implemented", bucket=to_bucket, key=to_key, operation="put")

    bulk_put(obs_bucket, ["day/a.png"], PNG)
    monkeypatch.setattr(HuaweiObsHook, "copy", refuse)
    sent = _sent_records(monkeypatch)
    run, _, _, report = full_run(obs_bucket)
    history = report.history_uri.removeprefix(f"obs://{obs_bucket}/")
    assert sent == [history, run.store.latest_key]
    assert obs.get_bytes(obs_bucket, run.store.latest_key) == obs.get_bytes(obs_bucket, history)


# --- the failure policy ---------------------------------------------------------------------------


def _with_failures(bucket, emulator, failures: int, **kwargs):
    """Ten images, ``failures`` of them refused by the service; recorded. Returns (run, plan, sent, report)."""
    bulk_put(bucket, [f"day/{i}.png" for i in range(10)], PNG)
    if failures:
        emulator.fail_next(SLUG, 400, "AIS.0104", times=failures)
    run, plan, sent, report = full_run(bucket, **kwargs)
    assert report.totals["failed"] == failures
    return run, plan, sent, report


@pytest.mark.parametrize(
    ("policy", "fails"),
    [  # three of ten images fail
        ({}, True),  # with no policy, any failure fails the task
        ({"max_failures": 2}, True),
        ({"max_failures": 3}, False),
        ({"max_failure_ratio": 0.2}, True),
        ({"max_failure_ratio": 0.3}, False),
        ({"max_failures": 5, "max_failure_ratio": 0.1}, True),  # either one exceeded
        ({"max_failures": 1, "max_failure_ratio": 0.5}, True),
    ],
    ids=["none", "max2", "max3", "ratio0.2", "ratio0.3", "ratio-over", "max-over"],
)
def test_the_failure_policy_is_applied_after_the_manifest_is_written(
    obs_bucket, obs, emulator, policy, fails
):
    run, plan, sent, report = _with_failures(obs_bucket, emulator, 3, **policy)
    manifest = obs.get_json(obs_bucket, run.store.latest_key)
    assert manifest["totals"]["failed"] == 3  # written whatever the policy says
    if fails:
        with pytest.raises(HuaweiOcrBatchFailedError, match="3 of 10 image"):
            raise_for_failures(run, plan, sent, report)
    else:
        raise_for_failures(run, plan, sent, report)


def test_no_failure_passes(obs_bucket, obs, emulator):
    run, plan, sent, report = _with_failures(obs_bucket, emulator, 0)
    raise_for_failures(run, plan, sent, report)


def test_a_spent_budget_fails_the_task_naming_the_manifest(obs_bucket, obs, emulator):
    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(5)], PNG)
    run, plan, sent, report = full_run(obs_bucket, max_calls=2, max_concurrency=1)
    assert report.totals["not_attempted"] == 3
    with pytest.raises(HuaweiCloudBudgetExceededError, match="3 image") as info:
        raise_for_failures(run, plan, sent, report)
    assert report.manifest_uri in str(info.value)


def test_a_fatal_error_is_raised_itself(obs_bucket, obs_server, emulator, monkeypatch):
    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(4)], PNG)
    obs_extra = {"obs_endpoint": obs_server, "obs_path_style": True, "obs_signature": "v2", "verify": False}
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, password="Wr0ng" * 8, extra=obs_extra))
    run, plan, sent, report = full_run(obs_bucket, max_concurrency=1, max_failures=10)
    with pytest.raises(HuaweiOcrAuthError) as info:
        raise_for_failures(run, plan, sent, report)
    assert info.value is sent.fatal[0]


# --- dry run ----------------------------------------------------------------------------------------


def test_the_dry_report_counts_what_would_happen(obs_bucket, counted, emulator):
    bulk_put(obs_bucket, [f"day/old{i}.png" for i in range(2)], PNG)
    full_run(obs_bucket)
    bulk_put(obs_bucket, [f"day/new{i}.png" for i in range(3)], PNG)
    bulk_put(obs_bucket, ["day/empty.png"], b"")
    emulator.reset()
    images = [
        f"obs://{obs_bucket}/day/{k}.png" for k in ("old0", "old1", "new0", "new1", "new2", "empty", "new0")
    ]
    run = start(obs_bucket, images=images, dry_run=True, price_per_call=0.25)
    _, plan, sent = through_send(run)
    counted.reset()
    report = dry_report(run, plan, sent)
    assert report == {
        "dry_run": True,
        "reason": "dry_run=True",
        "total": 6,
        "would_call": 3,
        "skipped": 2,
        "rejected": 1,
        "duplicates": 1,
        "rejections": [{"source": images[5], "reason": report["rejections"][0]["reason"]}],
        "price_per_call": 0.25,
        "estimated_cost": 0.75,
    }
    assert "empty (0 bytes)" in report["rejections"][0]["reason"]
    assert counted.total == 0 and emulator.count() == 0


# --- mapped batches on one prefix, and history that is never overwritten ----------------------------


class MappedTi:
    def __init__(self, map_index: int) -> None:
        self.dag_id, self.task_id, self.map_index, self.try_number = "days", "batch", map_index, 1


def test_mapped_batches_sharing_a_prefix_keep_their_own_latest_manifests(obs_bucket, obs, emulator):
    bulk_put(obs_bucket, [f"day1/{i}.png" for i in range(3)], PNG)
    bulk_put(obs_bucket, [f"day2/{i}.png" for i in range(2)], PNG)
    reports = {}
    for map_index, day in ((0, "day1"), (1, "day2")):
        run = start(
            obs_bucket,
            source_uri=f"obs://{obs_bucket}/{day}/",
            context={"run_id": "r1", "ti": MappedTi(map_index)},
        )
        _, plan, sent = through_send(run, release=False)
        reports[map_index] = record(run, plan, sent)
        plan.lease.release()
    store = run.store
    first = obs.get_json(obs_bucket, store.manifest_key(0))
    second = obs.get_json(obs_bucket, store.manifest_key(1))
    assert reports[0].manifest_uri == store.uri(store.manifest_key(0))
    assert (first["map_index"], first["totals"]["done"]) == (0, 3)
    assert (second["map_index"], second["totals"]["done"]) == (1, 2)
    assert {e["source"].split("/")[-2] for e in first["images"]} == {"day1"}
    # One index for the prefix: both runs' results are in it (the lease made them take turns).
    assert len(Index.from_bytes(obs.get_bytes(obs_bucket, store.index_key))) == 5
    assert reports[0].history_uri != reports[1].history_uri and emulator.count(status=200) == 5


def test_two_records_of_one_run_and_try_in_the_same_second_are_both_kept(obs_bucket, obs, emulator):
    bulk_put(obs_bucket, ["day/a.png"], PNG)
    reports = [full_run(obs_bucket, run_id="r1")[3] for _ in range(2)]
    store = start(obs_bucket).store
    assert reports[0].history_uri != reports[1].history_uri
    assert len(obs.list_keys(obs_bucket, store.history_prefix)) == 2


def test_a_live_runs_progress_parts_are_not_taken_by_another(obs_bucket, obs, emulator):
    import json
    import time

    from airflow_provider_hwocr.errors import HuaweiOcrOverlapError

    bulk_put(obs_bucket, ["day/a.png", "day/b.png"], PNG)
    _, _, first, _ = full_run(obs_bucket)
    store = start(obs_bucket).store
    live = ProgressJournal(obs, store, header={}, every=1, interval=60)  # a live sibling's checkpoint
    live.add(first.entries[0])
    live.maybe_flush(force=True)
    owner = {"dag_id": "days", "task_id": "batch", "run_id": "r1", "map_index": 1}
    lease = {"owner": owner, "token": "f" * 32, "expires": time.time() + 60}
    obs.put_bytes(obs_bucket, store.lease_key, json.dumps(lease).encode())
    emulator.reset()
    run = start(obs_bucket, on_overlap="fail", context={"run_id": "r1", "ti": MappedTi(0)})
    with pytest.raises(HuaweiOcrOverlapError, match="map index 1"):
        through_send(run)
    assert obs.list_keys(obs_bucket, store.progress_prefix) == live.written and emulator.count() == 0
