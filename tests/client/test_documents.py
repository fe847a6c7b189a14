"""Multi-page documents page by page (client/documents.py): kind, count, page choice, one page out."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import zipfile

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.pages import render_limits
from airflow_provider_hwocr.client.documents import (
    DEFAULT_DPI,
    DEFAULT_MAX_PAGES,
    check_max_pages,
    check_pages_spec,
    count_pages,
    document_kind,
    ofd_page_text,
    parse_pages,
    render_page,
    single_page_pdf,
)
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.testing.documents import (
    INVOICE,
    INVOICE_LABELS,
    numbered_pdf,
    ofd_invoice,
    page_lines,
    text_pdf,
)
from tests.helpers.paths import REPO

BIG = 8192
ROOMY = 7_000_000


@pytest.fixture(scope="module")
def three():
    return numbered_pdf(3)


@pytest.fixture(scope="module")
def scanned():
    return numbered_pdf(3, scanned=True)


@pytest.fixture(scope="module")
def invoice():
    return ofd_invoice(sales_list=True)


def _png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _ink(image: Image.Image, box: tuple[int, int, int, int] | None = None) -> int:
    """How many pixels of ``box`` are not white."""
    grey = image.convert("L") if box is None else image.crop(box).convert("L")
    return sum(count for value, count in enumerate(grey.histogram()) if value < 200)


def _red(image: Image.Image) -> bool:
    """Whether any pixel is seal red."""
    data = image.convert("RGB").tobytes()
    return any(data[i] > 150 and data[i + 1] < 80 and data[i + 2] < 80 for i in range(0, len(data), 3))


def _encrypted(data: bytes, password: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.encrypt(user_password=password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- what the bytes are ----------------------------------------------------------------------------


def test_document_kind(three, invoice):
    assert document_kind(three.data) == "pdf"
    assert document_kind(invoice.data) == "ofd"
    buf = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buf, "PNG")
    assert document_kind(buf.getvalue()) is None
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("readme.txt", "not an OFD")
    assert document_kind(plain_zip.getvalue()) is None
    assert document_kind(b"PK\x03\x04 broken") is None
    assert document_kind(b"") is None


def test_count_pages(three, scanned, invoice):
    assert count_pages(three.data, "pdf") == count_pages(three.data) == 3
    assert count_pages(scanned.data) == 3
    assert count_pages(invoice.data, "ofd") == count_pages(invoice.data) == 2
    assert count_pages(ofd_invoice().data) == 1
    assert count_pages(numbered_pdf(61).data) == 61


def test_counting_a_pdfs_pages_lets_its_bytes_go_without_waiting_for_the_cycle_collector(scanned):
    """A batch counts one document after another: a copy of one that waited for the cycle collector
    (pypdf's objects refer to their reader) would pile up, several documents at once."""
    import gc
    import tracemalloc

    data = scanned.data
    count_pages(data)  # imports, caches: what a first count makes once
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        assert count_pages(data) >= 2
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        gc.enable()
    assert held < len(data) / 2, (held, len(data))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a not a document", "not a PDF or OFD"),
        (b"%PDF-1.4 garbage", "not a readable PDF"),
    ],
)
def test_count_pages_refuses_what_it_cannot_read(data, message):
    with pytest.raises(HuaweiOcrValidationError, match=message) as info:
        count_pages(data)
    assert info.value.parameter == "image"


