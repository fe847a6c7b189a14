"""The docs site's API reference (``catalog/reference.py``): the pages on disk are what the catalog
renders (a test fails when they are stale, as for the generated operators), every API has one, and
each page carries the catalog's facts: parameters with defaults and allowed values, limits,
regions, lifecycle, response fields and the vendor-doc contradictions with the reading taken."""

from __future__ import annotations

import dataclasses
import re

import pytest

from airflow_provider_hwocr.catalog import APIS, get_api
from airflow_provider_hwocr.catalog.reference import (
    DOCS_DIR,
    NAV_BEGIN,
    NAV_END,
    REFERENCE_DIR,
    api_facts,
    api_page,
    page_path,
    reference_nav,
    reference_pages,
)
from airflow_provider_hwocr.catalog.responses import RESPONSES
from tests.helpers.paths import REPO
from tests.scripts.test_generate import GENERATE

DOCS = REPO / DOCS_DIR
STALE = "stale: run python3 scripts/generate.py"


def test_the_pages_on_disk_are_fresh_and_there_are_no_others():
    assert [rel for rel in GENERATE.stale(REPO) if rel.startswith(f"{DOCS_DIR}/")] == [], STALE
    pages = reference_pages()
    for rel, text in pages.items():
        path = DOCS / rel
        assert path.is_file(), f"{rel} missing: {STALE}"
        assert path.read_text(encoding="utf-8") == text, f"{rel} {STALE}"
    on_disk = {p.relative_to(DOCS).as_posix() for p in (DOCS / REFERENCE_DIR).glob("*.md")}
    assert on_disk == {rel for rel in pages if rel.startswith(REFERENCE_DIR)}, STALE


def test_the_nav_of_mkdocs_yml_is_fresh_and_lists_every_page():
    text = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    block = re.search(
        r"^[ \t]*" + re.escape(NAV_BEGIN) + ".*?" + re.escape(NAV_END), text, re.DOTALL | re.MULTILINE
    )
    assert block is not None and block.group(0) == reference_nav(), f"mkdocs.yml nav {STALE}"
    assert "mkdocs.yml" not in GENERATE.stale(REPO), f"mkdocs.yml nav {STALE}"
    for api in APIS:
        assert page_path(api.slug) in block.group(0)


def test_every_api_has_a_page_with_its_facts():
    pages = reference_pages()
    for api in APIS:
        page = pages[page_path(api.slug)]
        assert f"# {api.title}" in page and api.path_template in page
        assert (api.operator_name in page) == api.live, api.slug
        for param in api.params:
            row = next(line for line in page.splitlines() if line.startswith(f"| `{param.name}` |"))
            for value in param.allowed or ():
                assert f"`{value}`" in row, (api.slug, param.name, value)
            if param.default is not None:
                default = str(param.default).lower() if isinstance(param.default, bool) else param.default
                assert f"`{default}`" in row, (api.slug, param.name)
        for region in api.regions:
            assert f"`{region}`" in page
        for note in api.notes:
            assert note.replace("|", "\\|") in page
        for field in RESPONSES[api.slug].fields:
            assert f"| `{field.name}` |" in page, (api.slug, field.name)
        if api.deprecation:
            assert "!!! warning" in page and api.deprecation in page


def test_the_index_links_every_page_and_the_regions_page_every_region():
    pages = reference_pages()
    index, regions = pages["reference/index.md"], pages["reference/regions.md"]
    for api in APIS:
        assert f"(apis/{api.slug}.md)" in index and f"(apis/{api.slug}.md)" in regions
        for region in api.regions:
            assert f"| `{region}` |" in regions
    for row in regions.splitlines():  # an API both editions list in a region is named once there
        if row.startswith("| `"):
            links = row.split(" | ")[2].split(", ")
            assert len(links) == len(set(links)), row


def test_a_changed_catalog_fact_changes_the_page():
    """So the freshness test above fails while the committed page is stale."""
    api = get_api("passport")
    changed = dataclasses.replace(api, summary=api.summary + " Changed.")
    assert api_page(api_facts(changed)) != api_page(api_facts(api))
    others = tuple(a for a in APIS if a.slug != "passport")
    new = dataclasses.replace(
        api, slug="atlantis-id-card", title="Atlantis ID Card", operator_stem="AtlantisIdCard"
    )
    pages = reference_pages((*others, api, new))
    assert page_path("atlantis-id-card") in pages and "Atlantis ID Card" in reference_nav((*others, api, new))
    assert "Atlantis ID Card" in pages["reference/index.md"]


def test_table_cells_escape_pipes_and_newlines():
    facts = api_facts(get_api("general-text"))
    facts["params"][0]["doc"] = "a | b\nc"
    row = next(line for line in api_page(facts).splitlines() if line.startswith("| `detect_direction` |"))
    assert "a \\| b c" in row


# --- the whole vendor surface (issue 17): facts per edition, lifecycle, no image, shapes --------------


@pytest.mark.parametrize("api", APIS, ids=[a.slug for a in APIS])
def test_the_facts_of_every_api_are_json_data(api):
    import json

    facts = api_facts(api)
    assert json.loads(json.dumps(facts, ensure_ascii=False)) == json.loads(
        json.dumps(facts, ensure_ascii=False)
    )
    assert facts["operator"] == (api.operator_name if api.live else None)
    assert [p["name"] for p in facts["params"]] == list(api.param_names)
    assert facts["regions"]["Mainland table"] == list(api.endpoints.cn)
    assert facts["regions"]["International table"] == list(api.endpoints.intl)
    assert (facts["limits"] is None) == (api.image_field is None)


def test_pages_show_editions_lifecycle_and_the_way_around_a_withdrawal():
    pages = reference_pages()
    general = pages[page_path("general-text")]
    assert "| Mainland table | `cn-east-3`, `cn-north-4` |" in general
    assert "| International table | `ap-southeast-1` |" in general
    assert "`words_block_list[].location` | `points` (Quad)" in general
    gone = pages[page_path("id-document")]
    assert "removed" in gone and "2025-11-04" in gone and "HWOCR_ALLOW_RETIRED_APIS=id-document" in gone
    assert "none: the vendor withdrew the API" in gone
    invoice = pages[page_path("invoice-verification")]
    assert "none: the parameters are the request" in invoice and "None: this API takes no image." in invoice
    assert "**Required.**" in invoice and 'code="011002100111",' in invoice and "image=" not in invoice
    assert "sales stopped" in invoice and "2025-07-14" in invoice
    card = pages[page_path("thailand-id-card")]
    assert '`""`: detect the side automatically' in card
    vat = pages[page_path("vat-invoice")]
    assert "`page_num`" in vat and "增值税发票识别" in vat and "ocr_03_0019" in vat
