"""The API table (``catalog/apis.py``): all 52 APIs of the official SDK once, held field by field
against the SDK (paths, body fields, types, required flags: 0 differences), their lifecycle,
their regions per edition of the vendor's endpoint tables, and what is generated from it."""

from __future__ import annotations

import inspect
import re

import pytest
from huaweicloudsdkocr import v1 as sdk

from airflow_provider_hwocr.catalog import APIS, IMAGE_FORMATS, LIVE_APIS, REGIONS, get_api
from airflow_provider_hwocr.catalog.apis import AUTO_CLASSIFICATION_TYPES
from tests.helpers.paths import REPO

#: The kinds of body field of the catalog, as the SDK's models type them.
SDK_TYPE = {
    "bool": "bool",
    "str": "str",
    "int": "int",
    "str_list": "list[str]",
    "json_str": "str",
    "object": "object",
}


def _sdk_body(api):
    stem = "".join(part.capitalize() for part in api.sdk_method.split("_"))
    request = getattr(sdk, f"{stem}Request")
    return getattr(sdk, request.openapi_types["body"])


def _sdk_path(api) -> str:
    source = inspect.getsource(getattr(sdk.OcrClient, f"_{api.sdk_method}_http_info"))
    return re.search(r'"resource_path": "([^"]+)"', source).group(1)


def _sdk_required(body) -> set[str]:
    """The SDK generator assigns required fields unconditionally in ``__init__``."""
    source = inspect.getsource(body.__init__)
    return {
        body.attribute_map[k]
        for k in body.openapi_types
        if re.search(rf"^        self\.{k} = {k}$", source, re.MULTILINE)
    }


def drift(api) -> list[str]:
    """Every difference between the catalog entry of ``api`` and the official SDK's models."""
    body = _sdk_body(api)
    fields = {body.attribute_map[k]: t for k, t in body.openapi_types.items()}
    out = []
    if _sdk_path(api) != api.path_template:
        out.append(f"path: {api.path_template} != {_sdk_path(api)}")
    ours_image = {api.image_field, "url"} if api.image_field else set()
    if ours_image != set(fields) & {"image", "data", "url"}:
        out.append(f"image fields: {sorted(ours_image)} != {sorted(set(fields) & {'image', 'data', 'url'})}")
    sdk_params = {k: t for k, t in fields.items() if k not in ("image", "data", "url")}
    ours = {p.name: SDK_TYPE[p.kind] for p in api.params}
    out += [f"{name}: only in the catalog" for name in sorted(set(ours) - set(sdk_params))]
    out += [f"{name}: only in the SDK" for name in sorted(set(sdk_params) - set(ours))]
    out += [
        f"{n}: {ours[n]} != {sdk_params[n]}"
        for n in sorted(set(ours) & set(sdk_params))
        if ours[n] != sdk_params[n]
    ]
    if set(api.required_params) != _sdk_required(body):
        out.append(f"required: {sorted(api.required_params)} != {sorted(_sdk_required(body))}")
    return out


def test_all_52_apis_of_the_sdk_once():
    slugs = [a.slug for a in APIS]
    assert len(slugs) == len(set(slugs)) == 52
    methods = {
        name for name in dir(sdk.OcrClient) if name.startswith("recognize_") and not name.endswith("_invoker")
    }
    assert {a.sdk_method for a in APIS} == methods


@pytest.mark.parametrize("api", APIS, ids=[a.slug for a in APIS])
def test_catalog_matches_the_official_sdk(api):
    assert drift(api) == []


def test_the_drift_test_sees_a_difference():
    import dataclasses

    api = get_api("auto-classification")
    trimmed = dataclasses.replace(
        api, params=api.params[:1]
    )  # detect_seal & co. dropped, as before every vendor API was catalogued
    assert "detect_seal: only in the SDK" in drift(trimmed)
    renamed = dataclasses.replace(api, slug="auto-classifier")
    assert any(d.startswith("path:") for d in drift(renamed))


def test_auto_classification_has_the_body_fields_the_sdk_sends():
    api = get_api("auto-classification")
    assert {"type_list", "pdf_page_number", "extended_parameters", "detect_seal"} == set(api.param_names)
    assert api.param("type_list").allowed == AUTO_CLASSIFICATION_TYPES


def test_lifecycle_states_dates_and_sources():
    states = {a.slug: a.lifecycle.state for a in APIS if a.lifecycle.state != "active"}
    assert states == {
        "custom-template": "retired",
        "waybill-electronic": "retired",
        "id-document": "removed",
        "health-code": "sales_stopped",
        "pcr-test-record": "sales_stopped",
        "invoice-verification": "sales_stopped",
    }
    assert get_api("custom-template").lifecycle.date == "2025-12-31"
    assert get_api("waybill-electronic").lifecycle.date == "2025-09-04"
    assert get_api("id-document").lifecycle.date == "2025-11-04"
    assert get_api("invoice-verification").lifecycle.date == "2025-07-14"
    for api in APIS:
        for event in api.lifecycle.events:
            assert event.source and event.what, api.slug
        assert (api.deprecation is None) == (api.lifecycle.state == "active"), api.slug


