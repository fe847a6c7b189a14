"""Plain text out of any OCR result: ``[{"text", "metadata"}, ...]``, one entry per page.

Pure functions, no I/O. Which fields hold text is data in
:mod:`airflow_provider_hwocr.catalog.text`; this module only walks it. The
output is what downstream text and LLM tasks want: the text, and next to it
where it came from (source, API, page, confidence, request id), the same for
all 18 APIs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from airflow_provider_hwocr.catalog.text import TextLayout, TextSource, text_layout

TEXT_FORMAT = "hwocr-text/1"

#: Field names that never carry recognised text (images, geometry, scores, flags).
_NOT_TEXT = frozenset({"confidence", "location", "status", "words_ids", "rows", "columns"})
_NOT_TEXT_SUFFIXES = ("_image", "_location", "_score", "_count", "_result_list")


def _walk(node: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if not path:
        if isinstance(node, list):
            yield from node
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(node, list):
            for item in node:
                yield from _walk(item, rest)
        return
    if isinstance(node, dict) and head in node:
        yield from _walk(node[head], rest)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _block_lines(page: Any, source: TextSource) -> tuple[list[str], list[float]]:
    lines: list[str] = []
    scores: list[float] = []
    for block in _walk(page, source.path):
        if not isinstance(block, dict):
            continue
        text = block.get(source.text)
        if not isinstance(text, str) or not text.strip():
            continue
        if source.key and isinstance(block.get(source.key), str):
            text = f"{block[source.key]}: {text}"
        lines.append(text)
        score = _number(block.get(source.confidence))
        if score is not None:
            scores.append(score)
    return lines, scores


def _is_text_field(name: str) -> bool:
    return name not in _NOT_TEXT and not name.endswith(_NOT_TEXT_SUFFIXES)


def _field_lines(node: dict[str, Any], prefix: str = "") -> list[str]:
    lines: list[str] = []
    for name, value in node.items():
        if not _is_text_field(name):
            continue
        label = f"{prefix}{name}"
        if isinstance(value, str):
            if value.strip():
                lines.append(f"{label}: {value}")
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            lines.append(f"{label}: {', '.join(value)}")
        elif isinstance(value, dict):
            lines.extend(_field_lines(value, f"{label}."))
    return lines


def _field_confidence(page: dict[str, Any]) -> float | None:
    conf = page.get("confidence")
    if isinstance(conf, dict):
        return _mean([n for n in (_number(v) for v in conf.values()) if n is not None])
    return _number(conf)


def _page(layout: TextLayout, item: Any) -> tuple[str, float | None]:
    page = item
    for step in layout.item_path:
        page = page.get(step) if isinstance(page, dict) else None
    if not isinstance(page, dict):
        return "", None
    if layout.sources:
        lines: list[str] = []
        scores: list[float] = []
        for source in layout.sources:
            more, more_scores = _block_lines(page, source)
            lines += more
            scores += more_scores
        return "\n".join(lines), _mean(scores)
    return "\n".join(_field_lines(page)), _field_confidence(page)


def text_pages(
    api: str,
    result: Any,
    *,
    source: str | None = None,
    request_id: str | None = None,
    result_uri: str | None = None,
) -> list[dict[str, Any]]:
    """One ``{"text", "metadata"}`` per page of ``result`` (the API's ``result`` field).

    ``metadata`` holds ``source``, ``api``, ``page`` (1-based), ``pages``,
    ``confidence`` (mean over the page's blocks or fields; ``None`` when the
    API gives none), and, when known, ``request_id``, ``result_uri`` and the
    item's ``document_type``.
    """
    layout = text_layout(api)
    items = (result if isinstance(result, list) else [result]) if layout.per_item else [result]
    pages: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        text, confidence = _page(layout, item)
        metadata: dict[str, Any] = {
            "source": source,
            "api": api,
            "page": index + 1,
            "pages": len(items),
            "confidence": confidence,
        }
        if request_id:
            metadata["request_id"] = request_id
        if result_uri:
            metadata["result_uri"] = result_uri
        if isinstance(item, dict) and isinstance(item.get("type"), str):
            metadata["document_type"] = item["type"]
        pages.append({"text": text, "metadata": metadata})
    return pages


def text_document(
    api: str,
    result: Any,
    *,
    source: str | None = None,
    request_id: str | None = None,
    result_uri: str | None = None,
) -> dict[str, Any]:
    """What is stored next to the envelope: the format tag and the pages."""
    return {
        "format": TEXT_FORMAT,
        "pages": text_pages(api, result, source=source, request_id=request_id, result_uri=result_uri),
    }
