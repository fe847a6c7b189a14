"""Documents of several pages (``emulator/pages.py``, ``emulator/ofd.py``): the emulator reads the page
a request selects, as the service does, and nothing else.

* general-text on a 3-page PDF: each ``pdf_page_number`` answers its own page's words and no
  other page's; no page field is page 1; a page past the end is 400 AIS.0101 and not billed;
* vat-invoice on a multi-page PDF and on an OFD: ``total_pages`` and ``current_page`` are the
  document's, ``page_num`` selects; an image is page 1 of 1;
* business-license (PDF, no page field) reads page 1 only; an OFD to an API whose formats do
  not list OFD is AIS.0102;
The OFD reader itself is tested in ``test_ofd.py``, the official SDK's side in
``test_official_sdk.py``.
"""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from PIL import Image

from airflow_provider_hwocr.catalog import APIS, ERROR_CODES, get_api
from airflow_provider_hwocr.catalog.pages import accepts_ofd, accepts_pdf, page_field
from airflow_provider_hwocr.catalog.responses import check
from airflow_provider_hwocr.emulator import pages, samples
from airflow_provider_hwocr.emulator.ocr import rapidocr_problem
from tests.helpers.b_images import b64
from tests.helpers.b_service import service

INVOICE = samples.invoice_pdf()
OFD = samples.vat_invoice_ofd()
#: Words only page n of the English invoice prints (the rest repeat: SALES LIST, the number).
OWN_WORDS = {1: {"Acme", "Northwind", "Total"}, 2: {"Widgets", "45.00"}, 3: {"Bolts", "20.00"}}


def _words(result: dict) -> set[str]:
    return {word for block in result["words_block_list"] for word in block["words"].split()}


@pytest.fixture(scope="module")
def s():
    with service() as running:
        yield running


@pytest.fixture
def emu(s):
    s.emu.reset()
    return s


@pytest.fixture
def chinese(s) -> None:
    """RapidOCR comes with the test extra; a machine without it (a stale venv) skips, CI never does."""
    problem = rapidocr_problem()
    if problem is not None:
        if os.environ.get("CI"):
            raise AssertionError(f"the Chinese reader must come with the test extra: {problem}")
        pytest.skip(problem)
    if samples.cjk_font_path() is None:
        pytest.skip("no CJK font to render the Chinese documents")


# --- general-text: one page per call ---------------------------------------------------------


@pytest.mark.parametrize("page", [1, 2, 3])
def test_each_pdf_page_number_reads_its_own_page(emu, tesseract, page):
    response = emu.ocr("general-text", {"image": b64(INVOICE.data), "pdf_page_number": page})
    assert response.status_code == 200, response.text
    assert response.headers["X-Emulator-Ocr"] == "tesserocr"
    read = _words(response.json()["result"])
    assert OWN_WORDS[page] <= read
    for other, words in OWN_WORDS.items():
        if other != page:
            assert not words & read, (page, other)
    assert f"Page {page} of 3" in response.json()["result"]["words_block_list"][-1]["words"]
    assert emu.emu.stats()["billable"] == 1


def test_no_page_field_reads_page_1(emu, tesseract):
    default = emu.ocr("general-text", {"image": b64(INVOICE.data)})
    first = emu.ocr("general-text", {"image": b64(INVOICE.data), "pdf_page_number": 1})
    assert default.status_code == first.status_code == 200
    assert default.json() == first.json()
    assert OWN_WORDS[1] <= _words(default.json()["result"])


def test_a_page_past_the_end_is_refused_and_not_billed(emu):
    response = emu.ocr("general-text", {"image": b64(INVOICE.data), "pdf_page_number": 4})
    assert response.status_code == 400
    assert response.json()["error_code"] == "AIS.0101"
    assert response.json()["error_msg"] == ERROR_CODES["AIS.0101"].message
    assert "past the last page" in response.headers["X-Emulator-Detail"]
    (call,) = emu.emu.calls("general-text")
    assert (call.status, call.error_code, call.units, call.billable) == (400, "AIS.0101", 0, False)
    stats = emu.emu.stats()
    assert stats["billable"] == 0 and stats["total"] == 1
    assert stats["apis"]["general-text"]["billable"] == 0


def test_page_0_is_an_invalid_parameter(emu):
    response = emu.ocr("general-text", {"image": b64(INVOICE.data), "pdf_page_number": 0})
    assert (response.status_code, response.json()["error_code"]) == (400, "AIS.0101")
    assert emu.emu.stats()["billable"] == 0


def test_a_pdf_by_url_selects_its_page(emu, tesseract, files_server):
    base, folder = files_server
    (folder / "invoice.pdf").write_bytes(INVOICE.data)
    response = emu.ocr("general-text", {"url": f"{base}/invoice.pdf", "pdf_page_number": 3})
    assert response.status_code == 200, response.text
    assert OWN_WORDS[3] <= _words(response.json()["result"])
    past = emu.ocr("general-text", {"url": f"{base}/invoice.pdf", "pdf_page_number": 9})
    assert past.json()["error_code"] == "AIS.0101"


