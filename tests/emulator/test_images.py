"""Image bytes (``emulator/images.py``): format sniffing and sizes from headers, strict Base64, URL download."""

from __future__ import annotations

import base64
import io
import struct

import pytest
from PIL import Image

from airflow_provider_hwocr.emulator.images import (
    ImageProblem,
    base64_length,
    decode_base64,
    fetch_url,
    image_size,
    sniff_format,
)
from tests.helpers.b_images import b64, image_bytes


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


def test_base64_must_be_strict():
    assert decode_base64(b64(b"\x89PNG")) == b"\x89PNG"
    for bad in ("abc", "ab c=", "data:image/png;base64,AAAA", "????"):
        with pytest.raises(ImageProblem) as caught:
            decode_base64(bad)
        assert caught.value.code == "AIS.0102", bad
    assert [base64_length(n) for n in range(7)] == [len(base64.b64encode(b"x" * n)) for n in range(7)]


def test_damaged_headers_are_value_errors_and_top_down_bmps_have_a_positive_height():
    with pytest.raises(ValueError):
        image_size(b"\x89PNG\r\n\x1a\n\x00\x00", "PNG")
    with pytest.raises(ValueError):
        image_size(b"\xff\xd8\xff\xd9", "JPEG")  # no frame header
    assert sniff_format(b"just some text, not an image") is None
    bmp = bytearray(image_bytes("BMP", size=(48, 31)))
    struct.pack_into("<i", bmp, 22, -31)  # rows stored top-down
    assert image_size(bytes(bmp), "BMP") == (48, 31)


def test_fetch_url_downloads_http_and_refuses_other_schemes_failures_and_big_files(files_server):
    base, folder = files_server
    data = image_bytes()
    (folder / "a.png").write_bytes(data)
    assert fetch_url(f"{base}/a.png", 5, len(data)) == data
    for url, limit, code in (
        (f"{base}/a.png", len(data) - 1, "AIS.0103"),
        (f"{base}/missing.png", 10**6, "ModelArts.4603"),
        ("ftp://127.0.0.1/a.png", 10**6, "ModelArts.4601"),
        ("http:///a.png", 10**6, "ModelArts.4601"),
    ):
        with pytest.raises(ImageProblem) as caught:
            fetch_url(url, 5, limit)
        assert caught.value.code == code, url


# --- whole files (the emulator's own checks, apart from the client's) ------------------------------


def _file(fmt: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (120, 80), "white").save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF", "PDF"])
def test_a_file_cut_short_is_incomplete(fmt):
    from airflow_provider_hwocr.emulator.images import incomplete

    data = _file(fmt)
    assert incomplete(data, fmt) is None
    assert incomplete(data[: len(data) // 2], fmt) == f"{fmt} file is cut short or broken"


def test_formats_the_emulator_cannot_judge_pass():
    from airflow_provider_hwocr.emulator.images import incomplete

    assert incomplete(b"8BPS" + b"\0" * 30, "PSD") is None
