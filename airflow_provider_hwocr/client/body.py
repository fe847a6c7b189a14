"""The JSON body of one OCR call, serialised once, straight into the bytes that are sent.

An image travels as Base64 text inside the JSON body. Built the obvious way (the Base64 as a
``str`` in a dict, then the JSON text, then its UTF-8 bytes) a large image has three
Base64-sized copies alive at once, about 4x its size on top of the image itself.
:class:`RequestBody` keeps the parameters and a reference to the image bytes; :meth:`encode`
writes the JSON, with the image Base64-encoded piece by piece, into one ``bytearray``: the
image plus one Base64-sized buffer, about 2.3x the image at the peak. The signer hashes that
buffer and the HTTP client sends it as it is.

The bytes are the same as ``json.dumps(body, ensure_ascii=False, separators=(",", ":"))``
encoded as UTF-8, the image field last.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping
from typing import Any

from airflow_provider_hwocr.catalog.formats import base64_size

__all__ = ["RequestBody", "encode_json"]

#: Raw bytes Base64-encoded per step (a multiple of 3, so no padding falls mid-stream).
_STEP = 3 * 16 * 1024


def encode_json(body: Mapping[str, Any]) -> bytes | bytearray:
    """The bytes of a request body: a :class:`RequestBody` is encoded once, anything else as JSON."""
    if isinstance(body, RequestBody):
        return body.encode()
    return json.dumps(dict(body), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class RequestBody(Mapping[str, Any]):
    """A request body that reads like the dict it stands for and encodes without copies.

    ``fields`` are the JSON members (parameters, or a URL); ``image`` (bytes), if any, goes
    last, under ``image_field``, as Base64. Reading ``body[image_field]`` builds the Base64
    text on the spot (for inspection and tests); sending never does.
    """

    __slots__ = ("_fields", "_image", "_image_field")

    def __init__(
        self, fields: Mapping[str, Any], *, image_field: str | None = None, image: bytes | None = None
    ) -> None:
        if (image is None) != (image_field is None):
            raise ValueError("give image and image_field together")
        if image_field is not None and image_field in fields:
            raise ValueError(f"{image_field!r} is both a field and the image field")
        self._fields = dict(fields)
        self._image_field = image_field
        self._image = image

    # --- the mapping ----------------------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        if name == self._image_field and self._image is not None:
            return base64.b64encode(self._image).decode("ascii")
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._fields
        if self._image_field is not None:
            yield self._image_field

    def __len__(self) -> int:
        return len(self._fields) + (self._image_field is not None)

    def __repr__(self) -> str:  # never the image
        shown = dict(self._fields)
        if self._image_field is not None and self._image is not None:
            shown[self._image_field] = f"<{len(self._image):,} bytes as Base64>"
        return f"RequestBody({shown!r})"

    # --- the bytes ------------------------------------------------------------------------

    def _head(self) -> bytes:
        text = json.dumps(self._fields, ensure_ascii=False, separators=(",", ":"))
        if self._image_field is None:
            return text.encode("utf-8")
        lead = text[:-1] + ("," if self._fields else "")
        return f'{lead}{json.dumps(self._image_field, ensure_ascii=False)}:"'.encode()

    @property
    def size(self) -> int:
        """Length of :meth:`encode` in bytes, known without encoding anything."""
        head = len(self._head())
        if self._image is None:
            return head
        return head + base64_size(len(self._image)) + 2  # the image's closing '"}'

    def encode(self) -> bytes | bytearray:
        """The body as sent: ``bytes`` without an image, else one ``bytearray`` written in place."""
        head = self._head()
        image = self._image
        if image is None:
            return head
        pos = len(head)
        out = bytearray(pos + base64_size(len(image)) + 2)  # one allocation, filled in place
        out[:pos] = head
        out[-2:] = b'"}'
        view = memoryview(image)
        for start in range(0, len(image), _STEP):
            chunk = binascii.b2a_base64(view[start : start + _STEP], newline=False)
            out[pos : pos + len(chunk)] = chunk
            pos += len(chunk)
        return out