def test_a_truncated_pdf_is_refused(three):
    with pytest.raises(HuaweiOcrValidationError, match="not a readable PDF"):
        count_pages(three.data[: len(three.data) // 2])


def test_an_encrypted_pdf_opens_with_the_empty_password_only(three):
    opened = _encrypted(three.data, "")
    assert count_pages(opened) == 3
    page = PdfReader(io.BytesIO(single_page_pdf(opened, 2))).pages[0]
    assert page.extract_text().strip() == "Page 2 of 3\nBRAVO RECEIPT 0002"
    with pytest.raises(HuaweiOcrValidationError, match="encrypted with a password"):
        count_pages(_encrypted(three.data, "secret"))


def _rewrite(data: bytes, members: dict[str, bytes | None]) -> bytes:
    """The OFD ``data`` with some members replaced (``None``: left out)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for name in old.namelist():
            content = members.get(name, old.read(name))
            if content is not None:
                new.writestr(name, content)
    return out.getvalue()


def _member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def test_a_broken_ofd_is_refused(invoice):
    no_root = _rewrite(invoice.data, {"OFD.xml": b"<OFD><DocBody/></OFD>"})
    with pytest.raises(HuaweiOcrValidationError, match="names no document"):
        count_pages(no_root)
    bad_xml = _rewrite(invoice.data, {"Doc_0/Document.xml": b"<Document><Pages>"})
    with pytest.raises(HuaweiOcrValidationError, match="not well-formed XML"):
        count_pages(bad_xml)
    no_page = _rewrite(invoice.data, {"Doc_0/Pages/Page_1/Content.xml": None})
    with pytest.raises(HuaweiOcrValidationError, match="does not hold"):
        count_pages(no_page)


def test_ofd_locations_rooted_at_the_package(invoice):
    document = _member(invoice.data, "Doc_0/Document.xml").replace(
        b'BaseLoc="Pages/Page_1/', b'BaseLoc="/Doc_0/Pages/Page_1/'
    )
    rooted = _rewrite(invoice.data, {"Doc_0/Document.xml": document})
    assert b"/Doc_0/Pages/Page_1/" in document
    assert ofd_page_text(rooted, 2) == list(invoice.pages[1])


# --- which pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "count", "pages"),
    [
        (None, 3, [1, 2, 3]),
        (2, 5, [2]),
        ("2-5", 9, [2, 3, 4, 5]),
        ("1,3,5-7", 9, [1, 3, 5, 6, 7]),
        ("3-", 5, [3, 4, 5]),
        ("5-", 5, [5]),
        (" 4 , 1-2 ,2 ", 5, [1, 2, 4]),
        ("7-7", 7, [7]),
        ([3, 1, 3], 4, [1, 3]),
        ((2,), 2, [2]),
    ],
)
def test_parse_pages(spec, count, pages):
    assert parse_pages(spec, count) == pages
    check_pages_spec(spec)  # the syntax alone is fine too


@pytest.mark.parametrize("spec", [6, "4-6", "6-", [1, 9], "1,2,6"])
def test_a_page_past_the_end_names_pages_and_the_count(spec):
    with pytest.raises(HuaweiOcrValidationError, match=r"^pages: .*the document has 5 pages") as info:
        parse_pages(spec, 5)
    assert info.value.parameter == "pages"
    check_pages_spec(spec)  # well-formed: only the document says it is too far


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        (0, "numbered from 1"),
        ([0, 1], "numbered from 1"),
        ("0-2", "numbered from 1"),
        (-1, "numbered from 1"),
        ("", "is empty"),
        ("  ", "is empty"),
        ("a", "not a page or a range"),
        ("-2", "not a page or a range"),
        ("1,,2", "not a page or a range"),
        ("1-2-3", "not a page or a range"),
        ("1.5", "not a page or a range"),
        ("5-2", "runs backwards"),
        (True, "not a page number"),
        ([], "names no page"),
        ([1, "2"], "other than page numbers"),
        ([1, True], "other than page numbers"),
        (1.0, "is a float"),
        ({1, 2}, "is a set"),
    ],
)
def test_a_malformed_spec_names_pages(spec, why):
    with pytest.raises(HuaweiOcrValidationError, match=why) as info:
        parse_pages(spec, 10)
    assert info.value.parameter == "pages"
    assert str(info.value).startswith("pages: ")
    with pytest.raises(HuaweiOcrValidationError, match=why):
        check_pages_spec(spec)


def test_a_document_without_pages():
    with pytest.raises(HuaweiOcrValidationError, match="no page"):
        parse_pages(None, 0)


def test_check_max_pages_refuses_61_pages_by_default():
    count = count_pages(numbered_pdf(61).data)
    assert DEFAULT_MAX_PAGES == 50
    with pytest.raises(HuaweiOcrValidationError) as info:
        check_max_pages(count, DEFAULT_MAX_PAGES, "doc.pdf")
    assert info.value.parameter == "max_pages"
    assert str(info.value).startswith(
        "max_pages: doc.pdf has 61 pages, over max_pages=50; nothing was called"
    )


def test_check_max_pages_lets_through():
    check_max_pages(50, DEFAULT_MAX_PAGES, "doc.pdf")
    check_max_pages(1, 1, "doc.pdf")
    check_max_pages(10_000, None, "doc.pdf")  # no cap
    check_max_pages(61, 50, "doc.pdf", selected=3)  # only 3 pages are called


def test_check_max_pages_counts_the_selected_pages():
    with pytest.raises(
        HuaweiOcrValidationError, match=r"51 of the 200 pages of obs://b/k.pdf are selected, over"
    ):
        check_max_pages(200, 50, "obs://b/k.pdf", selected=51)


@pytest.mark.parametrize("bad", [0, -1, True, "50", 2.5])
def test_check_max_pages_refuses_a_bad_cap(bad):
    with pytest.raises(HuaweiOcrValidationError, match="max_pages: must be a whole number") as info:
        check_max_pages(3, bad, "doc.pdf")
    assert info.value.parameter == "max_pages"


# --- one page out --------------------------------------------------------------------------------


def test_single_page_pdf_has_one_page_with_the_right_text(three):
    for n in (1, 2, 3):
        page_pdf = single_page_pdf(three.data, n)
        reader = PdfReader(io.BytesIO(page_pdf))
        assert len(reader.pages) == 1
        assert reader.pages[0].extract_text().splitlines() == list(page_lines(n, 3))
        assert count_pages(page_pdf) == 1


def test_single_page_pdf_keeps_what_the_page_inherits():
    data = text_pdf([["first"], ["second"]], inherit=True, size=(300, 400))
    reader = PdfReader(io.BytesIO(single_page_pdf(data, 2)))
    assert reader.pages[0].extract_text().strip() == "second"
    assert [float(v) for v in reader.pages[0].mediabox] == [0, 0, 300, 400]


def test_single_page_pdf_is_small_for_a_text_page():
    big = numbered_pdf(50)
    assert len(single_page_pdf(big.data, 25)) < len(big.data) / 10


@pytest.mark.parametrize("page", [0, 4, -1, True])
def test_single_page_pdf_refuses_a_page_it_does_not_have(three, page):
    with pytest.raises(HuaweiOcrValidationError, match="which has 3 pages") as info:
        single_page_pdf(three.data, page)
    assert info.value.parameter == "pages"


def test_a_rendered_pdf_page_is_a_200_dpi_png(scanned):
    image = _png(render_page(scanned.data, "pdf", 1, max_side=BIG, max_bytes=ROOMY))
    assert DEFAULT_DPI == 200
    # A4 at 200 DPI (Pillow's page is 595.3 x 841.9 points); PDFium rounds up.
    assert abs(image.size[0] - 1654) <= 2 and abs(image.size[1] - 2339) <= 2


def test_a_rendered_page_fits_max_side_and_max_pixels(scanned):
    image = _png(render_page(scanned.data, None, 2, max_side=1000, max_bytes=ROOMY))
    assert max(image.size) <= 1000 and max(image.size) >= 990
    image = _png(render_page(scanned.data, None, 2, max_side=BIG, max_bytes=ROOMY, max_pixels=500_000))
    assert image.size[0] * image.size[1] <= 500_000


def test_a_rendered_page_fits_max_bytes(scanned):
    roomy = render_page(scanned.data, "pdf", 2, max_side=BIG, max_bytes=ROOMY)
    limit = len(roomy) // 2
    tight = render_page(scanned.data, "pdf", 2, max_side=BIG, max_bytes=limit)
    assert len(tight) <= limit
    assert _png(tight).size[0] < _png(roomy).size[0]


def test_a_page_that_cannot_fit_is_refused(scanned):
    with pytest.raises(HuaweiOcrValidationError, match="does not fit 500 bytes"):
        render_page(scanned.data, "pdf", 1, max_side=BIG, max_bytes=500)
    with pytest.raises(HuaweiOcrValidationError, match="under 50, too coarse to read"):
        render_page(scanned.data, "pdf", 1, max_side=200, max_bytes=ROOMY)
    with pytest.raises(HuaweiOcrValidationError, match="which has 3 pages"):
        render_page(scanned.data, "pdf", 4, max_side=BIG, max_bytes=ROOMY)
    with pytest.raises(ValueError, match="dpi must be 50 or more"):
        render_page(scanned.data, "pdf", 1, max_side=BIG, max_bytes=ROOMY, dpi=10)


def test_rendered_pages_differ(three):
    first = _png(render_page(three.data, "pdf", 1, max_side=BIG, max_bytes=ROOMY))
    second = _png(render_page(three.data, "pdf", 2, max_side=BIG, max_bytes=ROOMY))
    assert first.size == second.size
    assert _ink(first) > 0 and first.tobytes() != second.tobytes()


@pytest.fixture(scope="module")
def tesseract():
    tesserocr = pytest.importorskip("tesserocr")
    from airflow_provider_hwocr.emulator.ocr import tessdata_dir

    if tessdata_dir() is None:
        pytest.skip("no eng.traineddata")
    with tesserocr.PyTessBaseAPI(path=tessdata_dir(), lang="eng") as api:

        def read(png: bytes) -> str:
            api.SetImage(_png(png))
            return api.GetUTF8Text()

        yield read


def test_a_rendered_scanned_page_reads_as_its_page(scanned, tesseract):
    text = tesseract(render_page(scanned.data, "pdf", 2, max_side=BIG, max_bytes=ROOMY))
    assert "Page 2 of 3" in text and "BRAVO RECEIPT 0002" in text


def test_a_page_rendered_for_an_api_reads_within_its_limits(tesseract):
    """A 20-page receipt for handwriting (an API reading images only), at its catalog limits."""
    limits = render_limits(get_api("handwriting"))
    receipts = numbered_pdf(20, scanned=True)
    png = render_page(receipts.data, "pdf", 17, max_side=limits.max_side, max_bytes=limits.max_bytes)
    assert max(_png(png).size) <= limits.max_side and len(png) <= limits.max_bytes
    assert "Page 17 of 20" in tesseract(png)


# --- OFD ---------------------------------------------------------------------------------------


def test_ofd_page_text(invoice):
    assert ofd_page_text(invoice.data, 1) == list(invoice.pages[0])
    assert ofd_page_text(invoice.data, 2) == list(invoice.pages[1])
    assert ofd_page_text(invoice.data, 1, templates=True) == [*INVOICE_LABELS, *invoice.pages[0]]
    flat = ofd_invoice(template=False)
    assert ofd_page_text(flat.data, 1) == ofd_page_text(flat.data, 1, templates=True) == list(flat.pages[0])
    with pytest.raises(HuaweiOcrValidationError, match="which has 2 pages") as info:
        ofd_page_text(invoice.data, 3)
    assert info.value.parameter == "pages"


def test_a_rendered_ofd_page_is_the_page_at_200_dpi(invoice):
    image = _png(render_page(invoice.data, "ofd", 1, max_side=BIG, max_bytes=ROOMY))
    assert image.size == (1654, 1103)  # 210 x 140 mm
    px = 200 / 25.4  # pixels per millimetre
    # The frame (template, 10 mm from the left, 25 mm from the top) is drawn ...
    assert _ink(image, (int(9 * px), int(24 * px), int(11 * px), int(126 * px))) > 0
    # ... and the seal, a red ring at (140, 112) mm, 30 x 20 mm.
    assert _red(image.crop((int(140 * px), int(112 * px), int(170 * px), int(132 * px))))
    no_seal = ofd_invoice(picture=False)
    plain = _png(render_page(no_seal.data, "ofd", 1, max_side=BIG, max_bytes=ROOMY))
    assert not _red(plain.crop((int(140 * px), int(112 * px), int(170 * px), int(132 * px))))


def test_a_malformed_ofd_object_is_left_out_and_the_rest_drawn(invoice):
    name = "Doc_0/Pages/Page_1/Content.xml"
    page = _member(invoice.data, name)
    broken = _rewrite(invoice.data, {name: page.replace(b'Size="5.0"', b'Size="big"', 1)})
    assert broken != invoice.data
    kwargs = {"max_side": BIG, "max_bytes": ROOMY}
    whole = _png(render_page(invoice.data, "ofd", 2, **kwargs))
    partial = _png(render_page(broken, "ofd", 2, **kwargs))
    assert 0 < _ink(partial) < _ink(whole)


def test_a_rendered_ofd_page_fits_the_limits(invoice):
    image = _png(render_page(invoice.data, None, 2, max_side=800, max_bytes=ROOMY))
    assert max(image.size) <= 800
    assert _ink(image) > 0


def test_a_rendered_ofd_invoice_reads_as_its_numbers(invoice, tesseract):
    text = tesseract(render_page(invoice.data, "ofd", 1, max_side=BIG, max_bytes=ROOMY)).replace(" ", "")
    for field in ("number", "buyer_id", "seller_id", "amount", "tax"):
        assert INVOICE[field] in text, field


# --- costs ---------------------------------------------------------------------------------------


def test_importing_the_module_loads_no_pdf_library():
    code = (
        "import sys, airflow_provider_hwocr.client.documents\n"
        "loaded = [m for m in ('pypdf', 'pypdfium2', 'PIL') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_counting_50_pages_is_quick():
    data = numbered_pdf(50, scanned=True, dpi=72).data
    started = time.perf_counter()
    assert count_pages(data) == 50
    assert time.perf_counter() - started < 2.0  # about 10 ms here
