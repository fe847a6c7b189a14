"""The ``obs://`` filesystem for ``ObjectStoragePath``, on s3fs (OBS's S3-compatible API).

``ObjectStoragePath("obs://my_conn@bucket/key")`` reads and writes with the
credentials and OBS settings of the ``huaweicloud_ocr`` connection
``my_conn`` (``huaweicloud_ocr_default`` when the path names none): AK/SK
(and ``security_token``), ``region``, ``obs_endpoint`` (default
``https://obs.{region}.myhuaweicloud.com``), ``obs_path_style``,
``obs_signature`` (``v2`` signs S3 SigV2, otherwise SigV4), ``verify``
(TLS verified by default; ``false`` or a CA bundle path), ``proxy``,
``timeout`` and ``max_retries``. The connection is read the same way and with
the same checks as the OBS hook (empty AK/SK is refused: never unsigned).

Needs the ``obs-fs`` extra: ``pip install "airflow-provider-hwocr[obs-fs]"``. fsspec learns
the ``obs`` protocol from the package's ``fsspec.specs`` entry point (a class
path only), and s3fs is imported only when a path is first used, so listing the
filesystem in provider info costs nothing when s3fs is not installed.

Usable as the target of common-io's object-storage XCom backend:
``[common.io] xcom_objectstorage_path = obs://my_conn@bucket/xcom``.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlsplit

schemes = ["obs"]

DEFAULT_CONN_ID = "huaweicloud_ocr_default"


@cache
def _filesystem_class() -> type:
    try:
        from airflow_provider_hwocr.fs._s3fs import ObsFileSystem
    except ImportError as exc:
        raise ImportError(
            'the obs:// filesystem needs s3fs: pip install "airflow-provider-hwocr[obs-fs]"'
        ) from exc
    return ObsFileSystem


def storage_options_for(settings: Any, endpoint: str) -> dict[str, Any]:
    """s3fs options for a validated connection (pure: no I/O, testable)."""
    verify: Any = settings.verify if isinstance(settings.verify, str) else bool(settings.verify)
    config: dict[str, Any] = {
        "signature_version": "s3" if settings.obs_signature == "v2" else "s3v4",
        "s3": {"addressing_style": "path" if settings.obs_path_style else "virtual"},
        "connect_timeout": 10,
        "read_timeout": settings.timeout,
        "retries": {"max_attempts": max(1, settings.max_retries), "mode": "standard"},
    }
    if settings.proxy:
        proxy = settings.proxy if "://" in settings.proxy else f"http://{settings.proxy}"
        config["proxies"] = {"http": proxy, "https": proxy}
    return {
        "key": settings.ak,
        "secret": settings.sk,
        "token": settings.security_token,
        "endpoint_url": endpoint,
        "client_kwargs": {"region_name": settings.region, "verify": verify},
        "config_kwargs": config,
    }


def get_fs(conn_id: str | None, storage_options: dict[str, Any] | None = None) -> Any:
    """The filesystem for ``conn_id``; ``storage_options`` override the connection's (s3fs names)."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    fs_class = _filesystem_class()
    hook = HuaweiObsHook(conn_id or DEFAULT_CONN_ID)
    settings = hook.settings  # validated; credentials are registered with the secrets masker
    endpoint = hook.endpoint
    parts = urlsplit(endpoint)
    if parts.path not in ("", "/") or parts.query:
        from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError

        raise HuaweiOcrConfigurationError(
            f"connection {settings.conn_id!r}, field 'obs_endpoint': must be scheme://host[:port]",
            field="obs_endpoint",
        )
    options = storage_options_for(settings, f"{parts.scheme}://{parts.netloc}")
    options.update(storage_options or {})
    return fs_class(**options)
