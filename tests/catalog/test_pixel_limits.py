"""Pixel limits where the reference page and the SDK disagree: the reference page (updated
2025-12-03) rules, and the SDK's figure stays in the API's notes. Driving and vehicle licences:
each side at most 8,000 px (SDK: 8,192); quota and taxi receipts: 8,192 px (SDK: 4,096)."""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.request import prepare_request
from tests.helpers.images import png_header_only

#: slug -> (the reference page's largest side, the SDK's, the page).
LIMITS = {
    "driver-license": (8000, "8,192", "ocr_03_0033"),
    "vehicle-license": (8000, "8,192", "ocr_03_0034"),
    "quota-invoice": (8192, "4,096", "ocr_03_0102"),
    "taxi-invoice": (8192, "4,096", "ocr_03_0110"),
}


@pytest.mark.parametrize("slug", LIMITS)
def test_the_reference_page_rules_and_the_sdk_figure_is_noted(slug):
    page_side, sdk_side, page = LIMITS[slug]
    api = get_api(slug)
    assert api.limits.max_side == page_side and api.limits.side_rule == "each"
    assert api.reference == f"https://support.huaweicloud.com/api-ocr/{page}.html"
    assert any(f"{page_side:,} px on the reference page" in n and sdk_side in n for n in api.notes)


@pytest.mark.parametrize("slug", ["driver-license", "vehicle-license"])
def test_an_8100_px_licence_is_refused(slug):
    with pytest.raises(HuaweiOcrValidationError, match="8100x600 px.*between 100 and 8000") as info:
        prepare_request(slug, image=png_header_only(8100, 600))
    assert info.value.parameter == "image"
    assert prepare_request(slug, image=png_header_only(8000, 600)).dimensions == (8000, 600)


@pytest.mark.parametrize("slug", ["taxi-invoice", "quota-invoice"])
def test_an_8100_px_receipt_is_accepted(slug):
    assert prepare_request(slug, image=png_header_only(600, 8100)).dimensions == (600, 8100)
    with pytest.raises(HuaweiOcrValidationError, match="between 15 and 8192"):
        prepare_request(slug, image=png_header_only(600, 8200))
