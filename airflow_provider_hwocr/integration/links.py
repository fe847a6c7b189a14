"""Operator extra links: the source image, the OCR result and the day's table partition, where
they are stored.

Declared as class attributes on the operators (``operator_extra_links``), so they work for
mapped tasks. Airflow 3 asks a link for its URL in the task's own process, each time the task
instance stops (it finishes, fails or defers), and keeps the answer in XCom
(``_link_<class name>``) for the UI. So a link reads nothing from XCom: the task records what
its links point to on itself when its images are done (:class:`LinkTargets`, set by the
integration mixin), and :meth:`ObsLocationLink.get_link` builds the URL from that record and the
task's connection. A task with nothing recorded (a local file, bytes or a URL as its image, its
result in XCom, a deferral before anything was done) gets no link, quietly: no XCom lookup is
made, which Airflow would log as an error in every such task.

Where a link goes follows the connection:

* no ``obs_endpoint`` (Huawei Cloud's public OBS of the region): the OBS console, on the site
  of that region: the mainland console (``console.huaweicloud.com``) for a ``cn-*`` region, the
  international one (``console-intl.huaweicloud.com``) for the others, opened at the bucket's
  object list narrowed to the object (the console has no stable per-object page) or the folder;
* an ``obs_endpoint`` (a local object server, a private or a non-Huawei S3-compatible server):
  that server's own URL of the object, ``{obs_endpoint}/{bucket}/{key}`` with
  ``obs_path_style``, else ``{scheme}://{bucket}.{host}/{key}`` (as the OBS hook addresses
  objects); a folder is that server's listing of it (``?prefix=``). Never the public console,
  which would show a bucket of another region, or nobody's.

An ``obs_endpoint`` that is Huawei's public one spelled out gets the object's URL too: the
connection says where the objects are, and the link does not guess more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import quote, urlsplit

from airflow.sdk import BaseOperatorLink

from airflow_provider_hwocr.client.sources import image_kind

if TYPE_CHECKING:
    from airflow_provider_hwocr.integration.lineage import TableOutput

#: The OBS console of Huawei Cloud's mainland site (accounts of huaweicloud.com), for ``cn-*`` regions.
MAINLAND_CONSOLE = "https://console.huaweicloud.com"
#: The OBS console of the international site, for every other region.
INTL_CONSOLE = "https://console-intl.huaweicloud.com"
#: The attribute of a task that holds its :class:`LinkTargets` (set by the integration mixin).
TARGETS_ATTR = "hwocr_link_targets"


def is_mainland(region: str) -> bool:
    """Whether ``region`` is one of the mainland site's (``cn-north-4``, ``cn-east-3`` ...)."""
    return region.startswith("cn-")


def console_url(region: str, bucket: str, key: str = "") -> str:
    """The OBS console of ``region``'s site at ``bucket``'s objects, narrowed to ``key``.

    ``key`` is an object (the list shows that object) or a folder ending in ``/``; empty: the
    whole bucket.
    """
    if is_mainland(region):
        site = f"{MAINLAND_CONSOLE}/obs/?region={quote(region, safe='')}"
    else:
        site = f"{INTL_CONSOLE}/obs/?region={quote(region, safe='')}&locale=en-us"
    url = f"{site}#/obs/manager/buckets/{quote(bucket, safe='')}/objects"
    return f"{url}?prefix={quote(key, safe='')}" if key else url


def server_url(endpoint: str, bucket: str, key: str = "", *, path_style: bool = False) -> str:
    """The URL of ``key`` in ``bucket`` on the OBS-compatible server at ``endpoint``.

    An object's own URL, or, for a folder (a key ending in ``/``, or none), the server's listing
    of it. ``""`` for an endpoint that is not ``scheme://host[:port]``.
    """
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    base = (
        f"{parts.scheme}://{parts.netloc}/{bucket}/"
        if path_style
        else f"{parts.scheme}://{bucket}.{parts.netloc}/"
    )
    if key and not key.endswith("/"):
        return base + quote(key, safe="/")
    return base + (f"?prefix={quote(key, safe='')}" if key else "")


