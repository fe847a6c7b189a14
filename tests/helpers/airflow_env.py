"""Airflow test environment: a throwaway AIRFLOW_HOME and fixtures for connections.

Imported by ``conftest.py`` before anything imports Airflow, because Airflow
reads its configuration once, at import time.
"""

from __future__ import annotations

import atexit
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

import pytest

from tests.helpers.paths import REPO

_HOME = tempfile.mkdtemp(prefix="hwocr-airflow-home-")
atexit.register(shutil.rmtree, _HOME, True)

# Never touch a developer's own Airflow installation or database.
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "example_dags")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME}/airflow.db"
os.environ.pop("AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT", None)

CONN_ENV = "AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"


def conn_json(emulator, **overrides) -> str:
    """A huaweicloud_ocr connection (AK/SK) pointing at the emulator."""
    from tests.helpers.constants import AK, PROJECT_ID, REGION, SK

    conn = {
        "conn_type": "huaweicloud_ocr",
        "login": AK,
        "password": SK,
        "extra": {
            "region": REGION,
            "project_id": PROJECT_ID,
            "endpoint": emulator.url,
            "iam_endpoint": emulator.url,
            "max_retries": 2,
        },
    }
    extra = overrides.pop("extra", {})
    conn.update(overrides)
    conn["extra"].update(extra)
    conn["extra"] = {k: v for k, v in conn["extra"].items() if v is not None}
    return json.dumps(conn)


@pytest.fixture
def ocr_conn(emulator, monkeypatch) -> str:
    """Point ``huaweicloud_ocr_default`` at the emulator; returns the conn id."""
    monkeypatch.setenv(CONN_ENV, conn_json(emulator))
    return "huaweicloud_ocr_default"


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """Create the throwaway metadata database once (needed by dag.test())."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return _HOME


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture
def image_server(tmp_path):
    """Serve ``tmp_path`` over HTTP on 127.0.0.1; yields (base_url, directory)."""
    handler = lambda *a, **kw: _QuietHandler(*a, directory=str(tmp_path), **kw)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


def rearm_short_secret_warning(monkeypatch) -> None:
    """The masker warns about a too-short value once per process: re-arm it for this test."""
    import importlib

    for name in (
        "airflow.sdk._shared.secrets_masker.secrets_masker",
        "airflow._shared.secrets_masker.secrets_masker",
    ):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        monkeypatch.setattr(module.SecretsMasker, "_has_warned_short_secret", False, raising=False)
