"""A PDF or OFD source as pages, at task time: what a source is, which pages to read, what each sends.

The service reads one page per call and never says how many pages a document has, so a
document is counted here (:func:`airflow_provider_hwocr.client.documents.count_pages`), its pages
chosen (``pages=``, capped by ``max_pages=`` before anything is called), and each page sent the
way the API reads it (:func:`airflow_provider_hwocr.catalog.pages.page_mode`):

* ``select``: the document itself with the API's page field (an ``obs://`` object or a URL stays
  a URL: the document is downloaded once, to count its pages, unless a re-run knows the count
  from the keys of the pages it stored);
* ``split``: the page alone, as a one-page PDF, sent Base64;
* ``render``: the page rendered to PNG within the API's limits, sent Base64;
* a document of which only page 1 is wanted goes whole to an API that takes its format.

What a source is, is told without a request: an ``obs://`` key, a URL's path or a file name
ending in ``.pdf`` or ``.ofd`` (any case) names a document, confirmed by its first bytes once they
are read; bytes and files are told by those bytes. Any other source is an image, one page, and
goes as it always did (no request more).

Memory: a :class:`Document` holds one document's bytes while its pages are prepared, and none
in ``select`` mode once its pages are counted (the URL is sent).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from airflow_provider_hwocr.catalog import Api
from airflow_provider_hwocr.catalog.formats import base64_size
from airflow_provider_hwocr.catalog.pages import (
    DocumentKind,
    PageMode,
    page_field,
    page_mode,
    page_params,
    render_format,
    render_limits,
    sends_whole,
)
from airflow_provider_hwocr.client.documents import (
    check_max_pages,
    count_pages,
    document_kind,
    parse_pages,
    render_page,
    single_page_pdf,
)
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.request import check_whole_file
from airflow_provider_hwocr.client.sources import ImageSource, safe_url

__all__ = [
    "DOCUMENT_EXTENSIONS",
    "MAX_DOCUMENT_BYTES",
    "Document",
    "PageBody",
    "check_image_pages",
    "document_pages_spec",
    "download",
    "kind_by_name",
    "source_kind",
]

#: The file name endings that name a document, and its kind.
DOCUMENT_EXTENSIONS: dict[str, DocumentKind] = {".pdf": "pdf", ".ofd": "ofd"}
#: The largest document downloaded to be split into pages (its bytes are held while they are).
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
#: Seconds to connect to, and between bytes of, a URL downloaded to count its pages.
URL_TIMEOUT = (10.0, 60.0)


def kind_by_name(name: str) -> DocumentKind | None:
    """``"pdf"`` or ``"ofd"`` for a name (key, path) ending in ``.pdf`` or ``.ofd``, any case; else ``None``."""
    return DOCUMENT_EXTENSIONS.get(posixpath.splitext(name.strip())[1].lower())


def _name_of(src: ImageSource) -> str:
    if src.kind == "obs" and src.location is not None:
        return src.location.key
    if src.kind == "url" and src.url is not None:
        return unquote(urlsplit(src.url).path)
    return src.path or ""


def source_kind(api: Api, src: ImageSource) -> DocumentKind | None:
    """The document kind of a source (``None``: an image), told without a request.

    From the bytes when they are read already (bytes, a file, an object sent inline), else from
    the name. An API without an image (invoice-verification) has no documents.
    """
    if api.image_field is None or src.kind not in ("obs", "url", "file", "bytes"):
        return None
    if src.data is not None:
        return document_kind(src.data)
    return kind_by_name(_name_of(src))


def _invalid(parameter: str, message: str) -> HuaweiOcrValidationError:
    return HuaweiOcrValidationError(f"{parameter}: {message}", parameter=parameter)


def document_pages_spec(api: Api, params: Mapping[str, Any], pages: Any) -> Any:
    """The pages to read of each document: ``pages=``, else the API's page field among the task's
    parameters (``parameters={"pdf_page_number": 2}`` reads page 2), else ``None`` (every page).

    Both given, differently, is an error naming ``pages``.
    """
    field = page_field(api) if api.image_field is not None else None
    if field is None or params.get(field) is None:
        return pages
    given = params[field]
    if pages is None:
        return given
    if _same_pages(pages, given):
        return pages
    raise _invalid(
        "pages",
        f"{pages!r} and parameters {field}={given!r} choose different pages; give the pages once, as pages=",
    )


def _same_pages(a: Any, b: Any) -> bool:
    try:
        count = max(_highest(a), _highest(b))
        return parse_pages(a, count) == parse_pages(b, count)
    except (HuaweiOcrValidationError, TypeError, ValueError):
        return False


def _highest(spec: Any) -> int:
    """The highest page a spec names (a range to the end counts its start)."""
    if isinstance(spec, int):
        return spec
    if isinstance(spec, (list, tuple)):
        return max(spec)
    numbers = [int(n) for n in str(spec).replace("-", ",").split(",") if n.strip()]
    return max(numbers)


def check_image_pages(pages: Any, display: str) -> None:
    """An image is one page: ``pages`` choosing anything but page 1 is refused, naming ``pages``."""
    if pages is None:
        return
    try:
        chosen = parse_pages(pages, 1)
    except HuaweiOcrValidationError:
        chosen = []
    if chosen != [1]:
        raise _invalid(
            "pages",
            f"{pages!r} chooses pages of a PDF or OFD document, but {display} is an image (one page); "
            "nothing was called",
        )


def download(src: ImageSource, obs: Any, *, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of a document source: held already, or one GET of the object or the URL.

    Raises ``HuaweiOcrValidationError`` (naming ``image``) for a document over ``limit`` bytes or a
    URL that cannot be read.
    """
    if src.data is not None:
        return src.data
    if src.size is not None and src.size > limit:
        raise _invalid(
            "image", f"{src.display} is {src.size:,} bytes, over {limit:,} bytes: not split into pages"
        )
    if src.kind == "obs" and src.location is not None:
        data: bytes = obs.get_bytes(src.location.bucket, src.location.key)
        return data
    if src.kind == "url" and src.url is not None:
        return _get_url(src.url, limit)
    raise _invalid("image", f"{src.display} cannot be read")


