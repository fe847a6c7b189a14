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
    ident,
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


def _param_row(page: str, name: str) -> str:
    return next(line for line in page.splitlines() if line.startswith(f"| {ident(name)} |"))


@pytest.mark.parametrize("api", APIS, ids=[a.slug for a in APIS])
def test_every_api_has_a_page_with_its_facts(api):
    page = reference_pages()[page_path(api.slug)]
    assert f"# {api.title}" in page and api.path_template in page
    assert (api.operator_name in page) == api.live
    assert all(f"`{region}`" in page for region in api.regions)
    assert all(note.replace("|", "\\|") in page for note in api.notes)
    assert all(f"| {ident(field.name)} |" in page for field in RESPONSES[api.slug].fields)
    if api.deprecation:
        assert "!!! warning" in page and api.deprecation in page


@pytest.mark.parametrize("api", APIS, ids=[a.slug for a in APIS])
def test_every_parameter_has_its_row_with_its_values_and_default(api):
    page = reference_pages()[page_path(api.slug)]
    for param in api.params:
        row = _param_row(page, param.name)
        assert all(f"`{value}`" in row for value in param.allowed or ()), param.name
        if param.default is not None:
            default = str(param.default).lower() if isinstance(param.default, bool) else param.default
            assert f"`{default}`" in row, param.name


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
    row = next(
        line for line in api_page(facts).splitlines() if line.startswith(f"| {ident('detect_direction')} |")
    )
    assert "a \\| b c" in row


# --- the whole vendor surface: facts per edition, lifecycle, no image, shapes --------------


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
    assert f"{ident('words_block_list[].location')} | `points` (Quad)" in general
    gone = pages[page_path("id-document")]
    assert "removed" in gone and "2025-11-04" in gone and "HWOCR_ALLOW_RETIRED_APIS=id-document" in gone
    assert "none: the vendor withdrew the API" in gone


def test_pages_show_an_api_without_image_and_what_an_empty_value_means():
    pages = reference_pages()
    invoice = pages[page_path("invoice-verification")]
    assert "none: the parameters are the request" in invoice and "None: this API takes no image." in invoice
    assert "**Required.**" in invoice and 'code="011002100111",' in invoice and "image=" not in invoice
    assert "sales stopped" in invoice and "2025-07-14" in invoice
    card = pages[page_path("thailand-id-card")]
    assert '`""`: detect the side automatically' in card
    vat = pages[page_path("vat-invoice")]
    assert "`page_num`" in vat and "增值税发票识别" in vat and "ocr_03_0019" in vat


# --- the shape of a page: what it does, an example, then the details --------------------------------

_SECTIONS = [
    "## Example",
    "## Parameters",
    "## Images and documents",
    "## Regions and service",
    "## Response",
]


@pytest.mark.parametrize("api", APIS, ids=[a.slug for a in APIS])
def test_a_page_says_what_the_api_does_then_shows_an_example_then_the_details(api):
    page = reference_pages()[page_path(api.slug)]
    lines = page.splitlines()
    first = lines[lines.index(f"# {api.title}") + 2]  # the paragraph under the title
    assert first.startswith(api.summary.rstrip(".")) and f"`POST {api.path_template}`" in first
    assert (api.operator_name in first) == api.live
    at = [page.index(f"\n{section}\n") for section in _SECTIONS]
    assert at == sorted(at), api.slug
    if RESPONSES[api.slug].fields:
        assert page.index("\n## Response\n") < page.index("\n## Table columns\n")


def _example_code(page: str) -> str:
    start = page.index("## Example\n\n```python\n") + len("## Example\n\n```python\n")
    return page[start : page.index("```", start)]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the withdrawn APIs say so, as they should
