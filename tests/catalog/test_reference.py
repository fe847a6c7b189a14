"""The docs site's API reference (``catalog/reference.py``): the pages on disk are what the catalog
renders (a test fails when they are stale, as for the generated operators), every API has one, and
each page carries the catalog's facts: parameters with defaults and allowed values, limits,
regions, lifecycle, response fields and the vendor-doc contradictions with the reading taken."""

from __future__ import annotations

import dataclasses
import re

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

DOCS = REPO / DOCS_DIR
STALE = "stale: run python3 scripts/gen_docs.py"


def test_the_pages_on_disk_are_fresh_and_there_are_no_others():
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
    for api in APIS:
        assert page_path(api.slug) in block.group(0)


def test_every_api_has_a_page_with_its_facts():
    pages = reference_pages()
    for api in APIS:
        page = pages[page_path(api.slug)]
        assert f"# {api.title}" in page and api.operator_name in page and api.path_template in page
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
