"""Which objects a key query matches (``hooks/obs_match.py``): exact keys, lists, wildcards, regular
expressions, prefixes, sizes and reported fields, looked up on the local object server through the
sensor's poke, plus the pure parts (listing prefix, query building, selections)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_hwocr.hooks.obs_match import (
    SELECTION_FORMAT,
    ObsKeyQuery,
    build_query,
    find_matches,
    selection_query,
    selection_value,
)
from tests.helpers.c_obs_keys import make_sensor as _sensor
from tests.helpers.c_obs_keys import poke as _poke
from tests.helpers.obs_env import bulk_put


def test_list_needs_every_key(hook, obs_bucket):
    sensor = _sensor(bucket=obs_bucket, key=["a.png", "b.png"])
    hook.put_bytes(obs_bucket, "a.png", b"1")
    assert _poke(sensor)[0] is False
    hook.put_bytes(obs_bucket, "b.png", b"2")
    result, _ = _poke(sensor)
    assert result.xcom_value == [f"obs://{obs_bucket}/a.png", f"obs://{obs_bucket}/b.png"]


def test_wildcard_and_literal_star(hook, obs_bucket):
    for key in ("incoming/x.png", "incoming/sub/y.png", "incoming/z.jpg", "other/w.png", "incoming/*.png"):
        hook.put_bytes(obs_bucket, key, b"1")
    result, _ = _poke(_sensor(bucket=obs_bucket, key="incoming/*.png"))
    assert result.xcom_value == [
        f"obs://{obs_bucket}/{k}" for k in ("incoming/*.png", "incoming/sub/y.png", "incoming/x.png")
    ]
    result, _ = _poke(_sensor(bucket=obs_bucket, key="incoming/?.jpg"))
    assert result.xcom_value == [f"obs://{obs_bucket}/incoming/z.jpg"]
    # wildcard_match=False reads '*' literally
    result, _ = _poke(_sensor(bucket=obs_bucket, key="incoming/*.png", wildcard_match=False))
    assert result.xcom_value == [f"obs://{obs_bucket}/incoming/*.png"]
    assert _poke(_sensor(bucket=obs_bucket, key="incoming/*.gif"))[0] is False


def test_regex(hook, obs_bucket):
    for key in ("scans/scan-1.png", "scans/scan-22.png", "scans/scan-x.png", "scans/scan-3.png.bak"):
        hook.put_bytes(obs_bucket, key, b"1")
    sensor = _sensor(bucket=obs_bucket, key=r"scans/scan-\d+\.png", use_regex=True)
    result, _ = _poke(sensor)  # whole-key match: the .bak does not count
    assert result.xcom_value == [
        f"obs://{obs_bucket}/scans/scan-1.png",
        f"obs://{obs_bucket}/scans/scan-22.png",
    ]
    with pytest.raises(ValueError, match="regular expression"):
        _poke(_sensor(bucket=obs_bucket, key="scans/(", use_regex=True))


@pytest.mark.parametrize(
    ("pattern", "mode", "expected"),
    [
        (r"in/scan-\d+\.png", "regex", "in/scan-"),
        ("^in/x.png", "regex", "in/x"),
        ("in/ab?c", "regex", "in/a"),  # 'b' may be absent
        ("in/ab*", "regex", "in/a"),
        ("in/a{2}", "regex", "in/"),
        ("in/a+", "regex", "in/a"),
        ("a/x|b/y", "regex", ""),  # alternation: list everything
        ("in/(a|b)", "regex", ""),
        ("in/file?.png", "wildcard", "in/file"),
        ("in/[ab].png", "wildcard", "in/"),
        ("in/", "prefix", "in/"),
    ],
)
def test_listing_prefix_never_misses_a_match(pattern, mode, expected):
    from airflow_provider_hwocr.hooks.obs_match import literal_prefix

    assert literal_prefix(pattern, mode) == expected


def test_prefix_by_flag_or_trailing_slash_ignores_folder_markers(hook, obs_bucket):
    hook.put_bytes(obs_bucket, "drop/", b"")  # a console "folder"
    assert _poke(_sensor(bucket=obs_bucket, key="drop/"))[0] is False
    hook.put_bytes(obs_bucket, "drop/2026/a.png", b"1")
    result, _ = _poke(_sensor(bucket=obs_bucket, key="drop/"))
    assert result.xcom_value == [f"obs://{obs_bucket}/drop/2026/a.png"]
    result, _ = _poke(_sensor(bucket=obs_bucket, key="drop/20", prefix=True))
    assert result.xcom_value == [f"obs://{obs_bucket}/drop/2026/a.png"]


def test_prefix_over_many_pages(obs_bucket):
    keys = [f"big/{i:05d}.png" for i in range(1050)]
    bulk_put(obs_bucket, keys)
    result, pushed = _poke(_sensor(bucket=obs_bucket, key="big/", max_matches=None))
    assert result.xcom_value == [f"obs://{obs_bucket}/{k}" for k in keys]
    assert len(pushed["files"]) == 1050


def test_min_size_ignores_small_objects(hook, obs_bucket):
    hook.put_bytes(obs_bucket, "up/part.png", b"12")
    sensor = _sensor(bucket=obs_bucket, key="up/*.png", min_size=10)
    assert _poke(sensor)[0] is False
    hook.put_bytes(obs_bucket, "up/part.png", b"0123456789")
    assert _poke(sensor)[0].xcom_value == [f"obs://{obs_bucket}/up/part.png"]
    # exact keys too
    assert _poke(_sensor(bucket=obs_bucket, key="up/part.png", min_size=11))[0] is False


def test_metadata_keys(hook, obs_bucket):
    hook.put_bytes(obs_bucket, "m/a.png", b"123", content_type="image/png", metadata={"camera": "7"})
    info = hook.head(obs_bucket, "m/a.png")
    sensor = _sensor(
        bucket=obs_bucket,
        key="m/*.png",
        metadata_keys=["key", "size", "last_modified", "etag", "content_type", "metadata"],
    )
    _, pushed = _poke(sensor)
    assert pushed["files"] == [
        {
            "key": "m/a.png",
            "size": 3,
            "last_modified": info.last_modified.isoformat(),
            "etag": info.etag,
            "content_type": "image/png",
            "metadata": {"camera": "7"},
        }
    ]
    json.dumps(pushed["files"])  # XCom-safe
    with pytest.raises(ValueError, match="metadata_keys"):
        _sensor(bucket=obs_bucket, key="k", metadata_keys=["owner"])


def test_obs_uris_without_bucket(hook, obs_bucket):
    hook.put_bytes(obs_bucket, "u/a.png", b"1")
    result, _ = _poke(_sensor(key=[f"obs://{obs_bucket}/u/a.png", f"obs://{obs_bucket}/u/*.png"]))
    assert result.xcom_value == [f"obs://{obs_bucket}/u/a.png"]
    result, _ = _poke(_sensor(key=f"obs://{obs_bucket}/"))  # the whole bucket
    assert result.xcom_value == [f"obs://{obs_bucket}/u/a.png"]
    with pytest.raises(ValueError, match="bucket is required"):
        _poke(_sensor(key="u/a.png"))
    with pytest.raises(ValueError, match="use_regex and prefix"):
        _sensor(bucket=obs_bucket, key="x", use_regex=True, prefix=True)


def test_build_query_reads_each_key_in_its_mode_and_refuses_bad_arguments():
    query = build_query("b-1", ["a.png", "in/", "in/*.png", "in/[ab].png", "obs://b-1/", "obs://b-1/x?y"])
    assert query.targets == (
        ("b-1", "a.png", "exact"),
        ("b-1", "in/", "prefix"),
        ("b-1", "in/*.png", "wildcard"),
        ("b-1", "in/[ab].png", "wildcard"),
        ("b-1", "", "prefix"),  # the whole bucket
        ("b-1", "x?y", "wildcard"),
    )
    assert build_query("b-1", "in/*.png", wildcard_match=False).targets == (("b-1", "in/*.png", "exact"),)
    assert build_query("b-1", "in/2026", prefix=True).targets == (("b-1", "in/2026", "prefix"),)
    assert build_query("b-1", r"in/\d+", use_regex=True).targets == (("b-1", r"in/\d+", "regex"),)
    assert build_query("b-1", "k").metadata_keys == ("key", "uri", "size")
    for kwargs in (
        {"key": []},
        {"key": [""]},
        {"key": "obs://other/k"},  # names another bucket than bucket=
        {"key": "k", "use_regex": True, "wildcard_match": True},
        {"key": "k", "min_size": -1},
        {"key": "k", "min_size": True},
        {"key": "k", "metadata_keys": "uri"},  # a string, not a list of names
        {"key": "k", "metadata_keys": []},
    ):
        with pytest.raises(ValueError):
            build_query("b-1", **kwargs)


def test_a_selection_lists_the_same_objects_again(hook, obs_bucket):
    from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

    for key in ("s/a.png", "s/b.png", "s/c.txt"):
        hook.put_bytes(obs_bucket, key, b"1234", content_type="image/png")
    query = build_query(obs_bucket, "s/*.png", metadata_keys=["uri", "content_type"])
    assert ObsKeyQuery.from_dict(json.loads(json.dumps(query.to_dict()))) == query
    found = find_matches(hook, query)
    assert found.done and found.missing == ()
    assert found.uris == [f"obs://{obs_bucket}/s/a.png", f"obs://{obs_bucket}/s/b.png"]
    assert {o.content_type for o in found.objects} == {"image/png"}  # a HEAD per match for it

    files = [{"size": o.size} for o in found.objects]
    selection = json.loads(json.dumps(selection_value(query, len(found.objects), files)))
    assert (selection["format"], selection["count"], selection["total_bytes"]) == (SELECTION_FORMAT, 2, 8)
    again = selection_query(selection)
    assert again.targets == query.targets and again.metadata_keys == ("key", "uri", "size")
    assert find_matches(hook, again).uris == found.uris

    missing = find_matches(hook, build_query(obs_bucket, ["s/a.png", "s/*.gif"]))
    assert (missing.done, missing.objects, missing.missing) == (
        False,
        (),
        (f"wildcard obs://{obs_bucket}/s/*.gif",),
    )
    with pytest.raises(HuaweiOcrValidationError) as info:
        selection_query({"format": "hwocr-selection/0", "query": {}})
    assert info.value.parameter == "images"