def test_49_live_apis_get_an_operator_the_3_withdrawn_none():
    from airflow_provider_hwocr.operators import _generated, ocr

    assert len(LIVE_APIS) == 49 == len(_generated.__all__)
    for api in APIS:
        assert hasattr(ocr, api.operator_name) == api.live, api.slug


def test_regions_come_from_the_two_endpoint_tables():
    assert get_api("general-text").endpoints.cn == ("cn-east-3", "cn-north-4")
    assert get_api("general-text").endpoints.intl == ("ap-southeast-1",)
    assert get_api("web-image").regions == ("cn-east-3", "cn-north-4", "cn-south-1", "ap-southeast-2")
    assert get_api("colombia-id-card").regions == ("la-north-2", "la-south-2")
    assert {"cn-east-3", "cn-south-1", "cn-north-1"} <= set(REGIONS)
    for api in APIS:
        assert set(api.regions) | set(api.endpoints.other) <= set(REGIONS), api.slug


def test_every_table_fact_of_the_shared_vendor_file_is_in_the_catalog():
    """The vendor's endpoint tables (as collected in the shared facts) are the catalog's, edition by edition."""
    import json

    found = [p for p in (REPO.parent / "shared", REPO.parent.parent / "shared") if (p / "api").is_dir()]
    if not found:
        pytest.skip("the shared facts are not beside this checkout")
    facts = json.loads((found[0] / "api" / "vendor-ocr-apis.json").read_text(encoding="utf-8"))
    for entry in facts["apis"]:
        api = get_api(entry["slug"])
        assert set(api.endpoints.cn) == set(entry["regions"]["cn_site_endpoint_table"]), api.slug
        assert set(api.endpoints.intl) == set(entry["regions"]["intl_site_endpoint_table"]), api.slug
        if entry["regions"].get("older_cn_edition_cn_north_1"):
            assert "cn-north-1" in api.endpoints.other, api.slug


def test_formats_limits_and_image_fields():
    for api in APIS:
        assert api.limits.formats <= IMAGE_FORMATS
        if api.image_field is not None:
            assert api.limits.min_side < api.limits.max_side, api.slug
    assert get_api("invoice-verification").image_field is None
    assert {a.slug for a in APIS if a.image_field == "data"} == {
        "smart-document-recognizer", "auto-id-doc-classification", "bank-receipt", "seal",
    }  # fmt: skip
    for slug in (
        "license-plate",
        "toll-invoice",
        "transportation-license",
        "vin",
    ):
        assert get_api(slug).limits.max_side == 4096, slug
    for slug in ("driver-license", "vehicle-license", "vat-invoice", "mvs-invoice"):
        assert get_api(slug).limits.min_side == 100, slug
    for slug in ("general-text", "web-image"):
        assert get_api(slug).limits.max_side == 30000, slug
    assert "OFD" in get_api("vat-invoice").limits.formats and "PDF" in get_api("vat-invoice").limits.formats
    assert {a.page_field for a in APIS} == {None, "pdf_page_number", "page_num"}
    assert get_api("vat-invoice").page_field == "page_num" and get_api("seal").page_field == "pdf_page_number"


def test_invoice_verification_takes_its_fields():
    api = get_api("invoice-verification")
    assert api.required_params == ("code", "number", "issue_date")
    assert api.param("code").empty is not None  # "" for a fully digital invoice
    assert api.param("issue_date").date


def test_documented_empty_values():
    for slug in ("thailand-id-card", "vietnam-id-card", "macao-id-card"):
        assert get_api(slug).param("side").empty, slug
    assert get_api("passport").param("country_code").empty


def test_unknown_slug_lists_known_ones():
    with pytest.raises(KeyError, match="general-text"):
        get_api("general-txt")


def test_every_operator_exposes_exactly_its_api_parameters():
    from airflow_provider_hwocr.operators import ocr

    for api in LIVE_APIS:
        cls = getattr(ocr, api.operator_name)
        assert cls.api_slug == api.slug
        sig = inspect.signature(cls.__init__)
        own = [n for n, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY and n != "image"]
        assert own == list(api.param_names), api.slug
        assert ("image" in sig.parameters) == (api.image_field is not None), api.slug


def test_docs_operator_table_is_generated_from_catalog():
    from airflow_provider_hwocr.catalog.docs import operators_block

    index = (REPO / "docs" / "reference" / "index.md").read_text(encoding="utf-8")
    assert operators_block() in index, "docs table is stale: run python3 scripts/generate.py"
    for api in APIS:
        assert f"`{api.slug}`" in index, api.slug
