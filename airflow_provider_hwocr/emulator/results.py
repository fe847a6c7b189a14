"""Builds each API's 200 answer from the image, in the shape the docs give.

* Text APIs (general-text, handwriting, web-image, general-table and the
  ``ocr_result``/``kv_result``/``table_result``/``layout_result`` parts of
  smart-document-recognizer) read the image with :mod:`.ocr`: one words block
  per recognised line, 4-point locations, confidences 0..1.
* Tables come from line structure: each line is a row, and a wide horizontal
  gap between words starts a new cell. Columns are anchored on the row with
  the most cells; other rows' cells take the columns they overlap.
* Structured APIs (ID cards, passport, plates, classification) answer their
  documented example, with every coordinate scaled to fit inside the image
  and, when Pillow can decode the image, a real portrait crop.
"""

from __future__ import annotations

import base64
import io
import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from airflow_provider_hwocr.emulator.examples import example_response
from airflow_provider_hwocr.emulator.ocr import Box, Line, TextReader, Word, quad, union
from airflow_provider_hwocr.emulator.validation import CheckedImage

try:
    from PIL import Image as _PILImage
except ImportError:  # pragma: no cover - exercised only without Pillow
    _PILImage = None  # type: ignore[assignment]

#: Gap between two words, in line heights, that separates table cells.
CELL_GAP = 1.2
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


# --- shared pieces --------------------------------------------------------------------


def _char_list(line: Line) -> list[dict[str, Any]]:
    """Per-character entries, each word's box cut into equal slices."""
    chars = []
    for word in line.words:
        left, top, right, bottom = word.box
        step = (right - left) / max(1, len(word.text))
        for i, char in enumerate(word.text):
            box = (round(left + i * step), top, round(left + (i + 1) * step), bottom)
            chars.append({"char": char, "char_location": quad(box), "char_confidence": word.confidence})
    return chars


def _blocks(lines: list[Line], with_chars: bool = False, **extra: Any) -> list[dict[str, Any]]:
    blocks = []
    for line in lines:
        block = {"words": line.text, **extra, "confidence": line.confidence, "location": quad(line.box)}
        if with_chars:
            block["char_list"] = _char_list(line)
        blocks.append(block)
    return blocks


# --- tables ---------------------------------------------------------------------------


def split_cells(line: Line) -> list[tuple[Word, ...]]:
    """The words of a line grouped into cells at gaps wider than ``CELL_GAP`` line heights."""
    words = sorted(line.words, key=lambda w: w.box[0])
    cells, current = [], [words[0]]
    for word in words[1:]:
        if word.box[0] - current[-1].box[2] > CELL_GAP * line.height:
            cells.append(tuple(current))
            current = []
        current.append(word)
    cells.append(tuple(current))
    return cells


def _columns_of(box: Box, anchors: list[Box]) -> list[int]:
    left, _, right, _ = box
    hit = [i for i, a in enumerate(anchors) if left < a[2] and right > a[0]]
    if hit:
        return hit
    centre = (left + right) / 2
    return [min(range(len(anchors)), key=lambda i: abs((anchors[i][0] + anchors[i][2]) / 2 - centre))]


def _regions(lines: list[Line]) -> Iterator[tuple[str, list[Line], list[list[tuple[Word, ...]]]]]:
    """Runs of consecutive lines: ("table", lines, cells per line) or ("text", lines, [])."""
    rows = [split_cells(line) for line in lines]
    i = 0
    while i < len(lines):
        is_table = len(rows[i]) > 1
        j = i
        while j < len(lines) and (len(rows[j]) > 1) == is_table:
            j += 1
        yield ("table" if is_table else "text"), lines[i:j], (rows[i:j] if is_table else [])
        i = j


