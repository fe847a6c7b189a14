"""The test documents (testing/documents.py) are what they say, read back with pypdf and zipfile alone."""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader

from airflow_provider_hwocr.testing.documents import (
    INVOICE,
    INVOICE_LABELS,
    SALES_LIST,
    numbered_pdf,
    ofd_invoice,
    page_lines,
    scanned_pdf,
    text_pdf,
)


def _reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data), strict=True)


def test_page_lines_say_which_page_they_are_and_differ():
    assert page_lines(2, 3) == ("Page 2 of 3", "BRAVO RECEIPT 0002")
    words = {page_lines(n, 26)[1].split()[0] for n in range(1, 27)}
    assert len(words) == 26


def test_a_text_pdf_has_its_pages_and_their_text():
    sample = numbered_pdf(4)
    assert sample.kind == "pdf" and sample.page_count == 4 and sample.name == "text-4-pages.pdf"
    reader = _reader(sample.data)  # strict: the cross-reference table is exact
    assert len(reader.pages) == 4
    for n, page in enumerate(reader.pages, start=1):
        assert page.extract_text().splitlines() == list(page_lines(n, 4))
        assert [float(v) for v in page.mediabox] == [0, 0, 595, 842]


def test_inherited_pages_take_size_and_font_from_the_tree():
    data = text_pdf([["one"], ["two"]], inherit=True, size=(300, 400))
    reader = _reader(data)
    assert "/MediaBox" not in reader.trailer["/Root"]["/Pages"]["/Kids"][0].get_object()
    assert [page.extract_text().strip() for page in reader.pages] == ["one", "two"]
    assert [float(v) for v in reader.pages[1].mediabox] == [0, 0, 300, 400]


def test_text_pdf_escapes_and_refuses():
    assert _reader(text_pdf([["a (b) \\ c"]])).pages[0].extract_text().strip() == "a (b) \\ c"
    with pytest.raises(ValueError, match="ASCII"):
        text_pdf([["发票"]])
    with pytest.raises(ValueError, match="at least one page"):
        text_pdf([])
    with pytest.raises(ValueError, match="at least one page"):
        scanned_pdf([])


def test_a_scanned_pdf_has_pages_but_no_text_layer():
    sample = numbered_pdf(3, scanned=True, dpi=72)
    reader = _reader(sample.data)
    assert len(reader.pages) == 3
    assert [page.extract_text().strip() for page in reader.pages] == ["", "", ""]
    assert round(float(reader.pages[0].mediabox.width)) == 595


def test_documents_are_the_same_bytes_each_time():
    assert numbered_pdf(3).data == numbered_pdf(3).data
    assert ofd_invoice(sales_list=True).data == ofd_invoice(sales_list=True).data


def _xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    return ElementTree.fromstring(archive.read(name))


NS = {"ofd": "http://www.ofdspec.org/2016"}


def _page_text(archive: zipfile.ZipFile, name: str) -> list[str]:
    return [code.text or "" for code in _xml(archive, name).iterfind(".//ofd:TextCode", NS)]


def test_an_ofd_invoice_is_a_zip_naming_its_document_and_pages():
    sample = ofd_invoice(sales_list=True)
    assert sample.kind == "ofd" and sample.page_count == 2
    with zipfile.ZipFile(io.BytesIO(sample.data)) as archive:
        assert archive.testzip() is None
        root = _xml(archive, "OFD.xml")
        assert root.findtext("ofd:DocBody/ofd:DocRoot", namespaces=NS) == "Doc_0/Document.xml"
        document = _xml(archive, "Doc_0/Document.xml")
        locs = [page.get("BaseLoc") for page in document.iterfind("ofd:Pages/ofd:Page", NS)]
        assert locs == ["Pages/Page_0/Content.xml", "Pages/Page_1/Content.xml"]
        assert _page_text(archive, "Doc_0/Pages/Page_0/Content.xml") == list(sample.pages[0])
        assert _page_text(archive, "Doc_0/Pages/Page_1/Content.xml") == list(sample.pages[1])
        # The form's labels are on the template; the seal is a picture the document declares.
        assert _page_text(archive, "Doc_0/Tpls/Tpl_0/Content.xml") == list(INVOICE_LABELS)
        media = _xml(archive, "Doc_0/DocumentRes.xml").find(".//ofd:MultiMedia", NS)
        assert media is not None and media.get("ID") == "5"
        assert archive.read("Doc_0/Res/" + media.findtext("ofd:MediaFile", namespaces=NS)).startswith(
            b"\x89PNG"
        )
        image = _xml(archive, "Doc_0/Pages/Page_0/Content.xml").find(".//ofd:ImageObject", NS)
        assert image is not None and image.get("ResourceID") == "5"


def test_the_invoice_prints_its_fields_and_the_sales_list_its_items():
    sample = ofd_invoice(sales_list=True)
    assert set(INVOICE.values()) <= set(sample.pages[0])
    assert sample.pages[1][0] == "销货清单"
    assert [item for item, _ in SALES_LIST] == list(sample.pages[1][2::2])


def test_without_template_or_picture():
    sample = ofd_invoice(template=False, picture=False)
    assert sample.page_count == 1 and sample.name == "vat-invoice.ofd"
    assert sample.pages[0][: len(INVOICE_LABELS)] == INVOICE_LABELS
    with zipfile.ZipFile(io.BytesIO(sample.data)) as archive:
        assert not any(name.startswith("Doc_0/Tpls/") for name in archive.namelist())
        page = _xml(archive, "Doc_0/Pages/Page_0/Content.xml")
        assert page.find(".//ofd:ImageObject", NS) is None
        assert page.find("ofd:Template", NS) is None
        assert page.find(".//ofd:PathObject", NS) is not None
