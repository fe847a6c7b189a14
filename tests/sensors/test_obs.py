"""The OBS key sensor (``sensors/obs.py``) against the local object server: poke results and
XComs, limits, ``check_fn``, deferring to its trigger and completing, and a DAG where a deferred
sensor feeds a mapped OCR task."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from airflow_provider_hwocr.hooks.obs import HuaweiObsNotFoundError
from airflow_provider_hwocr.sensors.obs import HuaweiObsKeySensor
from airflow_provider_hwocr.triggers.obs import HuaweiObsKeyTrigger
from tests.helpers.c_obs_keys import first_event as _first_event
from tests.helpers.c_obs_keys import make_sensor as _sensor
from tests.helpers.c_obs_keys import poke as _poke
from tests.helpers.c_obs_keys import task_context as _context
from tests.helpers.images import png
from tests.helpers.obs_env import bulk_put

# --- poking ------------------------------------------------------------------------------------------


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
    assert value["format"] == "hwocr-selection/1" and value["first"] == [f"obs://{obs_bucket}/sel/00000.png"]
    assert value["count"] is None and value["total_bytes"] is None  # not counted: the batch lists
    assert len(json.dumps(value)) < 1000  # vs. ~190 KB for the list of URIs
    assert "files" not in pushed


def test_a_selection_stops_at_the_first_match_in_one_request(counted, obs_bucket):
    """Regression: the sensor listed the whole prefix only to learn that something matched."""
    bulk_put(
        obs_bucket, [f"big/a-{i:05d}.txt" for i in range(1500)] + [f"big/b-{i:05d}.png" for i in range(3000)]
    )
    counted.reset()
    result, _ = _poke(_sensor(bucket=obs_bucket, key="big/*.png", return_selection=True))
    assert result.xcom_value["first"] == [f"obs://{obs_bucket}/big/b-00000.png"]
    assert counted.by_method() == {"GET": 2}  # page 1 holds only .txt keys: 2 of the 5 pages
    counted.reset()
    result, _ = _poke(_sensor(bucket=obs_bucket, key=["big/", "big/b-01234.png"], return_selection=True))
    assert result.xcom_value["first"] == [
        f"obs://{obs_bucket}/big/a-00000.txt",
        f"obs://{obs_bucket}/big/b-01234.png",
    ]
    assert counted.by_method() == {"GET": 1, "HEAD": 1}  # one page for the prefix, one HEAD for the key
    counted.reset()
    assert _poke(_sensor(bucket=obs_bucket, key="big/*.jpg", return_selection=True))[0] is False
    assert counted.by_method() == {"GET": 5}  # nothing matches: every page, once
    # check_fn is promised every match: then the sensor lists them all and counts them
    counted.reset()
    seen = []
    sensor = _sensor(
        bucket=obs_bucket,
        key="big/*.png",
        return_selection=True,
        check_fn=lambda f: seen.append(len(f)) or True,
    )
    value = _poke(sensor)[0].xcom_value
    assert seen == [3000] and value["count"] == 3000 and "first" not in value
    assert counted.by_method() == {"GET": 5}


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


def test_missing_bucket_fails_the_poke(obs_conn):
    with pytest.raises(HuaweiObsNotFoundError, match="NoSuchBucket"):
        _poke(_sensor(bucket="hwocr-no-such-bucket", key="in/"))


def test_templated_fields():
    assert {"bucket", "key", "huaweicloud_ocr_conn_id"} <= set(HuaweiObsKeySensor.template_fields)


# --- deferrable --------------------------------------------------------------------------------------


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


# --- in a DAG ----------------------------------------------------------------------------------------


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
