"""Airflow hook for Huawei Cloud OBS (object storage), on top of ``esdk-obs-python``.

It reads the same ``huaweicloud_ocr`` connection as the OCR hook: login = AK,
password = SK, and the extras ``security_token``, ``region``, ``obs_endpoint``,
``obs_path_style``, ``obs_signature``, ``verify``, ``proxy``, ``timeout`` and
``max_retries``.

What this hook adds over the bare SDK:

* Failures raise. The SDK hands back a response with ``status >= 300`` (or
  raises on network trouble); every such case becomes a
  :class:`~airflow_provider_hwocr.hooks.obs_errors.HuaweiObsError` subclass
  naming the operation, bucket and key. Only ``head()``/``exists()`` treat a
  missing *object* as an answer (``None``/``False``).
* TLS is verified. The SDK does not verify certificates unless ``ssl_verify``
  is a CA file, and never checks the host name; this hook passes the CA bundle
  (``certifi``, or the connection's ``verify`` path) and turns host name checks
  on. ``verify=false`` on the connection switches both off.
* Empty credentials are refused before any request: the SDK would otherwise
  send unsigned requests.
* AK, SK, security token and proxy password are masked in logs. Signed URLs
  are per-object secrets: they are *not* handed to Airflow's masker (it keeps
  every value ever registered and rebuilds one regex over all of them, which
  makes a batch of signed URLs quadratic); callers keep them out of logs,
  XCom and error text by construction (see ``runtime/pipeline.py``).

The ``obs`` package (about 0.3 s to import) loads when the first client is built
(:func:`_obs_sdk`), so a task that never touches OBS never pays for it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
import json
import re
import select
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote, unquote, urlsplit

import certifi
from airflow.sdk import BaseHook

from airflow_provider_hwocr import _compat
from airflow_provider_hwocr._compat import SUPERVISOR_LOCK
from airflow_provider_hwocr.catalog import region_for
from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError
from airflow_provider_hwocr.get_provider_info import CONN_TYPE
from airflow_provider_hwocr.hooks.connection import CloudSettings, settings_from_connection
from airflow_provider_hwocr.hooks.obs_errors import (
    HuaweiObsAccessDeniedError,
    HuaweiObsError,
    HuaweiObsNotFoundError,
    HuaweiObsPreconditionFailedError,
    HuaweiObsRequestError,
    HuaweiObsThrottledError,
    HuaweiObsTlsError,
    HuaweiObsTransientError,
    clean_text,
)
from airflow_provider_hwocr.integration import lineage as _lineage

if TYPE_CHECKING:
    from obs import ObsClient

__all__ = [
    "HuaweiObsAccessDeniedError",
    "HuaweiObsError",
    "HuaweiObsHook",
    "HuaweiObsNotFoundError",
    "HuaweiObsRequestError",
    "HuaweiObsThrottledError",
    "HuaweiObsTlsError",
    "HuaweiObsTransientError",
    "ObsObjectInfo",
]


def _obs_sdk() -> Any:
    """The ``obs`` SDK module, imported when a client is first built (it takes about 0.3 s)."""
    import obs

    _share_crc64_tables(obs.util)
    return obs


def _share_crc64_tables(util: Any) -> None:
    """Make the SDK's ``util.Crc64`` build its tables once per initial value, not once per object.

    The SDK wraps every object it reads in a ``ResponseWrapper`` that makes a ``Crc64(0)`` (used
    only when the server sends a CRC-64 to check): crcmod builds a 256-entry table and a combine
    function each time, about 0.6 ms of CPU per GET, paid by every result a batch reads back. The
    replacement has the same methods and values; its table is a copy of a template (``Crc.new()``).
    """
    if getattr(util.Crc64, "_hwocr_shared_tables", False):
        return
    sdk_crc64 = util.Crc64
    templates: dict[int, tuple[Any, Any]] = {}

    class SharedTablesCrc64(sdk_crc64):  # type: ignore[misc, valid-type]
        _hwocr_shared_tables = True

        def __init__(self, init_crc: int = 0) -> None:
            template = templates.get(init_crc)
            if template is None:
                super().__init__(init_crc)
                template = templates[init_crc] = (self.crc64.new(), self.crc64_combineFun)
            self.crc64: Any = template[0].new()
            self.crc64_combineFun: Any = template[1]

    util.Crc64 = SharedTablesCrc64


class _TlsFailure(BaseException):
    """Carries a TLS failure out of the OBS SDK, past its retry loop.

    The SDK retries every ``Exception`` (up to ``max_retry_count`` times, with
    sleeps); a certificate that failed verification fails the same way every
    time, so it must not be retried. A ``BaseException`` is not caught there.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _stop_retries_on_tls_failure(client: Any) -> None:
    inner = getattr(client, "_make_request_internal", None)
    if inner is None:  # another SDK version: keep its behaviour
        return

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return inner(*args, **kwargs)
        except ssl.SSLError as exc:
            raise _TlsFailure(exc) from exc

    client._make_request_internal = guarded


#: Most keys one ListObjects page returns.
_PAGE_SIZE = 1000
#: OBS limits the user metadata of an object to 8 KB (names and values as sent).
_MAX_METADATA_BYTES = 8 * 1024
_META_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

