"""Format, size and whole-file checks (``client/images.py``) on real files written by Pillow."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from airflow_provider_hwocr.client.images import image_size, sniff_format, structure_problem

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


# --- whole files: each format's end, checked before anything is sent -----------


def _save(fmt: str, **options) -> bytes:
    image = Image.new("RGB", (240, 160), "white")
    for x in range(0, 240, 7):
        image.putpixel((x, 80), (x % 255, 0, 0))
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


FORMATS = {
    "PNG": {}, "JPEG": {}, "GIF": {}, "BMP": {}, "TIFF": {}, "WEBP": {}, "PDF": {},
    "JPEG-progressive": {"progressive": True}, "TIFF-deflate": {"compression": "tiff_deflate"},
}  # fmt: skip


@pytest.mark.parametrize("name", FORMATS)
def test_a_whole_file_passes_and_a_cut_one_is_named(name):
    fmt = name.split("-")[0]
    data = _save(fmt, **FORMATS[name])
    assert structure_problem(data) is None
    for cut in (data[: len(data) // 2], data[:-2]):
        problem = structure_problem(cut, fmt)
        assert problem is not None and ("truncated" in problem or "cut short" in problem), name


def test_data_after_the_end_is_not_a_problem():
    """A JPEG with a trailer after EOI (motion photos append a video) and a PNG with bytes after IEND."""
    jpeg = _save("JPEG")
    assert structure_problem(jpeg + b"\x00\x00ftypmp42" + b"\x01" * 5000, "JPEG") is None
    assert structure_problem(_save("PNG") + b"\x00" * 100, "PNG") is None


def test_a_damaged_structure_is_named_too():
    png = bytearray(_save("PNG"))
    png[12:16] = b"IDAT"
    assert "first PNG chunk is not IHDR" in (structure_problem(bytes(png)) or "")
    jpeg = _save("JPEG")
    assert "marker structure is broken" in (structure_problem(jpeg[:20] + b"\x00" * 30 + jpeg[50:]) or "")


def test_formats_without_an_end_marker_are_not_judged():
    assert structure_problem(b"8BPS" + b"\0" * 40, "PSD") is None
    assert structure_problem(b"not an image") is None


def test_ofd_is_a_zip_with_its_directory():
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD/>")
        archive.writestr("Doc_0/Document.xml", "<ofd:Document/>")
    data = buf.getvalue()
    assert sniff_format(data) == "OFD" and structure_problem(data) is None
    assert "central directory" in (structure_problem(data[:-30], "OFD") or "")


def test_a_big_jpeg_is_walked_quickly():
    import time

    image = Image.effect_noise((2400, 1800), 64).convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=95)
    started = time.perf_counter()
    assert structure_problem(buf.getvalue()) is None
    assert time.perf_counter() - started < 2.0  # a few MB: tens of ms on a quiet machine


def test_bigtiff_is_a_tiff_whose_size_and_structure_are_left_to_the_service():
    data = b"II+\x00\x08\x00\x00\x00" + (16).to_bytes(8, "little") + b"\x00" * 64
    assert sniff_format(data) == "TIFF"
    assert image_size(data) is None
    assert structure_problem(data) is None
