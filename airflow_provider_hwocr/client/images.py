"""Recognise an image's format, size and completeness from its bytes, without decoding it.

Used to reject, before any request is sent, images the service would refuse
(AIS.0102 / AIS.0103 / AIS.0104): a call the service rejects may still be billed.
Format and size come from the header; :func:`structure_problem` then checks that
the file is whole, the way each format marks its end (PNG's ``IEND`` chunk, JPEG's
``EOI`` marker, GIF's trailer, BMP's and WebP's declared sizes, TIFF's strip
offsets, PDF's ``%%EOF``, OFD's ZIP directory), so a truncated upload costs 0
calls. Nothing is decoded: a check reads the headers and walks the markers.
"""

from __future__ import annotations

import struct

from airflow_provider_hwocr.catalog.formats import format_of

__all__ = ["image_size", "sniff_format", "structure_problem"]


def sniff_format(data: bytes) -> str | None:
    """Return the canonical format name (see ``catalog.IMAGE_FORMATS``) or ``None``.

    The signatures are the catalog's (:func:`~airflow_provider_hwocr.catalog.formats.format_of`).
    """
    return format_of(data)


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
    if _is_bigtiff(data):
        return None  # 64-bit offsets: not read
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


# --- is the file whole? ----------------------------------------------------------------


def structure_problem(data: bytes, fmt: str | None = None) -> str | None:
    """Why ``data`` is not a whole file of its format (truncated or broken), or ``None``.

    ``None`` also for formats without an end marker to check (PSD, ICO, PCX, TGA).
    """
    fmt = fmt or sniff_format(data)
    checker = _END_CHECKS.get(fmt or "")
    if checker is None:
        return None
    try:
        return checker(bytes(data))
    except (struct.error, IndexError, ValueError):
        return f"its {fmt} structure is cut short"


def _png_end(data: bytes) -> str | None:
    pos, n = 8, len(data)
    first = True
    while pos + 8 <= n:
        length, kind = struct.unpack_from(">I4s", data, pos)
        if first and kind != b"IHDR":
            return "its first PNG chunk is not IHDR (a damaged file)"
        first = False
        end = pos + 12 + length
        if end > n:
            return f"it is truncated: its PNG {kind.decode('latin-1')} chunk runs past the end of the file"
        if kind == b"IEND":
            return None
        pos = end
    return "it is truncated: the PNG has no IEND chunk"


_JPEG_NO_EOI = "it is truncated: the JPEG has no end-of-image (EOI) marker"


def _jpeg_end(data: bytes) -> str | None:
    """Walk the marker segments; after each scan, find the next marker; EOI means whole."""
    pos, n = 2, len(data)
    while pos < n:
        if data[pos] != 0xFF:
            return "its JPEG marker structure is broken (a damaged file)"
        if pos + 1 >= n:
            break
        marker = data[pos + 1]
        if marker == 0xD9:
            return None
        pos = _jpeg_next_marker(data, pos, marker)
        if pos < 0:
            break
    return _JPEG_NO_EOI


def _jpeg_next_marker(data: bytes, pos: int, marker: int) -> int:
    """Where the marker after ``marker`` (at ``pos``) starts; -1 when the file ends first."""
    if marker == 0xFF:  # fill byte
        return pos + 1
    if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length follows
        return pos + 2
    if pos + 4 > len(data):
        return -1
    pos += 2 + struct.unpack_from(">H", data, pos + 2)[0]
    return _after_scan(data, pos) if marker == 0xDA else pos


def _after_scan(data: bytes, pos: int) -> int:
    """Entropy-coded data follows a scan: the next marker is an 0xFF not followed by 00 or RSTn."""
    n = len(data)
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= n:
            return -1
        following = data[pos + 1]
        if following == 0xFF:
            pos += 1
        elif following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
        else:
            return pos


def _gif_end(data: bytes) -> str | None:
    return None if data.rstrip(b"\x00").endswith(b"\x3b") else "it is truncated: the GIF has no trailer byte"


