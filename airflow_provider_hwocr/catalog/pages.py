"""How each API reads a multi-page document (PDF or OFD), derived from the catalog.

Every call reads one page, and no API returns a document's page count: a document
of N pages is N calls, one per page. How a page reaches the service depends on
the API, and follows from two catalog facts, its accepted formats
(``Limits.formats``) and its parameters (``Api.page_field``):

========  =====================================================================
mode      what is sent for page *n*
========  =====================================================================
select    the whole document, with the API's page field set to *n*
          (``pdf_page_number`` or ``page_num``); a URL can stay a URL
split     page *n* alone, as a one-page PDF: the API takes PDF but has no page
          field, so it reads page 1 only (business-license, mvs-invoice ...)
render    page *n* rendered to PNG locally: the API reads images only
image     the input is an image, not a document: one page, sent as it is
========  =====================================================================

OFD follows the same rule: an API that takes OFD and has a page field selects
the page (vat-invoice, auto-classification); any other API gets the page
rendered (train-ticket takes OFD but has no page field). Whatever the mode, a
document of which only page 1 is wanted can be sent whole to an API that takes
its format (:func:`sends_whole`): without a page field the service reads page 1.

The one fact the catalog does not spell (that an API taking PDF without a page
field reads page 1 only) is derived here too (:func:`reads_first_page_only`),
as the vendor documents it for business-license ("only the first page of a
multi-page PDF is read") and mvs-invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from airflow_provider_hwocr.catalog.model import Api

__all__ = [
    "DocumentKind",
    "PageMode",
    "RenderLimits",
    "accepts_kind",
    "accepts_ofd",
    "accepts_pdf",
    "page_field",
    "page_mode",
    "page_params",
    "reads_first_page_only",
    "render_format",
    "render_limits",
    "sends_whole",
]

#: A multi-page document format the provider splits into pages.
DocumentKind = Literal["pdf", "ofd"]
#: How one page of a document reaches the service (see the module's table).
PageMode = Literal["select", "split", "render", "image"]

#: The catalog's format name of each document kind.
_FORMAT: dict[str, str] = {"pdf": "PDF", "ofd": "OFD"}
#: What a rendered page is sent as, in order of preference.
_RENDER_FORMATS = ("PNG", "JPEG")


def page_field(api: Api) -> str | None:
    """The parameter that selects a page (``pdf_page_number`` or ``page_num``), or ``None``."""
    return api.page_field


def _takes_images(api: Api) -> None:
    if api.image_field is None:
        raise ValueError(f"{api.slug} takes no image, so no document page either")


def accepts_kind(api: Api, kind: DocumentKind) -> bool:
    """Whether the API takes a document of this kind as its image (``"pdf"`` or ``"ofd"``)."""
    try:
        return _FORMAT[kind] in api.limits.formats
    except KeyError:
        raise ValueError(f"unknown document kind {kind!r}; known: {', '.join(_FORMAT)}") from None


def accepts_pdf(api: Api) -> bool:
    """Whether the API takes a PDF."""
    return accepts_kind(api, "pdf")


def accepts_ofd(api: Api) -> bool:
    """Whether the API takes an OFD (vat-invoice, auto-classification, train-ticket)."""
    return accepts_kind(api, "ofd")


def reads_first_page_only(api: Api) -> bool:
    """Whether the API takes PDF but has no page field, so reads page 1 of any PDF only."""
    return accepts_pdf(api) and page_field(api) is None


def page_mode(api: Api, kind: DocumentKind | None = "pdf") -> PageMode:
    """How a page of a ``kind`` document (a PDF unless said) reaches this API.

    ``kind=None`` means the input is an image: ``"image"``, sent as it is.

    Raises ``ValueError`` for an API that takes no image (invoice-verification).
    """
    _takes_images(api)
    if kind is None:
        return "image"
    if accepts_kind(api, kind):
        if page_field(api) is not None:
            return "select"
        # Only a PDF is split here: a one-page OFD is not made (an OFD page is rendered).
        if kind == "pdf":
            return "split"
    return "render"


def page_params(api: Api, kind: DocumentKind | None, page: int) -> dict[str, int]:
    """The body parameters that choose ``page`` (1-based): ``{field: page}`` in select mode, else none."""
    if page < 1:
        raise ValueError(f"pages are numbered from 1, not {page}")
    if page_mode(api, kind) != "select":
        return {}
    field = page_field(api)
    assert field is not None  # select mode means a page field
    return {field: page}


def sends_whole(api: Api, kind: DocumentKind | None, pages: list[int] | tuple[int, ...]) -> bool:
    """Whether the document can go as it is, untouched, with no page field.

    True for an image, and for a document of a format the API takes when page 1 is the
    only page wanted: every API reads page 1 when no page field is sent.
    """
    _takes_images(api)
    if kind is None:
        return True
    return list(pages) == [1] and accepts_kind(api, kind)


def render_format(api: Api) -> str:
    """The format a rendered page is sent as: PNG (lossless), else JPEG."""
    _takes_images(api)
    for fmt in _RENDER_FORMATS:
        if fmt in api.limits.formats:
            return fmt
    raise ValueError(f"{api.slug} takes neither PNG nor JPEG: a page cannot be rendered for it")


@dataclass(frozen=True)
class RenderLimits:
    """What a page rendered for one API must fit: the catalog's limits, in rendering terms."""

    #: The longest side, in pixels.
    max_side: int
    #: The most pixels (width x height), where the API has such a cap.
    max_pixels: int | None
    #: The largest file whose Base64 text fits the service's cap.
    max_bytes: int


def render_limits(api: Api) -> RenderLimits:
    """The pixel and size bounds of a page rendered for ``api`` (``Limits`` of the catalog)."""
    _takes_images(api)
    limits = api.limits
    # Base64 turns every 3 bytes into 4 characters (catalog.formats.base64_size).
    return RenderLimits(
        max_side=limits.max_side,
        max_pixels=limits.max_pixels,
        max_bytes=limits.max_base64_bytes // 4 * 3,
    )
