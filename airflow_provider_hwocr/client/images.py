"""Recognise an image's format and size from its first bytes, without decoding it.

Used to reject, before any request is sent, images the service would refuse
(AIS.0102 / AIS.0103): a call the service rejects may still be billed.
Only the header is read, so this is cheap even for large files.
"""

from __future__ import annotations

import struct

__all__ = ["image_size", "sniff_format"]


def sniff_format(data: bytes) -> str | None:
    """Return the canonical format name (see ``catalog.IMAGE_FORMATS``) or ``None``."""
    head = bytes(data[:16])
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM") and len(data) >= 26:
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head.startswith(b"%PDF-"):
        return "PDF"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head[:4] == b"\x00\x00\x01\x00" and len(data) >= 22:
        return "ICO"
    if len(head) >= 4 and head[0] == 0x0A and head[1] in (0, 2, 3, 4, 5) and head[2] == 1:
        return "PCX"
    if _looks_like_tga(data):
        return "TGA"
    return None


def _looks_like_tga(data: bytes) -> bool:
    # TGA has no magic number. Version 2 files end with a fixed footer; for
    # older ones, check that the header fields hold plausible values.
    if len(data) < 18:
        return False
    if data[-18:-2] == b"TRUEVISION-XFILE":
        return True
    colour_map_type, image_type = data[1], data[2]
    depth = data[16]
    width, height = struct.unpack_from("<HH", data, 12)
    return (
        colour_map_type in (0, 1)
        and image_type in (1, 2, 3, 9, 10, 11)
        and depth in (8, 15, 16, 24, 32)
        and width > 0
        and height > 0
    )


def image_size(data: bytes, fmt: str | None = None) -> tuple[int, int] | None:
    """Return ``(width, height)`` read from the header, or ``None`` if unknown.

    ``None`` means "cannot tell" (PDF, a truncated or unusual header); callers
    then leave the pixel checks to the service.
    """
    fmt = fmt or sniff_format(data)
    reader = _SIZE_READERS.get(fmt or "")
    if reader is None:
        return None
    try:
        return reader(data)
    except (struct.error, IndexError, ValueError):
        return None


def _png(data: bytes) -> tuple[int, int] | None:
    if data[12:16] != b"IHDR":
        return None
    return struct.unpack_from(">II", data, 16)


def _gif(data: bytes) -> tuple[int, int]:
    return struct.unpack_from("<HH", data, 6)


def _bmp(data: bytes) -> tuple[int, int]:
    header_size = struct.unpack_from("<I", data, 14)[0]
    if header_size == 12:  # OS/2 BITMAPCOREHEADER
        w, h = struct.unpack_from("<HH", data, 18)
        return w, h
    w, h = struct.unpack_from("<ii", data, 18)
    return abs(w), abs(h)  # a negative height means a top-down bitmap


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(data: bytes) -> tuple[int, int] | None:
    pos = 2
    n = len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        seg_len = struct.unpack_from(">H", data, pos + 2)[0]
        if marker in _JPEG_SOF:
            h, w = struct.unpack_from(">HH", data, pos + 5)
            return w, h
        if marker == 0xDA:  # start of scan before any frame header
            return None
        pos += 2 + seg_len
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        w, h = struct.unpack_from("<HH", data, 26)
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L":
        b = data[21:25]
        w = 1 + (((b[1] & 0x3F) << 8) | b[0])
        h = 1 + (((b[3] & 0x0F) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
        return w, h
    if chunk == b"VP8X":
        w = 1 + int.from_bytes(data[24:27], "little")
        h = 1 + int.from_bytes(data[27:30], "little")
        return w, h
    return None


def _tiff(data: bytes) -> tuple[int, int] | None:
    endian = "<" if data[:2] == b"II" else ">"
    ifd = struct.unpack_from(endian + "I", data, 4)[0]
    count = struct.unpack_from(endian + "H", data, ifd)[0]
    width = height = None
    for i in range(count):
        entry = ifd + 2 + 12 * i
        tag, typ = struct.unpack_from(endian + "HH", data, entry)
        if tag not in (256, 257):
            continue
        value = (
            struct.unpack_from(endian + "H", data, entry + 8)[0]
            if typ == 3
            else struct.unpack_from(endian + "I", data, entry + 8)[0]
        )
        if tag == 256:
            width = value
        else:
            height = value
    if width is None or height is None:
        return None
    return width, height


def _psd(data: bytes) -> tuple[int, int]:
    h, w = struct.unpack_from(">II", data, 14)
    return w, h


def _ico(data: bytes) -> tuple[int, int]:
    # Largest icon in the directory; a stored 0 means 256 px.
    count = struct.unpack_from("<H", data, 4)[0]
    best = (0, 0)
    for i in range(count):
        w, h = data[6 + 16 * i] or 256, data[7 + 16 * i] or 256
        if w * h > best[0] * best[1]:
            best = (w, h)
    return best


def _pcx(data: bytes) -> tuple[int, int]:
    xmin, ymin, xmax, ymax = struct.unpack_from("<HHHH", data, 4)
    return xmax - xmin + 1, ymax - ymin + 1


def _tga(data: bytes) -> tuple[int, int]:
    return struct.unpack_from("<HH", data, 12)


_SIZE_READERS = {
    "PNG": _png,
    "GIF": _gif,
    "BMP": _bmp,
    "JPEG": _jpeg,
    "WEBP": _webp,
    "TIFF": _tiff,
    "PSD": _psd,
    "ICO": _ico,
    "PCX": _pcx,
    "TGA": _tga,
}
