"""What an image argument is, decided once: an OBS object, a URL, a local file, bytes, or fields.

:class:`ImageSource` is the one type every layer uses for an image: the
operators name mapped instances and log lines with it, the runtime resolves,
de-duplicates, shards and stores by it, lineage names datasets by it. Its
``kind`` is worked out here and nowhere else (:func:`image_kind`).

``obs://bucket/key`` URIs are parsed here too (:class:`ObsLocation`).

An API without an image (invoice-verification) takes its request's fields instead:
a mapping such as ``{"code": ..., "number": ..., "issue_date": ...}`` is a source of
kind ``fields``, so a batch can take a list of invoices as ``images=`` and a re-run skips
the invoices verified already. An invoice is identified by what makes it that invoice,
however it is written (:func:`~airflow_provider_hwocr.client.invoice.normalise_invoice`:
its code, number and date of issue, without spaces or leading zeros, the date in any of
its common forms), so one result serves it; the rest of its fields (check code, amount:
what a check asks) are the source's version, its ``etag``, so a result answers the same
question or is made again. Other fields are identified by all of them.

Pure: no I/O, no SDK, no Airflow. Reading a file, HEADing an object or
signing a URL is the runtime's job (:mod:`airflow_provider_hwocr.runtime.pipeline`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

__all__ = [
    "INVOICE_IDENTITY_FIELDS",
    "KINDS",
    "ImageSource",
    "ObsLocation",
    "describe",
    "fields_identity",
    "image_kind",
    "is_obs_uri",
    "parse_obs_uri",
    "read_image_file",
    "safe_url",
    "source_identity",
    "without_identity",
]

#: What :func:`image_kind` answers. ``uri`` is any other ``scheme://`` string; ``fields`` a mapping
#: (the request of an API without image); ``none`` is ``None``, an empty string or a type no
#: image can be.
KINDS = ("obs", "url", "data", "uri", "file", "bytes", "fields", "none")

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
    if isinstance(image, Mapping):
        return "fields"
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


def _canonical(fields: Mapping[str, Any]) -> str:
    return json.dumps(dict(fields), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


#: The fields that name an invoice (what :func:`normalise_invoice` reads); the others ask about it.
INVOICE_IDENTITY_FIELDS = ("code", "number", "issue_date")


def _is_invoice(fields: Mapping[str, Any]) -> bool:
    return all(name in fields for name in INVOICE_IDENTITY_FIELDS)


def without_identity(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an invoice that ask about it (check code, amount), without those that name it;
    any other fields whole. What tells two checks of one invoice apart, or two tasks' parameters."""
    if not _is_invoice(fields):
        return dict(fields)
    return {k: v for k, v in fields.items() if k not in INVOICE_IDENTITY_FIELDS}


def _tidy(value: Any) -> Any:
    """A field's value compared without its spaces (a check code ``"12345 6"`` is ``"123456"``)."""
    return "".join(value.split()) if isinstance(value, str) else value


def fields_identity(fields: Mapping[str, Any]) -> tuple[str, str | None, str]:
    """``(identity, version, name)`` of a request without image.

    An invoice: ``invoice:{code}:{number}:{issue_date}``, normalised (one invoice written six
    ways is one identity), its version a digest of the other fields (``None`` without any), its
    name ``{code}-{number}``. Fields that are not an invoice, or not readable as one: all of them
    (``fields:{canonical JSON}``), no version.
    """
    if _is_invoice(fields):
        from airflow_provider_hwocr.client.invoice import normalise_invoice  # DAG files never need it

        try:
            code, number, issued = normalise_invoice(fields)
        except HuaweiOcrValidationError:
            pass  # a malformed invoice: the request check names the field
        else:
            asked = {k: _tidy(v) for k, v in without_identity(fields).items()}
            version = hashlib.sha256(_canonical(asked).encode()).hexdigest()[:16] if asked else None
            return f"invoice:{code}:{number}:{issued}", version, "-".join(p for p in (code, number) if p)
    return "fields:" + _canonical(fields), None, _fields_name(fields)