def test_smart_document_recognizer_reads_the_selected_page(emu, tesseract):
    response = emu.ocr("smart-document-recognizer", {"data": b64(INVOICE.data), "pdf_page_number": 2})
    assert response.status_code == 200, response.text
    (page,) = response.json()["result"]
    text = " ".join(block["words"] for block in page["ocr_result"]["words_block_list"])
    assert "Widgets" in text and "Acme" not in text and "Bolts" not in text


def test_a_page_field_sent_with_an_image_reads_the_image(emu, tesseract):
    """The page field is documented for multi-page PDFs: an image has nothing for it to choose."""
    png = io.BytesIO()
    Image.open(io.BytesIO(_page_image(INVOICE.data, 2))).save(png, "PNG")
    response = emu.ocr("general-text", {"image": b64(png.getvalue()), "pdf_page_number": 3})
    assert response.status_code == 200
    assert OWN_WORDS[2] <= _words(response.json()["result"])


def _page_image(pdf: bytes, page: int) -> bytes:
    return pages.render(pdf, "PDF", page).png


# --- vat-invoice: page numbers, PDF and OFD --------------------------------------------------


def _vat(emu, document: bytes, **params) -> dict:
    body = {"image": b64(document), "advanced_mode": True, **params}
    response = emu.ocr("vat-invoice", body, timeout=120)  # the Chinese reader loads its models once
    assert response.status_code == 200, response.text
    assert check("vat-invoice", body, response.json()) == []
    return response.json()["result"]


def test_vat_invoice_pdf_pages(emu, chinese):
    pdf = samples.vat_invoice_pdf()
    first = _vat(emu, pdf.data)
    assert (first["total_pages"], first["current_page"]) == ("3", "1")
    assert first["number"] == samples.VAT_INVOICE_FIELDS["发票号码"]
    assert first["buyer_name"] == samples.VAT_INVOICE_FIELDS["购买方名称"]
    assert first["total"] == samples.VAT_INVOICE_FIELDS["价税合计"]
    third = _vat(emu, pdf.data, page_num=3)
    assert (third["total_pages"], third["current_page"]) == ("3", "3")
    assert third["number"] == samples.VAT_INVOICE_FIELDS["发票号码"]  # the sales list repeats it
    assert third["buyer_name"] == third["total"] == ""  # not printed on the sales list
    past = emu.ocr("vat-invoice", {"image": b64(pdf.data), "page_num": 4})
    assert (past.status_code, past.json()["error_code"]) == (400, "AIS.0101")
    assert emu.emu.stats()["apis"]["vat-invoice"]["billable"] == 2


def test_vat_invoice_ofd_pages(emu):
    """An OFD is parsed (no OCR): its own text, whatever reader is installed."""
    first = _vat(emu, OFD.data)
    assert (first["total_pages"], first["current_page"]) == ("2", "1")
    fields = samples.DIGITAL_INVOICE_FIELDS
    assert (first["number"], first["issue_date"], first["seller_name"], first["total"], first["issuer"]) == (
        fields["发票号码"], fields["开票日期"], fields["销售方名称"], fields["价税合计"], fields["开票人"],
    )  # fmt: skip
    assert (first["title"], first["type"]) == (
        samples.DIGITAL_INVOICE_TITLE,
        "fully_digitalized_special_electronic",
    )
    second = _vat(emu, OFD.data, page_num=2)
    assert (second["total_pages"], second["current_page"]) == ("2", "2")
    assert second["number"] == fields["发票号码"] and second["seller_name"] == ""
    past = emu.ocr("vat-invoice", {"image": b64(OFD.data), "page_num": 3})
    assert (past.status_code, past.json()["error_code"]) == (400, "AIS.0101")
    calls = emu.emu.calls("vat-invoice")
    assert [c.status for c in calls] == [200, 200, 400] and [c.units for c in calls] == [1, 1, 0]


def test_vat_invoice_ofd_read_as_an_image(emu, chinese):
    """``ofd_to_image_mode``: the page is drawn and read with the OCR instead of parsed."""
    body = {"image": b64(OFD.data), "ofd_to_image_mode": True}
    response = emu.ocr("vat-invoice", body, timeout=120)
    assert response.status_code == 200 and response.headers["X-Emulator-Ocr"] == "rapidocr"
    result = response.json()["result"]
    assert result["number"] == samples.DIGITAL_INVOICE_FIELDS["发票号码"]
    assert (result["total_pages"], result["current_page"]) == ("2", "1")
    parsed = emu.ocr("vat-invoice", {"image": b64(OFD.data)})
    assert parsed.headers["X-Emulator-Ocr"] == pages.PARSED


def test_vat_invoice_image_is_page_1_of_1(emu, chinese):
    png = samples.vat_invoice().png
    result = _vat(emu, png)
    assert (result["total_pages"], result["current_page"]) == ("1", "1")
    with_page = _vat(emu, png, page_num=2)  # the field is for PDF and OFD: the image is read
    assert (with_page["total_pages"], with_page["current_page"]) == ("1", "1")
    assert with_page["number"] == result["number"] == samples.VAT_INVOICE_FIELDS["发票号码"]