# Response headers the SDK hands back next to user metadata. The SDK strips the
# "x-obs-meta-"/"x-amz-meta-" prefix of user metadata *and* the "x-obs-"/"x-amz-"
# prefix of system headers, so both end up in one list; these names are the
# system ones. Writing user metadata under one of them is refused, so whatever
# put_bytes() stores, head() gives back unchanged.
_SYSTEM_HEADER_NAMES = frozenset(
    {
        # plain HTTP headers the SDK keeps
        "content-type",
        "content-md5",
        "content-length",
        "content-language",
        "content-disposition",
        "content-encoding",
        "content-range",
        "cache-control",
        "expires",
        "origin",
        "location",
        "date",
        "etag",
        "host",
        "last-modified",
        "connection",
        "x-reserved",
        "x-reserved-indicator",
        "x-oef-request-id",
        "x-default-storage-class",
        "checksum-crc64ecma",
        "access-control-allow-origin",
        "access-control-allow-headers",
        "access-control-max-age",
        "access-control-allow-methods",
        "access-control-expose-headers",
        # x-obs-* / x-amz-* system headers, prefix removed
        "request-id",
        "id-2",
        "version-id",
        "storage-class",
        "expiration",
        "restore",
        "object-type",
        "next-append-position",
        "website-redirect-location",
        "tagging-count",
        "hash-crc64ecma",
        "delete-marker",
        "replication-status",
        "uploadid",
        "mp-parts-count",
        "missing-meta",
        "server-side-encryption",
        "server-side-encryption-aws-kms-key-id",
        "server-side-encryption-kms-key-id",
        "server-side-encryption-customer-algorithm",
        "server-side-encryption-customer-key-md5",
        "server-side-encryption-context",
        "object-lock-mode",
        "object-lock-retain-until-date",
        "object-lock-legal-hold-status",
        "checksum-crc32",
        "checksum-crc32c",
        "checksum-sha1",
        "checksum-sha256",
        "checksum-type",
        "meta-directive",
        "metadata-directive",
        "acl",
        "grant-read",
        "grant-full-control",
    }
)


def _is_system_header(name: str) -> bool:
    return name in _SYSTEM_HEADER_NAMES or name.startswith(("access-control-", "checksum-", "server-side-"))


# --- object description ----------------------------------------------------------------


class ObsObjectInfo:
    """What OBS says about one object.

    ``etag`` is given without the surrounding quotes. ``content_type`` is
    ``None`` and ``metadata`` empty for objects that come from a listing (a
    listing does not return them; ``head()`` does).

    Slotted and read-only: a listing of 100,000 objects makes 100,000 of them.
    ``last_modified`` may be given as the listing's raw ISO 8601 text; it is
    parsed when first read (most listings never read it).
    """

    __slots__ = ("_modified", "bucket", "content_type", "etag", "key", "metadata", "size")

    bucket: str
    key: str
    size: int
    etag: str
    content_type: str | None
    metadata: dict[str, str]
    _modified: datetime | str

    def __init__(
        self,
        bucket: str,
        key: str,
        size: int,
        last_modified: datetime | str,
        etag: str,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "bucket", bucket)
        put(self, "key", key)
        put(self, "size", size)
        put(self, "_modified", last_modified)
        put(self, "etag", etag)
        put(self, "content_type", content_type)
        put(self, "metadata", _NO_METADATA if metadata is None else metadata)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ObsObjectInfo is read-only (cannot set {name!r})")

    @property
    def last_modified(self) -> datetime:
        """When the object was last written, as an aware UTC datetime."""
        value = self._modified
        if isinstance(value, str):
            value = _listing_time(value)
            object.__setattr__(self, "_modified", value)
        return value

    @property
    def uri(self) -> str:
        return f"obs://{self.bucket}/{self.key}"

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.bucket,
            self.key,
            self.size,
            self.last_modified,
            self.etag,
            self.content_type,
            self.metadata,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObsObjectInfo):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # equal by value, and metadata is a dict

    def __repr__(self) -> str:
        return (
            f"ObsObjectInfo(bucket={self.bucket!r}, key={self.key!r}, size={self.size!r}, "
            f"last_modified={self.last_modified!r}, etag={self.etag!r}, content_type={self.content_type!r}, "
            f"metadata={self.metadata!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the time is an ISO 8601 string in UTC."""
        return {
            "bucket": self.bucket,
            "key": self.key,
            "uri": self.uri,
            "size": self.size,
            "last_modified": self.last_modified.isoformat(),
            "etag": self.etag,
            "content_type": self.content_type,
            "metadata": dict(self.metadata),
        }


#: Shared by every listed object (a listing carries no metadata); never mutated.
_NO_METADATA: dict[str, str] = {}


def _strip_etag(value: Any) -> str:
    return str(value or "").strip().strip('"')


def _http_date(value: Any) -> datetime:
    """An HTTP date (``Sat, 21 Nov 2026 11:25:41 GMT``) as an aware UTC datetime."""
    try:
        return parsedate_to_datetime(str(value)).astimezone(timezone.utc)
    except (TypeError, ValueError):
        return _listing_time(value)


def _listing_time(value: Any) -> datetime:
    """The ``LastModified`` of a listing entry as an aware UTC datetime, to the second.

    The hook reads listings itself (:func:`_parse_listing`) and gets the service's UTC
    text (``2024-01-15T10:20:30.000Z``). Older paths went through the SDK, which rewrites
    it into the *local* wall time of this machine (``%Y/%m/%d %H:%M:%S``) with
    ``time.localtime(time.mktime(utc_fields) - time.timezone)``: that form is undone
    exactly. Whole seconds either way, as the SDK gave them.
    """
    text = str(value or "").strip()
    if "/" not in text:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return datetime.fromtimestamp(0, timezone.utc)
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc).replace(microsecond=0)
    try:
        local_fields = time.strptime(text, "%Y/%m/%d %H:%M:%S")
    except ValueError:
        return datetime.fromtimestamp(0, timezone.utc)
    shifted = time.mktime(local_fields)  # == mktime(utc_fields) - time.timezone
    utc_fields = time.localtime(shifted + time.timezone)
    return datetime(*utc_fields[:6], tzinfo=timezone.utc)


# --- listings, parsed lean --------------------------------------------------------------------

