"""Small real images for tests, made with Pillow."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageDraw


def png(size: tuple[int, int] = (200, 120), text: str = "Hello OCR") -> bytes:
    img = Image.new("RGB", size, "white")
    ImageDraw.Draw(img).text((10, 10), text, fill="black")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def encoded(fmt: str, size: tuple[int, int] = (200, 120)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, format=fmt)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims the given size, and its end chunk (no pixel data: not needed to
    check limits; the IEND chunk makes it a whole file, which the client's end check asks for)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    head = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return head + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
