"""The API table (``catalog/apis.py``): all 18 APIs once, their image field, result shape, regions,
limits and parameters, and what is generated from it (operators, the README table)."""

from __future__ import annotations

import inspect

import pytest

from airflow_provider_hwocr.catalog import APIS, IMAGE_FORMATS, REGIONS, get_api
from tests.helpers.paths import REPO

EXPECTED_SLUGS = {
    "smart-document-recognizer", "id-document", "auto-id-doc-classification", "general-table",
    "general-text", "web-image", "passport", "thailand-id-card", "colombia-id-card",
    "cambodian-idcard", "myanmar-id-card", "myanmar-driver-license", "chile-id-card",
    "vietnam-id-card", "peru-id-card", "thailand-license-plate", "auto-classification", "handwriting",
}  # fmt: skip


def test_all_18_apis_once():
    slugs = [a.slug for a in APIS]
    assert len(slugs) == 18
    assert set(slugs) == EXPECTED_SLUGS


def test_image_field_is_data_for_exactly_two_apis():
    assert {a.slug for a in APIS if a.image_field == "data"} == {
        "smart-document-recognizer",
        "auto-id-doc-classification",
    }


def test_list_shaped_results():
    assert {a.slug for a in APIS if a.result_kind == "list"} == {
        "smart-document-recognizer",
        "thailand-license-plate",
        "auto-classification",
    }


def test_regions_and_formats_are_known():
    for api in APIS:
        assert api.regions, api.slug
        assert set(api.regions) <= set(REGIONS), api.slug
        assert api.limits.formats <= IMAGE_FORMATS
        assert api.limits.min_side < api.limits.max_side


def test_only_id_document_is_deprecated():
    assert [a.slug for a in APIS if a.deprecation] == ["id-document"]
    assert "2025-11-04" in get_api("id-document").deprecation


def test_auto_classification_has_v1_alias():
    assert get_api("auto-classification").alias_paths == ("/v1.0/ocr/auto-classification",)


def test_unknown_slug_lists_known_ones():
    with pytest.raises(KeyError, match="general-text"):
        get_api("general-txt")


def test_choice_parameters_have_values():
    for api in APIS:
        for p in api.params:
            if p.kind == "str_list":
                assert p.allowed, (api.slug, p.name)


def test_every_operator_exposes_exactly_its_api_parameters():
    from airflow_provider_hwocr.operators import ocr

    seen = set()
    for api in APIS:
        cls = getattr(ocr, api.operator_name)
        assert cls.api_slug == api.slug
        sig = inspect.signature(cls.__init__)
        own = [n for n, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY and n != "image"]
        assert own == list(api.param_names), api.slug
        seen.add(cls)
    assert len(seen) == 18


def test_docs_operator_table_is_generated_from_catalog():

    from airflow_provider_hwocr.catalog.docs import operators_block

    index = (REPO / "docs" / "reference" / "index.md").read_text(encoding="utf-8")
    assert operators_block() in index, "docs table is stale: run python3 scripts/gen_docs.py"
    for api in APIS:
        assert api.operator_name in index
