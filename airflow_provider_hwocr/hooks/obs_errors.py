"""Exceptions raised by :class:`~airflow_provider_hwocr.hooks.obs.HuaweiObsHook`.

The OBS SDK reports failures as a response whose ``status`` is 300 or more
(and sometimes raises on network trouble). The hook turns both into one of
these, so callers and Airflow retry policies can match on the type:

===========================================  ============================================================
class                                        meaning
===========================================  ============================================================
:class:`HuaweiObsError`                      any failed OBS request (base class)
:class:`HuaweiObsNotFoundError`              404: the bucket (``NoSuchBucket``) or object (``NoSuchKey``)
:class:`HuaweiObsAccessDeniedError`          403: the AK/SK may not do this (IAM or bucket policy)
:class:`HuaweiObsRequestError`               any other refusal (4xx, a bucket in another region)
:class:`HuaweiObsPreconditionFailedError`    a conditional write's condition not met (412, 409)
:class:`HuaweiObsTlsError`                   the server's certificate failed verification; not retried
:class:`HuaweiObsTransientError`             5xx, throttling, or no response at all; worth retrying
:class:`HuaweiObsThrottledError`             503 SlowDown / 429 (a transient error too)
===========================================  ============================================================

They share the provider's root (:mod:`airflow_provider_hwocr.errors`) with the
OCR errors: not found, access denied, other refusals and TLS failures are
``HuaweiCloudNonRetryableError``; transient ones ``HuaweiCloudTransientError``
and throttling ``HuaweiCloudThrottledError``.

Messages hold the operation, the ``obs://`` location, the HTTP status, the
OBS error code and message and the request id. They never hold credentials
or signed URLs. This module imports nothing from the OBS SDK.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from airflow_provider_hwocr.errors import (
    HuaweiCloudError,
    HuaweiCloudNonRetryableError,
    HuaweiCloudThrottledError,
    HuaweiCloudTransientError,
)

__all__ = [
    "HuaweiObsAccessDeniedError",
    "HuaweiObsError",
    "HuaweiObsNotFoundError",
    "HuaweiObsPreconditionFailedError",
    "HuaweiObsRequestError",
    "HuaweiObsThrottledError",
    "HuaweiObsTlsError",
    "HuaweiObsTransientError",
    "clean_text",
]

# Query parameters of a signed URL (OBS, S3 v2 and v4 styles) whose values must never be shown.
_SIGNED_QUERY_RE = re.compile(
    r"(?i)((?:Signature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|x-obs-security-token"
    r"|AccessKeyId|AWSAccessKeyId)=)[^&\s\"'<>]*"
)


def clean_text(text: object, secrets: Iterable[str | None] = ()) -> str:
    """``text`` as a string with the given secrets and any signed-URL parameters blanked out."""
    out = "" if text is None else str(text)
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        out = out.replace(secret, "***")
    return _SIGNED_QUERY_RE.sub(r"\1***", out)


class HuaweiObsError(HuaweiCloudError):
    """An OBS request failed. Attributes are ``None`` when the service did not say."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        request_id: str | None = None,
        bucket: str | None = None,
        key: str | None = None,
        operation: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.error_code = error_code
        self.error_message = error_message
        self.request_id = request_id
        self.bucket = bucket
        self.key = key
        self.operation = operation
        super().__init__(message)

    @property
    def uri(self) -> str | None:
        if not self.bucket:
            return None
        return f"obs://{self.bucket}/{self.key or ''}"

    def __str__(self) -> str:
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.error_code:
            details.append(self.error_code)
        if self.request_id:
            details.append(f"request_id={self.request_id}")
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def __reduce__(self):  # keep the attributes when pickled (e.g. across processes)
        state = {
            "status": self.status,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "request_id": self.request_id,
            "bucket": self.bucket,
            "key": self.key,
            "operation": self.operation,
        }
        return (_rebuild, (type(self), self.message, state))


def _rebuild(cls: type[HuaweiObsError], message: str, state: dict) -> HuaweiObsError:
    return cls(message, **state)


class HuaweiObsNotFoundError(HuaweiObsError, HuaweiCloudNonRetryableError):
    """404: ``error_code`` is ``NoSuchBucket`` or ``NoSuchKey`` (the message says which)."""


class HuaweiObsAccessDeniedError(HuaweiObsError, HuaweiCloudNonRetryableError):
    """403: the credentials may not perform this operation on this bucket or object."""


class HuaweiObsRequestError(HuaweiObsError, HuaweiCloudNonRetryableError):
    """OBS refused the request for a reason other than 403/404 (a 4xx, a bucket in another region)."""


class HuaweiObsPreconditionFailedError(HuaweiObsRequestError):
    """A conditional write's condition was not met (412; 409 ``ConditionalRequestConflict`` when
    another conditional write of the same key was in progress): nothing was written."""


class HuaweiObsTlsError(HuaweiObsError, HuaweiCloudNonRetryableError):
    """TLS failed: the server's certificate is not trusted or names another host. Set ``verify``."""


class HuaweiObsTransientError(HuaweiObsError, HuaweiCloudTransientError):
    """A 5xx or throttling answer, or no answer at all (connection or timeout failure)."""


class HuaweiObsThrottledError(HuaweiObsTransientError, HuaweiCloudThrottledError):
    """OBS asked to slow down (503 SlowDown, 429)."""
