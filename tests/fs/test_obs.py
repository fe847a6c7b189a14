"""The ``obs://`` filesystem (``fs/obs.py``): ``ObjectStoragePath`` reads and writes OBS objects on
the local object server, s3fs options follow the connection, and common-io's XCom backend stores in OBS."""

from __future__ import annotations

import json
import os

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError
from airflow_provider_hwocr.fs.obs import get_fs
from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
from tests.helpers.airflow_env import CONN_ENV
from tests.helpers.c_integration import needs_airflow_33
from tests.helpers.c_integration import put_image as _put_image
from tests.helpers.constants import AK, SK


def test_object_storage_path_reads_a_result_written_by_an_operator(obs, obs_bucket, emulator, monkeypatch):
    from airflow.sdk import ObjectStoragePath

    conn = json.loads(__import__("os").environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"])
    monkeypatch.setenv("AIRFLOW_CONN_OCR_RESULTS", json.dumps(conn))
    uri = _put_image(obs, obs_bucket, "in/a.png")
    ref = HuaweiOcrGeneralTextOperator(task_id="t", image=uri, output_uri=f"obs://{obs_bucket}/out/").execute(
        {}
    )
    key = ref["uri"].split("/", 3)[3]
    path = ObjectStoragePath(f"obs://ocr_results@{obs_bucket}/{key}")
    envelope = json.loads(path.read_text())
    assert envelope["format"] == "hwocr-result/1" and envelope["source"]["uri"] == uri
    listed = [p.name for p in ObjectStoragePath(f"obs://ocr_results@{obs_bucket}/out/").iterdir()]
    assert listed == [key.rsplit("/", 1)[-1]]
    target = ObjectStoragePath(f"obs://ocr_results@{obs_bucket}/notes/n.txt")
    target.write_text("written through ObjectStoragePath")
    assert obs.get_bytes(obs_bucket, "notes/n.txt") == b"written through ObjectStoragePath"


def test_obs_fs_options_verify_tls_by_default_and_follow_the_connection():
    from airflow_provider_hwocr.fs.obs import storage_options_for
    from airflow_provider_hwocr.hooks.connection import settings_from_connection

    class Conn:
        conn_id = "c"
        login = "AK_EXAMPLE_1"
        password = "SK_EXAMPLE_1"
        extra = "{}"

        def __init__(self, extra):
            import json

            self.extra_dejson = extra
            self.extra = json.dumps(extra)  # what the hooks read

    default = storage_options_for(
        settings_from_connection(Conn({"region": "ap-southeast-1"}), service="obs"),
        "https://obs.ap-southeast-1.myhuaweicloud.com",
    )
    assert default["client_kwargs"] == {"region_name": "ap-southeast-1", "verify": True}
    assert default["config_kwargs"]["signature_version"] == "s3v4"
    assert default["config_kwargs"]["s3"] == {"addressing_style": "virtual"}
    test_server = storage_options_for(
        settings_from_connection(
            Conn(
                {"region": "ap-southeast-1", "verify": False, "obs_path_style": True, "obs_signature": "v2"}
            ),
            service="obs",
        ),
        "http://127.0.0.1:1",
    )
    assert test_server["client_kwargs"]["verify"] is False
    assert test_server["config_kwargs"]["signature_version"] == "s3"
    assert test_server["config_kwargs"]["s3"] == {"addressing_style": "path"}


@needs_airflow_33
def test_common_io_xcom_backend_stores_in_obs(obs, obs_bucket, monkeypatch):
    from airflow.providers.common.io.xcom import backend as xcom_backend

    conn = json.loads(__import__("os").environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"])
    monkeypatch.setenv("AIRFLOW_CONN_XCOM_OBS", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH", f"obs://xcom_obs@{obs_bucket}/xcom")
    monkeypatch.setenv("AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_THRESHOLD", "10")
    caches = (xcom_backend._get_base_path, xcom_backend._get_threshold, xcom_backend._get_compression)
    for cached in caches:
        cached.cache_clear()
    try:
        value = {"text": "x" * 500}
        stored = xcom_backend.XComObjectStorageBackend.serialize_value(
            value, key="k", dag_id="d", task_id="t", run_id="r", map_index=-1
        )
        reference = stored if isinstance(stored, str) and stored.startswith("obs://") else json.loads(stored)
        assert reference.startswith(f"obs://xcom_obs@{obs_bucket}/xcom/d/r/t/")
        (key,) = obs.list_keys(obs_bucket, "xcom/")
        assert json.loads(obs.get_bytes(obs_bucket, key)) == value
        result = type("Row", (), {"value": stored})()
        assert xcom_backend.XComObjectStorageBackend.deserialize_value(result) == value
    finally:
        for cached in caches:
            cached.cache_clear()


def test_get_fs_reads_the_connection_and_refuses_an_endpoint_with_a_path(obs_conn, obs_server, monkeypatch):
    fs = get_fs(None)  # the path names no connection: huaweicloud_ocr_default
    assert (fs.key, fs.secret, fs.endpoint_url) == (AK, SK, obs_server)
    assert fs.client_kwargs == {"region_name": "ap-southeast-1", "verify": False}
    assert get_fs(obs_conn, {"endpoint_url": "http://127.0.0.1:1"}).endpoint_url == "http://127.0.0.1:1"

    conn = json.loads(os.environ[CONN_ENV])
    conn["extra"]["obs_endpoint"] = f"{obs_server}/prefix"
    monkeypatch.setenv("AIRFLOW_CONN_OBS_WITH_PATH", json.dumps(conn))
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        get_fs("obs_with_path")
    assert info.value.field == "obs_endpoint"


def test_without_s3fs_every_way_into_obs_paths_names_the_extra(tmp_path, obs_conn):
    """Regression: the results consumer example failed with "No module named 's3fs'". fsspec's own
    lookup (the entry point), the provider's filesystem factory and ``ObjectStoragePath`` (what the
    example DAG uses) now all say which extra to install."""
    import subprocess
    import sys

    blocker = tmp_path / "sitecustomize.py"  # this interpreter, as if s3fs were not installed
    blocker.write_text("import sys\nsys.modules['s3fs'] = None\n")
    script = tmp_path / "try_obs.py"
    script.write_text(
        "import fsspec\n"
        "from airflow.sdk import ObjectStoragePath\n"
        "from airflow_provider_hwocr.fs.obs import get_fs\n"
        "for attempt in (lambda: fsspec.filesystem('obs'), lambda: get_fs(None),\n"
        "                lambda: ObjectStoragePath('obs://huaweicloud_ocr_default@b/k.json').exists()):\n"
        "    try:\n"
        "        attempt()\n"
        "    except ImportError as exc:\n"
        "        print('ERROR', exc)\n"
        "    else:\n"
        "        print('NO ERROR')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(("ERROR", "NO ERROR"))]
    assert len(lines) == 3, done.stdout + done.stderr
    assert all('pip install "airflow-provider-hwocr[obs-fs]"' in line for line in lines), lines
