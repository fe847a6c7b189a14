"""What an image argument is, decided once: an OBS object, a URL, a local file or bytes.

:class:`ImageSource` is the one type every layer uses for an image: the
operators name mapped instances and log lines with it, the runtime resolves,
de-duplicates, shards and stores by it, lineage names datasets by it. Its
``kind`` is worked out here and nowhere else (:func:`image_kind`).

``obs://bucket/key`` URIs are parsed here too (:class:`ObsLocation`).

Pure: no I/O, no SDK, no Airflow. Reading a file, HEADing an object or
signing a URL is the runtime's job (:mod:`airflow_provider_hwocr.runtime.pipeline`).
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

__all__ = [
    "KINDS",
    "ImageSource",
    "ObsLocation",
    "describe",
    "image_kind",
    "is_obs_uri",
    "parse_obs_uri",
    "read_image_file",
    "safe_url",
    "source_identity",
]

#: What :func:`image_kind` answers. ``uri`` is any other ``scheme://`` string; ``none`` is
#: ``None``, an empty string or a type no image can be.
KINDS = ("obs", "url", "data", "uri", "file", "bytes", "none")

# OBS bucket names: 3-63 characters, lowercase letters, digits, '-' and '.'.
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


# --- obs:// URIs --------------------------------------------------------------------------------


class ObsLocation(NamedTuple):
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"obs://{self.bucket}/{self.key}"

    def __str__(self) -> str:
        return self.uri


def is_obs_uri(value: object) -> bool:
    return image_kind(value) == "obs"


def parse_obs_uri(uri: str, *, allow_empty_key: bool = False, parameter: str = "image") -> ObsLocation:
    """Split ``obs://bucket/key``; raises ``HuaweiOcrValidationError`` naming ``parameter``."""

    def fail(msg: str) -> HuaweiOcrValidationError:
        return HuaweiOcrValidationError(f"{parameter}: {msg}", parameter=parameter)

    if not is_obs_uri(uri):
        raise fail(f"expected an obs://bucket/key URI, got {uri!r}")
    rest = uri.strip()[len("obs://") :]
    bucket, _, key = rest.partition("/")
    if not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise fail(f"{bucket!r} is not a valid OBS bucket name (3-63 of a-z, 0-9, '-', '.')")
    if not key and not allow_empty_key:
        raise fail(f"{uri!r} names a bucket but no object key")
    return ObsLocation(bucket, key)


# --- kinds, identities, log-safe text ------------------------------------------------------------


def image_kind(image: Any) -> str:
    """The kind of an image argument (one of :data:`KINDS`), from its type and prefix alone."""
    if isinstance(image, os.PathLike):
        return "file"
    if isinstance(image, (bytes, bytearray, memoryview)):
        return "bytes"
    if not isinstance(image, str) or not image.strip():
        return "none"
    lowered = image.strip().lower()
    if lowered.startswith("obs://"):
        return "obs"
    if lowered.startswith(("http://", "https://")):
        return "url"
    if lowered.startswith("data:"):
        return "data"
    if "://" in lowered:
        return "uri"
    return "file"


def safe_url(url: str) -> str:
    """``url`` fit for logs and records: no ``user:password@``, no query (it may hold a signature)."""
    parts = urlsplit(url.strip())
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "…" if parts.query else "", ""))


def source_identity(kind: str, *, uri: str | None = None, data: bytes | None = None) -> str:
    """What makes two inputs "the same image" for result keys.

    OBS objects and URLs are identified by location (a URL's query string is
    dropped: signed URLs differ on every call; so are ``user:password@``
    credentials, which must never be stored); bytes and files by content.
    """
    if kind == "obs":
        return str(uri)
    if kind == "url":
        parts = urlsplit(str(uri))
        host = parts.netloc.rpartition("@")[2]  # never user:password
        return f"{parts.scheme}://{host}{parts.path}"
    if data is None:
        raise ValueError("bytes and files are identified by their content")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def describe(image: Any) -> str:
    """A log-safe description of an image argument (no bytes, no URL credentials, no URL query)."""
    kind = image_kind(image)
    if kind == "bytes":
        return f"<{len(image):,} bytes>"
    if not isinstance(image, str):
        return repr(image)
    return safe_url(image) if kind in ("url", "uri", "obs") else image