def test_vat_invoice_page_numbers_in_the_documented_shape(s):
    """Read nothing (synthetic reader), answer the shape: the page numbers are still the document's."""
    with service(ocr_engine="synthetic") as synthetic:
        response = synthetic.ocr("vat-invoice", {"image": b64(INVOICE.data), "page_num": 2})
        assert response.status_code == 200 and response.headers["X-Emulator-Ocr"] == "shape"
        result = response.json()["result"]
        assert (result["total_pages"], result["current_page"]) == ("3", "2")


def test_an_ofd_made_by_another_writer_is_read_too(emu):
    """The testing package's OFD (its own writer: form labels on a template, a seal picture)."""
    documents = pytest.importorskip("airflow_provider_hwocr.testing.documents")
    other = documents.ofd_invoice(sales_list=True)
    result = _vat(emu, other.data)
    assert (result["number"], result["total_pages"], result["current_page"]) == (
        documents.INVOICE["number"], "2", "1",
    )  # fmt: skip
    assert _vat(emu, other.data, page_num=2)["current_page"] == "2"


# --- APIs without a page field, formats --------------------------------------------------------


def test_business_license_reads_page_1_only(emu, chinese):
    pdf = samples.pdf_of(
        "licences.pdf",
        [["名称：第一示例有限公司", "统一社会信用代码：91110000MA00000001"],
         ["名称：第二示例有限公司", "统一社会信用代码：91110000MA00000002"]],
        size=(1000, 400), kind="cjk",
    )  # fmt: skip
    response = emu.ocr("business-license", {"image": b64(pdf.data)}, timeout=120)
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert (result["name"], result["registration_number"]) == ("第一示例有限公司", "91110000MA00000001")
    chosen = emu.ocr("business-license", {"image": b64(pdf.data), "pdf_page_number": 2})
    assert (chosen.status_code, chosen.json()["error_code"]) == (400, "AIS.0101")  # no such parameter


def test_an_ofd_to_an_api_that_does_not_list_ofd_is_refused(emu):
    for slug in ("general-text", "business-license", "bank-receipt"):
        api = get_api(slug)
        response = emu.ocr(slug, {api.image_field: b64(OFD.data)})
        assert (response.status_code, response.json()["error_code"]) == (400, "AIS.0102"), slug
    assert emu.emu.stats()["billable"] == 0


def test_a_pdf_to_an_api_that_does_not_list_pdf_is_refused(emu):
    response = emu.ocr("passport", {"image": b64(INVOICE.data)})
    assert (response.status_code, response.json()["error_code"]) == (400, "AIS.0102")


def test_train_ticket_takes_an_ofd_and_reads_page_1(emu):
    response = emu.ocr("train-ticket", {"image": b64(OFD.data)})
    assert response.status_code == 200, response.text


def test_auto_classification_names_an_ofd_invoice(emu):
    response = emu.ocr("auto-classification", {"image": b64(OFD.data)})
    assert response.status_code == 200, response.text
    (item,) = response.json()["result"]
    assert item["type"] == "vat_invoice" and item["status"]["error_code"] == "AIS.0000"
    assert emu.emu.stats()["apis"]["auto-classification"]["billable"] == 1
    past = emu.ocr("auto-classification", {"image": b64(OFD.data), "pdf_page_number": 3})
    assert past.json()["error_code"] == "AIS.0101"


def test_a_broken_document_is_ais_0104(emu):
    broken_ofd = zipfile.ZipFile  # an OFD whose DocRoot names a missing file
    buf = io.BytesIO()
    with broken_ofd(buf, "w") as archive:
        archive.writestr("OFD.xml", "<OFD><DocBody><DocRoot>Doc_0/Document.xml</DocRoot></DocBody></OFD>")
    for data in (buf.getvalue(), b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"):
        response = emu.ocr("vat-invoice", {"image": b64(data)})
        assert (response.status_code, response.json()["error_code"]) == (400, "AIS.0104")


def test_a_page_too_large_once_rendered_is_ais_0103(emu):
    """The service renders a PDF page at 150 dpi, and the image must then meet the size limits."""
    buf = io.BytesIO()
    Image.new("L", (100, 20), 255).save(buf, "PDF", resolution=1.0)  # 100 inches wide: 15000 px
    response = emu.ocr("vat-invoice", {"image": b64(buf.getvalue())})
    assert (response.status_code, response.json()["error_code"]) == (400, "AIS.0103")


# --- the pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize("api", [a for a in APIS if a.image_field and (accepts_pdf(a) or accepts_ofd(a))],
                         ids=lambda a: a.slug)  # fmt: skip
def test_the_page_comes_from_the_catalogs_page_field(api):
    field = page_field(api)
    expected = 3 if field else 1
    assert pages.requested_page(api, {field or "pdf_page_number": 3}) == expected
    assert pages.requested_page(api, {}) == 1