def _cells(rows: list[list[tuple[Word, ...]]], with_location: bool) -> list[dict[str, Any]]:
    anchors = [union(w.box for w in cell) for cell in max(rows, key=len)]
    cells = []
    for r, row in enumerate(rows):
        for cell in row:
            box = union(w.box for w in cell)
            entry = {
                "words": " ".join(w.text for w in cell),
                "confidence": round(sum(w.confidence for w in cell) / len(cell), 4),
                "rows": [r],
                "columns": _columns_of(box, anchors),
            }
            if with_location:
                entry["location"] = quad(box)
            cells.append(entry)
    return cells


# --- the text APIs --------------------------------------------------------------------


def general_text(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any]:
    blocks = _blocks(lines, with_chars=bool(body.get("character_mode")))
    result: dict[str, Any] = {
        "direction": 0.0 if body.get("detect_direction") else -1.0,
        "words_block_count": len(blocks),
        "words_block_list": blocks,
    }
    if body.get("return_markdown_result"):
        result["markdown_result"] = "\n\n".join(line.text for line in lines)
    return result


def handwriting(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any]:
    blocks = _blocks(lines, type="text")
    return {"words_block_count": len(blocks), "words_block_list": blocks}


def web_image(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any]:
    blocks = _blocks(lines)
    extracted: dict[str, Any] = {}
    wanted = body.get("extract_type") or []
    if "image_size" in wanted and image.size is not None:
        extracted["image_size"] = {"width": image.size[0], "height": image.size[1]}
    if "contact_info" in wanted:
        phone = _PHONE.search("\n".join(line.text for line in lines))
        extracted["contact_info"] = {
            "name": "", "phone": phone.group(0) if phone else "", "province": "", "city": "",
            "district": "", "detail_address": "",
        }  # fmt: skip
    return {"words_block_count": len(blocks), "words_block_list": blocks, "extracted_data": extracted}


def general_table(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any]:
    with_location = bool(body.get("return_text_location"))
    regions = []
    for kind, region_lines, rows in _regions(lines):
        if kind == "table":
            blocks = _cells(rows, with_location)
        else:
            blocks = [{"words": line.text, "confidence": line.confidence} for line in region_lines]
            if with_location:
                for block, line in zip(blocks, region_lines):
                    block["location"] = quad(line.box)
        regions.append({"type": kind, "words_block_count": len(blocks), "words_block_list": blocks})
    return {"words_region_count": len(regions), "words_region_list": regions}


def _kv_result(lines: list[Line]) -> dict[str, Any]:
    blocks = []
    for line in lines:
        split = next((i for i, w in enumerate(line.words) if ":" in w.text), None)
        if split is None:
            continue
        head, _, tail = line.words[split].text.partition(":")
        key_words = [*line.words[:split], *([Word(head, 1, line.words[split].box)] if head else [])]
        value_words = [*([Word(tail, 1, line.words[split].box)] if tail else []), *line.words[split + 1 :]]
        if not key_words or not value_words:
            continue
        key = " ".join(w.text for w in key_words)
        value = " ".join(w.text for w in value_words)
        blocks.append(
            {
                "key": key,
                "value": value,
                "words_block_count": 2,
                "words_block_list": [
                    {"words": key, "location": quad(union(w.box for w in key_words)), "type": "key"},
                    {"words": value, "location": quad(union(w.box for w in value_words)), "type": "value"},
                ],
            }
        )
    return {"kv_block_count": len(blocks), "kv_block_list": blocks}


