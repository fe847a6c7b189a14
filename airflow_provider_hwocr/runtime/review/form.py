"""The review form of one held page: subject, Markdown body, one editable param per held field.

What the Airflow UI does with a Human-in-the-loop form decides the shape: the body renders as
Markdown (tables, links, images), raw HTML is skipped, and an image renders only from a
relative or ``https`` URL (``data:`` URIs are stripped), so a crop is linked, never inlined;
``crop_url(i)`` gives the URL of the ``i``-th held field's crop (``None``: no crop, e.g. no
location), ``page_url`` the whole page's (``None``: no image of the page, as for an OFD).

The params are in the serialized form of ``airflow.sdk.definitions.param.Param.serialize()``
(``{"value", "description", "schema", "source"}``) keyed by field name, each defaulting to the
machine's value: the reviewer corrects a value by editing it. The options are
``Approve`` and ``Reject``; what an unanswered form becomes at its timeout (``on_timeout``) is
its default option. A Chinese document (``language`` ``zh``, or a mainland API without one)
gets a Chinese subject, labels and text. Pure functions, no Airflow import.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.runtime.review.decision import APPROVE, REJECT
from airflow_provider_hwocr.runtime.review.gate import HeldField, is_chinese

__all__ = ["ON_TIMEOUT", "OPTIONS", "ReviewForm", "review_form"]

OPTIONS = [APPROVE, REJECT]
#: What a review nobody answers in time becomes, and the form's default option for it.
ON_TIMEOUT: dict[str, list[str] | None] = {"approve": [APPROVE], "reject": [REJECT], "fail": None}


@dataclass(frozen=True)
class ReviewForm:
    """What a Human-in-the-loop task asks (``HITLOperator``'s arguments of the same names)."""

    subject: str
    body: str
    #: Field -> its param, serialized (``Param.serialize()``'s form).
    params: dict[str, dict[str, Any]]
    options: list[str]
    defaults: list[str] | None


_TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "subject": "Review {name}{page} ({title})",
        "page": ", page {page} of {pages}",
        "source": "**Source**: `{source}`{page}",
        "intro": "These fields are below their confidence threshold. Check each against the image,"
        " correct it below if needed, then choose **Approve** or **Reject**.",
        "head": "| field | value | confidence | threshold |",
        "missing": "(missing)",
        "none": "none",
        "no_crop": "(no crop: the answer gives no location for this field)",
        "whole": "[The whole page]({url})",
        "no_page": "No image of the page (an OFD document is not rendered for review).",
        "below": "confidence {confidence} < {threshold}",
        "absent": "missing (threshold {threshold})",
        "unscored": "no confidence (threshold {threshold})",
        "timeout": {
            "approve": "Unanswered at the timeout, the machine's values are approved.",
            "reject": "Unanswered at the timeout, the page is rejected.",
            "fail": "Unanswered at the timeout, the review task fails.",
        },
    },
    "zh": {
        "subject": "复核：{name}{page}（{title}）",
        "page": "，第 {page}/{pages} 页",
        "source": "**来源**：`{source}`{page}",
        "intro": "以下字段的置信度低于阈值。请对照图片逐项核对，必要时在下方更正，然后选择 **Approve**（通过）"
        "或 **Reject**（拒绝）。",
        "head": "| 字段 | 识别值 | 置信度 | 阈值 |",
        "missing": "（缺失）",
        "none": "无",
        "no_crop": "（无裁剪图：识别结果未给出该字段的位置）",
        "whole": "[查看整页]({url})",
        "no_page": "无整页图片（OFD 文档不渲染供复核）。",
        "below": "置信度 {confidence} < {threshold}",
        "absent": "缺失（阈值 {threshold}）",
        "unscored": "无置信度（阈值 {threshold}）",
        "timeout": {
            "approve": "超时未处理：自动通过，保留识别值。",
            "reject": "超时未处理：自动拒绝该页。",
            "fail": "超时未处理：复核任务失败。",
        },
    },
}

_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _escape(text: str) -> str:
    """Text shown as is in Markdown (a table cell too): specials escaped, one line."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def _url(url: str) -> str:
    """A URL the UI's Markdown renders (relative or https), safe inside ``(...)``."""
    if _SCHEME.match(url) and not url.lower().startswith("https://"):
        raise ValueError(
            f"the review form links relative or https URLs only (the UI strips others): {url[:40]!r}"
        )
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _number(value: float | None, none: str) -> str:
    return none if value is None else f"{round(value, 4):g}"


def _describe(held: HeldField, text: Mapping[str, Any]) -> str:
    threshold = _number(held.threshold, text["none"])
    if held.reason == "below":
        return str(text["below"]).format(
            confidence=_number(held.confidence, text["none"]), threshold=threshold
        )
    return str(text["absent" if held.reason == "missing" else "unscored"]).format(threshold=threshold)


def _page_text(descriptor: Mapping[str, Any], text: Mapping[str, Any]) -> str:
    page, pages = descriptor.get("page"), descriptor.get("pages")
    if page is None:
        return ""
    return str(text["page"]).format(page=page, pages=pages if pages is not None else "?")


def review_form(
    slug: str,
    descriptor: Mapping[str, Any],
    held: Sequence[HeldField],
    crop_url: Callable[[int], str | None],
    page_url: str | None,
    *,
    on_timeout: str,
    language: str | None,
) -> ReviewForm:
    """The form asking a person about the held fields of the page ``descriptor`` names
    (``source``, ``page``, ``pages``; see the module)."""
    if on_timeout not in ON_TIMEOUT:
        raise ValueError(f"on_timeout is one of {', '.join(ON_TIMEOUT)}, not {on_timeout!r}")
    if not held:
        raise ValueError("a review form needs at least one held field")
    api = get_api(slug)
    zh = is_chinese(slug, language)
    text = _TEXT["zh" if zh else "en"]
    title = (api.title_zh or api.title) if zh else api.title
    source = str(descriptor.get("source") or "")
    name = posixpath.basename(source.rstrip("/")) or source
    page = _page_text(descriptor, text)
    subject = str(text["subject"]).format(
        title=title, name=name, page=page.replace("，", " ").replace(",", "")
    )
    lines = [
        str(text["source"]).format(source=source.replace("`", "'"), page=page),
        "",
        str(text["intro"]),
        "",
    ]
    lines += [str(text["head"]), "|---|---|---|---|"]
    for h in held:
        shown = _escape(h.label) if h.label == h.field else f"{_escape(h.label)} (`{h.field}`)"
        value = _escape(h.value) if h.value else text["missing"]
        confidence = _number(h.confidence, text["none"])
        lines.append(f"| {shown} | {value} | {confidence} | {_number(h.threshold, text['none'])} |")
    for i, h in enumerate(held):
        url = crop_url(i)
        lines += ["", f"**{_escape(h.label)}**", ""]
        lines.append(f"![{_escape(h.label)}]({_url(url)})" if url else str(text["no_crop"]))
    lines += ["", str(text["whole"]).format(url=_url(page_url)) if page_url else str(text["no_page"])]
    lines += ["", str(text["timeout"][on_timeout])]
    params = {
        h.field: {
            "value": h.value or "",
            "description": _describe(h, text),
            "schema": {"type": "string", "title": h.label},
            "source": "task",
        }
        for h in held
    }
    defaults = ON_TIMEOUT[on_timeout]
    return ReviewForm(
        subject, "\n".join(lines), params, list(OPTIONS), None if defaults is None else list(defaults)
    )
