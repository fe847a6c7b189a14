"""Images for the emulator tests: Base64 text, blank images of any format, rendered text lines."""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageDraw, ImageFont


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (200, 120), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, "white").save(buf, format=fmt)
    return buf.getvalue()


def font(size: int) -> ImageFont.ImageFont:
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def render(lines: list[str], size: tuple[int, int] = (900, 320), text_size: int = 40) -> bytes:
    """A PNG with ``lines`` printed in black, one under the other."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((30, 25 + int(text_size * 1.9) * i), line, font=font(text_size), fill="black")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def inside(points, size) -> bool:
    """Whether ``points`` is a 4-point location within an image of ``size`` (width, height)."""
    width, height = size
    return len(points) == 4 and all(0 <= x <= width and 0 <= y <= height for x, y in points)
