"""``seen``: the default connection with its OBS side through a listener that records every request."""

from __future__ import annotations

import pytest

from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.r_watch import listening_front


@pytest.fixture
def seen(emulator, obs_server, obs_bucket, monkeypatch):
    with listening_front() as (url, recorder):
        extra = {"obs_endpoint": url, "obs_path_style": True, "obs_signature": "sigv2", "verify": False}
        monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra=extra))
        yield recorder
