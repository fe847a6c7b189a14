"""A fast S3-compatible object server on 127.0.0.1, for benchmarks and tests (never used at run time).

moto costs about 6.4 ms of server CPU per image (a PUT and the OCR service's GET), which caps
a benchmark at roughly 110 images/s on two cores: it measures moto, not the provider. This
server keeps objects in memory and speaks just enough of the protocol for the provider, the
OBS SDK and the OCR emulator's URL downloads, at well under 1 ms per image:

* path-style addresses only (``http://127.0.0.1:PORT/bucket/key``); no signature check;
* buckets: ``PUT`` (create), ``HEAD``, ``GET ?`` (ListObjects v1: ``prefix``, ``marker``,
  ``max-keys``, ``delimiter``, ``encoding-type=url``), ``POST ?delete`` (multi-object
  delete), ``PUT ?policy`` (accepted, not enforced: every object is readable);
* objects: ``PUT`` (``Content-MD5`` checked, user metadata kept as sent), ``GET``, ``HEAD``,
  ``DELETE``; ETags are MD5s, as for a plain PUT on OBS;
* HTTP/1.1 keep-alive (``Connection: close`` honoured), ``Transfer-Encoding: chunked``
  request bodies.

Knobs that model a real OBS round trip from the task's machine: ``delay`` seconds before
every answer and ``connect_delay`` more before the first answer on a new connection (a
TLS handshake); requests whose ``User-Agent`` starts with one of ``exempt_agents`` (the OCR
emulator's downloads: the service fetching from OBS inside the cloud) are neither delayed
nor counted as the provider's. ``idle_timeout`` closes connections idle that long, as
servers do, so a client's stale pooled connections can be tested.

Counters (:meth:`FastObjectServer.stats`): requests by agent and method, connections by
agent (the agent of a connection's first request), bytes in and out (and request bodies
written by ``PUT`` and ``POST``), and the time of the
first and last ``PUT`` per agent. A server in another process is driven over HTTP through
``/_fast/*`` control paths (never counted or delayed): ``GET /_fast/stats``,
``POST /_fast/reset``, ``POST /_fast/config?delay=&connect_delay=``, ``GET /_fast/puts?prefix=``
(how many objects under ``bucket/prefix`` were PUT, first and last time),
``POST /_fast/fill?bucket=&prefix=&n=`` (the body is stored ``n`` times, keys
``{prefix}img{i:06d}.png``). :func:`serve` runs one until killed (the benchmarks start it in a
child process).

**Conditional writes**: a ``PUT`` with ``If-None-Match: *`` is refused (412) when the object exists,
one with ``If-Match: <etag>`` when it is missing or has another ETag, as S3 does
(``conditional="ignore"`` ignores both headers, as a store without them might; ``"refuse"``
answers them 501 ``NotImplemented``, as some do).

**Faults** (the provider's requests only: exempt agents never see them), each decided before the
request is applied, so a refused write writes nothing:

* :meth:`FastObjectServer.add_fault`: the next ``count`` requests (``None``: every one) whose
  method is one of ``methods`` and whose ``bucket/key`` matches the regular expression ``pattern``
  (and, with ``body``, whose body matches that: one writer's requests) wait ``delay`` more
  seconds and are answered ``status`` (503 ``SlowDown``, 500 ``InternalError``, 403
  ``AccessDenied``, ...; ``0``: answered normally, only late). The OBS SDK retries a 5xx after
  0.2, 0.4 and 0.8 s, so three 503s on one run's writes of a lease make its first write land
  about 1.4 s late;
* :meth:`FastObjectServer.refuse_writes`: every write to keys matching ``pattern`` refused;
* :meth:`FastObjectServer.write_outage`: every write (``PUT``, ``POST``) answered 503 for the next
  ``seconds``;
* :meth:`FastObjectServer.faults`: what is armed and how often each fault answered;
  :meth:`FastObjectServer.clear_faults` disarms them all.

Over HTTP: ``POST /_fast/fault?pattern=&methods=PUT,GET&status=&count=&delay=&body=`` (``count``
left out or ``all``: every request), ``POST /_fast/outage?seconds=&status=&methods=``,
``GET /_fast/faults``, ``POST /_fast/faults/clear``; ``POST /_fast/config?conditional=``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import threading
import time
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

__all__ = ["FastObjectServer", "fast_object_server", "serve"]

_XML = "application/xml"
_MAX_KEYS = 1000
_MAX_PUT_LOG = 500_000
_DELETE_KEY_RE = re.compile(rb"<Key>(.*?)</Key>", re.DOTALL)
#: Query keys of a bucket PUT that set a sub-resource (not create the bucket).
_PUT_SUBRESOURCES = frozenset({"policy", "acl", "cors", "tagging"})
#: Query keys of a bucket GET that read a sub-resource (not list the objects).
_GET_SUBRESOURCES = frozenset({"location", "policy", "acl", "versioning"})
_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}
#: The error code a fault answers with, by status (others: ``InjectedFault``).
_FAULT_CODES = {
    400: "InvalidRequest",
    403: "AccessDenied",
    404: "NoSuchKey",
    500: "InternalError",
    503: "SlowDown",
}
#: Methods that write: what a write outage refuses.
_WRITES = ("PUT", "POST")
#: How conditional writes are treated (see the module).
CONDITIONAL_MODES = ("honour", "ignore", "refuse")


@dataclass
class _Fault:
    """One armed fault (see :meth:`FastObjectServer.add_fault`)."""

    pattern: re.Pattern[str]
    methods: frozenset[str]
    status: int
    #: Requests it still answers; ``None``: every matching request.
    left: int | None
    delay: float
    #: Only requests whose body matches it (``None``: any).
    body: re.Pattern[bytes] | None = None
    hits: int = 0

    def matches(self, method: str, where: str, body: bytes) -> bool:
        if self.left is not None and self.left <= 0:
            return False
        if method not in self.methods or not self.pattern.search(where):
            return False
        return self.body is None or bool(self.body.search(body))

    def describe(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern.pattern,
            "methods": sorted(self.methods),
            "status": self.status,
            "left": self.left,
            "delay": self.delay,
            "body": None if self.body is None else self.body.pattern.decode("utf-8", "replace"),
            "hits": self.hits,
        }


class _Object:
    __slots__ = ("content_type", "data", "etag", "meta", "modified")

    def __init__(self, data: bytes, content_type: str, meta: list[tuple[str, str]]) -> None:
        self.data = data
        self.etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        self.content_type = content_type
        self.meta = meta
        self.modified = time.time()


class _Bucket:
    def __init__(self) -> None:
        self.objects: dict[str, _Object] = {}
        self._sorted: list[str] | None = []

    def put(self, key: str, obj: _Object) -> None:
        if key not in self.objects:
            self._sorted = None
        self.objects[key] = obj

    def delete(self, key: str) -> None:
        if self.objects.pop(key, None) is not None:
            self._sorted = None

    def keys(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self.objects)
        return self._sorted


class _Response:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> None:
        self.status = status
        self.headers = headers or []
        self.body = body


def _error(status: int, code: str, message: str, resource: str = "") -> _Response:
    request_id = uuid.uuid4().hex[:16]
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{escape(message)}</Message>'
        f"<Resource>{escape(resource)}</Resource><RequestId>{request_id}</RequestId></Error>"
    ).encode()
    return _Response(status, [("Content-Type", _XML), ("x-amz-request-id", request_id)], body)


def _agent_of(headers: dict[str, str]) -> str:
    """The agent family of a request: its User-Agent up to the first ``/`` or space."""
    agent = headers.get("user-agent", "") or "-"
    return re.split(r"[/ ]", agent, maxsplit=1)[0] or "-"


class FastObjectServer:
    """An in-memory S3-compatible server on an asyncio loop in a thread of its own (see the module)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        connect_delay: float = 0.0,
        exempt_agents: tuple[str, ...] = ("hwocr-emulator",),
        idle_timeout: float | None = None,
        conditional: str = "honour",
    ) -> None:
        if host != "127.0.0.1":
            raise ValueError("the fast object server listens on 127.0.0.1 only")
        if conditional not in CONDITIONAL_MODES:
            raise ValueError(f"conditional: one of {CONDITIONAL_MODES}, got {conditional!r}")
        self.conditional = conditional
        self._faults: list[_Fault] = []
        self._outage: tuple[float, int, frozenset[str]] | None = None  # (until, status, methods)
        self._outage_hits = 0
        self.host = host
        self.port = port
        self.delay = delay
        self.connect_delay = connect_delay
        self.exempt_agents = exempt_agents
        self.idle_timeout = idle_timeout
        self.buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._open: set[_Connection] = set()
        self.reset_stats()

    # --- life cycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Start serving in a daemon thread; returns the URL."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    loop.create_server(lambda: _Connection(self), self.host, self.port, backlog=512)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            self._server.close()
            for conn in list(self._open):
                conn.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"fast-object-server:{self.port}", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        return self.url

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> FastObjectServer:  # noqa: PYI034 - not subclassed
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- set-up and counters ------------------------------------------------------------

    def create_bucket(self, name: str) -> None:
        with self._lock:
            self.buckets.setdefault(name, _Bucket())

    def put_object(self, bucket: str, key: str, data: bytes, content_type: str = "image/png") -> None:
        """Store an object directly (set-up: no request, not counted)."""
        with self._lock:
            self.buckets.setdefault(bucket, _Bucket()).put(key, _Object(data, content_type, []))

    def fill(self, bucket: str, prefix: str, n: int, data: bytes) -> None:
        """``n`` objects ``{prefix}img{i:06d}.png`` holding ``data`` (set-up: not counted)."""
        with self._lock:
            target = self.buckets.setdefault(bucket, _Bucket())
            for i in range(n):
                target.put(f"{prefix}img{i:06d}.png", _Object(data, "image/png", []))

    def reset_stats(self) -> None:
        with self._lock:
            self._requests: dict[str, dict[str, int]] = {}
            self._connections: dict[str, int] = {}
            self._bytes = {"in": 0, "out": 0, "written": 0}  # written: bodies of PUT and POST requests
            self._puts: dict[str, list[float]] = {}
            self._put_log: list[tuple[float, str]] = []  # (time, "bucket/key") of each object PUT

    def stats(self) -> dict[str, Any]:
        """Requests by agent and method, connections by agent, bytes in/out, first/last PUT times."""
        with self._lock:
            return {
                "requests": {a: dict(m) for a, m in self._requests.items()},
                "connections": dict(self._connections),
                "bytes": dict(self._bytes),
                "puts": {a: list(t) for a, t in self._puts.items()},
                "open_connections": len(self._open),
            }

    def put_times(self, prefix: str) -> dict[str, Any]:
        """How many objects whose ``bucket/key`` starts with ``prefix`` were PUT, and when the first and last were."""
        with self._lock:
            times = [t for t, where in self._put_log if where.startswith(prefix)]
        return {"count": len(times), "first": min(times, default=None), "last": max(times, default=None)}

    def _count(
        self, agent: str, method: str, size_in: int, size_out: int, first: bool, body_size: int = 0
    ) -> None:
        with self._lock:
            by_method = self._requests.setdefault(agent, {})
            by_method[method] = by_method.get(method, 0) + 1
            if first:
                self._connections[agent] = self._connections.get(agent, 0) + 1
            self._bytes["in"] += size_in
            self._bytes["out"] += size_out
            if method in ("PUT", "POST"):
                self._bytes["written"] += body_size
            if method == "PUT":
                now = time.time()
                times = self._puts.setdefault(agent, [now, now])
                times[1] = now

    def exempt(self, agent: str) -> bool:
        return any(agent.startswith(a) for a in self.exempt_agents)

    # --- faults ---------------------------------------------------------------------------

    def add_fault(
        self,
        pattern: str,
        *,
        methods: tuple[str, ...] | str = ("PUT",),
        status: int = 503,
        count: int | None = 1,
        delay: float = 0.0,
        body: str | None = None,
    ) -> None:
        """The next ``count`` requests (``None``: all) of ``methods`` to a ``bucket/key`` matching
        ``pattern`` (and with a body matching ``body``, when given: one writer's requests) wait ``delay``
        seconds more and are answered ``status`` (0: answered normally)."""
        if count is not None and count < 1:
            raise ValueError(f"count: at least 1 (or None for every request), got {count!r}")
        if status and not 400 <= status <= 599:
            raise ValueError(f"status: an error status (400-599) or 0, got {status!r}")
        names = methods.split(",") if isinstance(methods, str) else methods
        fault = _Fault(
            re.compile(pattern),
            frozenset(m.strip().upper() for m in names if m.strip()),
            status,
            count,
            delay,
            None if body is None else re.compile(body.encode("utf-8")),
        )
        with self._lock:
            self._faults.append(fault)

    def refuse_writes(self, pattern: str, *, status: int = 403) -> None:
        """Refuse every write (``PUT``, ``POST``) to a ``bucket/key`` matching ``pattern``, on every try."""
        self.add_fault(pattern, methods=_WRITES, status=status, count=None)

    def write_outage(self, seconds: float, *, status: int = 503, methods: tuple[str, ...] = _WRITES) -> None:
        """Answer every write ``status`` for the next ``seconds`` (reads are served)."""
        with self._lock:
            self._outage = (time.monotonic() + seconds, status, frozenset(m.upper() for m in methods))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = []
            self._outage = None
            self._outage_hits = 0

    def faults(self) -> dict[str, Any]:
        """The armed faults (with how often each answered) and the outage, if any."""
        with self._lock:
            outage = self._outage
            return {
                "faults": [f.describe() for f in self._faults],
                "outage": None
                if outage is None
                else {"left": max(outage[0] - time.monotonic(), 0.0), "status": outage[1]},
                "outage_hits": self._outage_hits,
            }

    def _fault_for(self, method: str, target: str, body: bytes = b"") -> tuple[_Response | None, float]:
        """(the answer a fault gives instead of the real one, or ``None``; its extra delay)."""
        where = unquote(urlsplit(target).path).lstrip("/")
        with self._lock:
            outage = self._outage
            if outage is not None and time.monotonic() < outage[0] and method in outage[2]:
                self._outage_hits += 1
                return _fault_error(outage[1], where), 0.0
            for fault in self._faults:
                if fault.matches(method, where, body):
                    fault.hits += 1
                    if fault.left is not None:
                        fault.left -= 1
                    return (_fault_error(fault.status, where) if fault.status else None), fault.delay
        return None, 0.0

    # --- the protocol ---------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Response:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = unquote(parts.path)
        if path.startswith("/_fast/"):
            return self._control(method, path, query, body)
        bucket_name, _, key = path.lstrip("/").partition("/")
        if not bucket_name:
            return _error(400, "InvalidRequest", "path-style addresses only: /bucket/key")
        with self._lock:
            bucket = self.buckets.get(bucket_name)
            if key:
                return self._object(method, bucket, bucket_name, key, headers, body)
            return self._bucket(method, bucket, bucket_name, query, body)

    def _bucket(
        self, method: str, bucket: _Bucket | None, name: str, query: dict[str, str], body: bytes
    ) -> _Response:
        if method == "PUT" and not (_PUT_SUBRESOURCES & set(query)):
            if bucket is not None:
                return _error(409, "BucketAlreadyOwnedByYou", "the bucket exists", name)
            self.buckets[name] = _Bucket()
            return _Response(200, [("Location", f"/{name}")])
        if bucket is None:
            return _not_found(method, "NoSuchBucket", "no such bucket", name)
        answer = self._on_bucket(method, bucket, name, query, body)
        if answer is None:
            return _error(501, "NotImplemented", f"{method} on a bucket with {sorted(query)}", name)
        return answer

    def _on_bucket(
        self, method: str, bucket: _Bucket, name: str, query: dict[str, str], body: bytes
    ) -> _Response | None:
        """A request on a bucket that exists (other than creating it); None if it is not supported."""
        if method == "HEAD":
            return _Response(200)
        if method == "PUT":
            return _Response(204)  # policy and the like: accepted, not enforced
        if method == "GET" and not (_GET_SUBRESOURCES & set(query)):
            return self._list(bucket, name, query)
        if method == "POST" and "delete" in query:
            for raw in _DELETE_KEY_RE.findall(body):
                bucket.delete(_unescape(raw.decode("utf-8")))
            return _Response(200, [("Content-Type", _XML)], b'<?xml version="1.0"?><DeleteResult/>')
        if method == "DELETE":
            if bucket.objects:
                return _error(409, "BucketNotEmpty", "the bucket is not empty", name)
            del self.buckets[name]
            return _Response(204)
        return None

    def _object(
        self, method: str, bucket: _Bucket | None, name: str, key: str, headers: dict[str, str], body: bytes
    ) -> _Response:
        if bucket is None:
            return _not_found(method, "NoSuchBucket", "no such bucket", name)
        if method == "PUT":
            return self._put(bucket, name, key, headers, body)
        if method == "DELETE":
            bucket.delete(key)
            return _Response(204)
        if method not in ("GET", "HEAD"):
            return _error(405, "MethodNotAllowed", method, key)
        found = bucket.objects.get(key)
        if found is None:
            return _not_found(method, "NoSuchKey", "no such key", key)
        out = [
            ("Content-Type", found.content_type),
            ("ETag", f'"{found.etag}"'),
            ("Last-Modified", formatdate(found.modified, usegmt=True)),
            *found.meta,
        ]
        if method == "HEAD":
            out.append(("Content-Length", str(len(found.data))))
            return _Response(200, out)
        return _Response(200, out, found.data)

    def _put(self, bucket: _Bucket, name: str, key: str, headers: dict[str, str], body: bytes) -> _Response:
        """Store an object: its body (checked against ``Content-MD5``), type and user metadata; or a
        copy of another object (``x-amz-copy-source`` / ``x-obs-copy-source``: ``/bucket/key``)."""
        source = headers.get("x-amz-copy-source") or headers.get("x-obs-copy-source")
        if source is not None:
            return self._copy(bucket, name, key, unquote(source))
        md5 = headers.get("content-md5")
        if md5 and base64.b64decode(md5) != hashlib.md5(body, usedforsecurity=False).digest():
            return _error(400, "BadDigest", "the Content-MD5 does not match the body", key)
        refused = self._precondition(bucket.objects.get(key), headers, key)
        if refused is not None:
            return refused
        meta = [(k, v) for k, v in headers.items() if k.startswith(("x-amz-meta-", "x-obs-meta-"))]
        obj = self._store(
            bucket, name, key, _Object(body, headers.get("content-type", "application/octet-stream"), meta)
        )
        return _Response(200, [("ETag", f'"{obj.etag}"')])

    def _store(self, bucket: _Bucket, name: str, key: str, obj: _Object) -> _Object:
        """``obj`` under ``key``, its write logged (for the PUT times a bench asks for)."""
        bucket.put(key, obj)
        if len(self._put_log) < _MAX_PUT_LOG:
            self._put_log.append((obj.modified, f"{name}/{key}"))
        return obj

    def _copy(self, bucket: _Bucket, name: str, key: str, source: str) -> _Response:
        """A server-side copy: the source's bytes, type and user metadata under ``key`` (no body sent)."""
        src_bucket, _, src_key = source.lstrip("/").partition("/")
        found = self.buckets.get(src_bucket)
        if found is None:
            return _not_found("PUT", "NoSuchBucket", "no such bucket", src_bucket)
        original = found.objects.get(src_key)
        if original is None:
            return _not_found("PUT", "NoSuchKey", "no such key", src_key)
        obj = self._store(
            bucket, name, key, _Object(original.data, original.content_type, list(original.meta))
        )
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult><LastModified>'
            f"{time.strftime('%Y-%m-%dT%H:%M:%S.000Z', time.gmtime(obj.modified))}</LastModified>"
            f'<ETag>"{obj.etag}"</ETag></CopyObjectResult>'
        )
        return _Response(200, [("Content-Type", _XML), ("ETag", f'"{obj.etag}"')], xml.encode("utf-8"))

    def _precondition(self, current: _Object | None, headers: dict[str, str], key: str) -> _Response | None:
        """A conditional write's refusal (``If-None-Match: *``, ``If-Match: <etag>``), or ``None``."""
        none_match, match = headers.get("if-none-match"), headers.get("if-match")
        if (none_match is None and match is None) or self.conditional == "ignore":
            return None
        if self.conditional == "refuse":
            return _error(501, "NotImplemented", "conditional writes are not implemented", key)
        why = _unmet(current, none_match, match)
        return None if why is None else _error(412, "PreconditionFailed", why, key)

    def _list(self, bucket: _Bucket, name: str, query: dict[str, str]) -> _Response:
        try:
            listing = _Listing.of(query)
        except ValueError:
            return _error(400, "InvalidArgument", "max-keys must be an integer")
        page = listing.page(bucket.keys())
        return _Response(200, [("Content-Type", _XML)], listing.xml(bucket, name, page).encode("utf-8"))

    # --- control paths (another process drives the server over HTTP) ------------------------

    def _control(self, method: str, path: str, query: dict[str, str], body: bytes) -> _Response:
        takes, answer = _CONTROLS.get(path, ("", None))
        if answer is None or takes not in (None, method):
            return _error(404, "NoSuchControl", path)
        return answer(self, query, body)

    def _control_stats(self, query: dict[str, str], body: bytes) -> _Response:
        return _json_response(self.stats())

    def _control_puts(self, query: dict[str, str], body: bytes) -> _Response:
        return _json_response(self.put_times(query.get("prefix", "")))

    def _control_reset(self, query: dict[str, str], body: bytes) -> _Response:
        self.reset_stats()
        return _Response(204)

    def _control_config(self, query: dict[str, str], body: bytes) -> _Response:
        if "delay" in query:
            self.delay = float(query["delay"])
        if "connect_delay" in query:
            self.connect_delay = float(query["connect_delay"])
        if "conditional" in query:
            if query["conditional"] not in CONDITIONAL_MODES:
                return _error(400, "InvalidArgument", f"conditional: one of {CONDITIONAL_MODES}")
            self.conditional = query["conditional"]
        return _Response(204)

    def _control_fault(self, query: dict[str, str], body: bytes) -> _Response:
        count = query.get("count", "all")
        try:
            self.add_fault(
                query["pattern"],
                methods=query.get("methods", "PUT"),
                status=int(query.get("status", 503)),
                count=None if count in ("", "all") else int(count),
                delay=float(query.get("delay", 0.0)),
                body=query.get("body"),
            )
        except (KeyError, ValueError, re.error) as exc:
            return _error(400, "InvalidArgument", f"{type(exc).__name__}: {exc}")
        return _Response(204)

    def _control_outage(self, query: dict[str, str], body: bytes) -> _Response:
        methods = tuple(m for m in query.get("methods", ",".join(_WRITES)).upper().split(",") if m)
        self.write_outage(float(query["seconds"]), status=int(query.get("status", 503)), methods=methods)
        return _Response(204)

    def _control_faults(self, query: dict[str, str], body: bytes) -> _Response:
        return _json_response(self.faults())

    def _control_clear_faults(self, query: dict[str, str], body: bytes) -> _Response:
        self.clear_faults()
        return _Response(204)

    def _control_fill(self, query: dict[str, str], body: bytes) -> _Response:
        self.fill(query["bucket"], query.get("prefix", ""), int(query["n"]), body)
        return _Response(204)

    def _control_bucket(self, query: dict[str, str], body: bytes) -> _Response:
        self.create_bucket(query["bucket"])
        return _Response(204)