#: One listed object as a listing page gives it: (key, size, ETag without quotes, raw UTC time).
ListedEntry = tuple[str, int, str, str]

# The four fields every ListObjects entry starts with, in the order OBS (and S3) send them.
_ENTRY_RE = re.compile(
    r"<Contents>\s*<Key>([^<]*)</Key>\s*<LastModified>([^<]*)</LastModified>\s*"
    r"<ETag>([^<]*)</ETag>\s*<Size>(\d+)</Size>"
)
_PREFIX_RE = re.compile(r"<CommonPrefixes>\s*<Prefix>([^<]*)</Prefix>")


class _ListingPage:
    """One ListObjects page as :func:`_parse_listing` reads it (what the hook needs, no more)."""

    __slots__ = ("commonPrefixs", "contents", "is_truncated", "next_marker")

    def __init__(
        self, contents: list[ListedEntry], prefixes: list[str], truncated: bool, next_marker: str | None
    ) -> None:
        self.contents = contents
        self.commonPrefixs = prefixes
        self.is_truncated = truncated
        self.next_marker = next_marker


def _xml_text(value: str, url_encoded: bool) -> str:
    if "&" in value:
        value = html.unescape(value)
    return unquote(value) if url_encoded else value


def _tag(xml: str, name: str) -> str | None:
    start = xml.find(f"<{name}>")
    if start < 0:
        return None
    start += len(name) + 2
    end = xml.find(f"</{name}>", start)
    return xml[start:end] if end >= 0 else None


def _parse_listing(xml: Any, headers: Any = None) -> _ListingPage:
    """A ListObjects page, read with two regular expressions instead of the SDK's parser.

    The SDK builds an element tree, an object per entry and turns every time into local
    time with ``strptime``: about 73 ms per page of 1,000 keys here, against 3 ms for
    this. Times are kept as the service's text (:class:`ObsObjectInfo` parses them when
    read). A page whose entries are not in the usual order is read with the element tree.
    """
    text = xml.decode("utf-8") if isinstance(xml, bytes) else str(xml)
    head = text[: text.find("<Contents>")] if "<Contents>" in text else text
    url_encoded = (_tag(head, "EncodingType") or "").lower() == "url"
    found = _ENTRY_RE.findall(text)
    if len(found) != text.count("<Contents>"):
        return _parse_listing_tree(text, url_encoded)
    contents = [
        (_xml_text(key, url_encoded), int(size), _strip_etag(_xml_text(etag, False)), modified)
        for key, modified, etag, size in found
    ]
    prefixes = [_xml_text(p, url_encoded) for p in _PREFIX_RE.findall(text)]
    marker = _tag(head, "NextMarker")
    truncated = (_tag(head, "IsTruncated") or "").strip().lower() == "true"
    return _ListingPage(contents, prefixes, truncated, _xml_text(marker, url_encoded) if marker else None)


def _parse_listing_tree(text: str, url_encoded: bool) -> _ListingPage:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(re.sub(r'\sxmlns="[^"]*"', "", text, count=1))
    contents = [
        (
            _xml_text(node.findtext("Key") or "", url_encoded),
            int(node.findtext("Size") or 0),
            _strip_etag(node.findtext("ETag")),
            node.findtext("LastModified") or "",
        )
        for node in root.iterfind("Contents")
    ]
    prefixes = [_xml_text(p.findtext("Prefix") or "", url_encoded) for p in root.iterfind("CommonPrefixes")]
    marker = root.findtext("NextMarker")
    truncated = (root.findtext("IsTruncated") or "").strip().lower() == "true"
    return _ListingPage(contents, prefixes, truncated, _xml_text(marker, url_encoded) if marker else None)


def _sdk_entries(body: Any) -> list[ListedEntry]:
    """Entries of a listing the SDK parsed itself (a client built elsewhere)."""
    return [
        (item.key, int(item.size or 0), _strip_etag(item.etag), str(item.lastModified or ""))
        for item in getattr(body, "contents", None) or []
    ]


def _drop_stale_connections(client: Any) -> None:
    """Hand out only pooled connections the server has not closed.

    With ``long_conn_mode`` the SDK keeps idle connections in a queue and reuses them
    blindly; one the server closed meanwhile (an idle timeout) fails the next request,
    which then costs one of the SDK's retries and its back-off sleep. An idle socket
    that is readable has been closed (or sent something unasked): it is discarded here
    before use, as ``urllib3`` does with its pool.
    """
    inner = getattr(client, "_get_server_connection", None)
    if inner is None or getattr(client, "connHolder", None) is None:  # another SDK version
        return

    def fresh(*args: Any, **kwargs: Any) -> Any:
        conn = inner(*args, **kwargs)
        for _ in range(64):  # a bounded sweep of a pool whose connections all went stale
            sock = getattr(conn, "sock", None)
            if sock is None or not _closed_by_peer(sock):
                return conn
            with contextlib.suppress(Exception):  # it is gone either way
                conn.close()
            conn = inner(*args, **kwargs)
        return conn

    client._get_server_connection = fresh


def _closed_by_peer(sock: Any) -> bool:
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


# --- the hook -----------------------------------------------------------------------------


def _mask(*values: str | None) -> None:
    for value in values:
        _compat.mask_secret(value)


def _not_found(
    operation: str, bucket: str, key: str | None, where: str, code: str | None
) -> tuple[type[HuaweiObsError], str | None, str]:
    """A 404: no such bucket, no such object, or something else not found."""
    if code == "NoSuchBucket":
        return (
            HuaweiObsNotFoundError,
            code,
            f"OBS {operation}: bucket {bucket!r} does not exist (NoSuchBucket)",
        )
    if code == "NoSuchKey" or (code is None and key):
        return (
            HuaweiObsNotFoundError,
            code or "NoSuchKey",
            f"OBS {operation}: object {where} does not exist (NoSuchKey)",
        )
    return HuaweiObsNotFoundError, code, f"OBS {operation} of {where}: not found"


