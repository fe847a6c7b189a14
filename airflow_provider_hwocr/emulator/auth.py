"""Checks the two ways a caller proves who it is: an AK/SK signature or an IAM token.

The AK/SK check rebuilds the signed text from the request exactly as it
arrived on the wire, then compares HMACs. It is written from the published
algorithm and deliberately shares no code with the provider's client; the
tests hold both against the vendor's official signer.

Like the gateway, it locks an access key after more than ``config.lockout_failures``
AK/SK failures in a row (5): for ``config.lockout_seconds`` (5 minutes) every request
with that key is refused, a right signature included (:class:`Lockout`).

Signed text, for the record::

    canonical  = METHOD \\n URI \\n QUERY \\n HEADER-LINES \\n SIGNED-NAMES \\n hex(sha256(body))
    to_sign    = "SDK-HMAC-SHA256" \\n X-Sdk-Date \\n hex(sha256(canonical))
    signature  = hex(hmac_sha256(SK, to_sign))
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote

from airflow_provider_hwocr.emulator.config import EmulatorConfig
from airflow_provider_hwocr.emulator.errors import AKSK_FAIL, TOKEN_MISSING, EmulatorError, auth_error
from airflow_provider_hwocr.emulator.iam import TokenStore

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
#: Headers a signature must cover, or a captured request could be replayed
#: against another host or at another time.
REQUIRED_SIGNED = ("host", "x-sdk-date")


@dataclass(frozen=True)
class AuthorizationHeader:
    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def _reject(detail: str) -> EmulatorError:
    return auth_error(AKSK_FAIL, detail)


def parse_authorization(value: str) -> AuthorizationHeader:
    """Split ``SDK-HMAC-SHA256 Access=.., SignedHeaders=a;b, Signature=..``."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _reject(f"unsupported signing algorithm {algorithm[:40]!r}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key.strip()] = val.strip()
    try:
        ak, names, signature = fields["Access"], fields["SignedHeaders"], fields["Signature"]
    except KeyError as missing:
        raise _reject(f"Authorization header lacks {missing.args[0]}") from None
    if not ak or not names or not signature:
        raise _reject("Authorization header has an empty field")
    return AuthorizationHeader(ak, tuple(names.split(";")), signature.lower())


