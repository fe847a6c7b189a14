"""Format and size sniffing (``client/images.py``) on real files written by Pillow."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from airflow_provider_hwocr.client.images import image_size, sniff_format

CASES = [
    ("PNG", "PNG", {}),
    ("JPEG", "JPEG", {}),
    ("GIF", "GIF", {}),
    ("BMP", "BMP", {}),
    ("TIFF", "TIFF", {}),
    ("WEBP", "WEBP", {}),
    ("WEBP", "WEBP", {"lossless": True}),
    ("ICO", "ICO", {"sizes": [(64, 48)]}),
    ("PCX", "PCX", {}),
    ("TGA", "TGA", {}),
]


def _render(fmt: str, size: tuple[int, int], **opts) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, format=fmt, **opts)
    return buf.getvalue()


@pytest.mark.parametrize(("pil_format", "expected", "opts"), CASES)
def test_sniff_and_size(pil_format, expected, opts):
    size = (64, 48) if pil_format == "ICO" else (123, 45)
    data = _render(pil_format, size, **opts)
    assert sniff_format(data) == expected
    assert image_size(data) == size


def test_pdf_is_recognised_without_size():
    data = _render("PDF", (200, 100))
    assert sniff_format(data) == "PDF"
    assert image_size(data) is None


def test_progressive_jpeg_size():
    data = _render("JPEG", (640, 480), progressive=True)
    assert image_size(data) == (640, 480)


@pytest.mark.parametrize("junk", [b"", b"hello world, not an image", b"\x00" * 10, b"<html></html>"])
def test_unknown_content(junk):
    assert sniff_format(junk) is None


def test_truncated_header_gives_no_size():
    data = _render("PNG", (10, 10))[:14]
    assert image_size(data, "PNG") is None
