"""Typed errors for Huawei Cloud OCR calls.

Every failure is a :class:`HuaweiOcrError`. The subclass tells a caller (or an
Airflow retry policy matching on exception type) what to do about it:

========================================  ==========================================
class                                     meaning
========================================  ==========================================
:class:`HuaweiOcrInvalidInputError`       the request is wrong; never retried
:class:`HuaweiOcrValidationError`         caught locally, before any request was sent
:class:`HuaweiOcrConfigurationError`      a setting is missing or malformed
:class:`HuaweiOcrAuthError`               credentials, token, permission or account
:class:`HuaweiOcrNotSubscribedError`      API not subscribed in this region (an auth error)
:class:`HuaweiOcrNotFoundError`           no such API here: wrong region, endpoint or project id
:class:`HuaweiOcrThrottledError`          rate or concurrency limit; retried after a delay
:class:`HuaweiOcrTransientError`          5xx, backend failure, connection error, timeout; retried
:class:`HuaweiOcrLongDelayError`          a backend down for hours (AIS.0118); retried hours later only
:class:`HuaweiOcrRecognitionError`        the service could not process this image
:class:`HuaweiOcrTlsError`                TLS verification failed (a configuration error)
========================================  ==========================================

Each class also derives from one branch of the provider's root
(:mod:`airflow_provider_hwocr.errors`): throttled, transient and long-delay errors
from :class:`~airflow_provider_hwocr.errors.HuaweiCloudRetryableError`, all others
from :class:`~airflow_provider_hwocr.errors.HuaweiCloudNonRetryableError`. A
long-delay error is retryable but neither throttled nor transient: the client's
own retry loop (which retries those two at once) leaves it alone, and the task
retry policy (:mod:`airflow_provider_hwocr.retry_policy`) waits its
``retry_after`` (about 2 hours) before the task runs again.

A transient error carries ``billing_risk`` when the service may already
have processed, and billed, the call (read timeout, a truncated 200 body, a
connection lost after the request was sent); ``billed_retries`` on a final
error or a response counts the retries that followed such a failure.

Messages carry the error code, the service's message, the API, the HTTP
status and the request id. They never carry credentials: the client passes
its secrets to :func:`error_from_response`, which blanks them out of any text
the server echoes back.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from airflow_provider_hwocr.catalog import ERROR_CODES, LONG_DELAY_SECONDS, REGIONS, ErrorCode, get_api
from airflow_provider_hwocr.catalog.errors import CATEGORY_HINTS, code_hint
from airflow_provider_hwocr.errors import (
    HuaweiCloudError,
    HuaweiCloudNonRetryableError,
    HuaweiCloudRetryableError,
    HuaweiCloudThrottledError,
    HuaweiCloudTransientError,
)

__all__ = [
    "TOKEN_EXPIRED_CODES",
    "HuaweiOcrAuthError",
    "HuaweiOcrConfigurationError",
    "HuaweiOcrError",
    "HuaweiOcrInvalidInputError",
    "HuaweiOcrLongDelayError",
    "HuaweiOcrNotFoundError",
    "HuaweiOcrNotSubscribedError",
    "HuaweiOcrRecognitionError",
    "HuaweiOcrThrottledError",
    "HuaweiOcrTlsError",
    "HuaweiOcrTransientError",
    "HuaweiOcrValidationError",
    "error_from_response",
    "parse_retry_after",
    "redact",
]

#: Codes with which the gateway or the service rejects a token it no longer
#: accepts; on these the client fetches a fresh token once.
TOKEN_EXPIRED_CODES = frozenset({"APIG.0301", "ModelArts.0203", "ModelArts.4102", "ModelArts.4103"})

_REDACTED = "***"
_MAX_BODY_SNIPPET = 200


class HuaweiOcrError(HuaweiCloudError):
    """Base class of every error raised by this package's OCR client."""

    #: The catalog category this class stands for (see ``catalog.errors``).
    category: ClassVar[str] = "error"

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        error_code: str | None = None,
        error_msg: str | None = None,
        request_id: str | None = None,
        api: str | None = None,
        region: str | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id
        self.api = api
        self.region = region
        self.hint = hint
        self.retry_after = retry_after
        #: How many tries were made, set by the retry loop on the error it raises.
        self.attempts: int | None = None
        #: Retries made after a try that the service may have billed (set by the retry loop).
        self.billed_retries: int = 0
        self.message = message if message is not None else (error_msg or self._default_message())
        super().__init__(self.message)

    def _default_message(self) -> str:
        if self.status_code is not None:
            return f"OCR request failed with HTTP {self.status_code}."
        return "OCR request failed."

    def __str__(self) -> str:
        text = self.message
        if self.error_code:
            text = f"[{self.error_code}] {text}"
        if self.hint:
            text = text if text.rstrip().endswith((".", "!", "?")) else f"{text.rstrip()}."
            text = f"{text} {self.hint}"
        details = []
        if self.api:
            details.append(f"api={self.api}")
        if self.region:
            details.append(f"region={self.region}")
        if self.status_code is not None:
            details.append(f"HTTP {self.status_code}")
        if self.request_id:
            details.append(f"request_id={self.request_id}")
        return f"{text} ({', '.join(details)})" if details else text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(error_code={self.error_code!r}, status_code={self.status_code!r}, "
            f"api={self.api!r}, region={self.region!r}, request_id={self.request_id!r})"
        )

    def __reduce__(self):
        # Keep every attribute when the error crosses a process boundary
        # (Airflow may pickle exceptions between task runner and supervisor).
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[HuaweiOcrError], state: dict[str, Any]) -> HuaweiOcrError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message"))
    err.__dict__.update(state)
    return err


