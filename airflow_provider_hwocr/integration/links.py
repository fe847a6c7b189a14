"""Operator extra links: the source image and the OCR result in the OBS console.

Declared as class attributes on the operators (``operator_extra_links``),
so they work for mapped tasks. The task persists what a link needs (region,
bucket, key) to XCom while it runs (:meth:`ObsConsoleLink.persist`); the
link reads it back for its own task instance (map index included), so each
mapped instance links to its own image and result.

The console URL is ``https://console-intl.huaweicloud.com/obs/?region={region}``
with the object browser of the bucket in the fragment, opened at the
object's folder (the console has no stable per-object page).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

from airflow_provider_hwocr.client.sources import image_kind

CONSOLE_HOST = "https://console-intl.huaweicloud.com"


def console_url(region: str, bucket: str, key: str = "") -> str:
    """The OBS console page of ``bucket`` in ``region``, opened at the folder of ``key``."""
    if not key or key.endswith("/"):
        folder = key
    else:
        folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    url = (
        f"{CONSOLE_HOST}/obs/?region={quote(region, safe='')}&locale=en-us"
        f"#/obs/manager/buckets/{quote(bucket, safe='')}/objects"
    )
    return f"{url}?prefix={quote(folder, safe='')}" if folder else url


class ObsConsoleLink(BaseOperatorLink):
    """Base class: a link to one OBS location persisted by the task under ``key``."""

    name: ClassVar[str] = "OBS"
    key: ClassVar[str] = "hwocr_obs_link"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        conf = XCom.get_value(key=self.key, ti_key=ti_key)
        if not isinstance(conf, dict) or not conf.get("bucket"):
            return ""
        return console_url(str(conf.get("region") or ""), str(conf["bucket"]), str(conf.get("key") or ""))

    @classmethod
    def persist(cls, context: Any, *, region: str | None, uri: str | None) -> None:
        """Store (in this task instance's XCom) what the link needs; no-op for non-OBS locations."""
        if image_kind(uri) != "obs":
            return
        ti = context.get("ti") if hasattr(context, "get") else None
        if ti is None:
            return
        bucket, _, key = str(uri).strip()[len("obs://") :].partition("/")
        ti.xcom_push(key=cls.key, value={"region": region or "", "bucket": bucket, "key": key})


class HuaweiObsSourceLink(ObsConsoleLink):
    """The image (or a batch's source folder) in the OBS console."""

    name = "OBS source"
    key = "hwocr_obs_source"


class HuaweiObsResultLink(ObsConsoleLink):
    """The stored OCR result (or a batch's result folder) in the OBS console."""

    name = "OBS result"
    key = "hwocr_obs_result"