@pytest.mark.parametrize("api", APIS, ids=[a.slug for a in APIS])
def test_every_example_builds_its_dag_and_reads_a_field_of_the_answer(api, monkeypatch):
    """The example runs as written (the operator's parse-time checks included)."""
    monkeypatch.setenv("HWOCR_ALLOW_RETIRED_APIS", api.slug)  # a withdrawn API's example says to
    code = _example_code(reference_pages()[page_path(api.slug)])
    scope: dict = {}
    exec(compile(code, f"<example of {api.slug}>", "exec"), scope)  # noqa: S102 - our own generated text
    (task,) = [t for t in scope["ocr"].dag.tasks if t.task_id != "read_result"]
    assert task.task_id == api.slug.replace("-", "_")
    assert getattr(task, "api", api.slug) == api.slug
    read = code.rsplit("return ", 1)[1].split("\n", 1)[0]
    names = re.findall(r'\["([a-z0-9_]+)"\]', read)
    paths = {f["path"] for f in api_facts(api)["response"]["fields"]}
    if names:
        assert any(p.replace("[]", "").split(".") == names for p in paths), (api.slug, read)


#: What a page's "Documents (PDF, OFD)" line says for each way a page reaches the API.
_SAYS = {
    "select": "page chosen with `{field}`",
    "split": "one-page PDF (the API has no page field: it reads page 1 of a PDF only)",
    "render": "rendered to PNG",
}


def _documents_line(page: str) -> tuple[str, str, str]:
    """(the line, what it says of a PDF, what it says of an OFD)."""
    (line,) = [
        x for x in page.splitlines() if x.startswith("- Documents (PDF, OFD): one call per page read.")
    ]
    pdf, ofd = line.split(" PDF: ", 1)[1].split(" OFD: ", 1)
    return line, pdf, ofd.split(". `pages=`")[0]


@pytest.mark.parametrize(
    "api", [a for a in APIS if a.image_field], ids=[a.slug for a in APIS if a.image_field]
)
def test_every_page_has_a_documents_line_from_the_catalogs_page_modes(api):
    from airflow_provider_hwocr.catalog.pages import page_field, page_mode

    line, pdf, ofd = _documents_line(reference_pages()[page_path(api.slug)])
    for kind, text in (("pdf", pdf), ("ofd", ofd)):
        assert _SAYS[page_mode(api, kind)].format(field=page_field(api)) in text, (kind, text)
    assert "`pages=` chooses the pages read" in line and "`max_pages=` (default 50)" in line
    assert "(../../guides/documents.md)" in line


def test_the_documents_lines_of_some_apis():
    pages = reference_pages()
    assert "page chosen with `page_num`" in pages[page_path("vat-invoice")]
    assert "reads page 1 of a PDF only" in pages[page_path("business-license")]
    assert "the API takes OFD but has no page field" in pages[page_path("train-ticket")]
    no_image = pages[page_path("invoice-verification")]
    assert "Documents (PDF, OFD)" not in no_image and "None: this API takes no image." in no_image


def test_the_default_page_cap_is_the_clients():
    from airflow_provider_hwocr.catalog.rendering import DEFAULT_MAX_PAGES
    from airflow_provider_hwocr.client.documents import DEFAULT_MAX_PAGES as CLIENT_DEFAULT

    assert DEFAULT_MAX_PAGES == CLIENT_DEFAULT == 50


def test_names_in_tables_never_break_inside_a_word():
    """The theme breaks inline code anywhere; names in tables are code that breaks only after a ``.``."""
    assert ident("words_block_list[].char_list[].char") == (
        '<code style="word-break: normal">words_block_list[].<wbr>char_list[].<wbr>char</code>'
    )
    assert ident("a<b&c") == '<code style="word-break: normal">a&lt;b&amp;c</code>'
    backticked_name = re.compile(r"^\| `[A-Za-z0-9_.\[\]]+` \|")
    for rel, page in reference_pages().items():
        if rel.startswith(REFERENCE_DIR):
            assert [row for row in page.splitlines() if backticked_name.match(row)] == [], rel
