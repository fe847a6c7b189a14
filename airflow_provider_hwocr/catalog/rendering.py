"""How the catalog's image limits, regions and document pages read, wherever they are shown.

The operators' docstrings (:mod:`~.codegen`), the operators table (:mod:`~.docs`) and the
reference pages (:mod:`~.reference`) all show an API's limits and regions; each takes the
words from here, so the three say the same thing. How an API reads a PDF or OFD page
(:func:`documents_text`, from :mod:`~.pages`) reads alike on its reference page and in the
"Documents and pages" guide's table. ``code`` is how a generator marks an identifier: RST's
double backticks in docstrings, Markdown's single ones on the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from airflow_provider_hwocr.catalog.model import Api, Limits
from airflow_provider_hwocr.catalog.pages import (
    DocumentKind,
    accepts_kind,
    page_field,
    page_mode,
    render_format,
)

__all__ = [
    "DEFAULT_MAX_PAGES",
    "NO_REGION",
    "DocumentsText",
    "LimitsText",
    "documents_text",
    "limits_text",
    "page_text",
    "region_editions",
    "regions_text",
    "sides_text",
]

#: ``max_pages=``'s default on every operator and the batch: a document of more pages is refused
#: before any call. The client's ``documents.DEFAULT_MAX_PAGES`` (the catalog imports nothing of
#: the client; a test holds the two equal).
DEFAULT_MAX_PAGES = 50

_MIB = 1024 * 1024

#: What an API none of the vendor's endpoint tables lists gets instead of regions.
NO_REGION = "neither endpoint table lists a region (warned, not refused)"


def _plain(name: str) -> str:
    return name


def region_editions(api: Api) -> list[tuple[str, tuple[str, ...]]]:
    """``(edition, region ids)``: the mainland and the international endpoint tables (empty or not),
    then the regions only another source names, when there are any."""
    ends = api.endpoints
    editions = [("mainland table", ends.cn), ("international table", ends.intl)]
    if ends.other:
        editions.append((f"also ({ends.other_source or 'an older source'}; warned, not refused)", ends.other))
    return editions


def regions_text(api: Api, code: Callable[[str], str] = _plain) -> str:
    """The regions of ``api`` in one line: each edition that lists any, ``;``-separated."""
    parts = [f"{edition}: {', '.join(code(r) for r in ids)}" for edition, ids in region_editions(api) if ids]
    if not api.endpoints.known:
        parts.insert(0, NO_REGION)
    return "; ".join(parts)


def sides_text(limits: Limits) -> str:
    """The accepted image sides: each within a range, or the short and the long side apart."""
    if limits.side_rule == "short_long":
        return f"short side >= {limits.min_side:,} px, long side <= {limits.max_side:,} px"
    return f"sides {limits.min_side:,}-{limits.max_side:,} px"


@dataclass(frozen=True)
class LimitsText:
    """The image limits of one API, each as a phrase (no final full stop)."""

    #: The accepted formats, e.g. ``BMP, JPEG, PNG``.
    formats: str
    #: Sides and pixel count, e.g. ``sides 15-30,000 px, at most 160,000,000 pixels``.
    size: str
    #: ``Base64 text at most 10,485,760 bytes (10 MB)``.
    base64: str
    #: ``A PDF page is chosen with pdf_page_number`` (``None``: no page field).
    page: str | None


def limits_text(api: Api, code: Callable[[str], str] = _plain) -> LimitsText | None:
    """The image limits of ``api``, in words; ``None`` for an API that takes no image."""
    if api.image_field is None:
        return None
    lim = api.limits
    pixels = f", at most {lim.max_pixels:,} pixels" if lim.max_pixels else ""
    return LimitsText(
        formats=", ".join(sorted(lim.formats)),
        size=sides_text(lim) + pixels,
        base64=f"Base64 text at most {lim.max_base64_bytes:,} bytes ({lim.max_base64_bytes // _MIB} MB)",
        page=f"A PDF page is chosen with {code(api.page_field)}" if api.page_field else None,
    )


def page_text(api: Api, kind: DocumentKind, code: Callable[[str], str] = _plain) -> str:
    """How one page of a ``kind`` document reaches ``api``, with why (no final full stop).

    One of: the whole document with the page field set to the page (select); the page alone as a
    one-page PDF (split); the page rendered to PNG (render). See :func:`~.pages.page_mode`.
    """
    mode = page_mode(api, kind)
    name = kind.upper()
    if mode == "select":
        field = page_field(api)
        assert field is not None  # select mode means a page field
        return f"the whole {name} sent for each page, the page chosen with {code(field)}"
    if mode == "split":
        return "each page sent as a one-page PDF (the API has no page field: it reads page 1 of a PDF only)"
    fmt = render_format(api)
    if accepts_kind(api, kind):
        why = f"the API takes {name} but has no page field"
    elif accepts_kind(api, "pdf") or accepts_kind(api, "ofd"):
        why = f"the API takes no {name}"
    else:
        why = "the API takes images only"
    return f"each page rendered to {fmt} ({why})"


@dataclass(frozen=True)
class DocumentsText:
    """How an API reads the pages of a PDF and of an OFD, each as a phrase (no final full stop)."""

    #: :func:`page_text` of a PDF.
    pdf: str
    #: :func:`page_text` of an OFD.
    ofd: str
    #: ``pages=`` and ``max_pages=``, the same for every API.
    pages: str


def documents_text(api: Api, code: Callable[[str], str] = _plain) -> DocumentsText | None:
    """How ``api`` reads a multi-page document; ``None`` for an API that takes no image."""
    if api.image_field is None:
        return None
    return DocumentsText(
        pdf=page_text(api, "pdf", code),
        ofd=page_text(api, "ofd", code),
        pages=(
            f"{code('pages=')} chooses the pages read (every page by default) and {code('max_pages=')} "
            f"(default {DEFAULT_MAX_PAGES}) refuses a document of more pages before any call"
        ),
    )
