"""The contract between a review task and the review plugin: where the form's images are.

A review task (:class:`~airflow_provider_hwocr.operators.review.HuaweiOcrReviewOperator`) stores
its crops in OBS and keeps a *pointer* in its own XCom (key :data:`REVIEW_XCOM_KEY`): the bucket,
the crops' keys, the page image's key and the connection's id; nothing secret. Its form links
the images by the plugin's relative paths (:func:`review_path`). The plugin
(:mod:`airflow_provider_hwocr.plugins.review`) reads the pointer of the task instance the path
names and serves only keys :func:`image_key` accepts. Cheap to import: no Airflow module.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from airflow_provider_hwocr.client.images import sniff_format

__all__ = [
    "CROPS_DIR",
    "PLUGIN_PREFIX",
    "POINTER_FORMAT",
    "REVIEW_XCOM_KEY",
    "image_key",
    "image_media_type",
    "review_path",
]

#: The XCom key under which a review task keeps its pointer.
REVIEW_XCOM_KEY = "hwocr_review"
#: The pointer's ``format``.
POINTER_FORMAT = "hwocr-review-pointer/1"
#: Where the review plugin is mounted in the API server.
PLUGIN_PREFIX = "/hwocr/review"
#: Under ``<housekeeping>/{api}/``: the crops and page images of review forms.
CROPS_DIR = "review-crops/"
#: What a crop's key looks like: ``…_hwocr/{api}/review-crops/<hex digest>.png``.
_CROP_KEY = re.compile(r"(^|/)[^/]*_hwocr/[a-z0-9-]+/review-crops/[0-9a-f]{16,64}\.png$")


def review_path(
    dag_id: str, run_id: str, task_id: str, map_index: int, image: str, *, base_path: str = ""
) -> str:
    """The plugin's path of one image of one review task instance (``crop/0.png``, ``page.png``),
    under the API server's base path (``base_path``: the path of ``[api] base_url``)."""
    parts = "/".join(quote(str(p), safe="") for p in (dag_id, run_id, task_id, map_index))
    return f"{base_path.rstrip('/')}{PLUGIN_PREFIX}/{parts}/{image}"


def image_key(pointer: Any, image: str) -> tuple[str, str] | None:
    """(bucket, key) of image ``crop/<n>.png`` or ``page.png`` in a review task's pointer; ``None``
    when the pointer has no such image or names a key that is not a review crop (the plugin
    serves review crops only, whatever an XCom says)."""
    if not isinstance(pointer, dict) or pointer.get("format") != POINTER_FORMAT:
        return None
    bucket = pointer.get("bucket")
    key: Any = None
    if image == "page.png":
        key = pointer.get("page")
    elif image.startswith("crop/") and image.endswith(".png") and image[5:-4].isdigit():
        crops = pointer.get("crops")
        n = int(image[5:-4])
        if isinstance(crops, list) and n < len(crops):
            key = crops[n]
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str):
        return None
    if ".." in key or not _CROP_KEY.search(key):
        return None
    return bucket, key


#: Served image formats (the catalog's names, as :func:`sniff_format` tells them) -> content type.
_MEDIA_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
}


def image_media_type(data: bytes) -> str:
    """The content type of a served image, from its first bytes (the catalog's signatures)."""
    return _MEDIA_TYPES.get(sniff_format(data[:4096]) or "", "application/octet-stream")
