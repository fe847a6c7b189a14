"""Image bytes (``emulator/images.py``): format sniffing and sizes from headers, strict Base64, URL download."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from airflow_provider_hwocr.emulator.images import image_size, sniff_format
from tests.helpers.b_images import image_bytes


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [("PNG", "RGB"), ("JPEG", "RGB"), ("GIF", "P"), ("BMP", "RGB"), ("TIFF", "RGB"), ("WEBP", "RGB"),
     ("WEBP", "RGBA"), ("ICO", "RGBA"), ("PCX", "RGB"), ("TGA", "RGB")],
)  # fmt: skip
def test_sniffing_and_sizes_agree_with_pillow(fmt, mode):
    size = (48, 31) if fmt != "ICO" else (32, 32)
    data = image_bytes(fmt, size=size, mode=mode)
    assert sniff_format(data) == fmt
    assert image_size(data, fmt) == Image.open(io.BytesIO(data)).size == size


def test_webp_lossless_and_progressive_jpeg_sizes():
    buf = io.BytesIO()
    Image.new("RGB", (77, 33)).save(buf, format="WEBP", lossless=True)
    assert image_size(buf.getvalue(), "WEBP") == (77, 33)
    buf = io.BytesIO()
    Image.new("RGB", (91, 45)).save(buf, format="JPEG", progressive=True)
    assert image_size(buf.getvalue(), "JPEG") == (91, 45)