def _proxy_options(s: CloudSettings) -> dict[str, Any]:
    """The SDK's proxy options from the connection's ``proxy`` (none: ``{}``)."""
    if not s.proxy:
        return {}
    p = urlsplit(s.proxy if "://" in s.proxy else f"http://{s.proxy}")
    if not p.hostname:
        raise HuaweiOcrConfigurationError(
            f"connection {s.conn_id!r}, field 'proxy': expected http://[user:password@]host:port",
            field="proxy",
        )
    return {
        "proxy_host": p.hostname,
        "proxy_port": p.port or 80,
        "proxy_username": unquote(p.username) if p.username else None,
        "proxy_password": unquote(p.password) if p.password else None,
    }


def _mend_sdk_client(client: Any, *, check_hostname: bool) -> None:
    """What the hook changes in a new SDK client: host name checks, TLS failures not retried,
    stale pooled connections dropped, and listings read by :func:`_parse_listing`."""
    context = getattr(client, "context", None)
    if check_hostname and context is not None:
        # The SDK loads the CA bundle but switches host name checking off;
        # a valid certificate for another host must not pass.
        context.check_hostname = True
    _stop_retries_on_tls_failure(client)
    _drop_stale_connections(client)
    convertor = getattr(client, "convertor", None)
    if convertor is not None and hasattr(convertor, "parseListObjects"):
        convertor.parseListObjects = _parse_listing  # this client's listings only


def _server_side_error(status: int, code: str | None) -> type[HuaweiObsError] | None:
    """Throttled or transient, for an answer that says the server (not the request) failed."""
    if status == 429 or code == "SlowDown":
        return HuaweiObsThrottledError
    if status >= 500 or status == 408 or code == "ServiceUnavailable":
        return HuaweiObsTransientError
    return None


def _next_marker(body: Any, contents: list[ListedEntry], prefixes: list[Any]) -> Any:
    """Where the next listing page starts: OBS gives NextMarker; some servers give an opaque
    token, others none (then: the last key, or the last common prefix)."""
    last_prefix = prefixes[-1] if prefixes else None
    if last_prefix is not None and not isinstance(last_prefix, str):
        last_prefix = last_prefix.prefix
    return getattr(body, "next_marker", None) or (contents[-1][0] if contents else last_prefix)