def read_image_file(path: str | os.PathLike[str]) -> bytes:
    p = os.fspath(path)
    if not os.path.exists(p):
        raise HuaweiOcrValidationError(
            f"image: no file at {p!r} (and it is not an http(s):// or obs:// URL)", parameter="image"
        )
    if os.path.isdir(p):
        raise HuaweiOcrValidationError(f"image: {p!r} is a directory, not an image file", parameter="image")
    try:
        with open(p, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise HuaweiOcrValidationError(
            f"image: cannot read {p!r}: {exc.strerror}", parameter="image"
        ) from None


# --- the one image type ----------------------------------------------------------------------------


class ImageSource:
    """One image, from the argument a task was given to what the request needs.

    :meth:`of` decides the kind and everything that follows from the argument
    alone (an OBS location, a URL's identity, a bytes digest). The runtime
    then fills in what needs I/O: a file's bytes (:meth:`with_data`), an
    object's size and ETag (from a listing or a HEAD), and, only for images
    that will be sent, a signed URL or the object's bytes.

    A signed URL is a secret: it lives in :attr:`url` only and never in
    :attr:`display`, :attr:`identity` or :meth:`record`.
    """

    __slots__ = ("data", "etag", "identity", "image", "kind", "location", "name", "path", "size", "url")

    def __init__(
        self,
        kind: str,
        *,
        image: Any = None,
        location: ObsLocation | None = None,
        url: str | None = None,
        path: str | None = None,
        data: bytes | None = None,
        identity: str = "",
        name: str = "image",
        etag: str | None = None,
        size: int | None = None,
    ) -> None:
        self.kind = kind
        self.image = image
        self.location = location
        self.url = url
        self.path = path
        self.data = data
        self.identity = identity
        self.name = name
        self.etag = etag
        self.size = size

    @classmethod
    def of(cls, image: Any) -> ImageSource:
        """The source for an image argument, with no I/O (a file is read by :meth:`with_data`)."""
        kind = image_kind(image)
        if kind == "obs":
            return cls.obs(parse_obs_uri(str(image)))
        if kind == "url":
            url = str(image).strip()
            name = urlsplit(url).path.rsplit("/", 1)[-1] or "image"
            return cls("url", image=image, url=url, identity=source_identity("url", uri=url), name=name)
        if kind == "bytes":
            data = bytes(image)
            identity = source_identity("bytes", data=data) if data else "empty"
            return cls("bytes", image=image, data=data, identity=identity, size=len(data))
        if kind in ("file", "uri"):  # another scheme is read as a path: the read names the problem
            path = os.fspath(image)
            return cls("file", image=image, path=path, name=os.path.basename(path))
        return cls(kind, image=image)

    @classmethod
    def obs(cls, location: ObsLocation, *, size: int | None = None, etag: str | None = None) -> ImageSource:
        uri = location.uri  # one string for image, identity and display (a batch holds 100,000 of them)
        return cls(
            "obs",
            image=uri,
            location=location,
            identity=source_identity("obs", uri=uri),
            name=location.key,
            etag=etag or None,
            size=size,
        )

    def with_data(self, data: bytes) -> ImageSource:
        """A file source once read: identified by its content."""
        self.data = data
        self.size = len(data)
        self.identity = source_identity("file", data=data) if data else "empty"
        return self

    @property
    def display(self) -> str:
        """How logs, manifests and XCom name this image: never bytes, a signature or credentials."""
        if self.kind == "obs" and self.location is not None:
            return self.identity or self.location.uri
        if self.kind == "url" and self.url is not None:
            return safe_url(self.url)
        if self.kind == "bytes":
            return "<bytes>"
        if self.kind == "file" and self.path is not None:
            return self.path
        return repr(self.image)[:80]

    @property
    def selection_identity(self) -> str:
        """What makes two entries of a batch's ``images=`` the same image, known without reading."""
        if self.kind == "file" and self.path is not None:
            return "file:" + os.path.abspath(self.path)
        if self.identity:
            return self.identity
        return str(self.image) if self.kind == "obs" else repr(self.image)

    def record(self, mode: str | None = None) -> dict[str, Any]:
        """What a result envelope says of its source (``mode``: how an OBS image was sent)."""
        if self.kind == "obs" and self.location is not None:
            return {
                "kind": "obs",
                "uri": self.location.uri,
                "etag": self.etag,
                "size": self.size,
                "mode": mode,
            }
        if self.kind == "url":
            return {"kind": "url", "url": self.identity}
        digest = self.identity.removeprefix("sha256:")
        if self.kind == "bytes":
            return {"kind": "bytes", "sha256": digest, "size": self.size}
        if self.kind == "file":
            return {"kind": "file", "path": self.path, "sha256": digest, "size": self.size}
        return {}

    def __repr__(self) -> str:  # never the bytes or a signed URL
        return f"ImageSource({self.kind}, {self.display})"