def _bmp_end(data: bytes) -> str | None:
    declared, offset = struct.unpack_from("<I4xI", data, 2)
    header = struct.unpack_from("<I", data, 14)[0]
    needed = declared
    if header >= 40:
        width, height, _, bits, compression = struct.unpack_from("<iiHHI", data, 18)
        if compression in (0, 3):  # uncompressed: rows padded to 4 bytes
            needed = max(
                needed if declared else 0, offset + ((abs(width) * bits + 31) // 32) * 4 * abs(height)
            )
    if needed and len(data) < needed:
        return f"it is truncated: the BMP needs {needed:,} bytes and has {len(data):,}"
    return None


def _webp_end(data: bytes) -> str | None:
    size = struct.unpack_from("<I", data, 4)[0]
    if len(data) < 8 + size:
        return f"it is truncated: the WebP declares {8 + size:,} bytes and has {len(data):,}"
    return None


#: TIFF tags read to find where the image data ends: (offsets, byte counts) of strips, then of tiles.
_TIFF_DATA_TAGS = ((273, 279), (324, 325))


def _is_bigtiff(data: bytes) -> bool:
    return data[2:4] in (b"+\x00", b"\x00+")


def _tiff_end(data: bytes) -> str | None:
    if _is_bigtiff(data):
        return None  # BigTIFF: not walked
    endian = "<" if data[:2] == b"II" else ">"
    ifd = struct.unpack_from(endian + "I", data, 4)[0]
    problem = _tiff_directory_problem(data, endian, ifd)
    if problem is not None:
        return problem
    values = _tiff_data_tags(data, endian, ifd, struct.unpack_from(endian + "H", data, ifd)[0])
    if values is None:
        return "it is truncated: its TIFF strip table lies past the end of the file"
    return _tiff_data_problem(values, len(data))


def _tiff_directory_problem(data: bytes, endian: str, ifd: int) -> str | None:
    n = len(data)
    if ifd + 2 > n:
        return "it is truncated: its TIFF directory lies past the end of the file"
    count = struct.unpack_from(endian + "H", data, ifd)[0]
    if ifd + 2 + 12 * count > n:
        return "it is truncated: its TIFF directory runs past the end of the file"
    return None


def _tiff_data_problem(values: dict[int, list[int]], n: int) -> str | None:
    """Whether the strips (or tiles) the directory lists end past the file's ``n`` bytes."""
    for offsets_tag, counts_tag in _TIFF_DATA_TAGS:
        offsets, counts = values.get(offsets_tag, ()), values.get(counts_tag, ())
        end = max((o + c for o, c in zip(offsets, counts)), default=0)
        if end > n:
            return f"it is truncated: its TIFF image data ends at byte {end:,} and the file has {n:,}"
    return None


def _tiff_data_tags(data: bytes, endian: str, ifd: int, count: int) -> dict[int, list[int]] | None:
    """The strip and tile offsets and byte counts of the first directory; ``None`` if cut off."""
    wanted = {tag for pair in _TIFF_DATA_TAGS for tag in pair}
    values: dict[int, list[int]] = {}
    for i in range(count):
        entry = ifd + 2 + 12 * i
        tag, typ, items = struct.unpack_from(endian + "HHI", data, entry)
        if tag not in wanted or typ not in (3, 4):
            continue
        width = 2 if typ == 3 else 4
        where = entry + 8 if items * width <= 4 else struct.unpack_from(endian + "I", data, entry + 8)[0]
        if where + items * width > len(data):
            return None
        values[tag] = list(struct.unpack_from(endian + ("H" if typ == 3 else "I") * items, data, where))
    return values


def _pdf_end(data: bytes) -> str | None:
    return None if b"%%EOF" in data[-1024:] else "it is truncated: the PDF has no %%EOF at its end"


def _ofd_end(data: bytes) -> str | None:
    return (
        None if b"PK\x05\x06" in data[-65_600:] else "it is truncated: the OFD (ZIP) has no central directory"
    )


_END_CHECKS = {
    "PNG": _png_end,
    "JPEG": _jpeg_end,
    "GIF": _gif_end,
    "BMP": _bmp_end,
    "WEBP": _webp_end,
    "TIFF": _tiff_end,
    "PDF": _pdf_end,
    "OFD": _ofd_end,
}
