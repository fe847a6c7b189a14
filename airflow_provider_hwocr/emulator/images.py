"""Image bytes: strict Base64, format sniffing, dimensions, completeness, and URL download.

Formats are recognised by their leading bytes, not by Pillow, so the
emulator's verdict does not depend on which Pillow plugins are installed.
Dimensions of PNG, GIF, BMP, JPEG and WebP come from their headers (fast,
and free of Pillow's decompression-bomb cut-off); other formats ask Pillow
when it is installed and are not size-checked when it is not.
"""

from __future__ import annotations

import base64
import binascii
import io
import struct
import urllib.request
from http.client import HTTPException
from urllib.parse import urlsplit

from airflow_provider_hwocr.catalog.formats import base64_size, format_of

try:  # Pillow is optional: only needed for the rarer formats' dimensions.
    from PIL import Image as _PILImage
except ImportError:  # pragma: no cover - exercised only without Pillow
    _PILImage = None  # type: ignore[assignment]


class ImageProblem(Exception):
    """Why an image was refused: ``code`` is the service error code to answer with."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


# --- Base64 -------------------------------------------------------------------


def decode_base64(text: str) -> bytes:
    """Decode strict Base64 (standard alphabet, padded, no whitespace, no ``data:`` prefix)."""
    if text.startswith("data:"):
        raise ImageProblem("AIS.0102", "Base64 image must not carry a data: URI prefix")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ImageProblem("AIS.0102", "image is not valid Base64") from None


#: Length of the Base64 text of ``raw_size`` bytes (the catalog's arithmetic).
base64_length = base64_size


# --- format sniffing ----------------------------------------------------------


def sniff_format(data: bytes) -> str | None:
    """The catalog's name of the format of ``data``, or None if not recognised.

    The signatures are catalog data (:mod:`airflow_provider_hwocr.catalog.formats`), read by
    the client too: what the service takes as a PNG or a PDF is a fact of the vendor's, not of
    either side. Whether the file is whole (below) is still judged here, on its own.
    """
    return format_of(data)


# --- dimensions ---------------------------------------------------------------


class TooLarge(Exception):
    """The image is too large for Pillow to even report its size safely."""


def _png_size(data: bytes) -> tuple[int, int]:
    if data[12:16] != b"IHDR":
        raise ValueError("PNG without IHDR")
    return struct.unpack(">II", data[16:24])


def _gif_size(data: bytes) -> tuple[int, int]:
    return struct.unpack("<HH", data[6:10])


def _bmp_size(data: bytes) -> tuple[int, int]:
    (dib_size,) = struct.unpack("<I", data[14:18])
    if dib_size == 12:  # OS/2 BITMAPCOREHEADER
        return struct.unpack("<HH", data[18:22])
    width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)  # negative height = top-down rows


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int]:
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            raise ValueError("JPEG marker expected")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD9)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    raise ValueError("JPEG without a frame header")


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    raise ValueError("unknown WebP chunk")


_HEADER_READERS = {
    "PNG": _png_size,
    "GIF": _gif_size,
    "BMP": _bmp_size,
    "JPEG": _jpeg_size,
    "WEBP": _webp_size,
}


def image_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """(width, height) of an image of format ``fmt``; None when it cannot be told.

    Raises ``ValueError`` for a header that is not a valid image and
    :class:`TooLarge` when Pillow refuses to open it as a decompression bomb.
    """
    reader = _HEADER_READERS.get(fmt)
    if reader is not None:
        try:
            return reader(data)
        except struct.error:
            raise ValueError(f"truncated {fmt} header") from None
    if _PILImage is None:
        return None
    try:
        with _PILImage.open(io.BytesIO(data)) as image:
            return image.size
    except _PILImage.DecompressionBombError:
        raise TooLarge(fmt) from None
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for broken files
        raise ValueError(f"unreadable {fmt}: {exc}") from None


# --- is the file whole? ---------------------------------------------------------
#
# The service decodes the image; an image cut short (an interrupted upload) or with a
# broken structure is refused. Written apart from the provider's client checks, on
# purpose: the emulator is the independent witness of what the client must refuse.


def _png_whole(data: bytes) -> bool:
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunk = data[pos + 4 : pos + 8]
        pos += 12 + length
        if chunk == b"IEND":
            return pos <= len(data)
    return False


def _jpeg_whole(data: bytes) -> bool:
    # Segments up to the first scan, then the scan data until a marker that is not a
    # restart or a stuffed byte; EOI ends the image, any other marker goes on.
    i, n = 2, len(data)
    while i + 1 < n:
        if data[i] != 0xFF:
            return False
        code = data[i + 1]
        if code == 0xD9:
            return True
        i = _jpeg_skip(data, i, code)
        if i < 0:
            return False
    return False


def _jpeg_skip(data: bytes, i: int, code: int) -> int:
    """Where the marker after the one at ``i`` starts; -1 when the data ends first."""
    if code == 0xFF:  # a fill byte
        return i + 1
    if code == 0x01 or 0xD0 <= code <= 0xD7:  # markers without a length
        return i + 2
    if i + 4 > len(data):
        return -1
    i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return _scan_end(data, i) if code == 0xDA else i


def _scan_end(data: bytes, i: int) -> int:
    """The first marker after entropy-coded data from ``i`` (not a restart, not a stuffed 0); -1 if none."""
    n = len(data)
    while True:
        i = data.find(0xFF, i)
        if i < 0 or i + 1 >= n:
            return -1
        nxt = data[i + 1]
        if nxt == 0 or 0xD0 <= nxt <= 0xD7:
            i += 2
        elif nxt == 0xFF:
            i += 1
        else:
            return i


def _bmp_whole(data: bytes) -> bool:
    declared = int.from_bytes(data[2:6], "little")
    return declared == 0 or len(data) >= declared


def _webp_whole(data: bytes) -> bool:
    return len(data) >= int.from_bytes(data[4:8], "little") + 8  # the RIFF size + 8


def _gif_whole(data: bytes) -> bool:
    return data.rstrip(b"\0")[-1:] == b";"


def _pdf_whole(data: bytes) -> bool:
    end = data.rfind(b"%%EOF")
    return end >= 0 and end >= len(data) - 1024


def _ofd_whole(data: bytes) -> bool:
    return data.rfind(b"PK\x05\x06") >= 0


def _tiff_whole(data: bytes) -> bool:
    assert _PILImage is not None
    with _PILImage.open(io.BytesIO(data)) as image:
        image.load()
    return True


_WHOLE_CHECKS = {
    "PNG": _png_whole,
    "JPEG": _jpeg_whole,
    "GIF": _gif_whole,
    "BMP": _bmp_whole,
    "WEBP": _webp_whole,
    "PDF": _pdf_whole,
    "OFD": _ofd_whole,
    "TIFF": _tiff_whole,  # only with Pillow
}


def incomplete(data: bytes, fmt: str) -> str | None:
    """Why an image of format ``fmt`` is not a whole file (``None`` if it is, or cannot be told)."""
    check = _WHOLE_CHECKS.get(fmt)
    if check is None or (fmt == "TIFF" and _PILImage is None):
        return None
    try:
        whole = check(data)
    except (struct.error, IndexError, ValueError, OSError):
        whole = False
    return None if whole else f"{fmt} file is cut short or broken"


# --- URL download -------------------------------------------------------------


def fetch_url(url: str, timeout: float, max_bytes: int) -> bytes:
    """Download ``url`` (http or https only), reading at most ``max_bytes`` + 1 bytes.

    Raises :class:`ImageProblem` with ModelArts.4601 for a URL that is not
    http(s), ModelArts.4603 for a failed download and AIS.0103 when the file
    is larger than ``max_bytes``.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ImageProblem("ModelArts.4601", "url must be an http or https URL")
    request = urllib.request.Request(url, headers={"User-Agent": "hwocr-emulator"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # scheme checked above
            data = response.read(max_bytes + 1)
    except (OSError, HTTPException, ValueError) as exc:
        raise ImageProblem("ModelArts.4603", f"download failed: {type(exc).__name__}") from None
    if len(data) > max_bytes:
        raise ImageProblem("AIS.0103", "downloaded file is larger than the image size limit")
    return data
