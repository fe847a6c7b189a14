"""How a request proves who sends it: AK/SK signature or IAM token.

Both strategies share one small interface used by :class:`OcrClient`:

* ``authorize(method, url, headers, body, transport) -> dict`` returns the
  headers to send (signed, or carrying ``X-Auth-Token``);
* ``invalidate(token=None)`` drops a cached token the service rejected;
* ``secrets()`` lists the values that must never show up in text we produce;
* ``uses_token`` tells the client whether a token refresh may help on 401.

Credentials are checked when they are created: an empty AK, SK or IAM field
raises :class:`HuaweiOcrConfigurationError` naming it, so no request ever goes
out unsigned. ``repr`` shows no secret.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Protocol

from airflow_provider_hwocr.client.errors import (
    HuaweiOcrAuthError,
    HuaweiOcrConfigurationError,
    error_from_response,
)
from airflow_provider_hwocr.client.signer import sign_request

__all__ = ["AkSkCredentials", "Credentials", "IamTokenCredentials", "Transport"]

logger = logging.getLogger("airflow_provider_hwocr.client")

#: Lifetime assumed when IAM does not say when a token expires.
DEFAULT_TOKEN_LIFETIME = 24 * 3600.0


class Transport(Protocol):
    """What credentials need from the client to reach IAM."""

    iam_endpoint: str

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes, *, api: str) -> Any:
        """Send one request; returns a ``requests.Response``; raises typed errors on network failure."""


class Credentials(Protocol):
    uses_token: bool

    def authorize(
        self, method: str, url: str, headers: dict[str, str], body: bytes, transport: Transport
    ) -> dict[str, str]: ...

    def invalidate(self, token: str | None = None) -> None: ...

    def secrets(self) -> tuple[str, ...]: ...


def _required(value: Any, field: str, what: str) -> str:
    if value is None or not str(value).strip():
        raise HuaweiOcrConfigurationError(f"{what} is required and must not be empty.", field=field)
    return str(value).strip()


class AkSkCredentials:
    """Access key / secret key, optionally temporary (with a security token).

    Every request is signed with ``SDK-HMAC-SHA256``. With a security token
    (temporary credentials from STS or an agency), ``X-Security-Token`` is
    added *before* signing, so it is one of the signed headers, as the
    official SDK does. Surrounding whitespace is stripped from each value:
    a stray space is a classic cause of APIG.0301.
    """

    uses_token = False

    def __init__(self, ak: str, sk: str, security_token: str | None = None) -> None:
        self._ak = _required(ak, "ak", "The access key (AK)")
        self._sk = _required(sk, "sk", "The secret key (SK)")
        token = (security_token or "").strip()
        self._security_token = token or None

    @property
    def ak(self) -> str:
        return self._ak

    @property
    def is_temporary(self) -> bool:
        return self._security_token is not None

    def authorize(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        transport: Transport | None = None,
        *,
        now: datetime | None = None,
    ) -> dict[str, str]:
        to_sign = dict(headers)
        if self._security_token is not None:
            to_sign["X-Security-Token"] = self._security_token
        return sign_request(method, url, to_sign, body, self._ak, self._sk, now=now)

    def invalidate(self, token: str | None = None) -> None:
        """Nothing is cached for AK/SK."""

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._ak, self._sk, self._security_token) if s)

    def __repr__(self) -> str:
        return f"AkSkCredentials(ak='***', sk='***', temporary={self.is_temporary})"


def _parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class IamTokenCredentials:
    """An IAM user's password exchanged for a project-scoped token.

    The token is fetched on first use with ``POST {iam_endpoint}/v3/auth/tokens``
    and sent as ``X-Auth-Token``. It is cached, shared by all threads, and
    renewed ``refresh_margin`` seconds before it expires. The lifetime is taken
    from the response (``expires_at`` minus ``issued_at``, so a skewed local
    clock does not matter); without it, 24 h is assumed.

    :param iam_endpoint: IAM base URL. ``None`` means the client's IAM endpoint
        (``https://iam.{region}.myhuaweicloud.com`` unless overridden).
    :param refresh_margin: seconds before expiry at which the token is renewed.
        The default, 5 minutes, is longer than one call can take with its
        retries (120 s budget plus time-outs), so a token never expires
        mid-call. For tokens living less than twice the margin, half their
        lifetime is used instead.
    """

    uses_token = True

    def __init__(
        self,
        user_name: str,
        password: str,
        domain_name: str,
        project_name: str,
        iam_endpoint: str | None = None,
        *,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._user_name = _required(user_name, "user_name", "The IAM user name")
        # A password may legitimately start or end with spaces: keep it as given.
        if not password:
            raise HuaweiOcrConfigurationError("The IAM password is required.", field="password")
        self._password = password
        self._domain_name = _required(domain_name, "domain_name", "The account (domain) name")
        self._project_name = _required(
            project_name, "project_name", "The project name (usually the region id)"
        )
        if iam_endpoint is not None:
            iam_endpoint = _required(iam_endpoint, "iam_endpoint", "The IAM endpoint").rstrip("/")
            if not iam_endpoint.startswith(("https://", "http://")):
                raise HuaweiOcrConfigurationError(
                    f"The IAM endpoint must start with https:// (got {iam_endpoint!r}).", field="iam_endpoint"
                )
        self.iam_endpoint = iam_endpoint
        self.refresh_margin = float(refresh_margin)
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self._past_tokens: deque[str] = deque(maxlen=4)
        #: How many tokens this object has fetched (for tests and metrics).
        self.fetch_count = 0

    @property
    def user_name(self) -> str:
        return self._user_name

    @property
    def project_name(self) -> str:
        return self._project_name

    def _request_body(self) -> bytes:
        doc = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": self._user_name,
                            "password": self._password,
                            "domain": {"name": self._domain_name},
                        }
                    },
                },
                "scope": {"project": {"name": self._project_name}},
            }
        }
        return json.dumps(doc).encode("utf-8")

    def _fetch(self, transport: Transport) -> tuple[str, float]:
        base = self.iam_endpoint or transport.iam_endpoint
        url = f"{base}/v3/auth/tokens"
        fetched_at = self._clock()
        response = transport.send(
            "POST",
            url,
            {"Content-Type": "application/json;charset=UTF-8"},
            self._request_body(),
            api="iam:auth-tokens",
        )
        if response.status_code >= 300:
            raise error_from_response(
                response.status_code,
                response.content,
                response.headers,
                api="iam:auth-tokens",
                region=self._project_name,
                secrets=self.secrets(),
            )
        token = response.headers.get("X-Subject-Token")
        if not token:
            raise HuaweiOcrAuthError(
                f"IAM at {base} answered HTTP {response.status_code} without an X-Subject-Token header.",
                status_code=response.status_code,
                request_id=response.headers.get("X-Request-Id"),
                api="iam:auth-tokens",
            )
        lifetime = self._lifetime(response)
        margin = self.refresh_margin if lifetime > 2 * self.refresh_margin else lifetime / 2
        logger.debug("IAM token obtained for project %s; valid for %.0f s", self._project_name, lifetime)
        return token, fetched_at + max(0.0, lifetime - margin)

    @staticmethod
    def _lifetime(response: Any) -> float:
        try:
            doc = response.json()
        except ValueError:
            return DEFAULT_TOKEN_LIFETIME
        token = doc.get("token") if isinstance(doc, dict) else None
        if not isinstance(token, dict):
            return DEFAULT_TOKEN_LIFETIME
        expires = _parse_iso(token.get("expires_at"))
        if expires is None:
            return DEFAULT_TOKEN_LIFETIME
        issued = _parse_iso(token.get("issued_at")) or datetime.now(timezone.utc)
        return max(0.0, (expires - issued).total_seconds())

    def token(self, transport: Transport) -> str:
        """The cached token, fetched or renewed when needed (thread-safe)."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                if self._token:
                    self._past_tokens.append(self._token)
                self._token, self._refresh_at = self._fetch(transport)
                self.fetch_count += 1
            return self._token

    def authorize(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        transport: Transport,
    ) -> dict[str, str]:
        out = dict(headers)
        out["X-Auth-Token"] = self.token(transport)
        return out

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token, so the next request fetches a new one.

        With ``token``, only forget it if it is still the cached one: when
        several threads see the same expired token, one refresh is enough.
        """
        with self._lock:
            if token is None or token == self._token:
                if self._token:
                    self._past_tokens.append(self._token)
                self._token = None
                self._refresh_at = 0.0

    def current_token(self) -> str | None:
        with self._lock:
            return self._token

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._password, self._token, *self._past_tokens) if s)

    def __repr__(self) -> str:
        return (
            f"IamTokenCredentials(user_name={self._user_name!r}, domain_name={self._domain_name!r}, "
            f"project_name={self._project_name!r}, password='***')"
        )
