"""Regions (``catalog/regions.py``): what the vendor's endpoint tables say of an API in a region,
refusing only what they make certain and naming the ways around it."""

from __future__ import annotations

import dataclasses

import pytest

from airflow_provider_hwocr.catalog import APIS, REGIONS, Endpoints, get_api, region_support


def test_the_mainland_regions_are_known():
    for region in ("cn-north-4", "cn-east-3", "cn-south-1", "cn-north-1"):
        assert region in REGIONS
    assert REGIONS["cn-north-4"].ocr_endpoint == "https://ocr.cn-north-4.myhuaweicloud.com"
    assert REGIONS["cn-east-3"].iam_endpoint == "https://iam.cn-east-3.myhuaweicloud.com"
    assert REGIONS["cn-south-1"].obs_endpoint == "https://obs.cn-south-1.myhuaweicloud.com"


def test_any_region_id_has_endpoints_at_the_one_host_pattern():
    from airflow_provider_hwocr.catalog import region_for

    assert region_for("cn-north-4") is REGIONS["cn-north-4"]
    new = region_for("me-east-9")  # a region the catalog does not know yet
    assert (new.id, new.name) == ("me-east-9", "me-east-9")
    assert new.ocr_endpoint == "https://ocr.me-east-9.myhuaweicloud.com"
    assert new.iam_endpoint == "https://iam.me-east-9.myhuaweicloud.com"
    assert new.obs_endpoint == "https://obs.me-east-9.myhuaweicloud.com"


@pytest.mark.parametrize("api", APIS, ids=[a.slug for a in APIS])
def test_every_listed_region_is_listed(api):
    for region in api.regions:
        assert region_support(api, region).verdict == "listed"


def test_the_verdicts():
    general_text = get_api("general-text")
    assert region_support(general_text, "cn-north-4").verdict == "listed"
    refused = region_support(general_text, "la-south-2")
    assert refused.verdict == "unlisted" and "offered in cn-east-3 (CN East-Shanghai1)" in (
        refused.message or ""
    )
    assert "Set region=" in (refused.message or "") and "extra 'endpoint'" in (refused.message or "")
    assert region_support(general_text, "eu-west-101").verdict == "unsure"  # a region no table knows
    assert region_support(get_api("id-card"), "cn-north-1").verdict == "unsure"  # an older edition
    assert region_support(get_api("macao-id-card"), "ap-southeast-1").verdict == "unsure"  # in no table
    nowhere = dataclasses.replace(general_text, endpoints=Endpoints())
    assert region_support(nowhere, "cn-north-4").verdict == "unsure"
