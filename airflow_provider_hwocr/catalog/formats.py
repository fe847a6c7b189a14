"""Facts about the bytes the service reads: the Base64 length of an image, and format signatures.

The client (to check an image before sending it), the emulator (to refuse it as the
service would) and the runtime (to size a body before building it) all read these;
none of them spells the arithmetic or the magic numbers again.

A format is told by its signature (:data:`SIGNATURES`: leading bytes, and for a few
formats a second mark further in), tried in order; PCX and TGA have no magic number
and are told by a plausible header (TGA 2.0 also by its footer), tried last. Names are
the catalog's (:data:`~airflow_provider_hwocr.catalog.model.IMAGE_FORMATS`).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["HEADER_RULES", "SIGNATURES", "TGA_FOOTER", "Signature", "base64_size", "format_of"]


def base64_size(raw_size: int) -> int:
    """Length of the Base64 text (with padding, no line breaks) of ``raw_size`` bytes.

    The service's size limit (``Limits.max_base64_bytes``) counts this text, not the
    raw image: every 3 bytes, or part of 3, become 4 characters.
    """
    if raw_size < 0:
        raise ValueError(f"a size cannot be negative: {raw_size}")
    return 4 * ((raw_size + 2) // 3)


@dataclass(frozen=True)
class Signature:
    """How the bytes of one format begin."""

    format: str
    #: The file starts with one of these.
    magic: tuple[bytes, ...]
    #: Look for the magic anywhere in the first ``within`` bytes instead (PDF readers allow junk before it).
    within: int = 0
    #: Further bytes at fixed offsets (WebP's ``WEBP`` after the RIFF size).
    at: tuple[tuple[int, bytes], ...] = ()
    #: Bytes that must not stand at an offset (an icon directory of 0 images is not an ICO).
    not_at: tuple[tuple[int, bytes], ...] = ()
    #: A mark that must appear in the first ``contains[1]`` bytes (OFD: a ZIP holding ``OFD.xml``).
    contains: tuple[bytes, int] | None = None
    #: Fewer bytes than this cannot hold the header the format needs.
    min_size: int = 0

    def matches(self, data: bytes) -> bool:
        """Whether ``data`` (the file, or at least its first 4 KiB) carries this signature."""
        return (
            len(data) >= self.min_size
            and self._magic_found(data)
            and all(data[o : o + len(b)] == b for o, b in self.at)
            and not any(data[o : o + len(b)] == b for o, b in self.not_at)
            and (self.contains is None or data.find(self.contains[0], 0, self.contains[1]) >= 0)
        )

    def _magic_found(self, data: bytes) -> bool:
        if self.within:
            return any(data.find(m, 0, self.within) >= 0 for m in self.magic)
        return data.startswith(self.magic)


#: Leading bytes -> format, in the order they are tried.
SIGNATURES: tuple[Signature, ...] = (
    Signature("JPEG", (b"\xff\xd8\xff",)),
    Signature("PNG", (b"\x89PNG\r\n\x1a\n",)),
    Signature("GIF", (b"GIF87a", b"GIF89a")),
    Signature("BMP", (b"BM",), min_size=26),
    # classic TIFF, then BigTIFF (64-bit offsets), each little- and big-endian
    Signature("TIFF", (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")),
    Signature("WEBP", (b"RIFF",), at=((8, b"WEBP"),)),
    # an OFD (a ZIP) before a PDF: a ZIP may hold a PDF stored within its first KiB
    Signature("OFD", (b"PK\x03\x04",), contains=(b"OFD.xml", 4096)),
    Signature("PDF", (b"%PDF-",), within=1024),
    Signature("PSD", (b"8BPS",)),
    Signature("ICO", (b"\x00\x00\x01\x00",), not_at=((4, b"\x00\x00"),), min_size=22),
)

#: A TGA 2.0 file ends with this footer.
TGA_FOOTER = b"TRUEVISION-XFILE.\x00"


def _pcx_header(data: bytes) -> bool:
    # manufacturer 0x0A, a known version, encoding none or RLE; the header is 128 bytes
    return len(data) >= 128 and data[0] == 0x0A and data[1] in (0, 2, 3, 4, 5) and data[2] in (0, 1)


def _tga_header(data: bytes) -> bool:
    if data.endswith(TGA_FOOTER):
        return True
    if len(data) < 18:
        return False
    width, height = struct.unpack_from("<HH", data, 12)
    return (
        data[1] in (0, 1)  # colour map type
        and data[2] in (1, 2, 3, 9, 10, 11)  # image type
        and data[16] in (8, 15, 16, 24, 32)  # bits per pixel
        and width > 0
        and height > 0
    )


#: Formats without a magic number, told by a plausible header; tried after :data:`SIGNATURES`.
HEADER_RULES: tuple[tuple[str, Callable[[bytes], bool]], ...] = (("PCX", _pcx_header), ("TGA", _tga_header))


def format_of(data: bytes, /) -> str | None:
    """The catalog's name of the format of ``data``, or ``None`` if it is not recognised.

    ``data`` is the file, or its beginning: the first 4 KiB tell every format but a TGA
    2.0 whose header is implausible (its footer is then its only mark).
    """
    if not isinstance(data, (bytes, bytearray)):
        data = bytes(data)
    for signature in SIGNATURES:
        if signature.matches(data):
            return signature.format
    return next((name for name, rule in HEADER_RULES if rule(data)), None)
