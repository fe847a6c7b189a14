"""``obs://bucket/key`` URIs: parsing and formatting, with no OBS SDK import."""

from __future__ import annotations

import re
from typing import NamedTuple

# OBS bucket names: 3-63 characters, lowercase letters, digits, '-' and '.'.
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class ObsLocation(NamedTuple):
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"obs://{self.bucket}/{self.key}"

    def __str__(self) -> str:
        return self.uri


def is_obs_uri(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith("obs://")


def parse_obs_uri(uri: str, *, allow_empty_key: bool = False, parameter: str = "image") -> ObsLocation:
    """Split ``obs://bucket/key``; raises ``HuaweiOcrValidationError`` naming ``parameter``."""
    from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

    def fail(msg: str) -> HuaweiOcrValidationError:
        return HuaweiOcrValidationError(f"{parameter}: {msg}", parameter=parameter)

    if not is_obs_uri(uri):
        raise fail(f"expected an obs://bucket/key URI, got {uri!r}")
    rest = uri.strip()[len("obs://") :]
    bucket, _, key = rest.partition("/")
    if not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise fail(f"{bucket!r} is not a valid OBS bucket name (3-63 of a-z, 0-9, '-', '.')")
    if not key and not allow_empty_key:
        raise fail(f"{uri!r} names a bucket but no object key")
    return ObsLocation(bucket, key)