class HuaweiOcrInvalidInputError(HuaweiOcrError, HuaweiCloudNonRetryableError):
    """The request is not acceptable (AIS.0101-0104 and the like). Retrying cannot help."""

    category = "invalid_input"


class HuaweiOcrValidationError(HuaweiOcrInvalidInputError, ValueError):
    """Raised before any request is sent, when the input would certainly be refused.

    ``parameter`` names the offending argument (``image``, ``url``, a body
    parameter ...) when there is one.
    """

    def __init__(self, message: str, *, parameter: str | None = None, **kwargs: Any) -> None:
        self.parameter = parameter
        super().__init__(message, **kwargs)


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class HuaweiOcrConfigurationError(HuaweiOcrError, HuaweiCloudNonRetryableError, ValueError):
    """A setting is missing or malformed; ``field`` names it.

    Either ``HuaweiOcrConfigurationError("project_id")`` (the field alone;
    a message is made up) or ``HuaweiOcrConfigurationError("...", field="sk")``.
    """

    category = "configuration"

    def __init__(self, message: str | None = None, *, field: str | None = None, **kwargs: Any) -> None:
        if field is None and message is not None and _IDENTIFIER.match(message):
            field, message = message, None
        self.field = field
        if message is None:
            message = f"setting {field!r} is missing or invalid." if field else "invalid configuration."
        super().__init__(message, **kwargs)


class HuaweiOcrTlsError(HuaweiOcrConfigurationError):
    """TLS verification of the server failed: a wrong CA bundle, endpoint or an intercepting proxy."""

    category = "tls"


class HuaweiOcrAuthError(HuaweiOcrError, HuaweiCloudNonRetryableError):
    """Authentication or authorisation failed: AK/SK, token, permission or account state."""

    category = "auth"


class HuaweiOcrNotSubscribedError(HuaweiOcrAuthError):
    """ModelArts.4204: this API is not subscribed for the account in this region."""

    category = "not_subscribed"


class HuaweiOcrNotFoundError(HuaweiOcrError, HuaweiCloudNonRetryableError):
    """APIG.0101 / HTTP 404: the endpoint has no such API (region, endpoint or project id is wrong)."""

    category = "not_found"


class HuaweiOcrThrottledError(HuaweiOcrError, HuaweiCloudThrottledError):
    """APIG.0308, ModelArts.4401 or HTTP 429. ``retry_after`` is the server's hint in seconds, if any."""

    category = "throttled"


#: Why a failed try may still have been billed (``HuaweiOcrTransientError.billing_risk``).
BILLING_RISKS = ("read_timeout", "truncated", "connection_lost")


