"""Regions where the OCR service runs, and the hosts that serve them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    id: str
    name: str

    @property
    def ocr_endpoint(self) -> str:
        return f"https://ocr.{self.id}.myhuaweicloud.com"

    @property
    def iam_endpoint(self) -> str:
        return f"https://iam.{self.id}.myhuaweicloud.com"

    @property
    def obs_endpoint(self) -> str:
        return f"https://obs.{self.id}.myhuaweicloud.com"


REGIONS: dict[str, Region] = {
    r.id: r
    for r in (
        Region("ap-southeast-1", "CN-Hong Kong"),
        Region("ap-southeast-2", "AP-Bangkok"),
        Region("ap-southeast-3", "AP-Singapore"),
        Region("la-south-2", "LA-Santiago"),
        Region("la-north-2", "LA-Mexico City2"),
        Region("cn-north-4", "CN North-Beijing4"),
    )
}
