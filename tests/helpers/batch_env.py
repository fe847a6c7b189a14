"""Shared by the batch tests: a counting listener on the object server and batch helpers.

Object-server requests are counted where they arrive: a listener on the same in-process
moto state. The emulator's own downloads of signed URLs are told apart by their
User-Agent, so only the provider's requests are counted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

import pytest

from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.images import png

SLUG = "general-text"
PNG = png((120, 60), "scan")


class RequestCounter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []  # (method, path) of the provider's requests

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()

    def by_method(self) -> Counter[str]:
        with self.lock:
            return Counter(m for m, _ in self.requests)

    @property
    def total(self) -> int:
        with self.lock:
            return len(self.requests)

    def writes(self) -> int:
        return sum(n for m, n in self.by_method().items() if m in ("PUT", "POST", "DELETE"))


@contextmanager
def counting_front() -> Iterator[tuple[str, RequestCounter]]:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    counter = RequestCounter()

    def counting_app(environ, start_response):
        if environ.get("HTTP_USER_AGENT") != "hwocr-emulator":
            with counter.lock:
                counter.requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, counting_app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", counter
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def counted(emulator, obs_server, obs_bucket, monkeypatch):
    """The default connection, its OBS side through a counting listener; yields the counter."""
    with counting_front() as (url, counter):
        monkeypatch.setenv(
            CONN_ENV,
            conn_json(
                emulator,
                extra={"obs_endpoint": url, "obs_path_style": True, "obs_signature": "v2", "verify": False},
            ),
        )
        yield counter


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


def manifest_of(obs, output_uri, api=SLUG, **shard):
    from airflow_provider_hwocr.client.sources import parse_obs_uri
    from airflow_provider_hwocr.operators.batch import latest_manifest_uri

    loc = parse_obs_uri(latest_manifest_uri(output_uri, api, **shard))
    return obs.get_json(loc.bucket, loc.key)


def make_batch(bucket, **kwargs):
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    settings = {
        "task_id": "batch",
        "api": SLUG,
        "source_uri": f"obs://{bucket}/day/",
        "output_uri": f"obs://{bucket}/ocr/",
        "max_concurrency": 8,
        "qps": None,
        "progress_interval": 1.0,
    }
    settings.update(kwargs)
    return HuaweiOcrBatchOperator(**settings)


def called_keys(emulator) -> Counter[str]:
    """How often each source key was sent (signed URL mode: from the URL the emulator got)."""
    out: Counter[str] = Counter()
    for call in emulator.calls(SLUG):
        url = (call.body or {}).get("url")
        if url:
            out[unquote(urlsplit(url).path).split("/", 2)[2]] += 1
    return out


_KILLED_BATCH = """
import sys
from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
HuaweiOcrBatchOperator(
    task_id="batch", api="general-text", source_uri=sys.argv[1], output_uri=sys.argv[2],
    max_concurrency=4, qps=None, checkpoint_every=10, checkpoint_interval=0.5,
).execute({})
"""


def kill_batch_after(bucket: str, emulator, tmp_path, calls: float, *, timeout: float = 120) -> None:
    """Run a batch over ``day/`` into ``ocr/`` in a child process (as a worker's task runs) and
    SIGKILL it once the emulator has had ``calls`` calls; then let the calls in flight land."""
    script = tmp_path / "batch.py"
    script.write_text(textwrap.dedent(_KILLED_BATCH))
    proc = subprocess.Popen(
        [sys.executable, str(script), f"obs://{bucket}/day/", f"obs://{bucket}/ocr/"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while emulator.count(SLUG) < calls and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the batch finished (or died) before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.3)  # calls in flight at the kill reach the emulator's log