class HuaweiOcrTransientError(HuaweiOcrError, HuaweiCloudTransientError):
    """A failure that may go away: 5xx, backend timeout, connection error, client timeout.

    ``billing_risk`` is set when the service may have processed (and billed)
    the call although no usable answer came back: ``read_timeout`` (the
    request was sent, no answer in time), ``truncated`` (a 2xx whose body
    ended early or was not JSON) or ``connection_lost`` (the connection
    closed after the request was sent, before an answer).
    """

    category = "transient"

    def __init__(
        self,
        message: str | None = None,
        *,
        read_timeout: bool = False,
        billing_risk: str | None = None,
        **kwargs: Any,
    ) -> None:
        if read_timeout and billing_risk is None:
            billing_risk = "read_timeout"
        if billing_risk is not None and billing_risk not in BILLING_RISKS:
            raise ValueError(f"billing_risk must be one of {BILLING_RISKS}, got {billing_risk!r}")
        #: True when the server took the request but did not answer in time.
        self.read_timeout = billing_risk == "read_timeout"
        self.billing_risk = billing_risk
        super().__init__(message, **kwargs)

    @property
    def possibly_billed(self) -> bool:
        """Whether the service may have charged for this failed try."""
        return self.billing_risk is not None


class HuaweiOcrLongDelayError(HuaweiOcrError, HuaweiCloudRetryableError):
    """A backend the service depends on is down for hours: AIS.0118, the tax authority's interface.

    Retryable, but not now: the docs say to retry about 2 hours later, so
    ``retry_after`` is that many seconds. Neither throttled nor transient, so the
    client never retries it at once (a retry would be refused again, and may be
    billed); :data:`~airflow_provider_hwocr.retry_policy.HWOCR_RETRY_POLICY`
    retries the task after ``retry_after``.
    """

    category = "long_delay"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        if kwargs.get("retry_after") is None:
            kwargs["retry_after"] = float(LONG_DELAY_SECONDS)
        super().__init__(message, **kwargs)


class HuaweiOcrRecognitionError(HuaweiOcrError, HuaweiCloudNonRetryableError):
    """The service accepted the request but could not recognise the image (e.g. AIS.0105).

    Also raised, with ``documents`` set (the status of each document), when
    every document an auto-classification call found failed: the service
    charges only recognised documents, and the caller has nothing to use.
    """

    #: Per-document status (auto-classification), when that is why the call failed.
    documents: tuple[dict[str, Any], ...] | None = None

    category = "failed"


_BY_CATEGORY: dict[str, type[HuaweiOcrError]] = {
    "invalid_input": HuaweiOcrInvalidInputError,
    "auth": HuaweiOcrAuthError,
    "not_subscribed": HuaweiOcrNotSubscribedError,
    "not_found": HuaweiOcrNotFoundError,
    "throttled": HuaweiOcrThrottledError,
    "transient": HuaweiOcrTransientError,
    "failed": HuaweiOcrRecognitionError,
    "long_delay": HuaweiOcrLongDelayError,
    "configuration": HuaweiOcrConfigurationError,
}


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP-date)."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def _category_from_status(status: int | None) -> str | None:
    if status is None:
        return None
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if status == 429:
        return "throttled"
    if status in (408,) or status >= 500:
        return "transient"
    if 400 <= status < 500:
        return "invalid_input"
    return None


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    try:
        value = headers.get(name)  # requests' headers are case-insensitive already
    except AttributeError:
        return None
    if value is not None:
        return value
    wanted = name.lower()
    for key, val in headers.items():
        if str(key).lower() == wanted:
            return val
    return None


def _parse_body(body: Any) -> tuple[dict[str, Any] | None, str | None]:
    """Return (JSON object or None, raw text or None)."""
    if body is None:
        return None, None
    if isinstance(body, Mapping):
        return dict(body), None
    if isinstance(body, (bytes, bytearray, memoryview)):
        text = bytes(body).decode("utf-8", errors="replace")
    else:
        text = str(body)
    try:
        parsed = json.loads(text) if text.strip() else None
    except ValueError:
        return None, text
    return (parsed if isinstance(parsed, dict) else None), text


