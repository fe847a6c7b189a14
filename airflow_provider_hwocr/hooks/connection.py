"""Read a ``huaweicloud_ocr`` Airflow Connection into plain, validated settings.

Shared by the OCR hook and the OBS hook, so both read the same fields the
same way. Every malformed or missing field raises an error naming it.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from airflow_provider_hwocr import _compat
from airflow_provider_hwocr.catalog import REGIONS
from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError
from airflow_provider_hwocr.get_provider_info import (
    AUTH_TYPES,
    CONN_DEFAULTS,
    OBS_SIGNATURE_ALIASES,
    OBS_SIGNATURES,
)

if TYPE_CHECKING:
    from airflow.sdk import Connection

__all__ = [
    "AUTH_TYPES",
    "CONN_DEFAULTS",
    "OBS_SIGNATURES",
    "OBS_SIGNATURE_ALIASES",
    "CloudSettings",
    "settings_from_connection",
]

_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_PROJECT_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, repr=False)
class CloudSettings:
    """Everything needed to build a client, with secrets kept out of ``repr``."""

    conn_id: str
    region: str
    project_id: str
    auth_type: str
    ak: str | None
    sk: str | None
    security_token: str | None
    user_name: str | None
    domain_name: str | None
    password: str | None
    endpoint: str | None
    iam_endpoint: str | None
    obs_endpoint: str | None
    verify: bool | str
    proxy: str | None
    timeout: float
    max_retries: int
    # OBS only: address buckets as {endpoint}/{bucket}/{key} instead of {bucket}.{host};
    # and the request signing protocol ("obs" for Huawei OBS, "v2"/"v4" for S3-compatible servers).
    obs_path_style: bool = CONN_DEFAULTS["obs_path_style"]
    obs_signature: str = CONN_DEFAULTS["obs_signature"]
    #: Retry a try the service may already have billed (read timeout, truncated body,
    #: connection lost after sending). See the README, "Billing and retries".
    retry_possibly_billed: bool = CONN_DEFAULTS["retry_possibly_billed"]
    #: Price of one billed OCR call, for cost estimates (dry runs, budgets); None = unknown.
    price_per_call: float | None = None

    def __repr__(self) -> str:  # never show credentials
        return (
            f"CloudSettings(conn_id={self.conn_id!r}, region={self.region!r}, "
            f"project_id={self.project_id!r}, auth_type={self.auth_type!r}, endpoint={self.endpoint!r})"
        )

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.ak, self.sk, self.security_token, self.password) if s]

    @property
    def proxy_password(self) -> str | None:
        """The password in the ``proxy`` URL, as written there (percent-encoded), if any."""
        if not self.proxy:
            return None
        try:
            proxy = self.proxy if "://" in self.proxy else f"http://{self.proxy}"
            return urlsplit(proxy).password or None
        except ValueError:
            return None

    def mask_secrets(self) -> None:
        """Register the real secrets with Airflow's masker, and nothing else.

        AK, SK, security token, IAM password and proxy password (as written and
        decoded). Non-secret extras (``auth_type``, ``obs_signature``, region...)
        are never handed to the masker, and values too short to mask are skipped
        instead of making the masker warn in every task log.
        """
        values = list(self.secrets)
        proxy_password = self.proxy_password
        if proxy_password:
            values += [proxy_password, unquote(proxy_password)]
        for value in values:
            _compat.mask_secret(value)


def _extra_of(conn: Connection) -> dict[str, Any]:
    """The connection's extras as a dict, parsed here rather than with ``extra_dejson``.

    ``extra_dejson`` hands every extra value to Airflow's secrets masker, which
    warns "Skipping masking for a secret as it's too short" for short non-secret
    values such as ``obs_signature: v2`` or ``auth_type: aksk`` (in every task
    log). The secrets among the extras are masked by :meth:`CloudSettings.mask_secrets`.
    """
    raw = conn.extra
    if not raw:
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        extra = json.loads(raw)
    except (TypeError, ValueError):
        raise _err(conn.conn_id, "extra", "must be a JSON object") from None
    if not isinstance(extra, dict):
        raise _err(conn.conn_id, "extra", "must be a JSON object")
    return extra


def _err(conn_id: str, field: str, message: str) -> HuaweiOcrConfigurationError:
    return HuaweiOcrConfigurationError(f"connection {conn_id!r}, field {field!r}: {message}", field=field)


def _text(extra: dict[str, Any], name: str) -> str | None:
    value = extra.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    return value or None


def _parse_verify(conn_id: str, raw: Any) -> bool | str:
    if raw is None or raw == "":
        return True
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    if not os.path.isfile(text):
        raise _err(
            conn_id, "verify", f"must be true, false or the path of a CA bundle file; no file at {text!r}"
        )
    return text


def _parse_bool(conn_id: str, name: str, raw: Any) -> bool:
    if raw is None or raw == "":
        return bool(CONN_DEFAULTS[name])
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise _err(conn_id, name, f"must be true or false, got {raw!r}")


#: Accepted ranges of numeric extras: (smallest, largest, why).
_RANGES: dict[str, tuple[float, float, str]] = {
    "timeout": (
        1.0,
        3600.0,
        "seconds to wait for an answer; one shorter than an OCR answer fails calls already billed",
    ),
    "max_retries": (1, 20, "tries per call, the first included"),
}


def _parse_number(conn_id: str, name: str, raw: Any, kind: type) -> Any:
    """A numeric extra: its default (``CONN_DEFAULTS``) when empty, else a number in its range."""
    if raw is None or raw == "":
        return kind(CONN_DEFAULTS[name])
    number = _as_number(conn_id, name, raw, whole=kind is int)
    low, high, why = _RANGES.get(name, (0.0, math.inf, ""))
    if number <= 0 or not low <= number <= high:
        limit = f"between {low:g} and {high:g}" if high != math.inf else "greater than 0"
        raise _err(
            conn_id, name, f"must be {limit} ({why}), got {raw!r}" if why else f"must be {limit}, got {raw!r}"
        )
    return kind(number)


def _as_number(conn_id: str, name: str, raw: Any, *, whole: bool) -> float:
    """``raw`` as a finite number (a whole one if ``whole``); never a Boolean."""
    if isinstance(raw, bool):
        raise _err(conn_id, name, f"must be a number, got {raw!r}")
    try:
        number = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise _err(conn_id, name, f"must be a number, got {raw!r}") from None
    if not math.isfinite(number):
        raise _err(conn_id, name, f"must be a finite number, got {raw!r}")
    if whole and not number.is_integer():
        raise _err(conn_id, name, f"must be a whole number, got {raw!r}")
    return number


def _parse_price(conn_id: str, raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise _err(conn_id, "price_per_call", f"must be a number, got {raw!r}") from None
    if isinstance(raw, bool) or not math.isfinite(value) or value < 0:
        raise _err(conn_id, "price_per_call", f"must be a finite number >= 0, got {raw!r}")
    return value


def _parse_url(conn_id: str, name: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    if not re.match(r"^https?://[^/\s]+", raw):
        raise _err(conn_id, name, f"must be an http:// or https:// URL, got {raw!r}")
    return raw.rstrip("/")


def settings_from_connection(
    conn: Connection,
    *,
    region: str | None = None,
    project_id: str | None = None,
    service: str = "ocr",
) -> CloudSettings:
    """Validate a connection; ``region``/``project_id`` override the connection's.

    ``service="obs"`` reads the connection for the OBS hook: the project id is
    optional there, and an AK/SK pair is required whatever ``auth_type`` says,
    because OBS requests can only be signed with an AK/SK (an IAM token cannot).
    Fields are checked in this order: region, project id, auth type, credentials,
    then the transport and retry options.
    """
    if service not in ("ocr", "obs"):
        raise ValueError(f"service must be 'ocr' or 'obs', got {service!r}")
    conn_id = conn.conn_id
    extra = _extra_of(conn)
    region = _region(conn_id, region or _text(extra, "region"))
    project_id = _project_id(conn_id, project_id or _text(extra, "project_id"), region, service)
    auth_type = _auth_type(conn_id, extra)
    return CloudSettings(
        conn_id=conn_id,
        region=region,
        project_id=project_id,
        auth_type=auth_type,
        **_credentials(conn, extra, auth_type, service),
        **_options(conn_id, extra),
    )


def _region(conn_id: str, given: str | None) -> str:
    region = (given or "").strip()
    if not region:
        raise _err(conn_id, "region", f"is required; known: {', '.join(REGIONS)}")
    if not _REGION_RE.match(region):
        raise _err(conn_id, "region", f"{region!r} is not a region id; known: {', '.join(REGIONS)}")
    return region


def _project_id(conn_id: str, given: str | None, region: str, service: str) -> str:
    project_id = (given or "").strip()
    if not project_id and service == "ocr":  # OBS does not use the project id
        raise _err(
            conn_id,
            "project_id",
            f"is required: the id of project {region!r} (console: My Credentials > API Credentials)",
        )
    if project_id and not _PROJECT_RE.match(project_id):
        raise _err(conn_id, "project_id", "must be the project id itself (letters, digits, - or _)")
    return project_id


def _auth_type(conn_id: str, extra: dict[str, Any]) -> str:
    auth_type = (_text(extra, "auth_type") or CONN_DEFAULTS["auth_type"]).lower()
    if auth_type not in AUTH_TYPES:
        raise _err(conn_id, "auth_type", f"must be one of {', '.join(AUTH_TYPES)}, got {auth_type!r}")
    return str(auth_type)


def _credentials(conn: Connection, extra: dict[str, Any], auth_type: str, service: str) -> dict[str, Any]:
    """AK/SK, security token and IAM user; those the service and auth type need must be there."""
    found: dict[str, Any] = {
        "ak": (conn.login or "").strip() or None,
        "sk": (conn.password or "").strip() or None,
        "security_token": _text(extra, "security_token"),
        "user_name": _text(extra, "user_name"),
        "domain_name": _text(extra, "domain_name"),
        "password": _text(extra, "password"),
    }
    if service == "obs":
        _require_keys(conn.conn_id, found, "for OBS", _obs_key_reason(auth_type))
    elif auth_type == "aksk":
        _require_keys(conn.conn_id, found, "for auth_type 'aksk'", None)
    else:
        for name in ("user_name", "domain_name", "password"):
            if not found[name]:
                raise _err(conn.conn_id, name, "is required for auth_type 'token' (IAM user password login)")
    return found


def _obs_key_reason(auth_type: str) -> str:
    if auth_type == "token":
        return "OBS requests are signed with an AK/SK pair; an IAM token (auth_type 'token') cannot be used for OBS"
    return "OBS requests are signed with it; an empty key would send unsigned requests"


def _require_keys(conn_id: str, found: dict[str, Any], purpose: str, why: str | None) -> None:
    for field, name, label in (("login", "ak", "Access Key (AK)"), ("password", "sk", "Secret Key (SK)")):
        if not found[name]:
            raise _err(conn_id, field, f"the {label} is required {purpose}" + (f": {why}" if why else ""))


def _options(conn_id: str, extra: dict[str, Any]) -> dict[str, Any]:
    """Endpoints, TLS, proxy, timeout, retries and price, each checked (retries first)."""
    max_retries = _parse_number(conn_id, "max_retries", extra.get("max_retries"), int)
    return {
        "endpoint": _parse_url(conn_id, "endpoint", _text(extra, "endpoint")),
        "iam_endpoint": _parse_url(conn_id, "iam_endpoint", _text(extra, "iam_endpoint")),
        "obs_endpoint": _parse_url(conn_id, "obs_endpoint", _text(extra, "obs_endpoint")),
        "verify": _parse_verify(conn_id, extra.get("verify")),
        "proxy": _text(extra, "proxy"),
        "timeout": _parse_number(conn_id, "timeout", extra.get("timeout"), float),
        "max_retries": max_retries,
        "obs_path_style": _parse_bool(conn_id, "obs_path_style", extra.get("obs_path_style")),
        "obs_signature": _parse_obs_signature(conn_id, extra.get("obs_signature")),
        "retry_possibly_billed": _parse_bool(
            conn_id, "retry_possibly_billed", extra.get("retry_possibly_billed")
        ),
        "price_per_call": _parse_price(conn_id, extra.get("price_per_call")),
    }


def _parse_obs_signature(conn_id: str, raw: Any) -> str:
    if raw is None or raw == "":
        return str(CONN_DEFAULTS["obs_signature"])
    value = str(raw).strip().lower()
    value = OBS_SIGNATURE_ALIASES.get(value, value)
    if value not in OBS_SIGNATURES:
        known = ", ".join([*OBS_SIGNATURES, *OBS_SIGNATURE_ALIASES])
        raise _err(conn_id, "obs_signature", f"must be one of {known}, got {raw!r}")
    return value
