"""The page and a field's crop (``runtime/review/crops.py``): cut where the emulator located the
field, the crop read back by the same Chinese reader says that field."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.pages import render_limits
from airflow_provider_hwocr.client.documents import render_page
from airflow_provider_hwocr.emulator import pages as emulator_pages
from airflow_provider_hwocr.emulator import results, samples
from airflow_provider_hwocr.emulator.ocr import TextReader
from airflow_provider_hwocr.emulator.validation import CheckedImage
from airflow_provider_hwocr.runtime.review.crops import SERVICE_PDF_DPI, crop_png, page_image
from tests.runtime.review.conftest import BODY

VAT = "vat-invoice"


def _size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return image.size


def _read(reader: TextReader, png: bytes) -> str:
    lines, engine = reader.read(png, "PNG", _size(png), chinese=True)
    assert engine == "rapidocr"
    return " ".join(line.text for line in lines)


def test_the_crop_of_an_image_shows_its_field(invoice_png, invoice_result, chinese_reader):
    page = page_image(invoice_png, "png", None)
    assert page == invoice_png  # a PNG as it is
    crop = crop_png(page, invoice_result["text_location"]["total"])
    assert _size(crop)[0] <= 300
    text = _read(chinese_reader, crop)
    assert "1130.00" in text and "12345678" not in text  # that field, not its neighbours
    number = _read(chinese_reader, crop_png(page, invoice_result["text_location"]["number"], max_width=200))
    assert "12345678" in number and "1130.00" not in number


def test_a_pdf_page_is_drawn_as_the_service_read_it(chinese_reader):
    """vat-invoice reads a PDF page itself (page_num): the emulator's reading of page 1 locates the
    total in the page drawn at SERVICE_PDF_DPI, and the crop there says the total."""
    assert SERVICE_PDF_DPI == emulator_pages.RENDER_DPI  # the emulator is the model
    document = samples.vat_invoice_pdf()
    checked = CheckedImage(document.data, "PDF", None, 1, document.page_count)
    answer, _how = results.build(VAT, {**BODY, "page_num": 1}, checked, chinese_reader)
    quad = answer["result"]["text_location"]["total"]
    page = page_image(document.data, "pdf", 1, slug=VAT)
    assert page is not None and page == page_image(document.data, "PDF", 1)
    assert "1130.00" in _read(chinese_reader, crop_png(page, quad))
    assert page_image(document.data, "pdf", None) == page  # no page: page 1


def test_a_page_the_provider_rendered_is_rendered_again_the_same_way():
    """thailand-id-card reads images only: the provider rendered the page it sent (200 DPI, fitted
    to the API's limits), so the crop's page is those pixels, not the service's 150 DPI."""
    document = samples.vat_invoice_pdf()
    limits = render_limits(get_api("thailand-id-card"))
    sent = render_page(document.data, "pdf", 2, max_side=limits.max_side, max_bytes=limits.max_bytes,
                       max_pixels=limits.max_pixels)  # fmt: skip
    page = page_image(document.data, "pdf", 2, slug="thailand-id-card")
    assert page is not None
    with Image.open(io.BytesIO(sent)) as a, Image.open(io.BytesIO(page)) as b:
        assert a.size == b.size and a.convert("RGB").tobytes() == b.convert("RGB").tobytes()
    assert _size(page) != _size(page_image(document.data, "pdf", 2, slug=VAT) or b"")


def test_other_images_become_png_and_an_ofd_is_not_drawn(invoice_png):
    out = io.BytesIO()
    with Image.open(io.BytesIO(invoice_png)) as image:
        image.convert("RGB").save(out, "JPEG", quality=90)
    page = page_image(out.getvalue(), "jpg", None)
    assert page is not None and _size(page) == _size(invoice_png)
    assert page_image(samples.vat_invoice_ofd().data, "ofd", 1) is None


def test_a_crop_is_checked_and_clipped(invoice_png):
    width, _height = _size(invoice_png)
    corner = crop_png(invoice_png, [[0, 0], [10, 0], [10, 10], [0, 10]], margin=5)
    assert _size(corner) == (15, 15)  # the margin stops at the edge
    assert _size(crop_png(invoice_png, [[0, 0], [width, 0], [width, 40], [0, 40]])) == (
        300,
        round(52 * 300 / width),
    )
    with pytest.raises(ValueError, match="outside"):
        crop_png(invoice_png, [[width + 50, 0], [width + 90, 0], [width + 90, 9], [width + 50, 9]])
    with pytest.raises(ValueError, match="4"):
        crop_png(invoice_png, [[0, 0], [1, 1]])
