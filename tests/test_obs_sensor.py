"""HuaweiObsKeySensor and HuaweiObsKeyTrigger against a real object server through the real OBS SDK."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time

import pytest

from airflow_provider_hwocr.hooks.obs import HuaweiObsHook, HuaweiObsNotFoundError
from airflow_provider_hwocr.sensors.obs import HuaweiObsKeySensor
from airflow_provider_hwocr.triggers.obs import HuaweiObsKeyTrigger
from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.images import png
from tests.helpers.obs_env import bulk_put, moto_front, obs_client


class _TI:
    """Just enough of a task instance to receive XCom pushes."""

    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


def _context() -> dict:
    return {"ti": _TI(), "ds": "2026-11-20"}


@pytest.fixture
def hook(obs_conn):
    hook = HuaweiObsHook(obs_conn)
    yield hook
    hook.close()


def _sensor(**kwargs) -> HuaweiObsKeySensor:
    kwargs.setdefault("task_id", "wait")
    kwargs.setdefault("poke_interval", 0.05)
    kwargs.setdefault("timeout", 5)
    return HuaweiObsKeySensor(**kwargs)


def _poke(sensor, context=None):
    context = context or _context()
    result = sensor.poke(context)
    return result, context["ti"].pushed


# --- matching ---------------------------------------------------------------------------------


def test_single_key_false_then_true_after_upload(hook, obs_bucket):
    sensor = _sensor(bucket=obs_bucket, key="in/scan 1.png")
    result, pushed = _poke(sensor)
    assert result is False and pushed == {}

    hook.put_bytes(obs_bucket, "in/scan 1.png", b"12345")
    result, pushed = _poke(sensor)
    assert result.is_done and result.xcom_value == [f"obs://{obs_bucket}/in/scan 1.png"]
    assert pushed["files"] == [
        {"key": "in/scan 1.png", "uri": f"obs://{obs_bucket}/in/scan 1.png", "size": 5}
    ]


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


def test_more_matches_than_max_matches_fail_without_pushing_them(obs_bucket):
    from airflow_provider_hwocr.sensors.obs import HuaweiObsTooManyMatchesError

    bulk_put(obs_bucket, [f"cap/{i:04d}.png" for i in range(12)])
    with pytest.raises(HuaweiObsTooManyMatchesError, match="max_matches: 12 objects .* max_matches=10"):
        _poke(_sensor(bucket=obs_bucket, key="cap/*.png", max_matches=10))
    result, _ = _poke(_sensor(bucket=obs_bucket, key="cap/*.png", max_matches=12))
    assert len(result.xcom_value) == 12


def test_return_selection_hands_over_a_small_value_whatever_the_count(obs_bucket):
    import json

    keys = [f"sel/{i:05d}.png" for i in range(2500)]
    bulk_put(obs_bucket, keys)
    result, pushed = _poke(_sensor(bucket=obs_bucket, key="sel/*.png", return_selection=True))
    value = result.xcom_value
    assert value["format"] == "hwocr-selection/1" and value["count"] == 2500
    assert len(json.dumps(value)) < 1000  # vs. ~190 KB for the list of URIs
    assert "files" not in pushed


def test_min_size_ignores_small_objects(hook, obs_bucket):
    hook.put_bytes(obs_bucket, "up/part.png", b"12")
    sensor = _sensor(bucket=obs_bucket, key="up/*.png", min_size=10)
    assert _poke(sensor)[0] is False
    hook.put_bytes(obs_bucket, "up/part.png", b"0123456789")
    assert _poke(sensor)[0].xcom_value == [f"obs://{obs_bucket}/up/part.png"]
    # exact keys too
    assert _poke(_sensor(bucket=obs_bucket, key="up/part.png", min_size=11))[0] is False


def test_check_fn_gets_files_and_context(hook, obs_bucket):
    hook.put_bytes(obs_bucket, "c/a.png", b"1")
    seen = []

    def enough(files, **context):
        seen.append((files, context["ds"]))
        return len(files) >= 2

    sensor = _sensor(bucket=obs_bucket, key="c/", check_fn=enough)
    assert _poke(sensor)[0] is False
    hook.put_bytes(obs_bucket, "c/b.png", b"22")
    assert len(_poke(sensor)[0].xcom_value) == 2
    assert seen[-1] == (
        [
            {"key": "c/a.png", "uri": f"obs://{obs_bucket}/c/a.png", "size": 1},
            {"key": "c/b.png", "uri": f"obs://{obs_bucket}/c/b.png", "size": 2},
        ],
        "2026-11-20",
    )
    # a check_fn without **kwargs gets only the context entries it names
    sensor = _sensor(
        bucket=obs_bucket, key="c/", check_fn=lambda files, ds: ds == "2026-11-20" and len(files) == 2
    )
    assert _poke(sensor)[0].is_done


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


def test_missing_bucket_fails_the_poke(obs_conn):
    with pytest.raises(HuaweiObsNotFoundError, match="NoSuchBucket"):
        _poke(_sensor(bucket="hwocr-no-such-bucket", key="in/"))


def test_templated_fields():
    assert {"bucket", "key", "huaweicloud_ocr_conn_id"} <= set(HuaweiObsKeySensor.template_fields)


# --- deferrable -------------------------------------------------------------------------------


def _trigger(**kwargs) -> HuaweiObsKeyTrigger:
    kwargs.setdefault("poke_interval", 0.05)
    return HuaweiObsKeyTrigger(**kwargs)


def test_trigger_serialize_round_trip():
    from airflow.sdk.module_loading import import_string

    trigger = _trigger(
        bucket="my-bucket",
        key=["in/*.png", "obs://my-bucket/ready.flag"],
        huaweicloud_ocr_conn_id="my_conn",
        region="cn-north-4",
        use_regex=False,
        wildcard_match=True,
        min_size=10,
        metadata_keys=["uri", "etag"],
        poke_interval=7,
        timeout=600,
    )
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_hwocr.triggers.obs.HuaweiObsKeyTrigger"
    kwargs = json.loads(json.dumps(kwargs))  # plain JSON data only
    rebuilt = import_string(path)(**kwargs)
    assert rebuilt == trigger and rebuilt.serialize() == trigger.serialize()
    assert kwargs["deadline"] == pytest.approx(time.time() + 600, abs=5)  # kept, not restarted
    assert {"huaweicloud_ocr_conn_id", "region", "bucket", "key", "use_regex", "prefix", "wildcard_match",
            "min_size", "metadata_keys", "poke_interval", "timeout"} <= set(kwargs)  # fmt: skip


async def _first_event(trigger, limit: float = 10.0):
    events = trigger.run()
    try:
        return await asyncio.wait_for(events.__anext__(), limit)
    finally:
        await events.aclose()


def test_trigger_waits_without_blocking_the_event_loop(monkeypatch, emulator, obs_bucket):
    """Every OBS answer takes 0.3 s here; a 20 ms ticker must keep ticking while the trigger waits."""
    with moto_front(delay=0.3) as slow_url:
        monkeypatch.setenv(
            CONN_ENV,
            conn_json(
                emulator, extra={"obs_endpoint": slow_url, "obs_path_style": True, "obs_signature": "v2"}
            ),
        )
        trigger = _trigger(bucket=obs_bucket, key="late/", timeout=20)

        async def scenario():
            ticks = []
            stop = asyncio.Event()

            async def ticker():
                while not stop.is_set():
                    ticks.append(time.monotonic())
                    await asyncio.sleep(0.02)

            def upload_later():
                time.sleep(0.8)
                client = obs_client()
                client.putContent(obs_bucket, "late/a.png", content=b"1")
                client.close()

            tick_task = asyncio.create_task(ticker())
            uploader = threading.Thread(target=upload_later)
            uploader.start()
            started = time.monotonic()
            event = await _first_event(trigger)
            waited = time.monotonic() - started
            stop.set()
            await tick_task
            uploader.join()
            return event, ticks, waited

        event, ticks, waited = asyncio.run(scenario())

    assert event.payload["status"] == "success"
    assert event.payload["matches"] == [f"obs://{obs_bucket}/late/a.png"]
    assert waited >= 0.8  # it really waited for the upload, several slow lookups long
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 0.2, max(gaps)  # never frozen for a 0.3 s lookup


def test_trigger_timeout_and_error_events(obs_conn, obs_bucket):
    event = asyncio.run(_first_event(_trigger(bucket=obs_bucket, key="never/", timeout=0.3)))
    assert event.payload["status"] == "timeout" and "never/" in event.payload["message"]

    event = asyncio.run(_first_event(_trigger(bucket="hwocr-no-such-bucket", key="x/", timeout=5)))
    assert event.payload["status"] == "error"
    assert event.payload["error_type"] == "HuaweiObsNotFoundError"
    assert "NoSuchBucket" in event.payload["message"]


def test_deferrable_sensor_defers_with_every_parameter_then_completes(hook, obs_bucket):
    from airflow_provider_hwocr._compat import TaskDeferred

    sensor = _sensor(
        bucket=obs_bucket,
        key="d/*.png",
        deferrable=True,
        min_size=1,
        metadata_keys=["uri", "size"],
        timeout=60,
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, HuaweiObsKeyTrigger) and deferred.value.method_name == "execute_complete"
    _, kwargs = trigger.serialize()
    assert (kwargs["bucket"], kwargs["key"], kwargs["min_size"], kwargs["metadata_keys"]) == (
        obs_bucket,
        ["d/*.png"],
        1,
        ["uri", "size"],
    )
    assert kwargs["huaweicloud_ocr_conn_id"] == "huaweicloud_ocr_default" and kwargs["poke_interval"] == 0.05

    hook.put_bytes(obs_bucket, "d/a.png", b"123")
    event = asyncio.run(_first_event(trigger))
    first, second = _context(), _context()
    assert sensor.execute_complete(first, event.payload) == [f"obs://{obs_bucket}/d/a.png"]
    # the same event again: the same answer, no error
    assert sensor.execute_complete(second, event.payload) == [f"obs://{obs_bucket}/d/a.png"]
    assert (
        first["ti"].pushed
        == second["ti"].pushed
        == {"files": [{"uri": f"obs://{obs_bucket}/d/a.png", "size": 3}]}
    )

    # already there: no deferral at all
    assert sensor.execute(_context()) == [f"obs://{obs_bucket}/d/a.png"]


def test_execute_complete_raises_typed_errors():
    from airflow_provider_hwocr._compat import AirflowSensorTimeout

    sensor = _sensor(bucket="b-1", key="k", deferrable=True)
    for _ in range(2):
        with pytest.raises(AirflowSensorTimeout):
            sensor.execute_complete(_context(), {"status": "timeout", "message": "Timed out waiting"})
        with pytest.raises(HuaweiObsNotFoundError, match="gone"):
            sensor.execute_complete(
                _context(), {"status": "error", "message": "gone", "error_type": "HuaweiObsNotFoundError"}
            )


def test_deferrable_default_follows_airflow_config(monkeypatch):
    import importlib

    import airflow_provider_hwocr.sensors.obs as module

    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    try:
        reloaded = importlib.reload(module)
        assert reloaded.HuaweiObsKeySensor(task_id="t", bucket="b-1", key="k").deferrable is True
    finally:
        monkeypatch.undo()
        importlib.reload(module)
    assert HuaweiObsKeySensor(task_id="t", bucket="b-1", key="k").deferrable is False


# --- in a DAG ---------------------------------------------------------------------------------


def _xcom(dag_run, task_id: str, key: str = "return_value", map_index: int = -1):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(
                dag_id=dag_run.dag_id, run_id=dag_run.run_id, task_id=task_id, map_index=map_index, key=key
            )
            .one()
        )
        return XComModel.deserialize_value(row)


_DAG_FILE = """
import datetime as dt
import threading

