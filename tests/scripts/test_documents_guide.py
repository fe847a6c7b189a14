"""The "Documents and pages" guide (``docs/guides/documents.md``): its table is what ``catalog/pages.py``
says of every API (generated; ``scripts/generate.py`` keeps it fresh), it is on the site and linked
from the README, and what it states of ``pages=`` and ``max_pages=`` is the interface's."""

from __future__ import annotations

import ast
import re

from airflow_provider_hwocr.catalog import APIS
from airflow_provider_hwocr.catalog.pages import page_field, page_mode
from airflow_provider_hwocr.catalog.reference import DOCUMENTS_BEGIN, DOCUMENTS_END, documents_block
from tests.helpers.paths import REPO

GUIDE = REPO / "docs" / "guides" / "documents.md"


def _text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def _rows() -> list[list[str]]:
    table = _text().split(DOCUMENTS_BEGIN, 1)[1].split(DOCUMENTS_END, 1)[0]
    rows = [line for line in table.strip().splitlines()[2:]]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


def test_the_table_is_the_catalogs():
    assert documents_block() in _text(), "stale: run python3 scripts/generate.py"


def test_every_api_is_in_one_row_that_says_how_it_reads_each_kind():
    seen: dict[str, tuple[str, str]] = {}
    for pdf, ofd, apis in _rows():
        for slug in re.findall(r"\(\.\./reference/apis/([a-z0-9-]+)\.md\)", apis):
            assert slug not in seen, slug
            seen[slug] = (pdf, ofd)
    assert set(seen) == {api.slug for api in APIS}
    for api in APIS:
        pdf, ofd = seen[api.slug]
        if api.image_field is None:
            assert pdf.startswith("— (no image")
            continue
        for kind, text in (("pdf", pdf), ("ofd", ofd)):
            mode = page_mode(api, kind)
            wanted = {
                "select": f"page chosen with `{page_field(api)}`",
                "split": "one-page PDF",
                "render": "rendered to PNG",
            }[mode]
            assert wanted in text, (api.slug, kind, text)


def test_it_is_on_the_site_and_linked_from_the_readme():
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert "guides/documents.md" in nav.split("# reference-nav:begin", 1)[0]  # a guide, not generated nav
    assert "(docs/guides/documents.md)" in (REPO / "README.md").read_text(encoding="utf-8")


def test_what_it_says_of_pages_and_max_pages_is_the_interface():
    from airflow_provider_hwocr.catalog.rendering import DEFAULT_MAX_PAGES
    from airflow_provider_hwocr.client.documents import parse_pages

    text = _text()
    assert f"`max_pages={DEFAULT_MAX_PAGES}` (the default)" in text and "`max_pages=None` sets no cap" in text
    # each form of pages= it names reads the pages it says (a 12-page document)
    forms = {
        "3": [3],
        '"2-5"': [2, 3, 4, 5],
        '"1,3-4"': [1, 3, 4],
        '"3-"': list(range(3, 13)),
        "[1, 4]": [1, 4],
    }
    for written, wanted in forms.items():
        assert f"`pages={written}`" in text, written
        assert parse_pages(ast.literal_eval(written), 12) == wanted
    assert (
        parse_pages(None, 12) == list(range(1, 13)) and "`pages=None` (the default) reads every page" in text
    )


def test_its_example_builds():
    """The guide's example constructs, its arguments checked as at DAG parse time."""
    code = re.findall(r"```python\n(.*?)```", _text(), re.DOTALL)[0]
    tree = ast.parse(code)
    last = tree.body.pop()
    assert isinstance(last, ast.Expr)  # the operator, as the guide writes it
    scope: dict = {}
    exec(compile(tree, "<documents guide>", "exec"), scope)  # noqa: S102 - the guide's own example
    op = eval(compile(ast.Expression(last.value), "<documents guide>", "eval"), scope)
    assert type(op).__name__ == "HuaweiOcrVatInvoiceOperator"
    assert op.pages == "1-2" and op.max_pages == 50