class HuaweiObsHook(BaseHook):
    """Reads and writes Huawei Cloud OBS objects with a ``huaweicloud_ocr`` connection.

    :param huaweicloud_ocr_conn_id: the Airflow connection (the same one the OCR hook uses).
    :param region: overrides the connection's ``region`` extra.

    Creating the hook does nothing: the connection is read and the client built
    on first use. The client is cached; call :meth:`close` when done.

    The OBS endpoint is the connection's ``obs_endpoint`` extra, or
    ``https://obs.{region}.myhuaweicloud.com``. Set ``obs_path_style`` to
    ``true`` for servers that want ``{endpoint}/{bucket}/{key}`` addresses, and
    ``obs_signature`` (``obs``, ``v2`` or ``v4``) for S3-compatible servers.
    """

    conn_name_attr = "huaweicloud_ocr_conn_id"
    default_conn_name = "huaweicloud_ocr_default"
    conn_type = CONN_TYPE
    hook_name = "Huawei Cloud OBS"

    def __init__(
        self,
        huaweicloud_ocr_conn_id: str = default_conn_name,
        *,
        region: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.huaweicloud_ocr_conn_id = huaweicloud_ocr_conn_id
        self.region = region
        self._client: ObsClient | None = None
        self._client_lock = threading.Lock()

    # --- settings ---------------------------------------------------------------------

    @cached_property
    def settings(self) -> CloudSettings:
        """The validated connection (looked up on first use)."""
        with SUPERVISOR_LOCK:  # a batch's threads may ask at once
            conn = self.get_connection(self.huaweicloud_ocr_conn_id)
        return self._settings_from(conn)

    async def aload_settings(self) -> CloudSettings:
        """Look the connection up without blocking an event loop (for triggers)."""
        if "settings" not in self.__dict__:
            aget = getattr(self, "aget_connection", None)  # Airflow 3.1+
            if aget is not None:
                conn = await aget(self.huaweicloud_ocr_conn_id)
            else:
                conn = await asyncio.to_thread(self.get_connection, self.huaweicloud_ocr_conn_id)
            self.__dict__["settings"] = self._settings_from(conn)
        return self.settings

    def _settings_from(self, conn: Any) -> CloudSettings:
        settings = settings_from_connection(conn, region=self.region, service="obs")
        # The AK is Airflow's "login" and is not masked by default; the proxy
        # password is masked as written in the URL and decoded.
        settings.mask_secrets()
        return settings

    @property
    def _secrets(self) -> list[str]:
        """Everything to blank out of error text: credentials and the proxy password."""
        secrets = list(self.settings.secrets)
        password = urlsplit(self.settings.proxy).password if self.settings.proxy else None
        if password:
            secrets += [password, unquote(password)]
        return secrets

    @property
    def endpoint(self) -> str:
        """The OBS endpoint URL, without a trailing slash."""
        s = self.settings
        return s.obs_endpoint or region_for(s.region).obs_endpoint

    @property
    def ssl_verify(self) -> str | bool:
        """What the SDK gets as ``ssl_verify``: a CA bundle path, or ``False`` to not verify."""
        verify = self.settings.verify
        if verify is False:
            return False
        if isinstance(verify, str):
            return verify
        return certifi.where()

    # --- client -----------------------------------------------------------------------

    def get_client(self) -> ObsClient:
        """The ``obs.ObsClient`` for this connection, built once and then reused."""
        with self._client_lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    def get_conn(self) -> ObsClient:
        return self.get_client()

    def close(self) -> None:
        """Close the cached client; the next call builds a new one."""
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # closing is best effort
                self.log.debug("closing the OBS client failed", exc_info=True)

    def _build_client(self) -> ObsClient:
        s = self.settings
        endpoint = self._checked_endpoint()
        proxy = _proxy_options(s)
        ssl_verify = self.ssl_verify
        options: dict[str, Any] = {
            "access_key_id": s.ak,
            "secret_access_key": s.sk,
            "security_token": s.security_token,
            "server": f"{endpoint.scheme}://{endpoint.netloc}",
            "is_secure": endpoint.scheme == "https",
            "signature": s.obs_signature,
            "region": s.region,
            "path_style": s.obs_path_style,
            "ssl_verify": ssl_verify,
            # One request per call: skip the SDK's protocol probing.
            "is_signature_negotiation": False,
            # Keep-alive: without it the SDK opens (and, over TLS, handshakes) a new
            # connection for every request, 100,304 of them for a 100,000-image batch.
            "long_conn_mode": True,
            "max_retry_count": max(0, s.max_retries - 1),
            "timeout": s.timeout,
            **proxy,
        }
        with warnings.catch_warnings():
            # The SDK builds its TLS context with the deprecated PROTOCOL_TLS alias; not the user's concern.
            warnings.simplefilter("ignore", DeprecationWarning)
            client = _obs_sdk().ObsClient(**options)
        _mend_sdk_client(client, check_hostname=bool(ssl_verify))
        return client

    def _checked_endpoint(self) -> SplitResult:
        """The OBS endpoint, which must be ``scheme://host[:port]`` and nothing more."""
        endpoint = urlsplit(self.endpoint)
        if endpoint.path not in ("", "/") or endpoint.query:
            raise HuaweiOcrConfigurationError(
                f"connection {self.settings.conn_id!r}, field 'obs_endpoint': must be scheme://host[:port] "
                f"with no path, got {self.endpoint!r}",
                field="obs_endpoint",
            )
        return endpoint

    # --- calling the SDK ----------------------------------------------------------------

    def _call(
        self, operation: str, bucket: str, key: str | None, method: str, *args: Any, **kwargs: Any
    ) -> Any:
        """Call an SDK method; return the response if its status is < 300, else raise."""
        resp = self._send(operation, bucket, key, method, *args, **kwargs)
        if resp.status >= 300:
            raise self._error(operation, bucket, key, resp)
        return resp

    def _send(
        self, operation: str, bucket: str, key: str | None, method: str, *args: Any, **kwargs: Any
    ) -> Any:
        """Call an SDK method; return any response with a status, raise on no response at all."""
        _check_bucket(bucket)
        client = self.get_client()
        where = _where(bucket, key)
        try:
            resp = getattr(client, method)(*args, **kwargs)
        except _TlsFailure as failure:
            detail = clean_text(f"{type(failure.error).__name__}: {failure.error}", self._secrets)
            raise HuaweiObsTlsError(
                f"OBS {operation} of {where} failed: TLS verification of {self.endpoint} failed ({detail}); "
                "set the connection's 'verify' to the path of a CA bundle that signs this host, "
                "or fix obs_endpoint",
                bucket=bucket,
                key=key,
                operation=operation,
            ) from None
        except Exception as exc:
            detail = clean_text(f"{type(exc).__name__}: {exc}", self._secrets)
            raise HuaweiObsTransientError(
                f"OBS {operation} of {where} failed: no response from {self.endpoint} ({detail})",
                bucket=bucket,
                key=key,
                operation=operation,
            ) from exc
        if resp is None or getattr(resp, "status", None) is None:
            detail = clean_text(getattr(resp, "reason", None) or "no status", self._secrets)
            raise HuaweiObsTransientError(
                f"OBS {operation} of {where} failed: no response from {self.endpoint} ({detail})",
                bucket=bucket,
                key=key,
                operation=operation,
            )
        return resp

    def _error(self, operation: str, bucket: str, key: str | None, resp: Any) -> HuaweiObsError:
        status = int(resp.status)
        code, message, request_id = self._error_fields(resp)
        cls, code, text = self._classify(operation, bucket, key, status, code)
        if message:
            text = f"{text}: {message}"
        return cls(
            text,
            status=status,
            error_code=code,
            error_message=message,
            request_id=request_id,
            bucket=bucket,
            key=key,
            operation=operation,
        )

    def _error_fields(self, resp: Any) -> tuple[str | None, str | None, str | None]:
        """The error code, message and request id of a failed answer, secrets blanked out."""
        secrets = self._secrets
        code = clean_text(getattr(resp, "errorCode", None), secrets) or None
        message = clean_text(getattr(resp, "errorMessage", None), secrets) or None
        request_id = clean_text(getattr(resp, "requestId", None), secrets) or None
        if request_id is None:
            request_id = _header_dict(resp).get("request-id") or None
        return code, message, request_id

    def _denied_text(self, operation: str, key: str | None, where: str) -> str:
        text = (
            f"OBS {operation} of {where}: access denied. The AK/SK of connection "
            f"{self.huaweicloud_ocr_conn_id!r} may not do this (IAM permissions or bucket policy)"
        )
        if key and operation in ("head", "get"):
            text += "; OBS also answers 403 for a missing object when listing the bucket is not allowed"
        return text

    def _classify(
        self, operation: str, bucket: str, key: str | None, status: int, code: str | None
    ) -> tuple[type[HuaweiObsError], str | None, str]:
        """The error class, the code (named where OBS left it out) and what to say."""
        where = _where(bucket, key)
        if status == 404:
            return _not_found(operation, bucket, key, where, code)
        if status == 403:
            return (
                HuaweiObsAccessDeniedError,
                code or "AccessDenied",
                self._denied_text(operation, key, where),
            )
        if status == 412 or code == "ConditionalRequestConflict":
            return (
                HuaweiObsPreconditionFailedError,
                code or "PreconditionFailed",
                f"OBS {operation} of {where}: condition not met",
            )
        server_side = _server_side_error(status, code)
        if server_side is not None:
            return server_side, code, f"OBS {operation} of {where} failed on the server side"
        if status in (301, 307) or code in ("PermanentRedirect", "TemporaryRedirect"):
            text = (
                f"OBS {operation} of {where}: the bucket is in another region than "
                f"{self.settings.region!r} (set the connection's region or obs_endpoint)"
            )
            return HuaweiObsRequestError, code, text
        return HuaweiObsRequestError, code, f"OBS {operation} of {where} failed"

    def _missing(self, operation: str, bucket: str, key: str) -> None:
        """After a 404 on an object: raise if the *bucket* is what is missing, else return."""
        resp = self._send(operation, bucket, None, "headBucket", bucket)
        if resp.status == 404:
            raise HuaweiObsNotFoundError(
                f"OBS {operation}: bucket {bucket!r} does not exist (NoSuchBucket), looking for {key!r}",
                status=404,
                error_code="NoSuchBucket",
                request_id=_header_dict(resp).get("request-id"),
                bucket=bucket,
                key=key,
                operation=operation,
            )
        if resp.status >= 300:
            raise self._error(operation, bucket, None, resp)

    # --- reading ------------------------------------------------------------------------

    def head(self, bucket: str, key: str) -> ObsObjectInfo | None:
        """Size, time, ETag, content type and user metadata of one object; ``None`` if it does not exist.

        A missing *bucket* is not an answer but a mistake: it raises
        :class:`HuaweiObsNotFoundError` (``NoSuchBucket``).
        """
        _check_key(key)
        resp = self._send("head", bucket, key, "getObjectMetadata", bucket, key)
        if resp.status == 404:
            self._missing("head", bucket, key)
            return None
        if resp.status >= 300:
            raise self._error("head", bucket, key, resp)
        body = resp.body
        headers = _header_dict(resp)
        size = getattr(body, "contentLength", None)
        if size is None:
            size = headers.get("content-length", 0)
        return ObsObjectInfo(
            bucket=bucket,
            key=key,
            size=int(size or 0),
            last_modified=_http_date(getattr(body, "lastModified", None) or headers.get("last-modified")),
            etag=_strip_etag(getattr(body, "etag", None) or headers.get("etag")),
            content_type=getattr(body, "contentType", None) or headers.get("content-type") or None,
            metadata=_user_metadata(resp),
        )

    def exists(self, bucket: str, key: str) -> bool:
        """Whether the object exists (a missing bucket raises, as in :meth:`head`)."""
        return self.head(bucket, key) is not None

    def get_bytes(self, bucket: str, key: str) -> bytes:
        """The whole object in memory. Raises :class:`HuaweiObsNotFoundError` if it is missing."""
        return self.get_bytes_and_etag(bucket, key)[0]

    def get_bytes_and_etag(self, bucket: str, key: str) -> tuple[bytes, str | None]:
        """The whole object in memory and its ETag (for a conditional write's ``if_match``);
        raises :class:`HuaweiObsNotFoundError` if it is missing."""
        _check_key(key)
        resp = self._call("get", bucket, key, "getObject", bucket, key, loadStreamInMemory=True)
        data = getattr(resp.body, "buffer", None)
        _lineage.hook_read(self, bucket, key)
        etag = _strip_etag(getattr(resp.body, "etag", None) or _header_dict(resp).get("etag")) or None
        return (bytes(data) if data else b""), etag

    def get_json(self, bucket: str, key: str) -> Any:
        """The object parsed as UTF-8 JSON."""
        data = self.get_bytes(bucket, key)
        try:
            return json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"obs://{bucket}/{key} is not UTF-8 JSON: {exc}") from None

    def iter_listing(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        page_size: int = _PAGE_SIZE,
        marker: str | None = None,
    ) -> Iterator[list[ListedEntry]]:
        """The listing of ``prefix`` page by page (one request each), in key order.

        Each page is a list of ``(key, size, etag, last_modified_text)`` tuples: the lean
        form for callers that go through many objects and keep few (the batch). With
        ``delimiter="/"`` only the objects directly under ``prefix``; with ``marker``, only
        the keys after it.
        """
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a string, got {type(prefix).__name__}")
        marker = marker or None
        while True:
            body = self._listing_page(bucket, prefix, marker, page_size, delimiter)
            contents = body.contents if isinstance(body, _ListingPage) else _sdk_entries(body)
            prefixes = list(getattr(body, "commonPrefixs", None) or [])
            yield contents
            if not getattr(body, "is_truncated", False) or not (contents or prefixes):
                return
            next_marker = _next_marker(body, contents, prefixes)
            if next_marker == marker:  # a server that does not advance would loop forever
                raise HuaweiObsError(
                    f"OBS list of obs://{bucket}/{prefix}: the listing did not advance past {marker!r}",
                    bucket=bucket,
                    key=prefix,
                    operation="list",
                )
            marker = next_marker

    def _listing_page(
        self, bucket: str, prefix: str, marker: str | None, page_size: int, delimiter: str | None
    ) -> Any:
        """One ListObjects page, read (an answer that is no listing is a transient error)."""
        resp = self._call(
            "list",
            bucket,
            prefix or None,
            "listObjects",
            bucket,
            prefix=prefix or None,
            marker=marker,
            max_keys=page_size,
            delimiter=delimiter,
        )
        body = resp.body
        if body is None:  # the SDK logs and swallows a parse failure: an empty page would be a lie
            raise HuaweiObsTransientError(
                f"OBS list of obs://{bucket}/{prefix}: the answer could not be read as a listing",
                bucket=bucket,
                key=prefix,
                operation="list",
            )
        return body

    def list_objects(
        self,
        bucket: str,
        prefix: str = "",
        *,
        max_items: int | None = None,
        delimiter: str | None = None,
        marker: str | None = None,
    ) -> list[ObsObjectInfo]:
        """Every object whose key starts with ``prefix``, in key order, across as many pages as needed.

        With ``delimiter="/"`` only the objects directly under ``prefix`` (no sub-folders);
        with ``marker``, only keys after it (in key order), so a listing can start where
        another stopped.
        """
        if max_items is not None and (not isinstance(max_items, int) or max_items < 0):
            raise ValueError(f"max_items must be a non-negative int or None, got {max_items!r}")
        out: list[ObsObjectInfo] = []
        if max_items == 0:
            return out
        page_size = _PAGE_SIZE if max_items is None else min(_PAGE_SIZE, max_items)
        pages = self.iter_listing(bucket, prefix, delimiter=delimiter, page_size=page_size, marker=marker)
        for page in pages:
            out.extend(ObsObjectInfo(bucket, key, size, modified, etag) for key, size, etag, modified in page)
            if max_items is not None and len(out) >= max_items:
                return out[:max_items]
        return out

    def list_keys(self, bucket: str, prefix: str = "", *, max_items: int | None = None) -> list[str]:
        """The keys under ``prefix`` (all pages)."""
        return [o.key for o in self.list_objects(bucket, prefix, max_items=max_items)]

    # --- writing ------------------------------------------------------------------------

    def put_bytes(
        self,
        bucket: str,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        """Write ``data`` to ``obs://bucket/key`` (replacing any object there); return its ETag.

        A conditional write: ``if_none_match=True`` writes only if no object is there
        (``If-None-Match: *``), ``if_match=etag`` only if the object there has that ETag
        (``If-Match``); otherwise :class:`HuaweiObsPreconditionFailedError` and nothing is written.
        That holds on a store that honours these headers (S3 does); one that ignores them writes
        anyway, and one that does not implement them refuses (400 or 501 ``NotImplemented``), so
        a caller must not count on them alone.

        ``metadata`` is user metadata. Names are stored lower case (HTTP
        headers are case-insensitive), may use ``a-z 0-9 . _ -`` and must not be
        one of the names OBS uses for its own headers. Values are text: the
        SDK sends every value percent-encoded (UTF-8), so non-ASCII text
        survives, and :meth:`head` decodes it again; other tools see the
        encoded form. Everything together must stay under 8 KB. The body is sent
        with its MD5, so OBS rejects a corrupted upload.
        """
        _check_key(key)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, got {type(data).__name__} (encode text first)")
        data = bytes(data)
        meta = _check_metadata(metadata)
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")
        headers = _obs_sdk().PutObjectHeader(contentType=content_type, md5=md5)
        conditions = _conditions(if_none_match, if_match)
        resp = self._call(
            "put",
            bucket,
            key,
            "putContent",
            bucket,
            key,
            content=data,
            metadata=meta,
            headers=headers,
            **({"extensionHeaders": conditions} if conditions else {}),
        )
        _lineage.hook_wrote(self, bucket, key)
        # The ETag a listing will show for this object: the server's answer, or
        # (servers that omit it) the MD5 that a plain PUT's ETag is.
        etag = _strip_etag(getattr(resp.body, "etag", None) or _header_dict(resp).get("etag"))
        return etag or hashlib.md5(data, usedforsecurity=False).hexdigest()

    def put_file(
        self,
        bucket: str,
        key: str,
        file: Any,
        *,
        size: int,
        md5: str,
        content_type: str = "application/octet-stream",
        tries: int = 3,
    ) -> str:
        """Write the first ``size`` bytes of an open binary ``file`` to ``obs://bucket/key``, sent in
        chunks from its start (a large record is never held whole); return its ETag.

        ``md5`` is their MD5 as hex (sent, so OBS rejects a corrupted upload). The file stays open.
        The SDK does not retry a body it reads from a file, so a request with no answer or a
        server-side error is tried again here from the file's start, up to ``tries`` times in all.
        """
        _check_key(key)
        headers = _obs_sdk().PutObjectHeader(
            contentType=content_type,
            md5=base64.b64encode(bytes.fromhex(md5)).decode("ascii"),
            contentLength=size,
        )
        for attempt in range(1, max(1, tries) + 1):
            file.flush()
            file.seek(0)
            try:
                resp = self._call("put", bucket, key, "putContent", bucket, key, content=file, headers=headers,
                                  autoClose=False)  # fmt: skip
                break
            except HuaweiObsTransientError:
                if attempt >= tries:
                    raise
                time.sleep(min(0.2 * 2**attempt, 2.0))
        _lineage.hook_wrote(self, bucket, key)
        etag = _strip_etag(getattr(resp.body, "etag", None) or _header_dict(resp).get("etag"))
        return etag or md5

    def copy(self, bucket: str, key: str, to_bucket: str, to_key: str) -> str:
        """Copy ``obs://bucket/key`` to ``obs://to_bucket/to_key`` inside OBS (its bytes, type and
        metadata; nothing is sent but the request); return the copy's ETag."""
        _check_key(key)
        _check_key(to_key)
        resp = self._call("put", to_bucket, to_key, "copyObject", bucket, key, to_bucket, to_key)
        _lineage.hook_wrote(self, to_bucket, to_key)
        return _strip_etag(getattr(resp.body, "etag", None) or _header_dict(resp).get("etag"))

    def put_json(self, bucket: str, key: str, obj: Any, *, metadata: dict[str, str] | None = None) -> str:
        """Write ``obj`` as UTF-8 JSON (non-ASCII kept as is) with content type ``application/json``."""
        data = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        return self.put_bytes(bucket, key, data, content_type="application/json", metadata=metadata)

    def delete(self, bucket: str, key: str) -> None:
        """Delete one object. Deleting a key that does not exist succeeds, as in OBS itself."""
        _check_key(key)
        self._call("delete", bucket, key, "deleteObject", bucket, key)

    def delete_many(self, bucket: str, keys: list[str]) -> int:
        """Delete objects, up to 1,000 per request (OBS's multi-object delete); returns how many."""
        sdk = _obs_sdk()
        keys = list(keys)
        for key in keys:
            _check_key(key)
        for start in range(0, len(keys), _PAGE_SIZE):
            chunk = keys[start : start + _PAGE_SIZE]
            request = sdk.DeleteObjectsRequest(quiet=True, objects=[sdk.Object(key=k) for k in chunk])
            resp = self._call("delete", bucket, None, "deleteObjects", bucket, request)
            errors = list(getattr(resp.body, "error", None) or [])
            if errors:
                first = errors[0]
                raise HuaweiObsRequestError(
                    f"OBS delete in bucket {bucket!r}: {len(errors)} of {len(chunk)} object(s) were not "
                    f"deleted (first: {getattr(first, 'key', '?')!r}, {getattr(first, 'code', '?')})",
                    bucket=bucket,
                    operation="delete",
                )
        return len(keys)

    # --- URLs ---------------------------------------------------------------------------

    def signed_get_url(self, bucket: str, key: str, *, expires: int = 3600) -> str:
        """A temporary URL anyone can GET the object with, valid for ``expires`` seconds.

        Computed locally (no request). The URL carries a signature and is a
        secret: do not log it. It is deliberately not registered with Airflow's
        secrets masker, whose cost grows with every value registered (one
        registration per image makes a batch quadratic); the OCR pipeline
        sends it only in the request body and scrubs it from error text.
        """
        _check_bucket(bucket)
        _check_key(key)
        if isinstance(expires, bool) or not isinstance(expires, int) or expires <= 0:
            raise ValueError(f"expires must be a positive number of seconds, got {expires!r}")
        result = self.get_client().createSignedUrl("GET", bucket, key, expires=expires)
        return str(result["signedUrl"] if isinstance(result, dict) else result.signedUrl)

    def object_url(self, bucket: str, key: str) -> str:
        """The plain (unsigned) URL of an object, as OCR's OBS authorization fetches it.

        ``https://{bucket}.obs.{region}.myhuaweicloud.com/{key}`` by default. The
        key is percent-encoded as UTF-8, ``/`` kept, so the URL is pure ASCII.
        With an ``obs_endpoint`` the bucket goes in front of that endpoint's
        host, or, with ``obs_path_style``, into the path:
        ``{obs_endpoint}/{bucket}/{key}``.
        """
        _check_bucket(bucket)
        _check_key(key)
        s = self.settings
        path = quote(key, safe="/")
        endpoint = urlsplit(s.obs_endpoint or region_for(s.region).obs_endpoint)
        if s.obs_endpoint and s.obs_path_style:
            return f"{endpoint.scheme}://{endpoint.netloc}/{bucket}/{path}"
        return f"{endpoint.scheme}://{bucket}.{endpoint.netloc}/{path}"


# --- helpers ------------------------------------------------------------------------------


def _conditions(if_none_match: bool, if_match: str | None) -> dict[str, str]:
    """The headers of a conditional write (the SDK passes extension headers through as given;
    an ETag goes bare, since it would percent-encode the quotes)."""
    out = {"If-None-Match": "*"} if if_none_match else {}
    if if_match:
        out["If-Match"] = if_match.strip().strip('"')
    return out


def _where(bucket: str, key: str | None) -> str:
    return f"obs://{bucket}/{key}" if key else f"bucket {bucket!r}"


def _check_bucket(bucket: Any) -> None:
    if not isinstance(bucket, str) or not bucket.strip():
        raise ValueError(f"bucket must be a non-empty string, got {bucket!r}")


def _check_key(key: Any) -> None:
    if not isinstance(key, str) or not key:
        raise ValueError(f"key must be a non-empty string, got {key!r}")


def _header_dict(resp: Any) -> dict[str, str]:
    headers = getattr(resp, "header", None) or []
    if isinstance(headers, dict):
        headers = headers.items()
    return {str(k).lower(): v for k, v in headers}


def _user_metadata(resp: Any) -> dict[str, str]:
    return {k: str(v) for k, v in _header_dict(resp).items() if not _is_system_header(k)}


def _check_metadata(metadata: dict[str, str] | None) -> dict[str, str] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict of str to str, got {type(metadata).__name__}")
    out: dict[str, str] = {}
    total = 0
    for name, value in metadata.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"metadata must map str to str; got {name!r}: {type(value).__name__}")
        lowered = name.strip().lower()
        if not _META_NAME_RE.match(lowered):
            raise ValueError(
                f"metadata name {name!r}: use only a-z, 0-9, '.', '_' and '-' (stored lower case)"
            )
        if _is_system_header(lowered):
            raise ValueError(f"metadata name {name!r} is reserved for an OBS system header; choose another")
        if lowered in out:
            raise ValueError(f"metadata names {name!r} and another one are the same once lower-cased")
        out[lowered] = value
        total += len(lowered) + len(quote(value, safe=" ;/?:@&=+$,'*"))
    if total > _MAX_METADATA_BYTES:
        raise ValueError(
            f"metadata is {total:,} bytes once encoded; OBS allows at most {_MAX_METADATA_BYTES:,}"
        )
    return out
