"""The s3fs-based class behind ``obs://`` (imported only when fsspec first needs it)."""

from __future__ import annotations

from typing import Any

MISSING_S3FS = 'obs:// paths need s3fs: pip install "airflow-provider-hwocr[obs-fs]"'

try:
    from s3fs import S3FileSystem
except ImportError as exc:
    # fsspec imports this module by itself (our ``fsspec.specs`` entry point) and, when that
    # fails, raises the registered entry's "err" text, a generic "Unable to load filesystem
    # from EntryPoint(...)". It reads that text after the import: make it name the extra.
    from fsspec.registry import known_implementations

    if isinstance(known_implementations.get("obs"), dict):
        known_implementations["obs"]["err"] = MISSING_S3FS
    raise ModuleNotFoundError(MISSING_S3FS, name=exc.name) from exc


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
