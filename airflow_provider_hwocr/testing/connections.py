"""``huaweicloud_ocr`` connections for local endpoints: the emulator and a local object server."""

from __future__ import annotations

from typing import Any

__all__ = ["LOCAL_PROJECT_ID", "LOCAL_REGION", "local_connection", "object_server_extras"]

#: The region and project id ``hwocr-emulator`` plays unless told otherwise (the emulator's
#: ``DEFAULT_REGION`` and ``DEFAULT_PROJECT_ID``; this package imports nothing of the emulator, so a
#: test keeps the two equal): a local connection with these passes the hook's connection test.
LOCAL_REGION = "cn-north-4"
LOCAL_PROJECT_ID = "0123456789abcdef0123456789abcdef"


def object_server_extras(url: str) -> dict[str, object]:
    """Connection extras that point the OBS side of a connection at ``url``."""
    # "sigv2", not its short spelling "v2": Airflow's masker warns about short extra values.
    return {"obs_endpoint": url, "obs_path_style": True, "obs_signature": "sigv2", "verify": False}


def local_connection(
    *,
    ak: str,
    sk: str,
    region: str,
    project_id: str | None = None,
    ocr_endpoint: str | None = None,
    obs_endpoint: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A connection in the ``AIRFLOW_CONN_*`` JSON form (``json.dumps`` it) on local endpoints.

    ``ocr_endpoint`` serves OCR and IAM (the emulator does both); ``obs_endpoint`` is the object
    server. Further keyword arguments are extras; ``None`` values are left out.
    """
    extras: dict[str, Any] = {"region": region, "project_id": project_id}
    if ocr_endpoint:
        extras.update(endpoint=ocr_endpoint, iam_endpoint=ocr_endpoint)
    if obs_endpoint:
        extras.update(object_server_extras(obs_endpoint))
    extras.update(extra)
    return {
        "conn_type": "huaweicloud_ocr",
        "login": ak,
        "password": sk,
        "extra": {k: v for k, v in extras.items() if v is not None},
    }
