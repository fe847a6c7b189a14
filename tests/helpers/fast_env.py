"""The fast object server (``testing/fast_object_server.py``) as fixtures, for tests that count
connections, add round-trip delays or need more speed than moto gives.

``fast_server``  a fresh :class:`FastObjectServer` on 127.0.0.1 (no delay); yields it.
``fast_conn``    ``huaweicloud_ocr_default`` on the OCR emulator and that server; returns the server.
``fast_bucket``  a new bucket on it; returns its name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.helpers.airflow_env import CONN_ENV, conn_json


@pytest.fixture
def fast_server() -> Iterator:
    from airflow_provider_hwocr.testing.fast_object_server import fast_object_server

    with fast_object_server() as server:
        yield server


@pytest.fixture
def fast_conn(emulator, fast_server, monkeypatch):
    from airflow_provider_hwocr.testing import object_server_extras

    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra=object_server_extras(fast_server.url)))
    return fast_server


@pytest.fixture
def fast_bucket(fast_conn) -> str:
    name = f"fast-{uuid.uuid4().hex[:12]}"
    fast_conn.create_bucket(name)
    return name


def provider_connections(server) -> int:
    """Connections the OBS SDK (the provider) opened, counted at the server."""
    return server.stats()["connections"].get("obs-sdk-python", 0)


def provider_requests(server) -> dict[str, int]:
    return server.stats()["requests"].get("obs-sdk-python", {})
