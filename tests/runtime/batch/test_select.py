"""Stage 1, select: the images of this shard from ``images=``, ``source_uri`` + ``pattern`` or a sensor's
selection; duplicates dropped and counted; explicit ``obs://`` keys listed by folder or HEADed; an empty
selection refused unless ``allow_empty``. Object-server requests are counted where they arrive."""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.errors import HuaweiOcrBatchEmptyError
from airflow_provider_hwocr.runtime.batch import select
from airflow_provider_hwocr.runtime.batch.select import LIST_FOLDER_FROM, shard_of
from tests.helpers.d2_stages import PNG, SLUG, put_images, start
from tests.helpers.obs_env import bulk_put


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


def _uris(selection) -> list[str]:
    return [item.source for item in selection.items]


# --- where the images come from -------------------------------------------------------------


def test_images_given_are_kept_in_order_without_duplicates(obs_bucket, counted, obs, emulator):
    a, b, c = put_images(obs, obs_bucket, ["in/a.png", "in/b.png", "in/c.png"])
    run = start(obs_bucket, images=[b, a, b, c, a, b])
    counted.reset()
    selection = select(run)
    assert _uris(selection) == [b, a, c]
    assert (selection.total, selection.duplicates) == (3, 3)
    assert counted.by_method() == {"HEAD": 3}  # a few keys in a folder: HEADed, nothing downloaded
    for item, key in zip(selection.items, ["in/b.png", "in/a.png", "in/c.png"]):
        assert item.action == "send" and item.entry is None
        assert item.src.size == len(PNG) and item.src.etag == obs.head(obs_bucket, key).etag
        assert item.key == run.store.result_key(f"obs://{obs_bucket}/{key}", key)
    assert emulator.count() == 0


def test_source_uri_lists_once_and_keeps_what_matches_the_pattern(obs_bucket, counted, obs):
    bulk_put(obs_bucket, ["day/a.png", "day/b.jpg", "day/sub/c.png", "day/notes.txt", "other/d.png"], PNG)
    bulk_put(obs_bucket, ["day/folder/"], b"")  # a folder marker
    counted.reset()
    selection = select(start(obs_bucket, source_uri=f"obs://{obs_bucket}/day/", pattern="*.png"))
    assert sorted(_uris(selection)) == [f"obs://{obs_bucket}/day/a.png", f"obs://{obs_bucket}/day/sub/c.png"]
    assert counted.by_method() == {"GET": 1}  # one listing, no HEAD
    everything = select(start(obs_bucket, source_uri=f"obs://{obs_bucket}/day/"))
    assert len(everything.items) == everything.total == 4  # not the folder marker, not other/


def test_a_sensor_selection_is_listed_here(obs_bucket, obs):
    from airflow_provider_hwocr.sensors.obs import HuaweiObsKeySensor

    bulk_put(obs_bucket, [f"drop/{i:02d}.png" for i in range(12)] + ["drop/readme.txt"], PNG)
    sensor = HuaweiObsKeySensor(task_id="wait", key=f"obs://{obs_bucket}/drop/*.png", return_selection=True)
    handed = sensor.poke({"ti": None}).xcom_value
    selection = select(start(obs_bucket, images=handed))
    assert sorted(_uris(selection)) == [f"obs://{obs_bucket}/drop/{i:02d}.png" for i in range(12)]
    assert selection.duplicates == 0 and all(item.action == "send" for item in selection.items)


def test_local_files_and_bytes_are_identified_by_content(obs_bucket, tmp_path):
    (tmp_path / "a.png").write_bytes(PNG)
    selection = select(start(obs_bucket, images=[str(tmp_path / "a.png"), PNG, str(tmp_path / "a.png")]))
    assert selection.duplicates == 1 and len(selection.items) == 2
    path_item, bytes_item = selection.items
    assert path_item.src.data == PNG and path_item.key is not None and bytes_item.key is not None


# --- sharding -------------------------------------------------------------------------------------


