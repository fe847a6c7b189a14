"""Shared by the new-object trigger tests and its bench: objects with a chosen age, and driving
``HuaweiObsNewObjectTrigger.run()`` in a real event loop, poll by poll.

moto sets ``last_modified`` to the time of the PUT; :func:`age` moves it back in moto's
in-process store (set-up only: the trigger still lists over HTTP through the real OBS SDK).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.helpers.obs_env import OBS_ACCOUNT, bulk_put


@dataclass
class Seen:
    """What the provider asked the object server: (method, path, query, bytes answered), in order."""

    requests: list[tuple[str, str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()

    def lists(self) -> list[tuple[str, int]]:
        """The listing requests (query, bytes): GETs of the bucket itself."""
        with self.lock:
            return [(q, n) for m, path, q, n in self.requests if m == "GET" and path.count("/") == 1]

    def puts(self) -> list[str]:
        with self.lock:
            return [path for m, path, _, _ in self.requests if m == "PUT"]


@contextlib.contextmanager
def listening_front() -> Iterator[tuple[str, Seen]]:
    """Another listener on the in-process moto server that records every request with its query
    and the size of its answer; yields ``(url, seen)``."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    seen = Seen()

    def app_counting(environ, start_response):
        body = b"".join(app(environ, start_response))
        with seen.lock:
            seen.requests.append(
                (
                    environ["REQUEST_METHOD"],
                    environ.get("PATH_INFO", ""),
                    environ.get("QUERY_STRING", ""),
                    len(body),
                )
            )
        return [body]

    from airflow_provider_hwocr.testing.object_server import _sigv2_always_s3

    server = make_server("127.0.0.1", 0, app_counting, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    with _sigv2_always_s3():  # moto fails a few SigV2-signed requests otherwise (see its docstring)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", seen
        finally:
            server.shutdown()
            thread.join(5)


def age(bucket: str, keys, seconds: float) -> None:
    """Make ``keys`` look uploaded ``seconds`` ago (moto keeps naive UTC times)."""
    from moto.s3.models import s3_backends

    when = (datetime.now(timezone.utc) - timedelta(seconds=seconds)).replace(tzinfo=None)
    store = s3_backends[OBS_ACCOUNT]["aws"].buckets[bucket].keys
    for key in keys:
        store[key].last_modified = when


def put_old(bucket: str, keys, seconds: float = 3600, data: bytes = b"old image") -> None:
    """Create ``keys`` as objects uploaded ``seconds`` ago."""
    keys = list(keys)
    bulk_put(bucket, keys, data)
    age(bucket, keys, seconds)


class Driver:
    """``trigger.run()`` in the running event loop, asked for one event at a time.

    Waiting for an event that does not come leaves the trigger running (its next poll goes on);
    :meth:`drop` stops it the way a killed triggerer does: no code of the trigger runs after the
    point it had reached (its watermark is not written on the way out).
    """

    def __init__(self, trigger) -> None:
        self.agen = trigger.run()
        self.pending: asyncio.Future | None = None

    async def next(self, timeout: float) -> dict[str, Any] | None:
        """The payload of the next event, or None if none came within ``timeout`` seconds."""
        if self.pending is None:
            self.pending = asyncio.ensure_future(self.agen.__anext__())
        done, _ = await asyncio.wait({self.pending}, timeout=timeout)
        if not done:
            return None
        task, self.pending = self.pending, None
        return task.result().payload

    async def drop(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
            with contextlib.suppress(BaseException):
                await self.pending
        with contextlib.suppress(Exception):
            await self.agen.aclose()


async def events_of(trigger, *, until: int, timeout: float) -> list[dict[str, Any]]:
    """Run a fresh ``trigger.run()`` until ``until`` events came or ``timeout`` passed without one;
    then drop it (see :class:`Driver`)."""
    driver = Driver(trigger)
    out: list[dict[str, Any]] = []
    try:
        while len(out) < until:
            payload = await driver.next(timeout)
            if payload is None:
                break
            out.append(payload)
    finally:
        await driver.drop()
    return out


def uris(events) -> list[str]:
    return [u for e in events for u in e["uris"]]