#: Control path -> (the method it takes, None for any; what answers it).
_CONTROLS: dict[str, tuple[str | None, Callable[[FastObjectServer, dict[str, str], bytes], _Response]]] = {
    "/_fast/stats": (None, FastObjectServer._control_stats),
    "/_fast/puts": (None, FastObjectServer._control_puts),
    "/_fast/reset": ("POST", FastObjectServer._control_reset),
    "/_fast/config": ("POST", FastObjectServer._control_config),
    "/_fast/fill": ("POST", FastObjectServer._control_fill),
    "/_fast/bucket": ("POST", FastObjectServer._control_bucket),
    "/_fast/fault": ("POST", FastObjectServer._control_fault),
    "/_fast/outage": ("POST", FastObjectServer._control_outage),
    "/_fast/faults": ("GET", FastObjectServer._control_faults),
    "/_fast/faults/clear": ("POST", FastObjectServer._control_clear_faults),
}


def _fault_error(status: int, where: str) -> _Response:
    code = _FAULT_CODES.get(status, "InjectedFault")
    return _error(status, code, f"injected fault: HTTP {status}", where)


def _unmet(current: _Object | None, none_match: str | None, match: str | None) -> str | None:
    """Why a conditional write's condition is not met, or ``None`` when it is."""
    if none_match is not None and none_match.strip() == "*" and current is not None:
        return "the object exists (If-None-Match: *)"
    if match is not None and (current is None or _bare_etag(match) != current.etag):
        return "the object's ETag is not the one given (If-Match)"
    return None


