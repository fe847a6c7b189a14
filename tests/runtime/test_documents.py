"""A document as pages at task time (``runtime/documents.py``): what a source is (by name, by its first
bytes), which pages are read (``pages``, the page field among the parameters, ``max_pages``), how
each page is sent (its page field, a one-page PDF, a rendered PNG, the document whole), a URL read
once; and the page-aware keys, envelopes and text pages the pipeline stores."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.pages import render_limits
from airflow_provider_hwocr.client import documents as client_documents
from airflow_provider_hwocr.client.documents import count_pages
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.sources import ImageSource, ObsLocation
from airflow_provider_hwocr.operators import arguments
from airflow_provider_hwocr.runtime.documents import (
    Document,
    check_image_pages,
    document_pages_spec,
    download,
    kind_by_name,
    source_kind,
)
from airflow_provider_hwocr.runtime.envelopes import envelope
from airflow_provider_hwocr.runtime.store import PageKey, ResultStore
from airflow_provider_hwocr.testing.documents import numbered_pdf, ofd_invoice
from tests.helpers.images import png

TEXT = get_api("general-text")
PDF3 = numbered_pdf(3)


def test_the_default_page_cap_is_spelled_once_for_dag_files_and_once_for_the_client():
    assert arguments.DEFAULT_MAX_PAGES == client_documents.DEFAULT_MAX_PAGES == 50


# --- what a source is -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.pdf", "pdf"),
        ("dir/b.PDF", "pdf"),
        ("c.Ofd", "ofd"),
        ("d.png", None),
        ("pdf", None),
        ("e.pdf.png", None),
    ],
)
def test_a_document_is_named_by_its_extension_in_any_case(name, kind):
    assert kind_by_name(name) == kind


def test_a_source_is_told_by_its_bytes_when_they_are_read_else_by_its_name():
    assert source_kind(TEXT, ImageSource.obs(ObsLocation("bkt", "in/scan.PDF"))) == "pdf"
    assert source_kind(TEXT, ImageSource.of("https://h.example/x/invoice.ofd?sig=1")) == "ofd"
    assert source_kind(TEXT, ImageSource.of("https://h.example/x/photo.jpg")) is None
    assert source_kind(TEXT, ImageSource.of(PDF3.data)) == "pdf"  # bytes: their magic
    assert source_kind(TEXT, ImageSource.of(ofd_invoice().data)) == "ofd"
    assert source_kind(TEXT, ImageSource.of(png())) is None
    named_pdf = ImageSource.of("/tmp/not-really.pdf").with_data(png())  # read: the bytes say
    assert source_kind(TEXT, named_pdf) is None
    verification = get_api("invoice-verification")
    assert source_kind(verification, ImageSource.obs(ObsLocation("bkt", "a.pdf"))) is None  # no image at all


# --- which pages ---------------------------------------------------------------------------------------


def test_the_page_field_among_the_parameters_chooses_the_pages_unless_pages_does():
    assert document_pages_spec(TEXT, {}, None) is None
    assert document_pages_spec(TEXT, {"pdf_page_number": 2}, None) == 2
    assert document_pages_spec(TEXT, {"pdf_page_number": 2}, "2") == "2"  # the same page, given twice
    with pytest.raises(
        HuaweiOcrValidationError, match="^pages: '3-4' and parameters pdf_page_number=2"
    ) as info:
        document_pages_spec(TEXT, {"pdf_page_number": 2}, "3-4")
    assert info.value.parameter == "pages"
    assert document_pages_spec(get_api("handwriting"), {}, "1-2") == "1-2"  # no page field


@pytest.mark.parametrize("pages", [None, 1, "1", "1-", [1]])
def test_an_image_is_page_1(pages):
    check_image_pages(pages, "a.png")


@pytest.mark.parametrize("pages", [2, "2-3", "1,2", [1, 2]])
def test_an_image_has_no_other_page(pages):
    with pytest.raises(HuaweiOcrValidationError, match="^pages: .* but a.png is an image") as info:
        check_image_pages(pages, "a.png")
    assert info.value.parameter == "pages"


def test_pages_are_checked_at_parse_time_and_once_rendered():
    assert arguments.check_pages(None) is None
    assert arguments.check_pages([1, 3]) == (1, 3)
    assert arguments.check_pages("{{ params.pages }}") == "{{ params.pages }}"  # left for run time
    assert arguments.check_pages("2-5", rendered=True) == "2-5"
    for every in ("", " None ", "all"):
        assert arguments.check_pages(every, rendered=True) is None
    assert arguments.check_pages("[1, 3]", rendered=True) == "1, 3"  # a list rendered as text
    for bad in ("2-1", "x", 0, [0], True):
        with pytest.raises(HuaweiOcrValidationError, match="^pages: ") as info:
            arguments.check_pages(bad)
        assert info.value.parameter == "pages"
    assert arguments.check_max_pages(None) is None and arguments.check_max_pages("60") == 60
    with pytest.raises(HuaweiOcrValidationError, match="^max_pages: "):
        arguments.check_max_pages(0)


# --- how each page is sent ---------------------------------------------------------------------------------


def _doc(slug: str, data: bytes = PDF3.data, *, pages=None, max_pages=50, src=None) -> Document:
    src = src or ImageSource.of(data)
    doc = Document.open(get_api(slug), src, data, pages=pages, max_pages=max_pages)
    assert doc is not None
    return doc


def test_an_api_with_a_page_field_gets_the_document_and_the_page_number():
    doc = _doc("general-text")
    assert (doc.mode, doc.count, doc.pages, doc.whole) == ("select", 3, [1, 2, 3], False)
    body = doc.body(2)
    assert body.source is doc.src and body.params == {"pdf_page_number": 2}
    assert _doc("vat-invoice").body(3).params == {"page_num": 3}
    ofd = _doc("vat-invoice", ofd_invoice(sales_list=True).data)
    assert (ofd.kind, ofd.mode, ofd.count, ofd.body(2).params) == ("ofd", "select", 2, {"page_num": 2})


def test_an_api_reading_page_1_only_gets_each_page_as_a_pdf_of_its_own():
    doc = _doc("business-license")
    assert doc.mode == "split"
    body = doc.body(2)
    assert body.params == {} and count_pages(body.source.data) == 1
    assert doc.data is not None  # held while its pages are made


def test_an_api_reading_images_only_gets_each_page_rendered_within_its_limits():
    doc = _doc("handwriting")
    assert doc.mode == "render"
    body = doc.body(1)
    limits = render_limits(get_api("handwriting"))
    assert body.source.data.startswith(b"\x89PNG") and len(body.source.data) <= limits.max_bytes
    with Image.open(io.BytesIO(body.source.data)) as image:
        assert max(image.size) <= limits.max_side


def test_page_1_alone_goes_whole_to_an_api_that_takes_the_format():
    doc = _doc("business-license", numbered_pdf(1).data)
    assert doc.whole and doc.body(1).source is doc.src and doc.body(1).params == {}
    ticket = _doc("train-ticket", ofd_invoice().data)  # takes OFD, no page field: page 1 whole
    assert ticket.whole and ticket.body(1).params == {}


def test_a_document_too_large_to_send_whole_is_sent_page_by_page():
    src = ImageSource.obs(ObsLocation("bkt", "big.pdf"), size=TEXT.limits.max_base64_bytes)
    doc = Document.planned(TEXT, src, "pdf", 3, pages=None, max_pages=50, size=src.size)
    assert doc.mode == "split" and doc.needs_data()


def test_an_object_sent_by_its_url_needs_no_bytes_once_counted():
    src = ImageSource.obs(ObsLocation("bkt", "a.pdf"), size=len(PDF3.data))
    doc = _doc("general-text", src=src)
    assert doc.data is None and src.data is None and not doc.needs_data()
    inline = Document.open(
        TEXT, ImageSource.obs(ObsLocation("bkt", "a.pdf")), PDF3.data, pages=None, max_pages=50, inline=True
    )
    assert inline is not None and inline.src.data is None  # the bytes go with the document
    sent = inline.body(2).source
    assert (sent.kind, sent.data, sent.location) == ("obs", PDF3.data, inline.src.location)  # not read again


def test_too_many_pages_and_pages_past_the_end_are_refused_before_anything_is_sent():
    with pytest.raises(
        HuaweiOcrValidationError, match=r"^max_pages: .* has 3 pages, over max_pages=2"
    ) as info:
        _doc("general-text", max_pages=2)
    assert info.value.parameter == "max_pages"
    assert _doc("general-text", max_pages=2, pages="2-3").pages == [2, 3]  # the chosen pages count
    assert _doc("general-text", max_pages=None).count == 3
    with pytest.raises(HuaweiOcrValidationError, match="^pages: '3-5' names page 5, past the end") as info:
        _doc("general-text", pages="3-5")
    assert info.value.parameter == "pages"


def test_bytes_that_are_no_document_after_all_are_an_image():
    assert Document.open(TEXT, ImageSource.of("x.pdf"), png(), pages=None, max_pages=50) is None


# --- reading a document once ----------------------------------------------------------------------------


def test_a_url_is_downloaded_once_and_a_missing_one_refused(image_server):
    base, folder = image_server
    (folder / "doc.pdf").write_bytes(PDF3.data)
    assert download(ImageSource.of(f"{base}/doc.pdf"), None) == PDF3.data
    with pytest.raises(HuaweiOcrValidationError, match=r"^image: .*/gone.pdf answered HTTP 404") as info:
        download(ImageSource.of(f"{base}/gone.pdf"), None)
    assert info.value.parameter == "image"
    with pytest.raises(HuaweiOcrValidationError, match="over 100 bytes"):
        download(ImageSource.of(f"{base}/doc.pdf"), None, limit=100)
    held = ImageSource.of(PDF3.data)
    assert download(held, None) is held.data  # bytes already held: no request


def test_an_object_is_one_get_and_one_over_the_cap_none():
    class Obs:
        def __init__(self) -> None:
            self.gets: list[tuple[str, str]] = []

        def get_bytes(self, bucket: str, key: str) -> bytes:
            self.gets.append((bucket, key))
            return PDF3.data

    obs = Obs()
    assert download(ImageSource.obs(ObsLocation("bkt", "a.pdf"), size=10), obs) == PDF3.data
    with pytest.raises(HuaweiOcrValidationError, match="over 5 bytes"):
        download(ImageSource.obs(ObsLocation("bkt", "b.pdf"), size=10), obs, limit=5)
    assert obs.gets == [("bkt", "a.pdf")]


# --- keys, envelopes --------------------------------------------------------------------------------------


def test_a_page_key_names_its_page_and_the_documents_page_count():
    store = ResultStore("bkt", "ocr/", "general-text")
    image = store.result_key("obs://bkt/in/a.pdf", "in/a.pdf")
    page = store.result_key("obs://bkt/in/a.pdf", "in/a.pdf", 2, 5)
    stem = store.document_stem("obs://bkt/in/a.pdf", "in/a.pdf")
    assert image == f"{stem}.general-text.json"  # an image keeps its key
    assert page == f"{stem}.p0002of0005.general-text.json" == store.page_key(stem, 2, 5)
    assert page.startswith(store.page_prefix(stem))
    assert store.parse_page_key(page) == PageKey(stem, 2, 5)
    for other in (
        image,
        store.text_key(page),
        page.replace("general-text", "handwriting"),
        f"{stem}.p0006of0005.general-text.json",
    ):
        assert store.parse_page_key(other) is None
    with pytest.raises(ValueError):
        store.page_key(stem, 6, 5)


def test_a_page_envelope_records_its_page_and_the_documents_pages():
    doc = envelope(
        api=TEXT,
        parameters={},
        source={"kind": "obs"},
        request_id="r",
        region="x",
        result={},
        summary={},
        page=2,
        pages=5,
    )
    assert list(doc)[:6] == ["format", "api", "parameters", "source", "page", "pages"]
    assert (doc["page"], doc["pages"]) == (2, 5)
    image = envelope(api=TEXT, parameters={}, source={}, request_id="r", region="x", result={}, summary={})
    assert "page" not in image and "pages" not in image  # as before pages


def test_each_pages_text_export_names_the_page(emulator, obs_conn, obs_bucket):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.operators.base import HuaweiOcrOperator

    refs = HuaweiOcrOperator(
        task_id="t",
        api="general-text",
        image=PDF3.data,
        output_uri=f"obs://{obs_bucket}/out/",
        export_text=True,
        pages="1,3",
    ).execute({})
    obs = HuaweiObsHook()
    for ref in refs:
        key = ref["uri"].split("/", 3)[3]
        text = obs.get_json(obs_bucket, key.removesuffix(".json") + ".text.json")
        assert {(p["metadata"]["page"], p["metadata"]["pages"]) for p in text["pages"]} == {(ref["page"], 3)}
    assert [r["page"] for r in refs] == [1, 3] and emulator.count() == 2
