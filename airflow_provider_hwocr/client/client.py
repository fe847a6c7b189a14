"""``OcrClient``: one region, one project, one pooled HTTP session.

Plain Python on top of ``requests``; nothing here imports Airflow. A call is

1. the JSON body serialised once, straight to bytes (an image is Base64-encoded into
   them, :mod:`.body`); the signer hashes those bytes and they are what is sent;
2. per attempt: headers authorised (AK/SK signature or IAM token), one POST;
3. a non-2xx answer turned into a typed error (:mod:`.errors`);
4. throttling and transient failures retried per :class:`OcrRetryPolicy`;
   a retry after a try the service may have billed is logged and counted;
5. with token auth, a 401 saying the token is no longer valid answered by
   fetching a new token and trying once more.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import SplitResult, urlsplit

import requests
import urllib3.exceptions as u3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from airflow_provider_hwocr.catalog import Api, get_api, region_for
from airflow_provider_hwocr.catalog.response_model import document_statuses, error_in_success
from airflow_provider_hwocr.client.body import RequestBody, encode_json
from airflow_provider_hwocr.client.errors import (
    TOKEN_EXPIRED_CODES,
    HuaweiOcrAuthError,
    HuaweiOcrConfigurationError,
    HuaweiOcrError,
    HuaweiOcrRecognitionError,
    HuaweiOcrThrottledError,
    HuaweiOcrTlsError,
    HuaweiOcrTransientError,
    HuaweiOcrValidationError,
    error_from_response,
    redact,
)
from airflow_provider_hwocr.client.request import check_region, prepare_request
from airflow_provider_hwocr.client.retry import OcrRetryPolicy, RetryOutcome, TryBudget, run_with_retry
from airflow_provider_hwocr.client.signer import canonical_query

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AKSK_MAX_BODY_BYTES", "MAX_BODY_BYTES", "OcrClient", "OcrResponse", "document_statuses"]

logger = logging.getLogger("airflow_provider_hwocr.client")

#: The gateway refuses AK/SK-signed bodies above 12 MB; the 10 MB body limit below is
#: stricter and applies to every request, so this one never decides on its own.
AKSK_MAX_BODY_BYTES = 12 * 1024 * 1024
#: The service refuses request bodies over 10 MB with ModelArts.4104 ("The size
#: cannot exceed 10 MB"), whatever the authentication. Read as 10 MiB, the same
#: reading as the per-image Base64 limit: an image just under that limit plus
#: its parameters makes a body over this one.
MAX_BODY_BYTES = 10 * 1024 * 1024

_USER_AGENT = "airflow-provider-hwocr"


@dataclass(frozen=True)
class OcrResponse:
    """A successful OCR answer.

    :param result: the ``result`` member of the response (an object or a list, per API).
    :param request_id: the ``X-Request-Id`` the service gave this call, for support tickets.
    :param status_code: the HTTP status (200).
    :param attempts: tries made, the successful one included.
    :param elapsed: seconds from the first try to the answer, waits included.
    :param billed_retries: retries made after a try the service may have billed (read
        timeout, truncated body, connection lost after sending). Each may be a second charge.
    """

    result: Any
    request_id: str | None
    status_code: int
    attempts: int
    elapsed: float
    billed_retries: int = 0
    #: Per-document status for APIs that report one per item (auto-classification):
    #: ``({"type", "error_code", "error_msg", "ok"}, ...)``; ``None`` for other APIs.
    documents: tuple[dict[str, Any], ...] | None = None

    @property
    def recognised_documents(self) -> int | None:
        """Documents recognised: the billed units of an auto-classification call (None for other APIs)."""
        return None if self.documents is None else sum(1 for d in self.documents if d["ok"])

    @property
    def possibly_billed_twice(self) -> bool:
        """Whether this call may have been charged more than once."""
        return self.billed_retries > 0


def _base_url(value: str | None, default: str, field: str) -> str:
    url = (value or "").strip() or default
    url = url.rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HuaweiOcrConfigurationError(
            f"{field} must be an http(s) URL such as {default!r} (got {url!r}).", field=field
        )
    if parts.query or parts.fragment:
        raise HuaweiOcrConfigurationError(f"{field} must not carry a query or fragment.", field=field)
    return url


_PROXY_SCHEMES = ("http", "https", "socks4", "socks4a", "socks5", "socks5h")
#: A host name, an IPv4 address or an IPv6 address (urlsplit strips its brackets).
_HOST_RE = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9_-]+)*\.?|[0-9A-Fa-f:.]+)$"
)


def _proxy_url(value: str | None) -> str | None:
    """Check a proxy URL before any request; a bad one is a ``proxy`` configuration error."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    parts = urlsplit(text if "://" in text else f"http://{text}")
    shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # no password
    if "://" not in text:
        shown = shown.removeprefix("http://")  # as given
    scheme = parts.scheme.lower()
    if scheme not in _PROXY_SCHEMES:
        raise HuaweiOcrConfigurationError(
            f"proxy must be a URL such as http://host:3128 (scheme one of {', '.join(_PROXY_SCHEMES)}), "
            f"got {shown!r}.",
            field="proxy",
        )
    if not _proxy_host(parts):
        raise HuaweiOcrConfigurationError(
            f"proxy must be a URL such as http://host:3128 with a host and a numeric port, got {shown!r}.",
            field="proxy",
        )
    if scheme.startswith("socks") and importlib.util.find_spec("socks") is None:
        raise HuaweiOcrConfigurationError(
            f"proxy {shown!r} is a SOCKS proxy, which needs PySocks: pip install 'requests[socks]'.",
            field="proxy",
        )
    return text if "://" in text else f"http://{text}"


