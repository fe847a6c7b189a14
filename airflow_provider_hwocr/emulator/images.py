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


def base64_length(raw_size: int) -> int:
    """Length of the Base64 text of ``raw_size`` bytes."""
    return 4 * ((raw_size + 2) // 3)


# --- format sniffing ----------------------------------------------------------

_TGA_FOOTER = b"TRUEVISION-XFILE.\x00"


def _looks_like_tga(data: bytes) -> bool:
    # TGA has no magic number; 2.0 files end with a footer, older ones only
    # have a plausible 18-byte header.
    if data.endswith(_TGA_FOOTER):
        return True
    if len(data) < 18:
        return False
    colour_map_type, image_type, depth = data[1], data[2], data[16]
    return colour_map_type in (0, 1) and image_type in (1, 2, 3, 9, 10, 11) and depth in (8, 15, 16, 24, 32)


def sniff_format(data: bytes) -> str | None:
    """The catalog's name of the format of ``data``, or None if not recognised."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM") and len(data) >= 26:
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if b"%PDF-" in data[:1024]:
        return "PDF"
    if data[:4] == b"PK\x03\x04" and data.find(b"OFD.xml", 0, 4096) >= 0:
        return "OFD"
    if head[:4] == b"8BPS":
        return "PSD"
    if head[:4] == b"\x00\x00\x01\x00" and len(data) >= 22 and head[4:6] != b"\x00\x00":
        return "ICO"
    if len(data) >= 128 and data[0] == 0x0A and data[1] in (0, 2, 3, 4, 5) and data[2] in (0, 1):
        return "PCX"
    if _looks_like_tga(data):
        return "TGA"
    return None


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
        if code == 0xFF:
            i += 1
        elif code == 0x01 or 0xD0 <= code <= 0xD7:
            i += 2
        else:
            if i + 4 > n:
                return False
            i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
            if code == 0xDA:
                while True:
                    i = data.find(0xFF, i)
                    if i < 0 or i + 1 >= n:
                        return False
                    nxt = data[i + 1]
                    if nxt == 0 or 0xD0 <= nxt <= 0xD7:
                        i += 2
                    elif nxt == 0xFF:
                        i += 1
                    else:
                        break
    return False


def _declared_size_ok(data: bytes, fmt: str) -> bool:
    if fmt == "BMP":
        declared = int.from_bytes(data[2:6], "little")
        return declared == 0 or len(data) >= declared
    declared = int.from_bytes(data[4:8], "little") + 8  # WEBP: RIFF size + 8
    return len(data) >= declared


def incomplete(data: bytes, fmt: str) -> str | None:
    """Why an image of format ``fmt`` is not a whole file (``None`` if it is, or cannot be told)."""
    try:
        if fmt == "PNG":
            whole = _png_whole(data)
        elif fmt == "JPEG":
            whole = _jpeg_whole(data)
        elif fmt == "GIF":
            whole = data.rstrip(b"\0")[-1:] == b";"
        elif fmt in ("BMP", "WEBP"):
            whole = _declared_size_ok(data, fmt)
        elif fmt == "PDF":
            end = data.rfind(b"%%EOF")
            whole = end >= 0 and end >= len(data) - 1024
        elif fmt == "OFD":
            whole = data.rfind(b"PK\x05\x06") >= 0
        elif fmt == "TIFF" and _PILImage is not None:
            with _PILImage.open(io.BytesIO(data)) as image:
                image.load()
            whole = True
        else:
            return None
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
