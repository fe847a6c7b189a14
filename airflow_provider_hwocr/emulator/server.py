"""The HTTP side of the emulator: routing, the request pipeline, and the server's life cycle.

Pipeline of an OCR request (the first failure answers):

1. route: a known OCR path and method POST, else 404 APIG.0101; so is an API the
   vendor withdrew (unless ``config.serve_retired`` names it) and, with
   ``config.region_only``, one its endpoint tables do not offer in ``config.region``
2. authenticate: AK/SK signature or IAM token, else 401 APIG.0301 (more than five
   AK/SK failures in a row lock the access key for five minutes)
3. a scripted failure (:meth:`OcrEmulator.fail_next`), if one is queued
4. project: the path's (and ``X-Project-Id``'s) project id must be the
   configured one, else 403 ModelArts.4203
5. throttling: beyond the API's QPS limit, 429 APIG.0308
6. latency: the answer (to any of the steps below) is sent ``latency_ms`` plus jitter
   after this point, whatever the work took: the service's answer time (sleeps in this
   request's thread only)
7. subscription: slugs in ``config.not_subscribed`` get 403 ModelArts.4204
8. body validation (see :mod:`.validation`), 400; for a PDF or OFD, the page the request
   selects must exist (a page past the end: AIS.0101, not billed; see :mod:`.pages`)
9. random faults at the configured rates: 500 ModelArts.4505, 503
   ModelArts.4403, a dropped connection, a slow reply, a truncated body
10. 200 with the answer built by :mod:`.results` (or the documented example
    with ``results="documented"``), header ``X-Emulator-Ocr`` telling how it
    was made: ``rapidocr``, ``tesserocr``, ``tesseract``, ``synthetic``,
    ``ofd`` (an OFD page's own text), ``documented`` or ``shape`` (made from the
    response model, nothing read);
    invoice-verification: at most ``config.invoice_checks_per_day`` checks of
    one invoice a day, China's day (400 AIS.0101 beyond; see :mod:`.invoices`)

Besides OCR the same server answers IAM (``POST /v3/auth/tokens``,
``GET /v3/projects``) and its own control paths (``GET /_emulator/stats``,
``GET /_emulator/health``, ``POST /_emulator/reset``).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from airflow_provider_hwocr.catalog import APIS, get_api, region_support
from airflow_provider_hwocr.catalog.invoice_rules import ISSUE_DATES
from airflow_provider_hwocr.emulator import (
    auth,
    examples,
    iam,
    invoices,
    misreads,
    results,
    shape,
    validation,
)
from airflow_provider_hwocr.emulator.config import BEHAVIOUR_FIELDS, EmulatorConfig
from airflow_provider_hwocr.emulator.errors import EmulatorError
from airflow_provider_hwocr.emulator.faults import FailureScript, RandomFaults, injected_error
from airflow_provider_hwocr.emulator.ocr import TextReader
from airflow_provider_hwocr.emulator.stats import CallLog, RecordedCall
from airflow_provider_hwocr.emulator.timing import Latency, RateLimiter

JSON_TYPE = "application/json;charset=UTF-8"
#: Alias paths (no project id in them) -> slug.
_ALIASES = {path: api.slug for api in APIS for path in api.alias_paths}
_SLUGS = frozenset(api.slug for api in APIS)


def _copy(value: Any) -> Any:
    """A copy of a config value deep enough that later edits of the config do not reach it."""
    if isinstance(value, (set, dict, list)):
        return type(value)(value)
    return value


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _lower_headers(message: Any) -> dict[str, str]:
    """Request headers as {lowercase name: value}; the first of repeated headers wins.

    ``http.server`` decodes header bytes as Latin-1; values that were UTF-8 on
    the wire are turned back into the text the client signed.
    """
    headers: dict[str, str] = {}
    for name, value in message.items():
        key = name.lower()
        if key in headers:
            continue
        if not value.isascii():
            try:
                value = value.encode("latin-1").decode("utf-8")
            except UnicodeError:
                pass
        headers[key] = value
    return headers


def _try_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


class _Request:
    """What one request brought: split target, lowercase headers, body bytes."""

    __slots__ = ("body", "headers", "method", "raw_path", "raw_query")

    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        if target.startswith("/"):  # origin form, the usual case
            path, _, query = target.partition("?")
        else:  # absolute form, as sent to a proxy
            parts = urlsplit(target)
            path, query = parts.path, parts.query
        self.method = method
        self.raw_path = path or "/"
        self.raw_query = query
        self.headers = headers
        self.body = body


def _recognised_documents(payload: Any) -> int:
    """Auto-classification bills per document recognised (status AIS.0000), not per call."""
    items = payload.get("result") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return 0
    return sum(
        1
        for item in items
        if isinstance(item, dict) and (item.get("status") or {}).get("error_code", "AIS.0000") == "AIS.0000"
    )


class _OcrCall:
    """What the pipeline learnt of an OCR call before it was answered (also when it failed)."""

    __slots__ = ("answer_at", "body", "fault", "parsed")

    def __init__(self) -> None:
        #: When the answer may go out (monotonic clock): set once past the gateway.
        self.answer_at: float | None = None
        #: The body as parsed, once ``parsed``.
        self.body: Any = None
        self.parsed = False
        #: The injected fault drawn, if any.
        self.fault: str | None = None


class _Answer:
    __slots__ = ("body", "close", "drop", "headers", "status", "truncate", "units")

    def __init__(
        self, status: int, body: bytes, headers: dict[str, str] | None = None, close: bool = False
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.close = close
        #: Injected faults: close without answering / send half the body, then close.
        self.drop = False
        self.truncate = False
        #: Billed units of a 200: 1, or for auto-classification one per recognised document.
        self.units = 1


def _json_answer(status: int, payload: Any, headers: dict[str, str] | None = None) -> _Answer:
    return _Answer(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers)


def _error_answer(error: EmulatorError, request_id: str) -> _Answer:
    headers = dict(error.headers)
    if error.detail:
        headers["X-Emulator-Detail"] = error.detail
    answer = _json_answer(error.status, error.body(request_id), headers)
    answer.close = error.close
    return answer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "hwocr-emulator"
    sys_version = ""
    disable_nagle_algorithm = True  # answers go out in one write; no Nagle delay
    timeout = 300  # idle keep-alive connections are closed after this many seconds
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the emulator records calls itself

    def _serve(self) -> None:
        self.server.emulator._handle(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

    def read_body(self, headers: dict[str, str], limit: int) -> bytes:
        """The request body (Content-Length or chunked); 400 ModelArts.4104 if over ``limit``."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked(limit)
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            raise EmulatorError(400, "ModelArts.4104", detail="bad Content-Length", close=True) from None
        if length < 0 or length > limit:
            raise EmulatorError(400, "ModelArts.4104", detail="body too large to read", close=True)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise EmulatorError(400, "ModelArts.4104", detail="bad chunk", close=True) from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > limit:
                raise EmulatorError(400, "ModelArts.4104", detail="body too large to read", close=True)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)  # CRLF after the chunk

    def send_answer(self, answer: _Answer, request_id: str) -> None:
        """Write status line, headers and body in a single write."""
        if answer.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        lines = [
            f"{self.protocol_version} {answer.status} {_reason(answer.status)}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {JSON_TYPE}",
            f"Content-Length: {len(answer.body)}",
            f"X-Request-Id: {request_id}",
        ]
        lines.extend(f"{k}: {v}" for k, v in answer.headers.items())
        if answer.close or self.close_connection:
            lines.append("Connection: close")
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        if answer.truncate:
            self.close_connection = True
            self.wfile.write(head + answer.body[: len(answer.body) // 2])
            return
        self.wfile.write(head if self.command == "HEAD" else head + answer.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: OcrEmulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (timed out, hung up) is normal here; other errors are printed."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_connections(self) -> None:
        """Shut open keep-alive connections so their threads end now."""
        with self._connections_lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class OcrEmulator:
    """A local stand-in for the Huawei Cloud OCR service (and the bit of IAM it needs).

    Use it as a context manager or call :meth:`start` and :meth:`stop`::

        with OcrEmulator(EmulatorConfig(credentials={"AK": "SK"})) as emu:
            requests.post(f"{emu.url}/v2/{emu.config.project_id}/ocr/general-text", ...)
    """

    def __init__(self, config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config if config is not None else EmulatorConfig()
        self.host = host
        self._requested_port = port
        self._initial_behaviour = {name: _copy(getattr(self.config, name)) for name in BEHAVIOUR_FIELDS}
        self._examples = examples.load_all()
        self._tokens = iam.TokenStore()
        self._lockout = auth.Lockout()
        #: The emulator's clock, seconds since the epoch (a test may move it: "tomorrow").
        self.clock = time.time
        self._invoices = invoices.InvoiceCounter(ISSUE_DATES, lambda: self.clock())
        self._log = CallLog(self.config.max_recorded_calls, self.config.max_timestamps)
        self._script = FailureScript()
        self._limiter = RateLimiter()
        self._faults = RandomFaults(self.config.seed)
        self._latency = Latency(None if self.config.seed is None else self.config.seed + 1)
        self._readers: dict[str, TextReader] = {}
        self.reader  # noqa: B018 - ocr_engine="tesseract" without the binary fails here, not on a call
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def reader(self) -> TextReader:
        """The text reader for the current ``config.ocr_engine`` (built once per setting)."""
        setting = self.config.ocr_engine
        reader = self._readers.get(setting)
        if reader is None:
            reader = self._readers[setting] = TextReader(setting)
        return reader

    @property
    def ocr_engine(self) -> str:
        """``tesserocr``, ``tesseract`` or ``synthetic``: what the emulator reads images with."""
        return self.reader.engine

    # --- life cycle -------------------------------------------------------------

    def start(self) -> OcrEmulator:
        if self._server is not None:
            raise RuntimeError("emulator already started")
        self._stopping.clear()
        self._server = _Server((self.host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"hwocr-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        self._stopping.set()  # wake requests sleeping for latency or a slow reply
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> OcrEmulator:  # noqa: PYI034 - no typing.Self on Python 3.10
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # --- inspection and scripting ---------------------------------------------

    def calls(self, slug: str | None = None) -> list[RecordedCall]:
        """Recorded OCR calls, oldest first; only those of ``slug`` if given."""
        return self._log.calls(slug)

    def count(self, slug: str | None = None, status: int | None = None) -> int:
        """Number of OCR calls since the last reset, optionally of one API and/or one status."""
        return self._log.count(slug, status)

    def stats(self) -> dict[str, Any]:
        """Counters and timings of the OCR calls since the last reset.

        ``total``, ``billable``, ``by_status``, ``by_error_code``, per API in
        ``apis``; ``faults`` (injected faults by kind); ``timestamps`` (per
        API, recent calls as ``[start, end, status]``); ``peak_concurrency``;
        ``tokens_issued``; ``ocr_engine`` (``tesserocr``, ``tesseract`` or ``synthetic``) and
        ``results`` (``computed`` or ``documented``).
        """
        return {
            **self._log.stats(),
            "tokens_issued": self._tokens.issue_count,
            "locked_access_keys": len(self._lockout.locked()),
            "ocr_engine": self.ocr_engine,
            "chinese_reader": self.reader.chinese,
            "results": self.config.results,
            "region": self.config.region,
            "region_only": self.config.region_only,
        }

    def reset(self) -> None:
        """Forget calls, counters (``token_issue_count`` too), scripted failures and
        throttling state; restore the behaviour knobs (``not_subscribed``, latency,
        QPS limits, fault rates, seed, result mode) to their values at construction,
        and restart the random faults from the seed.

        Issued tokens stay valid (or expired): a client's cached token keeps working.
        """
        self._log.clear()
        self._script.clear()
        self._tokens.reset_count()
        self._lockout.clear()
        self._invoices.clear()
        for name, value in self._initial_behaviour.items():
            setattr(self.config, name, _copy(value))
        self._limiter.clear()
        self.reseed(self.config.seed)

    def reseed(self, seed: int | None) -> None:
        """Restart the random faults and jitter from ``seed`` (None: unpredictable).

        Setting ``config.seed`` alone changes nothing until the next reset; this
        makes a test's random faults reproducible from its first request.
        """
        self.config.seed = seed
        self._faults.reseed(seed)
        self._latency.reseed(None if seed is None else seed + 1)

    def fail_next(
        self,
        slug: str | None,
        status: int,
        error_code: str,
        error_msg: str | None = None,
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``times`` authenticated calls of ``slug`` (None: any API) with an error.

        ``error_msg`` defaults to the catalog's message for ``error_code``;
        ``retry_after`` adds a ``Retry-After`` header (seconds).
        """
        self._script.add(slug, status, error_code, error_msg, times, retry_after)

    def expire_tokens(self) -> None:
        """Make every token issued so far expired."""
        self._tokens.expire_all()

    @property
    def token_issue_count(self) -> int:
        """IAM tokens issued since the last reset."""
        return self._tokens.issue_count

    # --- request handling -------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        started = time.time()
        request_id = uuid.uuid4().hex
        headers = _lower_headers(handler.headers)
        try:
            body = handler.read_body(headers, self.config.max_read_bytes)
        except EmulatorError as error:
            handler.send_answer(_error_answer(error, request_id), request_id)
            return
        request = _Request(handler.command, handler.path, headers, body)
        path = request.raw_path
        try:
            if path.startswith("/_emulator/"):
                answer = self._control(request)
            elif path.startswith("/v3/"):
                answer = self._iam(request, request_id)
            else:
                answer = self._ocr(request, request_id, started)
        except Exception as exc:  # noqa: BLE001 - a bug here must answer 500, not drop the connection
            internal = EmulatorError(500, "ModelArts.4505", detail=f"emulator error: {type(exc).__name__}")
            answer = _error_answer(internal, request_id)
        handler.send_answer(answer, request_id)

    def _route(self, raw_path: str) -> tuple[str | None, str | None]:
        """(slug, project id from the path) of an OCR path; slug None if no API lives there."""
        if raw_path in _ALIASES:
            return _ALIASES[raw_path], None
        parts = raw_path.split("/")
        if (
            len(parts) == 5
            and parts[0] == ""
            and parts[1] == "v2"
            and parts[3] == "ocr"
            and parts[4] in _SLUGS
        ):
            return parts[4], unquote(parts[2])
        return None, None

    def _unavailable(self, slug: str) -> str | None:
        """Why the service would have no such API at this endpoint (a 404 APIG.0101), or None."""
        api = get_api(slug)
        config = self.config
        if not api.live and slug not in config.serve_retired:
            return f"{slug}: {api.deprecation}"
        if config.region_only and region_support(api, config.region).verdict == "unlisted":
            return f"{slug} is not offered in region {config.region}"
        return None

    def _check_invoice(self, body: dict[str, Any]) -> None:
        """The tax authority's limit: a few checks of one invoice a day (China's day)."""
        self._invoices.count(body, self.config.invoice_checks_per_day)

    def _ocr(self, request: _Request, request_id: str, started: float) -> _Answer:
        slug, project_id = self._route(request.raw_path)
        mode = auth.auth_mode(request.headers)
        call = _OcrCall()
        try:
            answer = self._ocr_answer(request, slug, project_id, call)
            error_code = None
        except EmulatorError as error:
            answer = _error_answer(error, request_id)
            error_code = error.code
        if call.answer_at is not None:
            remaining = call.answer_at - time.monotonic()
            if remaining > 0:
                self._stopping.wait(remaining)
        self._log.add(
            RecordedCall(
                slug=slug,
                path=request.raw_path,
                headers=request.headers,
                body=call.body if call.parsed else _try_json(request.body),
                status=answer.status,
                error_code=error_code,
                auth_mode=mode,
                timestamp=time.time(),
                started=started,
                fault=call.fault,
                units=answer.units if answer.status == 200 else 0,
            )
        )
        return answer

    def _ocr_answer(
        self, request: _Request, slug: str | None, project_id: str | None, call: _OcrCall
    ) -> _Answer:
        """Steps 1-10 of the pipeline (see the module); what was learnt on the way goes in ``call``."""
        slug = self._gateway(request, slug)
        # The answer goes out ``latency`` after this point, whatever the work took
        # (downloading a URL, OCR): latency is the service's answer time, not a pause
        # added on top of it.
        call.answer_at = time.monotonic() + self._latency.seconds(self.config)
        self._check_account(request, slug, project_id)
        call.body = validation.parse_body(request.body, self.config.max_body_bytes)
        call.parsed = True
        image = validation.validate(get_api(slug), call.body, self.config)
        if slug == "invoice-verification":
            self._check_invoice(call.body)
        call.fault = self._faults.draw(self.config)
        return self._answer_with_fault(slug, call.body, image, call.fault)

    def _gateway(self, request: _Request, slug: str | None) -> str:
        """Steps 1-3 and 5: route, authenticate, scripted failures, throttling; the API's slug."""
        if slug is None or request.method != "POST":
            raise EmulatorError(404, "APIG.0101", detail="no API at this method and path")
        gone = self._unavailable(slug)
        if gone is not None:
            raise EmulatorError(404, "APIG.0101", detail=gone)
        auth.authenticate(
            self.config, self._tokens, request.method, request.raw_path,
            request.raw_query, request.headers, request.body, self._lockout,
        )  # fmt: skip
        scripted = self._script.take(slug)
        if scripted is not None:
            raise scripted
        self._limiter.check(self.config, slug)
        return slug

    def _check_account(self, request: _Request, slug: str, project_id: str | None) -> None:
        """Steps 4 and 7: the path's and header's project id are this account's; the API is subscribed."""
        header_project = request.headers.get("x-project-id")
        for given in (project_id, header_project):
            if given is not None and given != self.config.project_id:
                raise EmulatorError(403, "ModelArts.4203", detail="project id is not this account's")
        if slug in self.config.not_subscribed:
            raise EmulatorError(403, "ModelArts.4204", slug=slug, detail="API not subscribed")

    def _answer_with_fault(
        self, slug: str, body: dict[str, Any], image: validation.CheckedImage, fault: str | None
    ) -> _Answer:
        """Steps 9-10: an injected fault's answer (error, dropped, slow, truncated), else the answer."""
        error = injected_error(fault) if fault else None
        if error is not None:
            raise error
        if fault == "drop":
            answer = _Answer(0, b"")
            answer.drop = True
            return answer
        answer = self._success(slug, body, image)
        if fault == "slow":
            self._stopping.wait(self.config.slow_reply_seconds)
        answer.truncate = fault == "truncate"
        return answer

    def _success(self, slug: str, body: dict[str, Any], image: validation.CheckedImage) -> _Answer:
        if self.config.results == "documented":
            made_by = "documented" if examples.is_documented(slug) else "shape"
            if shape.answers_one_side(slug, body):  # a card's one side: that side's fields
                payload = shape.fit_side(slug, body, json.loads(self._examples[slug]))
                return _json_answer(200, payload, {"X-Emulator-Ocr": made_by})
            if slug != "auto-classification" or not body.get("type_list"):
                answer = _Answer(200, self._examples[slug], {"X-Emulator-Ocr": made_by})
                if slug == "auto-classification":
                    answer.units = _recognised_documents(json.loads(self._examples[slug]))
                return answer
            payload = results.honour_type_list(slug, body, json.loads(self._examples[slug]))
            answer = _json_answer(200, payload, {"X-Emulator-Ocr": made_by})
            answer.units = _recognised_documents(payload)
            return answer
        payload, made_by = results.build(slug, body, image, self.reader)
        headers = {"X-Emulator-Ocr": made_by}
        config = self.config
        changed = misreads.misread(
            slug, payload.get("result"), image.data, page=image.page, misread_rate=config.misread_rate,
            false_alarm_rate=config.false_alarm_rate, seed=config.seed,
        )  # fmt: skip
        if changed is not None and changed.field is not None:
            headers["X-Emulator-Misread"] = changed.field  # the truth, for a test or a bench
        answer = _json_answer(200, payload, headers)
        if slug == "auto-classification":
            answer.units = _recognised_documents(payload)
        return answer

    def _iam(self, request: _Request, request_id: str) -> _Answer:
        path, method = request.raw_path.rstrip("/"), request.method
        try:
            if path == "/v3/auth/tokens" and method == "POST":
                try:
                    payload = json.loads(request.body)
                except (ValueError, UnicodeDecodeError):
                    raise iam.IamError(400, "The request body is not valid JSON.") from None
                token, answer = iam.issue_token(self.config, self._tokens, payload)
                return _json_answer(201, answer, {"X-Subject-Token": token})
            if path == "/v3/projects" and method == "GET":
                auth.authenticate(
                    self.config, self._tokens, method, request.raw_path,
                    request.raw_query, request.headers, request.body, self._lockout,
                )  # fmt: skip
                query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
                return _json_answer(200, iam.list_projects(self.config, self.url, query.get("name")))
            raise EmulatorError(404, "APIG.0101", detail="no IAM API at this method and path")
        except iam.IamError as error:
            return _json_answer(error.status, error.body())
        except EmulatorError as error:
            return _error_answer(error, request_id)

    def _control(self, request: _Request) -> _Answer:
        path, method = request.raw_path.rstrip("/"), request.method
        if path == "/_emulator/stats" and method == "GET":
            return _json_answer(200, self.stats())
        if path == "/_emulator/reset" and method == "POST":
            self.reset()
            return _json_answer(200, {"reset": True})
        if path == "/_emulator/health" and method == "GET":
            return _json_answer(200, {"status": "ok"})
        return _json_answer(404, {"error_code": "APIG.0101", "error_msg": "No such emulator control path."})