def _proxy_host(parts: SplitResult) -> str | None:
    """The proxy's host, when it is one and its port (if any) a number."""
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    if host and not _HOST_RE.match(host):
        return None  # "not a url": spaces or other characters no host name has
    return host


def _check_identity(region: str, project_id: str, credentials: Any) -> tuple[str, str]:
    """The region and project id, stripped; a configuration error naming the first one that is wrong."""
    region = (region or "").strip()
    if not region or "/" in region or " " in region:
        raise HuaweiOcrConfigurationError(
            f"region must be a region id such as 'ap-southeast-1' (got {region!r}).", field="region"
        )
    project_id = (project_id or "").strip()
    if not project_id or any(c in project_id for c in "{/ "):
        raise HuaweiOcrConfigurationError(
            "project_id is required: the id of the project for region "
            f"{region!r} (console: My Credentials > API Credentials).",
            field="project_id",
        )
    _check_credentials(credentials)
    return region, project_id


def _check_credentials(credentials: Any) -> None:
    if credentials is None or not hasattr(credentials, "authorize"):
        raise HuaweiOcrConfigurationError(
            "credentials must be AkSkCredentials or IamTokenCredentials.", field="credentials"
        )


def _pooled_session(pool_size: int) -> requests.Session:
    """The client's own session: pooled connections, no retries of its own, no environment scans."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # The environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE) is read once per host
    # (:meth:`OcrClient._transport_settings`), not by requests on every call: that scan of
    # os.environ was about 0.7 ms of a 4 ms call.
    session.trust_env = False
    return session


# --- requests that got no answer: one typed error per kind of failure ------------------------


def _tls_error(client: OcrClient, exc: OSError, host: str, where: dict[str, Any]) -> HuaweiOcrError:
    return HuaweiOcrTlsError(
        f"TLS verification of {host} failed ({type(exc).__name__}); set 'verify' to the path of a "
        "CA bundle that signs this host, or fix the endpoint.",
        field="verify",
        **where,
    )


def _proxy_error(client: OcrClient, exc: OSError, host: str, where: dict[str, Any]) -> HuaweiOcrError:
    reason = redact(_short_reason(exc), client._secrets())
    return HuaweiOcrTransientError(f"connection to {host} failed at the proxy: {reason}", **where)


def _connect_timeout(client: OcrClient, exc: OSError, host: str, where: dict[str, Any]) -> HuaweiOcrError:
    return HuaweiOcrTransientError(f"could not connect to {host} within the connect timeout.", **where)


def _read_timeout(client: OcrClient, exc: OSError, host: str, where: dict[str, Any]) -> HuaweiOcrError:
    return HuaweiOcrTransientError(
        f"{host} accepted the request but did not answer within the read timeout; "
        "the call may still have been processed (and billed).",
        billing_risk="read_timeout",
        **where,
    )


def _invalid_header(client: OcrClient, exc: OSError, host: str, where: dict[str, Any]) -> HuaweiOcrError:
    return HuaweiOcrValidationError(
        "a request header has a value that cannot be sent (check enterprise_project_id).",
        parameter="headers",
        **where,
    )


def _invalid_proxy_url(client: OcrClient, exc: OSError, host: str, where: dict[str, Any]) -> HuaweiOcrError:
    return HuaweiOcrConfigurationError("the proxy URL is not valid.", field="proxy", **where)


def _invalid_schema(client: OcrClient, exc: OSError, host: str, where: dict[str, Any]) -> HuaweiOcrError:
    socks = "socks" in str(exc).lower()
    return HuaweiOcrConfigurationError(
        "the SOCKS proxy needs PySocks: pip install 'requests[socks]'."
        if socks
        else f"invalid URL scheme for {host}.",
        field="proxy" if socks else "endpoint",
        **where,
    )


def _invalid_url(client: OcrClient, exc: OSError, host: str, where: dict[str, Any]) -> HuaweiOcrError:
    return HuaweiOcrConfigurationError(
        f"invalid URL for {host}: {type(exc).__name__}.", field="endpoint", **where
    )


def _connection_error(client: OcrClient, exc: OSError, host: str, where: dict[str, Any]) -> HuaweiOcrError:
    reason = redact(_short_reason(exc), client._secrets())
    lost = _sent_then_lost(exc)
    return HuaweiOcrTransientError(
        f"connection to {host} failed: {reason}"
        + ("; the request had been sent, so it may have been processed (and billed)." if lost else ""),
        billing_risk="connection_lost" if lost else None,
        **where,
    )


def _os_error(client: OcrClient, exc: OSError, host: str, where: dict[str, Any]) -> HuaweiOcrError:
    # requests raises a bare OSError when the CA bundle path is unusable.
    if isinstance(client.verify, str) and "certificate" in str(exc).lower():
        return HuaweiOcrTlsError(
            f"the CA bundle given in 'verify' cannot be used: {client.verify!r}.",
            field="verify",
            **where,
        )
    return HuaweiOcrTransientError(f"connection to {host} failed: {type(exc).__name__}", **where)


_ErrorBuilder = Callable[["OcrClient", OSError, str, dict[str, Any]], HuaweiOcrError]

#: Exception kinds, most specific first (``SSLError`` and ``ProxyError`` are connection errors too).
_TRANSPORT_ERRORS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], _ErrorBuilder], ...] = (
    (requests.exceptions.SSLError, _tls_error),
    (requests.exceptions.ProxyError, _proxy_error),
    (requests.exceptions.ConnectTimeout, _connect_timeout),
    (requests.exceptions.ReadTimeout, _read_timeout),
    (requests.exceptions.InvalidHeader, _invalid_header),
    (requests.exceptions.InvalidProxyURL, _invalid_proxy_url),
    (requests.exceptions.InvalidSchema, _invalid_schema),
    ((requests.exceptions.InvalidURL, requests.exceptions.MissingSchema), _invalid_url),
    (requests.exceptions.RequestException, _connection_error),
)


class OcrClient:
    """Calls Huawei Cloud OCR APIs of one region and project.

    :param region: region id, e.g. ``ap-southeast-1``.
    :param project_id: the project id of that region (console: My Credentials >
        API Credentials). Always required; never looked up behind your back.
    :param credentials: :class:`AkSkCredentials` or :class:`IamTokenCredentials`.
    :param endpoint: OCR base URL; default ``https://ocr.{region}.myhuaweicloud.com``.
        A port, if any, is part of the signed ``Host``.
    :param iam_endpoint: IAM base URL; default ``https://iam.{region}.myhuaweicloud.com``.
    :param verify: TLS verification: ``True`` (default), ``False``, or a CA bundle path.
    :param proxy: proxy URL used for both http and https.
    :param timeout: seconds, or ``(connect, read)``.
    :param retry: retry policy; default :class:`OcrRetryPolicy()`.
    :param session: a ``requests.Session`` to use instead of a private pooled one
        (it is not closed by :meth:`close`).
    :param pool_size: connections kept per host by the private session.
    :param rate_limiter: paces OCR calls, e.g. an
        :class:`~airflow_provider_hwocr.runtime.ratelimit.AdaptiveRateLimiter` shared by the threads of
        a task: ``acquire()`` before every try, ``on_throttled(retry_after)`` after a throttled one.
        Throttled tries are then retried at the limiter's pace instead of after a backoff.
    """

    def __init__(
        self,
        *,
        region: str,
        project_id: str,
        credentials: Any,
        endpoint: str | None = None,
        iam_endpoint: str | None = None,
        verify: bool | str = True,
        proxy: str | None = None,
        timeout: float | tuple[float, float] = (10, 60),
        retry: OcrRetryPolicy | None = None,
        session: requests.Session | None = None,
        pool_size: int = 32,
        rate_limiter: Any = None,
    ) -> None:
        region, project_id = _check_identity(region, project_id, credentials)
        self.region = region
        self.project_id = project_id
        self.credentials = credentials
        self.endpoint = _base_url(endpoint, region_for(region).ocr_endpoint, "endpoint")
        # With the public endpoint, an API the region does not offer can only
        # fail; with an explicit endpoint (private, emulator) the caller knows better.
        self._check_region = endpoint is None
        self.iam_endpoint = _base_url(iam_endpoint, region_for(region).iam_endpoint, "iam_endpoint")
        self.verify = verify
        proxy = _proxy_url(proxy)
        self.proxies = {"http": proxy, "https": proxy} if proxy else None
        # A proxy URL may carry a password; keep it out of error text too.
        self._proxy_secret = urlsplit(proxy).password if proxy else None
        self.timeout = _check_timeout(timeout)
        self.retry = retry or OcrRetryPolicy()
        self.rate_limiter = rate_limiter
        # Per-thread: the password of the image URL of the call in progress, kept out of error text.
        self._local = threading.local()
        self._owns_session = session is None
        if session is None:
            session = _pooled_session(pool_size)
        self.session = session
        self._transport: dict[str, tuple[Any, Any]] = {}

    # --- plumbing ---------------------------------------------------------------------

    def _transport_settings(self, url: str) -> tuple[Any, Any]:
        """(proxies, verify) for a request to ``url``: what requests would work out from the environment."""
        if not self._owns_session:
            return self.proxies, self.verify
        host = urlsplit(url).netloc
        found = self._transport.get(host)
        if found is None:
            with requests.Session() as probe:  # trust_env on, as a plain session
                merged = probe.merge_environment_settings(
                    url, dict(self.proxies or {}), None, self.verify, None
                )
            found = self._transport[host] = (merged["proxies"] or None, merged["verify"])
        return found

    def _secrets(self) -> tuple[str, ...]:
        try:
            found = tuple(self.credentials.secrets())
        except Exception:  # noqa: BLE001 - a foreign credentials object
            found = ()
        extra = getattr(self._local, "url_secret", None)
        return (*found, *(s for s in (self._proxy_secret, extra) if s))

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | bytearray, *, api: str
    ) -> requests.Response:
        """Send one prepared request; network failures become typed errors. Used by credentials too.

        The body of the answer is read here, so that an answer cut short is
        told apart from one that never came: a 2xx whose body ends early is a
        transient error with ``billing_risk="truncated"`` (the service did the
        work and charges for it).
        """
        host = urlsplit(url).netloc
        where: dict[str, Any] = {"api": api, "region": self.region}
        proxies, verify = self._transport_settings(url)
        try:
            if self._owns_session:
                response = self._send_direct(method, url, headers, body, proxies, verify)
            else:  # the caller's session: its hooks, headers and adapters apply
                response = self.session.request(
                    method,
                    url,
                    data=cast("bytes | None", body or None),  # a bytearray is sent as it is, not copied
                    headers=headers,
                    timeout=self.timeout,
                    verify=verify,
                    proxies=proxies,
                    allow_redirects=False,
                    stream=True,
                    # An explicit no-op auth stops requests from replacing our
                    # Authorization header with credentials from ~/.netrc.
                    auth=_keep_headers,
                )
        except OSError as exc:  # requests' exceptions are OSErrors too
            raise self._transport_error(exc, host, where) from None
        self._read_body(response, host, where)
        return response

    def _transport_error(self, exc: OSError, host: str, where: dict[str, Any]) -> HuaweiOcrError:
        """The typed error for a request that got no answer (the first matching kind decides)."""
        for kinds, build in _TRANSPORT_ERRORS:
            if isinstance(exc, kinds):
                return build(self, exc, host, where)
        return _os_error(self, exc, host, where)

    def _read_body(self, response: requests.Response, host: str, where: dict[str, Any]) -> None:
        """Read the whole answer now: a body cut short is a transient error (billed after a 2xx)."""
        try:
            response.content  # noqa: B018 - read the whole body now
        except (requests.exceptions.RequestException, OSError) as exc:
            response.close()
            ok = response.status_code < 300
            raise HuaweiOcrTransientError(
                f"{host} answered HTTP {response.status_code} but the body was cut short "
                f"({type(exc).__name__})" + ("; the call was processed and is billed." if ok else "."),
                billing_risk="truncated" if ok else None,
                status_code=response.status_code,
                request_id=response.headers.get("X-Request-Id"),
                **where,
            ) from None

    def _send_direct(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | bytearray,
        proxies: Any,
        verify: Any,
    ) -> requests.Response:
        """Our own session's request, handed straight to its adapter (pool, proxy, TLS, error types).

        What ``Session.request`` adds on top is for other callers: environment, cookies, netrc,
        hooks, redirects (all off or unused here). The request is the same on the wire (the
        session's default headers under ours, the URL exactly as signed); skipping that layer
        saves about 0.8 ms of CPU per call on two slow cores, so that a whole call costs less
        than a bare ``requests.post`` (``bench/client_cost.py``).
        """
        merged = CaseInsensitiveDict(self.session.headers)
        merged.update(headers)
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = url  # built from a checked endpoint; sent exactly as it was signed
        prepared.prepare_headers(merged)  # refuses header values that cannot be sent (InvalidHeader)
        prepared.prepare_body(body or None, None)  # Content-Length; a bytearray is not copied
        prepared.hooks = {"response": []}
        adapter = self.session.get_adapter(url)
        return adapter.send(prepared, stream=True, timeout=self.timeout, verify=verify, proxies=proxies)

    def _error(self, response: requests.Response, api: str) -> HuaweiOcrError:
        return error_from_response(
            response.status_code,
            response.content,
            response.headers,
            api=api,
            region=self.region,
            secrets=self._secrets(),
        )

    def _authorized_exchange(
        self, method: str, url: str, headers: dict[str, str], body: bytes | bytearray, *, api: str
    ) -> requests.Response:
        """One attempt: authorise, send, and on an expired token refresh it and resend once."""
        token_refreshed = False
        while True:
            sent = self.credentials.authorize(method, url, headers, body, self)
            started = time.monotonic()
            response = self.send(method, url, sent, body, api=api)
            logger.debug(
                "%s %s -> HTTP %s in %.3f s (request_id=%s)",
                method, urlsplit(url).path, response.status_code, time.monotonic() - started,
                response.headers.get("X-Request-Id"),
            )  # fmt: skip
            if response.status_code < 300:
                return response
            error = self._error(response, api)
            if (
                not token_refreshed
                and getattr(self.credentials, "uses_token", False)
                and isinstance(error, HuaweiOcrAuthError)
                and error.error_code in TOKEN_EXPIRED_CODES
            ):
                logger.info(
                    "OCR call %s: the service rejected the IAM token (%s); fetching a new one",
                    api,
                    error.error_code,
                )
                self.credentials.invalidate(sent.get("X-Auth-Token"))
                token_refreshed = True
                continue
            raise error

    # --- OCR ----------------------------------------------------------------------------

    def _api(self, api: Api | str) -> Api:
        if isinstance(api, Api):
            return api
        try:
            return get_api(str(api))
        except KeyError as exc:
            raise HuaweiOcrValidationError(str(exc.args[0]), parameter="api") from None

    def call(
        self,
        api: Api | str,
        body: Mapping[str, Any],
        *,
        enterprise_project_id: str | None = None,
        budget: TryBudget | None = None,
    ) -> OcrResponse:
        """POST ``body`` to one OCR API and return its ``result``.

        ``body`` is sent as given (see :meth:`recognize` for validation): a dict, or the
        :class:`~airflow_provider_hwocr.client.body.RequestBody` of a prepared request (its
        image is encoded once, into the bytes sent). Raises a :class:`HuaweiOcrError`
        subclass on failure, after retries where they apply. ``budget`` (e.g.
        ``runtime.costs.CallBudget``) is consulted before every try that may be billed,
        retries included (see :func:`~.retry.run_with_retry`).
        """
        api_obj = self._api(api)
        if self._check_region:  # refuses only what the vendor's endpoint tables make certain
            check_region(api_obj, self.region)
        url = f"{self.endpoint}{api_obj.path(self.project_id)}"
        payload = self._payload(api_obj, body)
        headers = self._headers(api_obj, enterprise_project_id)
        image_url = body.get(api_obj.url_field)
        self._local.url_secret = urlsplit(image_url).password if isinstance(image_url, str) else None
        limiter = self.rate_limiter

        def attempt(number: int) -> tuple[requests.Response, dict[str, Any]]:
            response = self._paced_exchange(limiter, url, headers, payload, api_obj.slug)
            return response, self._json(response, api_obj.slug)

        started = time.monotonic()
        outcome = RetryOutcome()
        (response, doc), attempts = run_with_retry(
            self.retry, attempt, api=api_obj.slug, outcome=outcome, paced=limiter is not None, budget=budget
        )
        elapsed = time.monotonic() - started
        documents = self._check_answer(api_obj, response, doc, attempts, outcome)
        return OcrResponse(
            result=doc.get("result"),
            request_id=response.headers.get("X-Request-Id"),
            status_code=response.status_code,
            attempts=attempts,
            elapsed=elapsed,
            billed_retries=outcome.billed_retries,
            documents=documents,
        )

    def _payload(self, api: Api, body: Mapping[str, Any]) -> bytes | bytearray:
        """The bytes of ``body``; refused, unencoded when its size is known, over the service's cap."""
        size = body.size if isinstance(body, RequestBody) else None
        payload = encode_json(body) if size is None or size <= MAX_BODY_BYTES else b""
        size = len(payload) if size is None else size
        if size > MAX_BODY_BYTES:
            raise HuaweiOcrValidationError(
                f"the request body is {size:,} bytes; the service refuses bodies over "
                f"{MAX_BODY_BYTES:,} bytes (10 MB, ModelArts.4104), image and parameters included. "
                "Use a smaller image, or pass the image as a URL.",
                parameter=api.image_field,
                api=api.slug,
                region=self.region,
            )
        return payload

    def _headers(self, api: Api, enterprise_project_id: str | None) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json;charset=UTF-8",
            "X-Project-Id": self.project_id,
            "User-Agent": _USER_AGENT,
        }
        if enterprise_project_id:
            epid = str(enterprise_project_id).strip()
            if not epid.isascii() or any(c in epid for c in "\r\n"):
                raise HuaweiOcrValidationError(
                    f"enterprise_project_id must be a plain ASCII id (got {epid!r}).",
                    parameter="enterprise_project_id",
                    api=api.slug,
                    region=self.region,
                )
            headers["Enterprise-Project-Id"] = epid
        return headers

    def _paced_exchange(
        self, limiter: Any, url: str, headers: dict[str, str], payload: bytes | bytearray, api: str
    ) -> requests.Response:
        """One try, paced by the rate limiter (if any), which learns whether it was throttled."""
        if limiter is None:
            return self._authorized_exchange("POST", url, headers, payload, api=api)
        limiter.acquire()
        try:
            response = self._authorized_exchange("POST", url, headers, payload, api=api)
        except HuaweiOcrThrottledError as exc:
            limiter.on_throttled(exc.retry_after)
            raise
        except HuaweiOcrError:
            limiter.on_success()  # answered, not throttled
            raise
        limiter.on_success()
        return response

    def _check_answer(
        self, api: Api, response: requests.Response, doc: dict[str, Any], attempts: int, outcome: RetryOutcome
    ) -> tuple[dict[str, Any], ...] | None:
        """Raise for a 2xx that reports an error, or whose every document failed; else the documents' status."""
        if error_in_success(doc):
            err = error_from_response(
                response.status_code, doc, response.headers, api=api.slug, region=self.region,
                secrets=self._secrets(),
            )  # fmt: skip
            err.attempts = attempts
            err.billed_retries = outcome.billed_retries
            raise err
        documents = document_statuses(doc.get("result"))
        if documents and not any(d["ok"] for d in documents):
            failed = HuaweiOcrRecognitionError(
                f"all {len(documents)} document(s) in the image failed to be recognised: "
                + "; ".join(f"{d['type'] or 'unknown type'}: {d['error_code']}" for d in documents[:10])
                + ". The service charges only recognised documents, so this call is not billed.",
                status_code=response.status_code,
                error_code=documents[0]["error_code"],
                request_id=response.headers.get("X-Request-Id"),
                api=api.slug,
                region=self.region,
            )
            failed.documents = documents
            failed.attempts, failed.billed_retries = attempts, outcome.billed_retries
            raise failed
        return documents

    def _json(self, response: requests.Response, api: str) -> dict[str, Any]:
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            # A 2xx was sent, so the call is billed; the answer is unusable, so it
            # is treated like a body cut short (retried per retry_possibly_billed).
            raise HuaweiOcrTransientError(
                "the service answered with a body that is not a JSON object.",
                billing_risk="truncated" if response.status_code < 300 else None,
                status_code=response.status_code,
                request_id=response.headers.get("X-Request-Id"),
                api=api,
                region=self.region,
            )
        return doc

    def recognize(
        self,
        api: Api | str,
        *,
        image: Any = None,
        url: str | None = None,
        enterprise_project_id: str | None = None,
        budget: TryBudget | None = None,
        **params: Any,
    ) -> OcrResponse:
        """Validate the input, build the body and call the API.

        ``image`` is bytes or a file path; ``url`` an OBS or internet URL (exactly
        one of them). Other keyword arguments are the API's optional parameters.
        Invalid input raises :class:`HuaweiOcrValidationError` before any request.
        """
        api_obj = self._api(api)
        body = prepare_request(api_obj, image=image, url=url, params=params).body
        return self.call(api_obj, body, enterprise_project_id=enterprise_project_id, budget=budget)

    # --- IAM ----------------------------------------------------------------------------

    def list_projects(self, name: str | None = None) -> list[dict[str, Any]]:
        """IAM ``GET /v3/projects`` (optionally filtered by name) with this client's credentials.

        Free of charge; a cheap way to check credentials and the project id.
        """
        query = canonical_query([("name", name)]) if name else ""
        url = f"{self.iam_endpoint}/v3/projects" + (f"?{query}" if query else "")
        headers = {"Content-Type": "application/json;charset=UTF-8", "User-Agent": _USER_AGENT}

        def attempt(number: int) -> requests.Response:
            return self._authorized_exchange("GET", url, headers, b"", api="iam:projects")

        response, _ = run_with_retry(self.retry, attempt, api="iam:projects")
        doc = self._json(response, "iam:projects")
        projects = doc.get("projects")
        return [p for p in projects if isinstance(p, dict)] if isinstance(projects, list) else []

    # --- lifecycle --------------------------------------------------------------------

    def close(self) -> None:
        """Release pooled connections (only of a session this client created)."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"OcrClient(region={self.region!r}, project_id={self.project_id!r}, endpoint={self.endpoint!r}, "
            f"credentials={self.credentials!r})"
        )


def _check_timeout(timeout: Any) -> float | tuple[float, float]:
    """A finite, positive timeout (the connection extra also enforces a sensible range)."""
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    names = ("connect timeout", "read timeout") if isinstance(timeout, tuple) else ("timeout",)
    if len(values) not in (1, 2):
        raise HuaweiOcrConfigurationError("timeout must be seconds or (connect, read).", field="timeout")
    for name, value in zip(names, values):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or value <= 0:
            raise HuaweiOcrConfigurationError(
                f"timeout: the {name} must be a finite number of seconds > 0, got {value!r}.",
                field="timeout",
            )
    return timeout


def _sent_then_lost(exc: BaseException) -> bool:
    """Whether a connection error happened after the request went out (the server may have it)."""
    cause: BaseException | None = exc
    for _ in range(8):
        if cause is None:
            break
        if isinstance(cause, (u3.NewConnectionError, u3.NameResolutionError, u3.ConnectTimeoutError)):
            return False
        if isinstance(cause, u3.ProtocolError):
            return True
        inner = getattr(cause, "reason", None)
        if inner is None and cause.args and isinstance(cause.args[0], BaseException):
            inner = cause.args[0]
        cause = inner if isinstance(inner, BaseException) else (cause.__cause__ or cause.__context__)
    return False


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


def _short_reason(exc: BaseException) -> str:
    # requests wraps urllib3 errors several levels deep; name the innermost cause.
    cause: BaseException = exc
    seen = 0
    while seen < 6:
        nxt = cause.__cause__ or cause.__context__
        if nxt is None and cause.args and isinstance(cause.args[0], BaseException):
            nxt = cause.args[0]
        if nxt is None:
            break
        cause, seen = nxt, seen + 1
    text = str(cause)
    if len(text) > 200:
        text = text[:200] + "..."
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__