def test_shards_keep_exactly_their_images(obs_bucket, obs):
    keys = [f"day/s{i:03d}.png" for i in range(60)]
    bulk_put(obs_bucket, keys, PNG)
    everything = {f"obs://{obs_bucket}/{k}" for k in keys}
    seen: list[str] = []
    for index in range(4):
        selection = select(start(obs_bucket, shard_count=4, shard_index=index))
        assert selection.total == 60  # counted before sharding
        mine = _uris(selection)
        assert mine and all(shard_of(uri, 4) == index for uri in mine)
        seen += mine
    assert sorted(seen) == sorted(everything)  # each image in exactly one shard


def test_the_shard_of_an_image_is_stable():
    uri = "obs://src-bkt/day/a.png"
    assert {shard_of(uri, 7) for _ in range(5)} == {shard_of(uri, 7)}
    assert 0 <= shard_of(uri, 7) < 7 and shard_of(uri, 1) == 0


# --- explicit obs:// keys: listed by folder when a folder holds many ---------------------------------


def test_a_folder_with_many_keys_is_listed_once_instead_of_headed(obs_bucket, counted, obs):
    many = [f"many/{i:02d}.png" for i in range(LIST_FOLDER_FROM + 5)]
    few = ["few/0.png", "few/1.png"]
    bulk_put(obs_bucket, [*many, *few], PNG)
    missing = [f"obs://{obs_bucket}/many/missing.png", f"obs://{obs_bucket}/few/missing.png"]
    images = [f"obs://{obs_bucket}/{k}" for k in [*many, *few]] + missing
    counted.reset()
    selection = select(start(obs_bucket, images=images))
    methods = counted.by_method()
    assert methods["GET"] == 1  # the listing of many/
    # few/: two keys HEADed, the missing one HEADed and its bucket HEADed (a missing bucket is an error)
    assert methods["HEAD"] == 4 and counted.total == 5, methods
    rejected = {item.source: item.entry for item in selection.items if item.action == "reject"}
    assert sorted(rejected) == sorted(missing)
    for entry in rejected.values():
        assert entry["status"] == "failed" and entry["called"] is False
        assert (
            "does not exist" in entry["error_message"] and entry["error_type"] == "HuaweiOcrValidationError"
        )
    assert sum(1 for item in selection.items if item.action == "send") == len(many) + len(few)


def test_what_cannot_be_used_is_rejected_with_its_reason(obs_bucket, obs):
    bulk_put(obs_bucket, ["in/empty.png"], b"")
    bulk_put(obs_bucket, ["in/ok.png"], PNG)
    images = [f"obs://{obs_bucket}/in/empty.png", "obs://", f"obs://{obs_bucket}/in/ok.png"]
    selection = select(start(obs_bucket, images=images))
    reasons = {item.source: (item.entry or {}).get("error_message") for item in selection.items}
    assert "is empty (0 bytes)" in reasons[images[0]]
    assert "bucket" in reasons["obs://"]
    assert reasons[images[2]] is None
    assert [item.action for item in selection.items] == ["reject", "reject", "send"]


# --- empty ----------------------------------------------------------------------------------------


def test_an_empty_selection_fails_naming_where_it_looked(obs_bucket, counted, emulator):
    run = start(obs_bucket, source_uri=f"obs://{obs_bucket}/nothing/", pattern="*.tif")
    with pytest.raises(HuaweiOcrBatchEmptyError) as info:
        select(run)
    assert f"obs://{obs_bucket}/nothing/" in str(info.value) and "'*.tif'" in str(info.value)
    assert "allow_empty=True" in str(info.value) and emulator.count() == 0
    with pytest.raises(HuaweiOcrBatchEmptyError, match=r"images=\[\]"):
        select(start(obs_bucket, images=[]))


def test_allow_empty_returns_an_empty_selection(obs_bucket, emulator):
    selection = select(start(obs_bucket, source_uri=f"obs://{obs_bucket}/nothing/", allow_empty=True))
    assert (selection.items, selection.total, selection.duplicates) == ([], 0, 0)
    assert emulator.count(SLUG) == 0
