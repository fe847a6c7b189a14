"""The catalog's facts about image bytes: Base64 size and format signatures."""

from __future__ import annotations

import base64

import pytest

from airflow_provider_hwocr.catalog import IMAGE_FORMATS
from airflow_provider_hwocr.catalog.formats import HEADER_RULES, SIGNATURES, base64_size, format_of


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 6, 7, 100, 1000, 3 * 1024 * 1024 + 1])
def test_base64_size_is_the_length_of_the_encoding(n: int) -> None:
    assert base64_size(n) == len(base64.b64encode(b"\x00" * n))


def test_base64_size_refuses_a_negative_size() -> None:
    with pytest.raises(ValueError):
        base64_size(-1)


# --- format signatures --------------------------------------------------------------------


def test_signatures_name_catalog_formats():
    names = [s.format for s in SIGNATURES] + [name for name, _ in HEADER_RULES]
    assert set(names) <= IMAGE_FORMATS
    assert len(names) == len(set(names))
    assert set(IMAGE_FORMATS) - set(names) == set()  # every accepted format can be told


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "PNG"),
        (b"GIF87a" + b"\x00" * 20, "GIF"),
        (b"GIF89a" + b"\x00" * 20, "GIF"),
        (b"BM" + b"\x00" * 24, "BMP"),
        (b"II*\x00" + b"\x00" * 20, "TIFF"),
        (b"MM\x00*" + b"\x00" * 20, "TIFF"),
        (b"II+\x00" + b"\x00" * 20, "TIFF"),  # BigTIFF
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "WEBP"),
        (b"%PDF-1.7\n" + b"\x00" * 20, "PDF"),
        (b"\r\n\x00junk before the header%PDF-1.4\n", "PDF"),  # readers allow junk in the first 1 KiB
        (b"PK\x03\x04" + b"\x00" * 26 + b"Doc_0/OFD.xml", "OFD"),
        (b"8BPS" + b"\x00" * 30, "PSD"),
        (b"\x00\x00\x01\x00\x01\x00" + b"\x00" * 20, "ICO"),
        (b"\x0a\x05\x01\x08" + b"\x00" * 124, "PCX"),
    ],
)
def test_format_of_reads_the_signatures(data, fmt):
    assert format_of(data) == fmt
    assert format_of(bytearray(data)) == fmt
    assert format_of(memoryview(data)) == fmt


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"BM",  # too short for a BMP header
        b"RIFF\x10\x00\x00\x00WAVEfmt ",  # RIFF but not WebP
        b"PK\x03\x04" + b"\x00" * 40,  # a ZIP without OFD.xml
        b"\x00\x00\x01\x00\x00\x00" + b"\x00" * 20,  # an icon directory of 0 images
        b"\x0a\x05\x01\x08" + b"\x00" * 20,  # shorter than a PCX header
        b" " * 1100 + b"%PDF-1.4",  # the PDF header too far in
        b"hello world, not an image",
    ],
)
def test_format_of_refuses_lookalikes(data):
    assert format_of(data) is None


def test_a_tga_is_told_by_its_header_or_its_footer():
    header = bytearray(18)
    header[2], header[16] = 2, 24
    header[12:16] = (10).to_bytes(2, "little") + (5).to_bytes(2, "little")
    assert format_of(bytes(header) + b"\x00" * 150) == "TGA"
    assert format_of(b"\xff" * 40 + b"\x00" * 8 + b"TRUEVISION-XFILE.\x00") == "TGA"
    header[12:14] = b"\x00\x00"  # zero width: not a plausible TGA
    assert format_of(bytes(header) + b"\x00" * 150) is None


def test_client_and_emulator_read_the_same_signatures():
    from airflow_provider_hwocr.client.images import sniff_format as client_sniff
    from airflow_provider_hwocr.emulator.images import sniff_format as emulator_sniff

    samples = [b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, b"II+\x00" + b"\x00" * 20, b"junk%PDF-1.4", b"nothing"]
    for data in samples:
        assert client_sniff(data) == emulator_sniff(data) == format_of(data)


def test_an_ofd_holding_a_pdf_early_on_is_an_ofd():
    # a ZIP whose first entry is a PDF stored as it is: '%PDF-' in its first KiB
    data = b"PK\x03\x04" + b"\x00" * 26 + b"Doc_0/Attachs/a.pdf%PDF-1.7" + b"\x00" * 100 + b"OFD.xml"
    assert format_of(data) == "OFD"