@dataclass(frozen=True)
class Addressing:
    """Where a connection's objects are: its region, and its ``obs_endpoint`` if it sets one."""

    region: str
    #: The connection's ``obs_endpoint``; ``None``: Huawei Cloud's public OBS of ``region``.
    endpoint: str | None = None
    #: The connection's ``obs_path_style``.
    path_style: bool = False

    def url(self, uri: str) -> str:
        """The link to ``obs://bucket/key`` (an object or a folder); ``""`` when there is none."""
        if image_kind(uri) != "obs":
            return ""
        bucket, _, key = uri.strip()[len("obs://") :].partition("/")
        if not bucket:
            return ""
        if self.endpoint:
            return server_url(self.endpoint, bucket, key, path_style=self.path_style)
        return console_url(self.region, bucket, key) if self.region else ""


@dataclass(frozen=True)
class LinkTargets:
    """What a task's links point to, recorded on the task when its images are done."""

    #: The region the task called (its ``region=``, else its connection's); ``None``: unknown.
    region: str | None
    #: ``obs://`` location of the source image or the source folder; ``None``: no OBS source.
    source: str | None
    #: ``obs://`` location of the stored result or the results folder; ``None``: nothing in OBS.
    result: str | None
    #: ``obs://`` folder of the day's partition of the API's header table (a batch with
    #: ``table_uri``): ``obs://bucket/tables/vat-invoice/dt=2026-11-30/``; ``None``: no table.
    table: str | None = None


def with_table_partition(targets: LinkTargets | None, tables: Sequence[TableOutput]) -> LinkTargets:
    """``targets`` with ``table`` set to the partition folder of the header table among ``tables``
    (the API's own table, named without ``__``; the first table when none is), or left unset
    when nothing was written."""
    base = targets if targets is not None else LinkTargets(region=None, source=None, result=None)
    if not tables:
        return base
    header = next((t for t in tables if "__" not in t.table), tables[0])
    return replace(base, table=header.partition_uri)


class _ObsSettings(Protocol):
    region: str
    obs_endpoint: str | None
    obs_path_style: bool


class _ObsHook(Protocol):
    @property
    def settings(self) -> _ObsSettings: ...


def addressing_of(operator: Any, region: str | None) -> Addressing | None:
    """How the task's connection addresses objects, from its OBS hook (``operator.obs_hook()``);
    ``region`` (the one the task called) wins over the connection's. ``None`` if unknown."""
    factory = getattr(operator, "obs_hook", None)
    if not callable(factory):
        return None
    try:
        hook: _ObsHook = factory()
        settings = hook.settings
        return Addressing(
            region=region or settings.region or "",
            endpoint=settings.obs_endpoint or None,
            path_style=bool(settings.obs_path_style),
        )
    except Exception:  # noqa: BLE001 - a link is not worth failing (or logging an error in) a finished task
        return None


class ObsLocationLink(BaseOperatorLink):
    """Base class: a link to one OBS location the task recorded (``target`` of its :class:`LinkTargets`)."""

    name: ClassVar[str] = "OBS"
    #: Which of the recorded :class:`LinkTargets` this link shows.
    target: ClassVar[str] = "source"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        """The URL of what ``operator`` recorded, or ``""``; reads no XCom (see the module's doc)."""
        targets = getattr(operator, TARGETS_ATTR, None)
        if not isinstance(targets, LinkTargets):
            return ""
        uri = getattr(targets, self.target)
        if not uri:
            return ""
        addressing = addressing_of(operator, targets.region)
        return addressing.url(uri) if addressing is not None else ""


class HuaweiObsSourceLink(ObsLocationLink):
    """The image (or a batch's source folder) where it is stored."""

    name = "OBS source"
    target = "source"


class HuaweiObsResultLink(ObsLocationLink):
    """The stored OCR result (or a batch's results folder) where it is stored."""

    name = "OBS result"
    target = "result"


class HuaweiObsTableLink(ObsLocationLink):
    """The day's partition of the header table a batch with ``table_uri`` wrote
    (``<table_uri>/<api>/dt=YYYY-MM-DD/``), where it is stored."""

    name = "OBS table"
    target = "table"