from airflow.sdk import DAG, Param

from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
from airflow_provider_hwocr.sensors.obs import HuaweiObsKeySensor

SENSOR_LOOKED = threading.Event()  # set once the sensor has seen the first image


def three_images(files, **_):
    SENSOR_LOOKED.set()
    return len(files) == 3


with DAG(
    "hwocr_obs_sensor_to_ocr",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1),
    catchup=False,
    params={"bucket": Param("", type="string")},
) as dag:
    wait = HuaweiObsKeySensor(
        task_id="wait_for_scans",
        bucket="{{ params.bucket }}",
        key="inbox/*.png",
        check_fn=three_images,
        deferrable=True,
        poke_interval=0.1,
        timeout=30,
    )
    HuaweiOcrGeneralTextOperator.partial(task_id="ocr", image_source="inline").expand(image=wait.output)
"""


def test_dag_deferred_sensor_feeds_mapped_ocr(airflow_db, emulator, hook, obs_bucket, tmp_path, monkeypatch):
    """Sensor (deferred; files arrive while it waits) -> one mapped OCR task per matched object.

    One image is there at the start, so the sensor's first look finds it but check_fn wants three:
    it defers, the trigger runs in line (dag.test), check_fn still says no, it defers again, ...
    until the other two arrive.
    """
    import base64
    import importlib.util

    import airflow.settings

    # dag.test() runs DAGs it finds in the DAGs folder: use one holding just this DAG.
    (tmp_path / "hwocr_obs_sensor_to_ocr.py").write_text(_DAG_FILE)
    monkeypatch.setattr(airflow.settings, "DAGS_FOLDER", str(tmp_path))
    spec = importlib.util.spec_from_file_location(
        "hwocr_obs_sensor_to_ocr", tmp_path / "hwocr_obs_sensor_to_ocr.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    hook.put_bytes(obs_bucket, "inbox/notes.txt", b"not an image")
    images = {f"inbox/page {i}.png": png((300, 120), f"PAGE {i}") for i in range(3)}
    first, *rest = images
    hook.put_bytes(obs_bucket, first, images[first], content_type="image/png")

    def upload_later():
        assert module.SENSOR_LOOKED.wait(30)
        time.sleep(0.3)
        for key in rest:
            hook.put_bytes(obs_bucket, key, images[key], content_type="image/png")

    uploader = threading.Thread(target=upload_later)
    uploader.start()
    try:
        dag_run = module.dag.test(run_conf={"bucket": obs_bucket})
    finally:
        uploader.join()

    assert dag_run.state == "success"
    expected = sorted(f"obs://{obs_bucket}/{k}" for k in images)
    assert _xcom(dag_run, "wait_for_scans") == expected
    assert [f["uri"] for f in _xcom(dag_run, "wait_for_scans", key="files")] == expected
    calls = emulator.calls("general-text")
    assert len(calls) == 3 and all(c.status == 200 for c in calls)
    sent = sorted(c.body["image"] for c in calls)
    assert sent == sorted(base64.b64encode(d).decode() for d in images.values())
