"""How the catalog's image limits and regions read, wherever they are shown.

The operators' docstrings (:mod:`~.codegen`), the operators table (:mod:`~.docs`) and the
reference pages (:mod:`~.reference`) all show an API's limits and regions; each takes the
words from here, so the three say the same thing. ``code`` is how a generator marks an
identifier: RST's double backticks in docstrings, Markdown's single ones on the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from airflow_provider_hwocr.catalog.model import Api, Limits

__all__ = ["NO_REGION", "LimitsText", "limits_text", "region_editions", "regions_text", "sides_text"]

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