def smart_document(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> list[dict[str, Any]]:
    blocks = []
    for block in _blocks(lines, with_chars=bool(body.get("character_mode"))):
        blocks.append({"words": block.pop("words"), "location": block.pop("location"), **block})
    page: dict[str, Any] = {
        "ocr_result": {"direction": 0.0, "words_block_count": len(blocks), "words_block_list": blocks}
    }
    regions = list(_regions(lines))
    if body.get("kv"):
        page["kv_result"] = _kv_result(lines)
    if body.get("table"):
        tables = []
        for kind, region_lines, rows in regions:
            if kind == "table":
                cells = [{k: c[k] for k in ("words", "rows", "columns")} for c in _cells(rows, False)]
                box = union(line.box for line in region_lines)
                tables.append(
                    {"words_block_count": len(cells), "words_block_list": cells, "location": quad(box)}
                )
        page["table_result"] = {"table_count": len(tables), "table_list": tables}
    if body.get("layout"):
        layout, line_index, table_id = [], 0, 0
        for kind, region_lines, _ in regions:
            ids = list(range(line_index, line_index + len(region_lines)))
            line_index += len(region_lines)
            if kind == "table":
                box = union(line.box for line in region_lines)
                text = "\n".join(line.text for line in region_lines)
                layout.append({"location": quad(box), "type": "table", "text": text, "words_ids": ids,
                               "table_id": table_id})  # fmt: skip
                table_id += 1
            else:
                for i, line in zip(ids, region_lines):
                    layout.append(
                        {"location": quad(line.box), "type": "text", "text": line.text, "words_ids": [i]}
                    )
        page["layout_result"] = {"layout_block_count": len(layout), "layout_block_list": layout}
    if body.get("form"):
        page["form_result"] = {"form_count": 0, "form_list": []}
    if body.get("formula"):
        page["formula_result"] = {"formula_count": 0, "formula_list": []}
    return [page]


TEXT_BUILDERS: dict[str, Callable[[list[Line], dict[str, Any], CheckedImage], Any]] = {
    "general-text": general_text,
    "handwriting": handwriting,
    "web-image": web_image,
    "general-table": general_table,
    "smart-document-recognizer": smart_document,
}


# --- the structured APIs ----------------------------------------------------------------


def _is_points(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in p)
            for p in value
        )
    )


def _point_lists(node: Any) -> Iterator[list[list[float]]]:
    if _is_points(node):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _point_lists(value)
    elif isinstance(node, list):
        for value in node:
            yield from _point_lists(value)


def _crop_jpeg(data: bytes, box: Box) -> str | None:
    if _PILImage is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with _PILImage.open(io.BytesIO(data)) as image:
                left, top, right, bottom = box
                crop = image.convert("RGB").crop((left, top, max(right, left + 1), max(bottom, top + 1)))
        buf = io.BytesIO()
        crop.save(buf, format="JPEG", quality=80)
    except Exception:  # noqa: BLE001 - an image Pillow cannot decode keeps the documented text
        return None
    return base64.b64encode(buf.getvalue()).decode("ascii")


def fitted_example(slug: str, image: CheckedImage) -> dict[str, Any]:
    """The documented example of ``slug`` with coordinates scaled into the image."""
    answer = example_response(slug)
    if image.size is None:
        return answer
    width, height = image.size
    point_lists = list(_point_lists(answer))
    if point_lists:
        max_x = max(p[0] for points in point_lists for p in points) or 1
        max_y = max(p[1] for points in point_lists for p in points) or 1
        factor = min(1.0, (width - 1) / max_x, (height - 1) / max_y)
        for points in point_lists:
            for p in points:
                p[0] = min(width - 1, max(0, round(p[0] * factor)))
                p[1] = min(height - 1, max(0, round(p[1] * factor)))
    result = answer.get("result")
    if (
        isinstance(result, dict)
        and _is_points(result.get("portrait_location"))
        and "portrait_image" in result
    ):
        points = result["portrait_location"]
        box = (
            min(p[0] for p in points),
            min(p[1] for p in points),
            max(p[0] for p in points),
            max(p[1] for p in points),
        )
        crop = _crop_jpeg(image.data, box)
        if crop is not None:
            result["portrait_image"] = crop
    return answer


def build(slug: str, body: dict[str, Any], image: CheckedImage, reader: TextReader) -> tuple[Any, str]:
    """(answer body, how it was made: ``tesseract``, ``synthetic`` or ``documented``)."""
    builder = TEXT_BUILDERS.get(slug)
    if builder is None:
        return fitted_example(slug, image), "documented"
    lines, engine = reader.read(image.data, image.fmt, image.size, body.get("language"))
    return {"result": builder(lines, body, image)}, engine
