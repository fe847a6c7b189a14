"""``ResultStore``: the key of every object a task writes (results, text pages, progress parts,
latest and history manifests) and how ``output_uri`` becomes a bucket and a prefix."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.runtime.store import ResultStore, shard_tag, text_key

API = "general-text"
WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def _digest(identity: str) -> str:
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:12]


# --- from_uri: bucket and prefix ------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "prefix"),
    [
        ("obs://results-bkt/out/", "out/"),
        ("obs://results-bkt/out", "out/"),  # a prefix always ends with "/"
        ("obs://results-bkt/a/b/c", "a/b/c/"),
        ("obs://results-bkt/", ""),
        ("obs://results-bkt", ""),
    ],
)
def test_from_uri_normalises_the_prefix(uri, prefix):
    store = ResultStore.from_uri(uri, API)
    assert store == ResultStore("results-bkt", prefix, API, "")
    assert store.root_uri == f"obs://results-bkt/{prefix}"


@pytest.mark.parametrize("empty", [None, ""])
def test_no_output_uri_means_no_store(empty):
    assert ResultStore.from_uri(empty, API) is None


@pytest.mark.parametrize("bad", ["s3://results-bkt/out/", "results-bkt/out/", "obs://", "obs://B_ad/out/"])
def test_from_uri_errors_name_output_uri(bad):
    with pytest.raises(HuaweiOcrValidationError) as info:
        ResultStore.from_uri(bad, API)
    assert info.value.parameter == "output_uri"
    assert str(info.value).startswith("output_uri: ")


def test_from_uri_keeps_the_shard():
    store = ResultStore.from_uri("obs://results-bkt/out/", API, "s1of3")
    assert store is not None and store.shard == "s1of3"


@pytest.mark.parametrize(
    ("index", "count", "tag"), [(None, 1, ""), (0, 1, ""), (None, 4, ""), (0, 4, "s0of4"), (3, 4, "s3of4")]
)
def test_shard_tag(index, count, tag):
    assert shard_tag(index, count) == tag


# --- results and text pages -----------------------------------------------------------


def test_result_key_is_prefix_name_digest_api():
    store = ResultStore("results-bkt", "out/", API)
    identity = "obs://src-bkt/day/scan 01.png"
    key = store.result_key(identity, "day/scan 01.png")
    assert key == f"out/scan_01.png-{_digest(identity)}.{API}.json"
    assert store.result_key(identity, "day/scan 01.png") == key  # deterministic
    assert store.uri(key) == f"obs://results-bkt/{key}"


def test_same_name_from_two_places_gets_two_keys():
    store = ResultStore("results-bkt", "out/", API)
    one = store.result_key("obs://src-bkt/a/x.png", "a/x.png")
    two = store.result_key("obs://src-bkt/b/x.png", "b/x.png")
    assert one != two
    assert one.startswith("out/x.png-") and two.startswith("out/x.png-")


@pytest.mark.parametrize(
    ("hint", "name"),
    [
        ("dir/Ünïcode name?.png", "n_code_name_.png"),
        ("...", "image"),  # nothing readable left
        ("", "image"),
        ("x" * 200 + ".png", "x" * 80),  # at most 80 characters of the name
    ],
)
def test_result_key_names_are_safe(hint, name):
    store = ResultStore("results-bkt", "", API)
    assert store.result_key("sha256:abc", hint) == f"{name}-{_digest('sha256:abc')}.{API}.json"


def test_text_key_sits_next_to_its_result():
    result = f"out/a.png-{_digest('x')}.{API}.json"
    expected = f"out/a.png-{_digest('x')}.{API}.text.json"
    assert text_key(result) == expected
    assert ResultStore("results-bkt", "out/", API).text_key(result) == expected


# --- progress parts -------------------------------------------------------------------


def test_progress_part_keys_with_and_without_a_shard():
    plain = ResultStore("results-bkt", "out/", API)
    sharded = ResultStore("results-bkt", "out/", API, "s2of4")
    assert plain.progress_prefix == f"out/_hwocr_progress/{API}/"
    assert plain.part_key("abc123", 7) == f"out/_hwocr_progress/{API}/abc123-00007.json"
    assert sharded.part_key("abc123", 7) == f"out/_hwocr_progress/{API}/s2of4-abc123-00007.json"
    assert ResultStore("results-bkt", "", API).part_key("t", 1) == f"_hwocr_progress/{API}/t-00001.json"


def test_is_own_part_tells_shards_apart():
    stores = [ResultStore("results-bkt", "out/", API, shard_tag(i, 3)) for i in range(3)]
    plain = ResultStore("results-bkt", "out/", API)
    parts = {store.shard: store.part_key("0f1e2d3c4b5a", 1) for store in [plain, *stores]}
    for store in [plain, *stores]:
        owned = {shard for shard, key in parts.items() if store.is_own_part(key)}
        assert owned == {store.shard}, store


def test_is_own_part_refuses_keys_that_are_not_parts():
    store = ResultStore("results-bkt", "out/", API)
    other_api = ResultStore("results-bkt", "out/", "id-card")
    assert not store.is_own_part(other_api.part_key("t", 1))
    assert not store.is_own_part(store.part_key("t", 1).removesuffix(".json") + ".tmp")
    assert not store.is_own_part(f"out/a.png-{_digest('x')}.{API}.json")
    assert store.is_own_part(store.part_key("t", 1))


# --- manifests: latest and history ------------------------------------------------------


def test_latest_manifest_key_is_next_to_the_prefix():
    assert ResultStore("results-bkt", "out/", API).latest_key == f"out_hwocr/{API}/manifest.json"
    assert (
        ResultStore("results-bkt", "a/b/", API, "s0of2").latest_key == f"a/b_hwocr/{API}/manifest.s0of2.json"
    )


def test_housekeeping_with_an_empty_prefix():
    store = ResultStore("results-bkt", "", API)
    assert store.housekeeping == "_hwocr/"
    assert store.latest_key == f"_hwocr/{API}/manifest.json"
    assert store.history_key("r", 1, WHEN) == f"_hwocr/{API}/runs/20260304T050607Z-r-try1.json"


def test_manifests_stay_out_of_the_results_listing():
    store = ResultStore("results-bkt", "out/", API)
    assert not store.latest_key.startswith(store.prefix)
    assert not store.history_key("r", 1, WHEN).startswith(store.prefix)


@pytest.mark.parametrize(
    ("run_id", "try_number", "shard", "tail"),
    [
        ("scheduled__2026-03-04T00:00:00+00:00", 2, "", "scheduled__2026-03-04T00_00_00_00_00-try2.json"),
        (None, 1, "", "manual-try1.json"),
        ("r1", None, "", "r1.json"),
        ("r1", "", "", "r1.json"),
        ("r1", 3, "s1of2", "r1-try3.s1of2.json"),
        ("x" * 300, 1, "", "x" * 120 + "-try1.json"),
    ],
)
def test_history_key(run_id, try_number, shard, tail):
    store = ResultStore("results-bkt", "out/", API, shard)
    assert store.history_key(run_id, try_number, WHEN) == f"out_hwocr/{API}/runs/20260304T050607Z-{tail}"


def test_each_map_index_has_its_own_latest_manifest_and_all_share_the_lease_and_index():
    store = ResultStore("results-bkt", "out/", API, "s1of2")
    assert store.manifest_key(None) == store.latest_key == f"out_hwocr/{API}/manifest.s1of2.json"
    assert store.manifest_key(-1) == store.latest_key  # Airflow's map index of an unmapped task
    assert store.manifest_key(3) == f"out_hwocr/{API}/manifest.s1of2.m3.json"
    assert store.lease_key == f"out_hwocr/{API}/lease.s1of2.json"
    assert not store.lease_key.startswith(store.prefix)  # outside the results listing


def test_history_keys_are_unique_per_run_try_map_index_and_record():
    store = ResultStore("results-bkt", "out/", API, "s0of2")
    keys = {
        store.history_key("r1", 1, WHEN, unique="aaaa1111"),
        store.history_key("r1", 1, WHEN, unique="bbbb2222"),  # the same run and try, the same second
        store.history_key("r1", 1, WHEN, map_index=0, unique="aaaa1111"),
        store.history_key("r1", 1, WHEN, map_index=1, unique="aaaa1111"),
        store.history_key("r1", 2, WHEN, unique="aaaa1111"),
    }
    assert len(keys) == 5 and all(store.is_own_history(key) for key in keys)
    assert store.history_key("r1", 1, WHEN, map_index=2, unique="c0ffee00").endswith(
        "-r1-try1-m2-c0ffee00.s0of2.json"
    )
    assert not ResultStore("results-bkt", "out/", API, "s1of2").is_own_history(next(iter(keys)))