def canonical_uri(raw_path: str) -> str:
    """Decode the received path, then quote every segment again (``~`` kept) and end with ``/``."""
    uri = "/".join(quote(segment, safe="~") for segment in unquote(raw_path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(raw_query: str) -> str:
    """Decoded ``key=value`` pairs, sorted, each side quoted again, joined by ``&``."""
    if not raw_query:
        return ""
    pairs = sorted(parse_qsl(raw_query, keep_blank_values=True))
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)


def canonical_request(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_headers: tuple[str, ...],
    body: bytes,
) -> str:
    """The canonical request for the received request. ``headers`` has lowercase names."""
    lines = []
    for name in signed_headers:
        value = headers.get(name.lower())
        if value is None:
            raise _reject(f"signed header {name!r} is not in the request")
        lines.append(f"{name}:{value.strip()}")
    if not body:
        payload_hash = EMPTY_BODY_SHA256
    else:
        # A signer may declare the body hash (or UNSIGNED-PAYLOAD) in this header.
        payload_hash = headers.get("x-sdk-content-sha256") or hashlib.sha256(body).hexdigest()
    return "\n".join(
        (
            method.upper(),
            canonical_uri(raw_path),
            canonical_query(raw_query),
            "\n".join(lines) + "\n",
            ";".join(signed_headers),
            payload_hash,
        )
    )


def string_to_sign(canonical: str, sdk_date: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def signature(secret_key: str, to_sign: str) -> str:
    return hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _parse_sdk_date(value: str | None, now: float, skew: float) -> str:
    if not value:
        raise _reject("X-Sdk-Date header missing")
    try:
        parsed = time.strptime(value.strip(), DATE_FORMAT)
    except ValueError:
        raise _reject("X-Sdk-Date is not in the format YYYYMMDDTHHMMSSZ") from None
    if abs(calendar.timegm(parsed) - now) > skew:
        raise _reject("X-Sdk-Date is outside the allowed clock skew")
    return time.strftime(DATE_FORMAT, parsed)


def verify_aksk(
    config: EmulatorConfig,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> str:
    """Check the request's AK/SK signature; return the access key or raise 401 APIG.0301."""
    auth = parse_authorization(headers.get("authorization", ""))
    secret = config.secret_for(auth.access_key)
    if secret is None:
        raise _reject("unknown access key")
    sk, security_token = secret
    names = auth.signed_headers
    for required in REQUIRED_SIGNED:
        if required not in names:
            raise _reject(f"{required!r} is not among the signed headers")
    if security_token is not None:
        if "x-security-token" not in names:
            raise _reject("temporary access key used without a signed X-Security-Token")
        given = headers.get("x-security-token", "").strip()
        if not hmac.compare_digest(given.encode("utf-8"), security_token.encode("utf-8")):
            raise _reject("X-Security-Token does not belong to this access key")
    sdk_date = _parse_sdk_date(
        headers.get("x-sdk-date"), time.time() if now is None else now, config.clock_skew
    )
    canonical = canonical_request(method, raw_path, raw_query, headers, names, body)
    expected = signature(sk, string_to_sign(canonical, sdk_date))
    if not hmac.compare_digest(expected.encode("ascii"), auth.signature.encode("utf-8")):
        raise _reject("signature does not match the canonical request")
    return auth.access_key


class Lockout:
    """AK/SK failures in a row, per access key; more than the limit lock the key for a while."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._until: dict[str, float] = {}

    def check(self, config: EmulatorConfig, ak: str) -> None:
        """Refuse a locked access key (401 APIG.0301), whatever its signature."""
        with self._lock:
            until = self._until.get(ak)
            if until is None:
                return
            if self._clock() >= until:  # unlocked: authenticate anew
                del self._until[ak]
                self._failures.pop(ak, None)
                return
        raise _reject(
            f"access key locked after more than {config.lockout_failures} failures in a row "
            f"(for {config.lockout_seconds:g} s)"
        )

    def failed(self, config: EmulatorConfig, ak: str) -> None:
        with self._lock:
            count = self._failures[ak] = self._failures.get(ak, 0) + 1
            if count > config.lockout_failures:
                self._until[ak] = self._clock() + config.lockout_seconds

    def succeeded(self, ak: str) -> None:
        with self._lock:
            self._failures.pop(ak, None)

    def locked(self) -> list[str]:
        """Access keys locked now (for stats)."""
        now = self._clock()
        with self._lock:
            return sorted(ak for ak, until in self._until.items() if until > now)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
            self._until.clear()


def _access_key(headers: Mapping[str, str]) -> str | None:
    """The access key an Authorization header names, if it can be read at all."""
    try:
        return parse_authorization(headers.get("authorization", "")).access_key
    except EmulatorError:
        return None


def auth_mode(headers: Mapping[str, str]) -> str:
    """Which credential the caller presented: ``aksk``, ``token`` or ``none``."""
    if "authorization" in headers:
        return "aksk"
    if "x-auth-token" in headers:
        return "token"
    return "none"


def authenticate(
    config: EmulatorConfig,
    tokens: TokenStore,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    lockout: Lockout | None = None,
) -> str:
    """Authenticate a request by whichever credential it carries; return the mode.

    A signature wins over a token when both are present. With ``lockout``, AK/SK
    failures are counted per access key and a locked key is refused.
    """
    mode = auth_mode(headers)
    if mode == "aksk":
        ak = _access_key(headers) if lockout is not None else None
        if lockout is None or ak is None:
            verify_aksk(config, method, raw_path, raw_query, headers, body)
            return mode
        lockout.check(config, ak)
        try:
            verify_aksk(config, method, raw_path, raw_query, headers, body)
        except EmulatorError:
            lockout.failed(config, ak)
            raise
        lockout.succeeded(ak)
    elif mode == "token":
        tokens.check(headers["x-auth-token"])
    else:
        raise auth_error(TOKEN_MISSING)
    return mode