def source_identity(
    kind: str, *, uri: str | None = None, data: bytes | None = None, fields: Mapping[str, Any] | None = None
) -> str:
    """What makes two inputs "the same image" for result keys.

    OBS objects and URLs are identified by location (a URL's query string is
    dropped: signed URLs differ on every call; so are ``user:password@``
    credentials, which must never be stored); bytes and files by content; the
    fields of an API without image by :func:`fields_identity` (an invoice by its
    normalised code, number and date; other fields by all of them).
    """
    if kind == "fields":
        return fields_identity(fields or {})[0]
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
    if kind == "fields":
        return _fields_display(image)
    if not isinstance(image, str):
        return repr(image)
    return safe_url(image) if kind in ("url", "uri", "obs") else image


#: Fields that name an invoice (or any record) best, shown first and used in its result key.
_NAMING_FIELDS = ("code", "number", "issue_date")


def _fields_display(fields: Mapping[str, Any]) -> str:
    shown = [k for k in _NAMING_FIELDS if k in fields] or sorted(fields)[:3]
    return "fields(" + ", ".join(f"{k}={fields[k]!r}" for k in shown) + ")"


def _fields_name(fields: Mapping[str, Any]) -> str:
    parts = [str(fields[k]) for k in ("code", "number") if fields.get(k)]
    return "-".join(parts) or "fields"


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


#: The location of a source made by :meth:`ImageSource.obs`: made from its URI when asked.
_FROM_URI = ObsLocation("", "")


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

    __slots__ = ("_location", "_name", "data", "etag", "identity", "image", "kind", "path", "size", "url")

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
        name: str | None = "image",
        etag: str | None = None,
        size: int | None = None,
    ) -> None:
        self.kind = kind
        self.image = image
        self._location = location
        self.url = url
        self.path = path
        self.data = data
        self.identity = identity
        self._name = name
        self.etag = etag
        self.size = size

    @property
    def location(self) -> ObsLocation | None:
        """An OBS source's bucket and key. A source made by :meth:`obs` holds only its URI and makes
        them from it when asked (a batch holds 100,000 sources: one string each, not three)."""
        if self._location is _FROM_URI:
            bucket, _, key = str(self.image).removeprefix("obs://").partition("/")
            return ObsLocation(bucket, key)
        return self._location

    @location.setter
    def location(self, value: ObsLocation | None) -> None:
        self._location = value

    @property
    def name(self) -> str:
        """The image's file name as results name it (an OBS source's key, made from its URI)."""
        if self._name is None:
            location = self.location
            return location.key if location is not None else "image"
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

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
        if kind == "fields":
            return cls.of_fields(image)
        return cls(kind, image=image)

    @classmethod
    def of_fields(cls, fields: Mapping[str, Any]) -> ImageSource:
        """The source of a request without image: its fields (``image`` holds them, as a dict),
        identified by :func:`fields_identity` (an invoice's version, its ``etag``, is what it asks)."""
        fields = dict(fields)
        identity, version, name = fields_identity(fields)
        return cls("fields", image=fields, identity=identity, name=name, etag=version)

    @property
    def fields(self) -> dict[str, Any]:
        """The request fields of a ``fields`` source (``{}`` for any other kind)."""
        return dict(self.image) if self.kind == "fields" and isinstance(self.image, Mapping) else {}

    @classmethod
    def obs(cls, location: ObsLocation, *, size: int | None = None, etag: str | None = None) -> ImageSource:
        uri = location.uri  # one string for image, identity, display, location and name
        return cls(
            "obs",
            image=uri,
            location=_FROM_URI,
            identity=source_identity("obs", uri=uri),
            name=None,
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
        if self.kind == "fields":
            return _fields_display(self.fields)
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
        if self.kind == "fields":
            return {"kind": "fields", "fields": self.fields}
        digest = self.identity.removeprefix("sha256:")
        if self.kind == "bytes":
            return {"kind": "bytes", "sha256": digest, "size": self.size}
        if self.kind == "file":
            return {"kind": "file", "path": self.path, "sha256": digest, "size": self.size}
        return {}

    def __repr__(self) -> str:  # never the bytes or a signed URL
        return f"ImageSource({self.kind}, {self.display})"