def _bare_etag(value: str) -> str:
    """An ETag as given in ``If-Match`` (quoted or not, percent-encoded or not), bare."""
    return unquote(value).strip().strip('"')


def _json_response(payload: Any) -> _Response:
    return _Response(200, [("Content-Type", "application/json")], json.dumps(payload).encode())


def _not_found(method: str, code: str, message: str, resource: str) -> _Response:
    """404: with an error document, except to a HEAD (no body)."""
    return _Response(404) if method == "HEAD" else _error(404, code, message, resource)


@dataclass(frozen=True)
class _Page:
    """One page of a bucket listing: keys, common prefixes, whether more follow, the last entry."""

    keys: list[str]
    prefixes: list[str]
    truncated: bool
    last: str


@dataclass(frozen=True)
class _Listing:
    """A ListObjects (v1) request: ``prefix``, ``marker``, ``delimiter``, ``max-keys``, ``encoding-type``."""

    prefix: str
    marker: str
    delimiter: str
    max_keys: int
    url_encoded: bool

    @classmethod
    def of(cls, query: dict[str, str]) -> _Listing:
        """The request a query asks for; ``ValueError`` if ``max-keys`` is not an integer."""
        return cls(
            prefix=query.get("prefix", ""),
            marker=query.get("marker", ""),
            delimiter=query.get("delimiter", ""),
            max_keys=max(0, min(_MAX_KEYS, int(query.get("max-keys", _MAX_KEYS)))),
            url_encoded=query.get("encoding-type") == "url",
        )

    def page(self, keys: list[str]) -> _Page:
        """The entries of sorted ``keys`` this request lists; keys under a common prefix are one entry."""
        prefix, delimiter = self.prefix, self.delimiter
        start = max(bisect_left(keys, prefix), bisect_right(keys, self.marker) if self.marker else 0)
        contents: list[str] = []
        prefixes: list[str] = []
        last = ""
        i = start
        while i < len(keys) and keys[i].startswith(prefix):
            key = keys[i]
            if len(contents) + len(prefixes) >= self.max_keys:
                return _Page(contents, prefixes, True, last)
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                last = key[: cut + len(delimiter)]
                prefixes.append(last)
                i = bisect_right(keys, last + "\U0010ffff")  # past everything under it
            else:
                contents.append(key)
                last = key
                i += 1
        return _Page(contents, prefixes, False, last)

    def encode(self, text: str) -> str:
        return quote(text, safe="/") if self.url_encoded else escape(text)

    def xml(self, bucket: _Bucket, name: str, page: _Page) -> str:
        enc = self.encode
        xml = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
            f"<Name>{escape(name)}</Name><Prefix>{enc(self.prefix)}</Prefix><Marker>{enc(self.marker)}</Marker>",
            f"<MaxKeys>{self.max_keys}</MaxKeys>",
        ]
        if self.delimiter:
            xml.append(f"<Delimiter>{enc(self.delimiter)}</Delimiter>")
        if self.url_encoded:
            xml.append("<EncodingType>url</EncodingType>")
        xml.append(f"<IsTruncated>{'true' if page.truncated else 'false'}</IsTruncated>")
        if page.truncated:
            xml.append(f"<NextMarker>{enc(page.last)}</NextMarker>")
        xml.extend(_contents_xml(key, bucket.objects[key], enc) for key in page.keys)
        xml.extend(
            f"<CommonPrefixes><Prefix>{enc(common)}</Prefix></CommonPrefixes>" for common in page.prefixes
        )
        xml.append("</ListBucketResult>")
        return "".join(xml)


