"""The s3fs-based class behind ``obs://`` (imported only when fsspec first needs it)."""

from __future__ import annotations

from typing import Any

from s3fs import S3FileSystem


class ObsFileSystem(S3FileSystem):
    """s3fs speaking to Huawei Cloud OBS's S3-compatible API; paths are ``obs://bucket/key``."""

    protocol = ("obs",)

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, str) and path.lower().startswith("obs://"):
            path = path[len("obs://") :]
        return super()._strip_protocol(path)

    def unstrip_protocol(self, name: str) -> str:
        return name if name.startswith("obs://") else f"obs://{name}"
