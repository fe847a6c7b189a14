"""How each API reads a multi-page document, derived from the catalog (catalog/pages.py)."""

from __future__ import annotations

import ast
import inspect

import pytest

from airflow_provider_hwocr.catalog import APIS, LIVE_APIS, base64_size, get_api
from airflow_provider_hwocr.catalog import pages as pages_module
from airflow_provider_hwocr.catalog.pages import (
    accepts_kind,
    accepts_ofd,
    accepts_pdf,
    page_field,
    page_mode,
    page_params,
    reads_first_page_only,
    render_format,
    render_limits,
    sends_whole,
)

IMAGE_APIS = [api for api in LIVE_APIS if api.image_field is not None]
IDS = [api.slug for api in IMAGE_APIS]

#: What the vendor documents, API by API (the derivation must agree with it).
SELECT_PDF = {
    "general-text": "pdf_page_number",
    "smart-document-recognizer": "pdf_page_number",
    "auto-classification": "pdf_page_number",
    "seal": "pdf_page_number",
    "vat-invoice": "page_num",
    "bank-receipt": "page_num",
}
SPLIT_PDF = {"business-license", "mvs-invoice"}
RENDER_PDF = {"handwriting", "general-table", "id-card", "train-ticket", "web-image", "passport"}


def test_every_api_we_know_is_live():
    assert {*SELECT_PDF, *SPLIT_PDF, *RENDER_PDF} <= {api.slug for api in LIVE_APIS}


@pytest.mark.parametrize(("slug", "field"), sorted(SELECT_PDF.items()))
def test_the_page_field_of_the_apis_that_select_a_page(slug, field):
    api = get_api(slug)
    assert page_field(api) == field
    assert field in api.param_names
    assert page_mode(api) == page_mode(api, "pdf") == "select"
    assert page_params(api, "pdf", 7) == {field: 7}


@pytest.mark.parametrize("slug", sorted(SPLIT_PDF))
def test_apis_taking_pdf_without_a_page_field_get_one_page_pdfs(slug):
    api = get_api(slug)
    assert page_field(api) is None
    assert accepts_pdf(api)
    assert reads_first_page_only(api)
    assert page_mode(api, "pdf") == "split"
    assert page_params(api, "pdf", 3) == {}


def test_business_license_is_documented_to_read_the_first_page_only():
    assert any("first page" in note for note in get_api("business-license").notes)


@pytest.mark.parametrize("slug", sorted(RENDER_PDF))
def test_apis_reading_images_only_get_rendered_pages(slug):
    api = get_api(slug)
    assert not accepts_pdf(api)
    assert not reads_first_page_only(api)
    assert page_mode(api, "pdf") == "render"
    assert page_params(api, "pdf", 2) == {}


@pytest.mark.parametrize("api", IMAGE_APIS, ids=IDS)
def test_the_pdf_mode_follows_from_formats_and_parameters(api):
    field = next((p for p in ("pdf_page_number", "page_num") if p in api.param_names), None)
    assert page_field(api) == field
    takes_pdf = "PDF" in api.limits.formats
    expected = ("select" if field else "split") if takes_pdf else "render"
    assert page_mode(api, "pdf") == expected
    assert reads_first_page_only(api) == (takes_pdf and field is None)


@pytest.mark.parametrize("api", IMAGE_APIS, ids=IDS)
def test_the_ofd_mode_follows_from_formats_and_parameters(api):
    takes_ofd = "OFD" in api.limits.formats
    assert accepts_ofd(api) == takes_ofd
    assert page_mode(api, "ofd") == ("select" if takes_ofd and page_field(api) else "render")


def test_ofd_per_api():
    assert page_mode(get_api("vat-invoice"), "ofd") == "select"
    assert page_params(get_api("vat-invoice"), "ofd", 2) == {"page_num": 2}
    assert page_mode(get_api("auto-classification"), "ofd") == "select"
    assert page_params(get_api("auto-classification"), "ofd", 2) == {"pdf_page_number": 2}
    # train-ticket reads OFD but cannot be told a page: its pages are rendered ...
    train = get_api("train-ticket")
    assert accepts_ofd(train) and page_field(train) is None
    assert page_mode(train, "ofd") == "render"
    # ... unless page 1 alone is wanted: the OFD goes as it is.
    assert sends_whole(train, "ofd", [1])
    # An API that takes PDF but not OFD renders an OFD page, page field or not.
    assert not accepts_ofd(get_api("general-text"))
    assert page_mode(get_api("general-text"), "ofd") == "render"
    assert page_mode(get_api("business-license"), "ofd") == "render"


def test_the_apis_that_take_ofd():
    assert {api.slug for api in LIVE_APIS if accepts_ofd(api)} >= {
        "vat-invoice",
        "auto-classification",
        "train-ticket",
    }


@pytest.mark.parametrize("api", IMAGE_APIS, ids=IDS)
def test_an_image_is_one_page_sent_as_it_is(api):
    assert page_mode(api, None) == "image"
    assert page_params(api, None, 1) == {}
    assert sends_whole(api, None, [1])


@pytest.mark.parametrize("api", IMAGE_APIS, ids=IDS)
def test_a_document_goes_whole_only_for_page_one_in_a_format_the_api_takes(api):
    for kind in ("pdf", "ofd"):
        assert sends_whole(api, kind, [1]) == accepts_kind(api, kind)
        assert sends_whole(api, kind, (1,)) == accepts_kind(api, kind)
        assert not sends_whole(api, kind, [2])
        assert not sends_whole(api, kind, [1, 2])


@pytest.mark.parametrize("api", IMAGE_APIS, ids=IDS)
def test_a_rendered_page_is_sent_as_png_within_the_api_limits(api):
    assert render_format(api) == "PNG"
    limits = render_limits(api)
    assert limits.max_side == api.limits.max_side
    assert limits.max_pixels == api.limits.max_pixels
    # The largest file whose Base64 text fits the cap, to within one 3-byte group.
    assert base64_size(limits.max_bytes) <= api.limits.max_base64_bytes
    assert base64_size(limits.max_bytes + 3) > api.limits.max_base64_bytes


def test_general_text_caps_the_pixels_too():
    assert render_limits(get_api("general-text")).max_pixels == 160_000_000


def test_an_api_without_image_has_no_page_mode():
    (no_image,) = [api for api in APIS if api.image_field is None]
    for call in (
        lambda: page_mode(no_image, "pdf"),
        lambda: page_mode(no_image, None),
        lambda: sends_whole(no_image, "pdf", [1]),
        lambda: render_format(no_image),
        lambda: render_limits(no_image),
    ):
        with pytest.raises(ValueError, match="takes no image"):
            call()


def test_refusals():
    api = get_api("general-text")
    with pytest.raises(ValueError, match="unknown document kind 'docx'"):
        accepts_kind(api, "docx")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="numbered from 1"):
        page_params(api, "pdf", 0)


def test_no_api_is_named_in_the_code():
    """Everything is derived from the catalog: no slug appears as a literal outside docstrings."""
    tree = ast.parse(inspect.getsource(pages_module))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    slugs = {api.slug for api in APIS}
    literals = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]
    assert [text for text in literals if any(slug in text for slug in slugs)] == []
