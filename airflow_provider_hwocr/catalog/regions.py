"""Regions where the OCR service runs, the hosts that serve them, and whether an API is offered there.

The vendor publishes two endpoint tables, one on its mainland site and one on its
international site; an API's regions are their union (:class:`~.model.Endpoints`).
The tables lag behind the service now and then, so :func:`region_support` refuses
only what they make certain: a region the catalog knows, for an API the tables list,
where neither table has it. Everything else it is unsure of is a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from airflow_provider_hwocr.catalog.model import Api


#: The domain of every public endpoint: ``{service}.{region}.myhuaweicloud.com``.
DOMAIN = "myhuaweicloud.com"


@dataclass(frozen=True)
class Region:
    """A region and the public endpoints that serve it (the host pattern lives here alone)."""

    id: str
    name: str

    def endpoint(self, service: str) -> str:
        """The public base URL of ``service`` (``ocr``, ``iam``, ``obs``) in this region."""
        return f"https://{service}.{self.id}.{DOMAIN}"

    @property
    def ocr_endpoint(self) -> str:
        return self.endpoint("ocr")

    @property
    def iam_endpoint(self) -> str:
        return self.endpoint("iam")

    @property
    def obs_endpoint(self) -> str:
        return self.endpoint("obs")


#: Every region an endpoint table (or the official SDK's region list) names for OCR.
REGIONS: dict[str, Region] = {
    r.id: r
    for r in (
        Region("cn-north-4", "CN North-Beijing4"),
        Region("cn-north-1", "CN North-Beijing1"),
        Region("cn-east-3", "CN East-Shanghai1"),
        Region("cn-south-1", "CN South-Guangzhou"),
        Region("cn-southwest-2", "CN Southwest-Guiyang1"),
        Region("ap-southeast-1", "CN-Hong Kong"),
        Region("ap-southeast-2", "AP-Bangkok"),
        Region("ap-southeast-3", "AP-Singapore"),
        Region("af-south-1", "AF-Johannesburg"),
        Region("la-south-2", "LA-Santiago"),
        Region("la-north-2", "LA-Mexico City2"),
    )
}


def region_for(region_id: str) -> Region:
    """The catalog's :class:`Region` for ``region_id``, or one named by its id for a region the
    catalog does not know (a new region is served at the same host pattern)."""
    return REGIONS.get(region_id) or Region(region_id, region_id)


Verdict = Literal["listed", "unsure", "unlisted"]


@dataclass(frozen=True)
class RegionSupport:
    """Whether ``api`` is offered in ``region``: ``listed`` (a table says so), ``unsure``
    (warn: the tables may be incomplete here) or ``unlisted`` (refuse, naming the way around)."""

    verdict: Verdict
    message: str | None = None


def _label(region: str) -> str:
    known = REGIONS.get(region)
    return f"{region} ({known.name})" if known else region


def region_support(api: Api, region: str) -> RegionSupport:
    """What the vendor's endpoint tables say about calling ``api`` in ``region``."""
    ends = api.endpoints
    if region in ends.listed:
        return RegionSupport("listed")
    if region in ends.other:
        return RegionSupport(
            "unsure",
            f"{api.slug} in {_label(region)}: only {ends.other_source or 'an older source'} lists it; "
            "the current endpoint tables do not. Calling anyway.",
        )
    if not ends.known:
        return RegionSupport(
            "unsure",
            f"{api.slug}: neither of the vendor's endpoint tables lists a region for it, so whether "
            f"{_label(region)} offers it is not known. Calling anyway.",
        )
    if region not in REGIONS:
        return RegionSupport(
            "unsure",
            f"{api.slug}: region {region!r} is in no endpoint table of the catalog (a new region?); "
            f"the tables list {api.slug} in {', '.join(ends.listed)}. Calling anyway.",
        )
    return RegionSupport(
        "unlisted",
        f"{api.slug} is not offered in region {_label(region)} by either of the vendor's endpoint "
        f"tables; they list it offered in {', '.join(_label(r) for r in ends.listed)}. Set region= (operator or "
        "connection) to one of those; or, if your account does have it in this region, set the "
        "connection's endpoint explicitly (extra 'endpoint'), which skips this check.",
    )