def _get_url(url: str, limit: int) -> bytes:
    shown = safe_url(url)
    try:
        with requests.get(url, stream=True, timeout=URL_TIMEOUT) as response:
            if response.status_code >= 400:
                raise _invalid("image", f"{shown} answered HTTP {response.status_code}; nothing was called")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(1 << 16):
                size += len(chunk)
                if size > limit:
                    raise _invalid("image", f"{shown} is over {limit:,} bytes: not split into pages")
                chunks.append(chunk)
    except requests.RequestException as exc:
        raise _invalid("image", f"{shown} could not be downloaded ({type(exc).__name__}); nothing was called")
    return b"".join(chunks)


@dataclass(frozen=True)
class PageBody:
    """What is sent for one page: the source of the request and the page parameters it adds."""

    source: ImageSource
    params: dict[str, int]


class Document:
    """A PDF or OFD source with its pages counted and chosen, and how each page is sent.

    ``data`` is the document's bytes while a page needs them (``split``, ``render``, a source sent
    as bytes), else ``None``.
    """

    __slots__ = ("api", "count", "data", "kind", "mode", "pages", "src", "whole")

    def __init__(
        self,
        api: Api,
        src: ImageSource,
        kind: DocumentKind,
        count: int,
        pages: list[int],
        mode: PageMode,
        *,
        whole: bool,
        data: bytes | None,
    ) -> None:
        self.api = api
        self.src = src
        self.kind = kind
        self.count = count
        self.pages = pages
        self.mode = mode
        self.whole = whole
        self.data = data

    @classmethod
    def open(
        cls,
        api: Api,
        src: ImageSource,
        data: bytes,
        *,
        pages: Any,
        max_pages: int | None,
        inline: bool = False,
    ) -> Document | None:
        """The document in ``data`` (``src``'s bytes), counted and checked; ``None`` when the bytes are
        not a PDF or OFD after all (an image named ``.pdf``: it goes as an image).

        ``inline``: an ``obs://`` source is sent as bytes (``image_source="inline"``).
        """
        kind = document_kind(data)
        if kind is None:
            return None
        check_whole_file(data, kind.upper(), src.display)  # a file cut short: refused as an image would be
        count = count_pages(data, kind)
        doc = cls.planned(api, src, kind, count, pages=pages, max_pages=max_pages, size=len(data))
        if doc.needs_data(inline=inline):
            doc.data = data  # the document's, not its source's: it goes with the document
        return doc

    @classmethod
    def planned(
        cls,
        api: Api,
        src: ImageSource,
        kind: DocumentKind,
        count: int,
        *,
        pages: Any,
        max_pages: int | None,
        size: int | None = None,
    ) -> Document:
        """A document of ``count`` pages: the pages chosen, the cap checked, the way each page goes.

        Raises ``HuaweiOcrValidationError`` naming ``pages`` (a page past the end), ``max_pages``
        (too many pages) or ``image`` (a page the API cannot be sent), before anything is called.
        """
        chosen = parse_pages(pages, count)
        check_max_pages(count, max_pages, src.display, selected=None if pages is None else len(chosen))
        mode = page_mode(api, kind)
        fits = size is None or base64_size(size) <= api.limits.max_base64_bytes
        whole = sends_whole(api, kind, chosen) and fits
        if mode == "select" and not fits:
            mode = "split" if kind == "pdf" else "render"  # too large to send whole: page by page
        if mode == "render" and not whole:
            try:
                render_format(api)
            except ValueError as exc:
                raise _invalid("image", str(exc)) from None
        return cls(api, src, kind, count, chosen, mode, whole=whole, data=None)

    def needs_data(self, *, inline: bool = False) -> bool:
        """Whether a page needs the document's bytes: split and rendered pages, and a document sent
        as bytes (bytes, a file, an object sent inline); a URL or a signed URL does not."""
        if self.mode in ("split", "render") and not self.whole:
            return True
        return self.src.kind in ("bytes", "file") or (self.src.kind == "obs" and inline)

    def body(self, page: int) -> PageBody:
        """What is sent for ``page``: the document (whole, or with its page field), or the page alone."""
        if self.whole:
            return PageBody(self._sent_whole(), {})
        if self.mode == "select":
            return PageBody(self._sent_whole(), page_params(self.api, self.kind, page))
        if self.data is None:
            raise RuntimeError(f"{self.src.display}: page {page} needs the document's bytes")
        if self.mode == "split":
            data = single_page_pdf(self.data, page)
        else:
            limits = render_limits(self.api)
            data = render_page(
                self.data,
                self.kind,
                page,
                max_side=limits.max_side,
                max_bytes=limits.max_bytes,
                max_pixels=limits.max_pixels,
            )
        return PageBody(ImageSource("bytes", data=data, size=len(data), identity="page"), {})

    def _sent_whole(self) -> ImageSource:
        """The document as sent: its source (a URL, or bytes it holds), or an ``obs://`` source sent
        inline, a copy holding the bytes read (so they are not read again, and go with the document)."""
        if self.src.kind != "obs" or self.data is None or self.src.location is None:
            return self.src
        sent = ImageSource.obs(self.src.location, size=self.src.size, etag=self.src.etag)
        sent.data = self.data
        return sent

    def __repr__(self) -> str:
        return (
            f"Document({self.kind}, {self.src.display}, {len(self.pages)} of {self.count} pages, {self.mode})"
        )
