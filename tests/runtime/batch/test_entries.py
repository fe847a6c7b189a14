"""What an image, a document and a page of it end as in a batch (``runtime/batch/entries.py``): items,
page items and their manifest entries."""

from __future__ import annotations

from types import SimpleNamespace

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.sources import ImageSource, ObsLocation
from airflow_provider_hwocr.runtime.batch.entries import (
    Item,
    PageItem,
    done,
    failed,
    not_attempted,
    rejected,
    with_page,
)


def test_an_item_is_an_image_until_it_has_a_document_kind():
    item = Item(3, "obs://bkt/a.png")
    assert (item.pos, item.action, item.kind, item.count, item.pages, item.done) == (
        3,
        "send",
        None,
        None,
        (),
        0,
    )
    assert not item.is_document
    item.kind, item.stem = "pdf", "ocr/a.pdf-0123456789ab"
    assert item.is_document


def test_an_image_s_item_carries_no_document_part_and_a_document_s_keeps_what_is_set():
    image = Item(0, "obs://bkt/a.png")
    image.kind, image.stem, image.count, image.pages, image.done, image.sure = None, None, None, (), 0, False
    assert image._doc is None  # defaults set on an image allocate nothing
    doc = Item(1, "obs://bkt/a.pdf")
    doc.kind, doc.count, doc.pages, doc.done, doc.sure = "pdf", 3, ((2, "send"),), 1, True
    assert (doc.kind, doc.count, doc.pages, doc.done, doc.sure, doc.stem) == (
        "pdf",
        3,
        ((2, "send"),),
        1,
        True,
        None,
    )
    doc.count, doc.pages, doc.done, doc.sure = None, (), 0, False  # back to unknown: kept as set
    assert (doc.count, doc.pages, doc.done, doc.sure, doc.is_document) == (None, (), 0, False, True)
    assert image.count is None and image.pages == ()  # the shared defaults were not written


def test_a_page_item_is_one_page_of_its_document():
    parent = Item(7, "obs://bkt/a.pdf")
    parent.kind = "pdf"
    parent.src = ImageSource.obs(ObsLocation("bkt", "a.pdf"), etag="e1")
    page = PageItem(parent, 2, 5, "ocr/a.pdf-0123456789ab.p0002of0005.general-text.json", doc="the document")
    assert (page.pos, page.source, page.src, page.page, page.count) == (7, parent.source, parent.src, 2, 5)
    assert page.doc == "the document" and page.body is None
    assert not page.is_document  # a page is sent, not opened


def test_a_page_entry_names_its_page_and_pages_after_its_source():
    outcome = SimpleNamespace(
        value={"uri": "obs://bkt/k", "summary": {"api": "general-text"}},
        result_uri="obs://bkt/k",
        request_id="r",
        attempts=1,
        billed_retries=0,
        result_etag='"e"',
    )
    entry = with_page(done("obs://bkt/a.pdf", "k", outcome, params_digest="p", source_etag="s"), 2, 5)
    assert list(entry)[:4] == ["source", "page", "pages", "status"]
    assert (entry["page"], entry["pages"], entry["status"], entry["result_uri"]) == (
        2,
        5,
        "done",
        "obs://bkt/k",
    )
    assert with_page(not_attempted("obs://bkt/a.pdf"), 1, 5)["status"] == "not_attempted"
    assert with_page(failed("obs://bkt/a.pdf", ValueError("x"), called=True), 4, 5)["page"] == 4


def test_a_document_refused_before_any_call_is_rejected_naming_the_argument():
    exc = HuaweiOcrValidationError("max_pages: a.pdf has 61 pages, over max_pages=50", parameter="max_pages")
    entry = rejected("obs://bkt/a.pdf", exc)
    assert entry == {
        "source": "obs://bkt/a.pdf",
        "status": "rejected",
        "called": False,
        "error_type": "HuaweiOcrValidationError",
        "parameter": "max_pages",
        "reason": "max_pages: a.pdf has 61 pages, over max_pages=50",
    }
