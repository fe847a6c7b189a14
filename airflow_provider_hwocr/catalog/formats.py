"""Facts about the bytes the service reads: the Base64 length of an image, and format signatures.

The client (to check an image before sending it), the emulator (to refuse it as the
service would) and the runtime (to size a body before building it) all read these;
none of them spells the arithmetic or the magic numbers again.
"""

from __future__ import annotations

__all__ = ["base64_size"]


def base64_size(raw_size: int) -> int:
    """Length of the Base64 text (with padding, no line breaks) of ``raw_size`` bytes.

    The service's size limit (``Limits.max_base64_bytes``) counts this text, not the
    raw image: every 3 bytes, or part of 3, become 4 characters.
    """
    if raw_size < 0:
        raise ValueError(f"a size cannot be negative: {raw_size}")
    return 4 * ((raw_size + 2) // 3)