def _find_code(doc: dict[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """error_code, error_msg, request_id from the top level or from ``result``."""
    if not doc:
        return None, None, None
    code, msg = _code_and_message(doc)
    request_id = doc.get("request_id") or doc.get("requestId")
    return _text(code), (str(msg) if msg is not None else None), _text(request_id)


def _code_and_message(doc: dict[str, Any]) -> tuple[Any, Any]:
    # The response model's names, loaded with the first error (not when a DAG file is parsed).
    from airflow_provider_hwocr.catalog.response_model import ERROR_CODE_FIELD, ERROR_MSG_FIELD

    code, msg = doc.get(ERROR_CODE_FIELD), doc.get(ERROR_MSG_FIELD)
    inner = doc.get("result")
    if not code and isinstance(inner, dict):
        code, msg = inner.get(ERROR_CODE_FIELD), inner.get(ERROR_MSG_FIELD, msg)
    keystone = doc.get("error")
    if not code and msg is None and isinstance(keystone, dict):
        # IAM answers in the Keystone shape: {"error": {"code": 401, "message": ...}}
        code, msg = keystone.get("error_code"), keystone.get("message")
    return code, msg


def _text(value: Any) -> str | None:
    return str(value) if value else None


def redact(text: str | None, secrets: Iterable[str | None]) -> str | None:
    """Blank out every secret (of 4+ characters) found in ``text``."""
    if not text:
        return text
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, _REDACTED)
    return text


def _region_label(region: str | None) -> str:
    known = REGIONS.get(region or "")
    return f"{region} ({known.name})" if known else str(region)


def _hint(
    category: str | None, code: str | None, status: int | None, api: str | None, region: str | None
) -> str | None:
    """What to do: the category's hint (``catalog.errors.CATEGORY_HINTS``), else the code's."""
    template = CATEGORY_HINTS.get(category or "")
    if template is None:
        return code_hint(code, status)
    text = template.format(
        what=f"the {api!r} API" if api else "this API",
        where=f"region {_region_label(region)}" if region else "the region you call",
        hours=LONG_DELAY_SECONDS // 3600,
    )
    return text + _offered_elsewhere(api, region) if category == "not_found" else text


def _offered_elsewhere(api: str | None, region: str | None) -> str:
    """Where ``api`` is offered, when ``region`` is not one of those places."""
    if not api:
        return ""
    try:
        offered = get_api(api).regions
    except KeyError:
        offered = ()
    return f" {api!r} is offered in: {', '.join(offered)}." if offered and region not in offered else ""


def _message(msg: str | None, known: ErrorCode | None, raw: str | None) -> str | None:
    """The service's message, else the catalog's for the code, else a snippet of the body."""
    if msg is None and known is not None:
        msg = known.message
    if msg is None and raw:
        snippet = " ".join(raw.split())[:_MAX_BODY_SNIPPET]
        msg = f"unexpected response body: {snippet!r}" if snippet else None
    return msg


def error_from_response(
    status: int | None,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
    *,
    api: str | None = None,
    region: str | None = None,
    secrets: Iterable[str | None] = (),
) -> HuaweiOcrError:
    """Turn a failed HTTP response into the matching typed error.

    ``error_code``/``error_msg`` are read at the top level of the JSON body or,
    failing that, under ``result`` (general-table documents that shape).
    With no known code the HTTP status decides. ``X-Request-Id`` (or a
    ``request_id`` in the body) is kept. Any of ``secrets`` appearing in the
    server's text is replaced by ``***``.
    """
    doc, raw = _parse_body(body)
    code, msg, body_request_id = _find_code(doc)
    known = ERROR_CODES.get(code) if code else None
    category = known.category if known else _category_from_status(status)
    cls = _BY_CATEGORY.get(category or "", HuaweiOcrError)
    retry_after = parse_retry_after(_header(headers, "Retry-After")) if cls.retryable else None
    where: dict[str, Any] = {"field": "endpoint"} if cls is HuaweiOcrConfigurationError else {}
    text = redact(_message(msg, known, raw), tuple(secrets))
    return cls(
        text,
        status_code=status,
        error_code=code,
        error_msg=text,
        request_id=_header(headers, "X-Request-Id") or body_request_id,
        api=api,
        region=region,
        hint=_hint(category, code, status, api, region),
        retry_after=retry_after,
        **where,
    )