def _contents_xml(key: str, obj: _Object, enc: Callable[[str], str]) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(obj.modified))
    return (
        f"<Contents><Key>{enc(key)}</Key><LastModified>{stamp}.{int(obj.modified * 1000) % 1000:03d}Z"
        f'</LastModified><ETag>"{obj.etag}"</ETag><Size>{len(obj.data)}</Size>'
        "<StorageClass>STANDARD</StorageClass></Contents>"
    )


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    import html

    return html.unescape(text)


class _Connection(asyncio.Protocol):
    """One client connection: requests parsed from the stream, answered in order."""

    def __init__(self, server: FastObjectServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.first = True
        self.busy = False
        self.closing = False
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server._open.add(self)
        self._arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._open.discard(self)
        if self.idle is not None:
            self.idle.cancel()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _arm_idle(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
        timeout = self.server.idle_timeout
        if timeout and self.server._loop is not None:
            self.idle = self.server._loop.call_later(timeout, self.close)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.busy:
            self._process()

    def _process(self) -> None:
        while not self.busy and not self.closing:
            request = self._next_request()
            if request is None:
                return
            method, target, headers, body, size = request
            self._answer(method, target, headers, body, size)

    def _next_request(self) -> tuple[str, str, dict[str, str], bytes, int] | None:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            self.closing = True
            self.close()
            return None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            decoded = _dechunk(self.buf, start)
            if decoded is None:
                return None
            body, consumed = decoded
        else:
            length = int(headers.get("content-length") or 0)
            if len(self.buf) < start + length:
                return None
            body, consumed = bytes(self.buf[start : start + length]), start + length
        del self.buf[:consumed]
        return method, target, headers, body, consumed

    def _answer(self, method: str, target: str, headers: dict[str, str], body: bytes, size: int) -> None:
        server = self.server
        control = target.startswith("/_fast/")
        fault, late = (
            (None, 0.0)
            if control or server.exempt(_agent_of(headers))
            else server._fault_for(method, target, body)
        )
        try:
            response = fault or server.handle(method, target, headers, body)
        except Exception as exc:  # noqa: BLE001 - a bug here must not kill the connection silently
            response = _error(500, "InternalError", f"{type(exc).__name__}: {exc}")
        close = headers.get("connection", "").lower() == "close"
        payload = _serialise(method, response, close)
        wait = 0.0 if control else self._count(method, headers, body, size, len(payload)) + late
        if wait > 0 and server._loop is not None:
            self.busy = True
            assert self.transport is not None
            self.transport.pause_reading()
            server._loop.call_later(wait, self._send, payload, close)
        else:
            self._send(payload, close)

    def _count(self, method: str, headers: dict[str, str], body: bytes, size: int, sent: int) -> float:
        """Count a request (not a control path's); how long its answer waits (none for exempt agents)."""
        server = self.server
        agent = _agent_of(headers)
        wait = 0.0
        if not server.exempt(agent):
            wait = server.delay + (server.connect_delay if self.first else 0.0)
        server._count(agent, method, size, sent, self.first, len(body))
        self.first = False
        return wait

    def _send(self, payload: bytes, close: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(payload)
        self._arm_idle()
        if close:
            self.closing = True
            transport.close()
            return
        if self.busy:
            self.busy = False
            transport.resume_reading()
            self._process()


def _serialise(method: str, response: _Response, close: bool) -> bytes:
    """Status line, headers (``Content-Length`` added unless given) and body (none for a HEAD)."""
    out = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Error')}"]
    out += [f"{k}: {v}" for k, v in response.headers]
    if not any(k.lower() == "content-length" for k, _ in response.headers):
        out.append(f"Content-Length: {len(response.body)}")
    out.append(f"Date: {formatdate(usegmt=True)}")
    out.append("Server: hwocr-fast-object-server")
    if close:
        out.append("Connection: close")
    raw = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
    return raw if method == "HEAD" else raw + response.body


def _dechunk(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """A chunked body from ``buf[start:]``: (body, bytes consumed), or ``None`` if incomplete."""
    out = bytearray()
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";", 1)[0], 16)
        pos = eol + 2
        if size == 0:
            trailer = buf.find(b"\r\n", pos)
            if trailer < 0:
                return None
            return bytes(out), trailer + 2
        if len(buf) < pos + size + 2:
            return None
        out += buf[pos : pos + size]
        pos += size + 2


@contextmanager
def fast_object_server(**options: Any) -> Iterator[FastObjectServer]:
    """Run a :class:`FastObjectServer` for the ``with`` block; yields it (its ``url`` to connect)."""
    server = FastObjectServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def serve(port_queue: Any = None, **options: Any) -> None:
    """Run a server until the process is killed; put its port on ``port_queue`` (for a child process)."""
    server = FastObjectServer(**options)
    server.start()
    if port_queue is not None:
        port_queue.put(server.port)
    else:
        print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()


if __name__ == "__main__":  # pragma: no cover - a shell helper
    serve()
