"""A real S3-compatible object server (moto, server mode) on loopback, driven by the real OBS SDK.

Fixtures:

``obs_server``  session: moto's ``ThreadedMotoServer`` on 127.0.0.1, a free port; yields its URL.
``obs_conn``    ``huaweicloud_ocr_default`` pointing at the OCR emulator *and* at that server
                (path style, S3 v2 signature, plain HTTP); returns the conn id.
``obs_bucket``  a fresh, private, uniquely named bucket; returns its name.

Helpers ``moto_front()`` (another listener on the same moto state, slowed down or
behind TLS), ``create_bucket()``, ``obs_client()`` (a plain ``obs.ObsClient`` on the server, for test set-up
that must not go through the hook under test) and ``allow_anonymous_read(bucket)``
(a bucket policy letting anyone GET objects: stands in for OCR's OBS authorization,
so the OCR emulator can fetch plain object URLs).

moto is imported here only, so it is needed by the tests and nothing else.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.helpers.airflow_env import CONN_ENV, conn_json

#: Account that owns the buckets the tests create (moto's default account).
OBS_ACCOUNT = "123456789012"

_server_url: str | None = None


def obs_client(server: str | None = None, **overrides):
    """A plain SDK client on the local object server, with the test AK/SK."""
    from obs import ObsClient

    from tests.helpers.constants import AK, SK

    options = {
        "access_key_id": AK,
        "secret_access_key": SK,
        "server": server or _server_url,
        "signature": "v2",
        "path_style": True,
        "is_secure": False,
        "max_retry_count": 0,
    }
    options.update(overrides)
    return ObsClient(**options)


def create_bucket(name: str | None = None, *, account: str | None = None) -> str:
    """Create a bucket on the server (in another moto account when ``account`` is given)."""
    name = name or f"hwocr-{uuid.uuid4().hex[:16]}"
    client = obs_client()
    try:
        headers = {"x-moto-account-id": account} if account else None
        resp = client.createBucket(name, extensionHeaders=headers)
        assert resp.status < 300, (resp.status, resp.errorCode, resp.errorMessage)
    finally:
        client.close()
    return name


def bulk_put(bucket: str, keys, data: bytes = b"x") -> None:
    """Create many objects fast, straight in moto's in-process store (set-up only).

    Over HTTP each PUT costs ~7 ms here (client and server share one GIL, so
    threads do not help); the code under test still reads them over HTTP.
    """
    from moto.s3.models import s3_backends

    backend = s3_backends[OBS_ACCOUNT]["aws"]
    for key in keys:
        backend.put_object(bucket, key, data)


def allow_anonymous_read(bucket: str) -> None:
    """Let anyone GET the bucket's objects (what OCR's OBS authorization grants on Huawei Cloud)."""
    from airflow_provider_hwocr.testing import anonymous_read_policy

    policy = anonymous_read_policy(bucket)
    client = obs_client()
    try:
        resp = client.setBucketPolicy(bucket, policy)
        assert resp.status < 300, (resp.status, resp.errorCode)
    finally:
        client.close()


@contextmanager
def moto_front(*, delay: float = 0.0, ssl_context=None, waits: list | None = None) -> Iterator[str]:
    """One more listener on the same in-process moto state: slowed down and/or behind TLS.

    ``delay`` seconds are spent before every answer (to show who blocks while
    waiting), each wait appended to ``waits`` as its ``(start, end)`` on
    :func:`time.monotonic`; ``ssl_context`` (cert, key paths) serves HTTPS. Yields its URL.
    """
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)

    def slow_app(environ, start_response):
        if delay:
            start = time.monotonic()
            time.sleep(delay)
            if waits is not None:
                waits.append((start, time.monotonic()))
        return app(environ, start_response)

    server = make_server(
        "127.0.0.1", 0, slow_app, threaded=True, request_handler=MotoRequestHandler, ssl_context=ssl_context
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="session")
def obs_server() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 and a free port; yields ``http://127.0.0.1:PORT``."""
    global _server_url
    from airflow_provider_hwocr.testing import local_object_server

    with local_object_server() as url:
        _server_url = url
        try:
            yield _server_url
        finally:
            _server_url = None


@pytest.fixture
def obs_conn(emulator, obs_server, monkeypatch) -> str:
    """``huaweicloud_ocr_default`` for both the OCR emulator and the object server; returns the conn id."""
    monkeypatch.setenv(
        CONN_ENV,
        conn_json(
            emulator,
            extra={
                "obs_endpoint": obs_server,
                "obs_path_style": True,
                "obs_signature": "sigv2",  # the long spelling: no "too short" masker warning
                "verify": False,
            },
        ),
    )
    return "huaweicloud_ocr_default"


@pytest.fixture
def obs_bucket(obs_conn) -> str:
    """A new empty private bucket, named uniquely for this test."""
    return create_bucket()
