"""Builds each API's 200 answer from the image, in the shape the docs give.

* Text APIs (general-text, handwriting, web-image, general-table and the
  ``ocr_result``/``kv_result``/``table_result``/``layout_result`` parts of
  smart-document-recognizer) read the image with :mod:`.ocr`: one words block
  per recognised line, 4-point locations, confidences 0..1.
* Tables come from line structure: each line is a row, and a wide horizontal
  gap between words starts a new cell. Columns are anchored on the row with
  the most cells; other rows' cells take the columns they overlap.
* Structured APIs read the image too (:mod:`.documents`): passport fields
  from the machine-readable zone, ID-card fields from ``Label: value``
  lines, the document kind for both classification APIs from keywords and
  layout. Where nothing can be read (no zone, no label, the synthetic
  reader, a licence plate), they answer their documented example with every
  coordinate scaled to fit inside the image and, when Pillow can decode the
  image, a real portrait crop; the ``X-Emulator-Ocr: documented`` header
  says so.
* The APIs added with the vendor's whole surface (mostly mainland documents) are
  read in :mod:`.mainland`: labelled Chinese fields, plates and VINs by their form,
  financial statements as tables, bank receipts as key-value pairs. Where nothing
  can be read and the vendor's example is not shipped, the answer is the documented
  shape (every field, typed placeholders), with ``X-Emulator-Ocr: shape``.
* Every answer is then fitted to the catalog's response model for the
  request (:mod:`.shape`): fields whose flag is off are left out, documented
  fields nothing could be read for are returned empty; auto-classification keeps
  only the documents of the requested ``type_list``.
"""

from __future__ import annotations

import base64
import datetime
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.response_model import ResponseModel
from airflow_provider_hwocr.catalog.responses import response_model
from airflow_provider_hwocr.emulator import documents, mainland, pages, shape
from airflow_provider_hwocr.emulator.examples import example_response, has_variant, is_documented
from airflow_provider_hwocr.emulator.ocr import REAL_ENGINES, Box, Line, TextReader, Word, quad, union
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


#: A run of lines: ("table", lines, cells per line) or ("text", lines, []).
Region = tuple[str, list[Line], list[list[tuple[Word, ...]]]]


def _regions(lines: list[Line]) -> Iterator[Region]:
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


#: The emulator cannot tell fonts apart: with detect_font it names these, most likely first.
FONT_GUESSES = ("DejaVu Sans", "Arial", "Helvetica", "Liberation Sans", "Verdana")


def web_image(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any]:
    blocks = _blocks(lines)
    if body.get("detect_font"):
        for block in blocks:
            block["font_list"] = list(FONT_GUESSES)
            block["font_scores"] = [round(0.6 - 0.1 * i, 2) for i in range(len(FONT_GUESSES))]
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


def _words_list(line_words: list[tuple[Word, ...]], with_chars: bool) -> list[dict[str, Any]]:
    """The text lines inside one cell (general-table's ``words_list``)."""
    out = []
    for words in line_words:
        line = Line(words)
        entry: dict[str, Any] = {
            "words": line.text,
            "confidence": line.confidence,
            "location": quad(line.box),
        }
        if with_chars:
            entry["char_list"] = _char_list(line)
        out.append(entry)
    return out


def _table_blocks(
    rows: list[list[tuple[Word, ...]]], with_location: bool, with_chars: bool
) -> list[dict[str, Any]]:
    """general-table's blocks of a table region: one per cell (with its lines when located)."""
    blocks = _cells(rows, with_location)
    if with_location:
        cell_words = [cell for row in rows for cell in row]
        for block, words in zip(blocks, cell_words):
            block["cell_location"] = block["location"]
            block["words_list"] = _words_list([words], with_chars)
    return blocks


def _text_blocks(region_lines: list[Line], with_location: bool, with_chars: bool) -> list[dict[str, Any]]:
    """general-table's blocks of a text region: one per line."""
    blocks: list[dict[str, Any]] = [
        {"words": line.text, "confidence": line.confidence} for line in region_lines
    ]
    if with_location:
        for block, line in zip(blocks, region_lines):
            block["location"] = quad(line.box)
            block["words_list"] = _words_list([line.words], with_chars)
    return blocks


def general_table(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any]:
    with_location = bool(body.get("return_text_location"))
    with_chars = with_location and bool(body.get("return_char_location"))
    regions = []
    for kind, region_lines, rows in _regions(lines):
        if kind == "table":
            blocks = _table_blocks(rows, with_location, with_chars)
        else:
            blocks = _text_blocks(region_lines, with_location, with_chars)
        regions.append({"type": kind, "words_block_count": len(blocks), "words_block_list": blocks})
    result: dict[str, Any] = {"words_region_count": len(regions), "words_region_list": regions}
    if body.get("return_excel"):
        result["excel"] = excel_base64(regions)
    return result


def excel_base64(regions: list[dict[str, Any]]) -> str:
    """The regions as a Base64 .xlsx: text lines one per row, table cells at their row and column."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook()
    sheet = book.active
    row = 1
    for region in regions:
        if region["type"] == "table":
            height = 0
            for cell in region["words_block_list"]:
                r, c = cell["rows"][0], cell["columns"][0]
                sheet.cell(row=row + r, column=1 + c, value=cell["words"])
                height = max(height, r + 1)
            row += height
        else:
            for block in region["words_block_list"]:
                sheet.cell(row=row, column=1, value=block["words"])
                row += 1
    fixed = datetime.datetime(2020, 1, 1)  # the same regions give the same bytes, call after call
    book.properties.created = book.properties.modified = fixed
    buf = io.BytesIO()
    # not book.save(): it sets the document's "modified" to the time of saving
    ExcelWriter(book, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save()
    out = io.BytesIO()  # zipfile stamps each member with the time of writing: restamp them
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=fixed.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, src.read(info))
    return base64.b64encode(out.getvalue()).decode("ascii")


def _key_and_value(line: Line) -> tuple[list[Word], list[Word]] | None:
    """A line's words cut at the first colon: (key words, value words); None without a colon or a side."""
    split = next((i for i, w in enumerate(line.words) if ":" in w.text), None)
    if split is None:
        return None
    at = line.words[split]
    head, _, tail = at.text.partition(":")
    key_words = [*line.words[:split], *([Word(head, 1, at.box)] if head else [])]
    value_words = [*([Word(tail, 1, at.box)] if tail else []), *line.words[split + 1 :]]
    if not key_words or not value_words:
        return None
    return key_words, value_words


def _kv_block(key_words: list[Word], value_words: list[Word]) -> dict[str, Any]:
    key = " ".join(w.text for w in key_words)
    value = " ".join(w.text for w in value_words)
    return {
        "key": key,
        "value": value,
        "words_block_count": 2,
        "words_block_list": [
            {"words": key, "location": quad(union(w.box for w in key_words)), "type": "key"},
            {"words": value, "location": quad(union(w.box for w in value_words)), "type": "value"},
        ],
    }


def _kv_result(lines: list[Line]) -> dict[str, Any]:
    pairs = (_key_and_value(line) for line in lines)
    blocks = [_kv_block(*pair) for pair in pairs if pair is not None]
    return {"kv_block_count": len(blocks), "kv_block_list": blocks}


def _ocr_result(lines: list[Line], body: dict[str, Any]) -> dict[str, Any]:
    """smart-document-recognizer's ``ocr_result``: the text blocks, words and location first."""
    blocks = []
    for block in _blocks(lines, with_chars=bool(body.get("character_mode"))):
        blocks.append({"words": block.pop("words"), "location": block.pop("location"), **block})
    return {"direction": 0.0, "words_block_count": len(blocks), "words_block_list": blocks}


def _table_result(regions: list[Region], body: dict[str, Any]) -> dict[str, Any]:
    """smart-document-recognizer's ``table_result``: each table region's cells (and its .xlsx if asked)."""
    tables = []
    for kind, region_lines, rows in regions:
        if kind != "table":
            continue
        cells = [{k: c[k] for k in ("words", "rows", "columns")} for c in _cells(rows, False)]
        box = union(line.box for line in region_lines)
        table = {"words_block_count": len(cells), "words_block_list": cells, "location": quad(box)}
        if body.get("return_excel"):
            table["excel"] = excel_base64([{"type": "table", "words_block_list": cells}])
        tables.append(table)
    return {"table_count": len(tables), "table_list": tables}


def _layout_result(regions: list[Region]) -> dict[str, Any]:
    """smart-document-recognizer's ``layout_result``: a block per table region and per text line."""
    layout: list[dict[str, Any]] = []
    line_index, table_id = 0, 0
    for kind, region_lines, _ in regions:
        ids = list(range(line_index, line_index + len(region_lines)))
        line_index += len(region_lines)
        if kind == "table":
            box = union(line.box for line in region_lines)
            text = "\n".join(line.text for line in region_lines)
            layout.append({"location": quad(box), "type": "table", "text": text, "words_ids": ids,
                           "table_id": table_id})  # fmt: skip
            table_id += 1
            continue
        for i, line in zip(ids, region_lines):
            layout.append({"location": quad(line.box), "type": "text", "text": line.text, "words_ids": [i]})
    return {"layout_block_count": len(layout), "layout_block_list": layout}


def smart_document(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> list[dict[str, Any]]:
    page: dict[str, Any] = {"ocr_result": _ocr_result(lines, body)}
    regions = list(_regions(lines))
    if body.get("kv"):
        page["kv_result"] = _kv_result(lines)
    if body.get("table"):
        page["table_result"] = _table_result(regions, body)
    if body.get("layout"):
        page["layout_result"] = _layout_result(regions)
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


def _scale_into(answer: dict[str, Any], width: int, height: int) -> None:
    """Shrink (never grow) every point list of ``answer`` by one factor so that all fit the image."""
    point_lists = list(_point_lists(answer))
    if not point_lists:
        return
    max_x = max(p[0] for points in point_lists for p in points) or 1
    max_y = max(p[1] for points in point_lists for p in points) or 1
    factor = min(1.0, (width - 1) / max_x, (height - 1) / max_y)
    for points in point_lists:
        for p in points:
            p[0] = min(width - 1, max(0, round(p[0] * factor)))
            p[1] = min(height - 1, max(0, round(p[1] * factor)))


def _crop_portrait(result: Any, image: CheckedImage) -> None:
    """A documented ``portrait_image`` replaced by the crop of the image at ``portrait_location``."""
    if not (
        isinstance(result, dict)
        and _is_points(result.get("portrait_location"))
        and "portrait_image" in result
    ):
        return
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


def fitted_example(slug: str, image: CheckedImage, variant: str | None = None) -> dict[str, Any]:
    """The documented example of ``slug`` (or its ``variant``) with coordinates scaled into the image."""
    answer = example_response(slug, variant)
    if image.size is None:
        return answer
    _scale_into(answer, *image.size)
    _crop_portrait(answer.get("result"), image)
    return answer


# --- structured APIs read off the image ---------------------------------------------------

#: The classifier's document kinds -> auto-classification's ``type`` values. A till receipt is
#: what the docs call a general VAT roll invoice.
CLASSIFICATION_TYPES = {
    "passport": "passport",
    "id_card": "id_card_portrait_side",
    "driver_license": "driver_license_front",
    "invoice": "vat_invoice",
    "receipt": "vat_roll_invoice",
    "taxi_invoice": "taxi_invoice",
    "train_ticket": "train_ticket",
    "flight_itinerary": "flight_itinerary",
    "toll_invoice": "toll_invoice",
}
#: The classifier's kinds -> auto-id-doc-classification's ``type`` values (ID documents only).
ID_DOC_TYPES = {"passport": "passport", "id_card": "id_card", "driver_license": "myanmar_driver_license"}
_SUCCEEDED = {"error_code": "AIS.0000", "error_msg": "Succeeded."}
_UNSUPPORTED = {
    "error_code": "AIS.0104",
    "error_msg": "The image is not supported or the image quality is poor.",
}


def _padded(box: Box | None, image: CheckedImage, pad: int = 10) -> list[list[int]]:
    width, height = image.size or (1, 1)
    if box is None:
        return [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
    left, top, right, bottom = box
    return quad(
        (max(0, left - pad), max(0, top - pad), min(width - 1, right + pad), min(height - 1, bottom + pad))
    )


def _mrz_fields(mrz: documents.Mrz) -> dict[str, Any]:
    fields = {
        "country_code": mrz.country_code,
        "surname": mrz.surname,
        "given_name": mrz.given_name,
        "passport_number": mrz.passport_number,
        "date_of_birth": mrz.date_of_birth,
        "sex": mrz.sex,
        "date_of_expiry": mrz.date_of_expiry,
    }
    return {**fields, "confidence": {name: mrz.confidence for name in fields}}


def passport(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any] | None:
    mrz = documents.read_mrz(lines)
    if mrz is None:
        return None
    result = _mrz_fields(mrz)
    if mrz.nationality != mrz.country_code:
        result["nationality"] = mrz.nationality
        result["confidence"]["nationality"] = mrz.confidence
    result.update(machine_code=mrz.line1, machine_code2=mrz.line2, extra_info={})
    return result


def _document_content(kind: documents.Kind, lines: list[Line]) -> dict[str, Any]:
    if kind.mrz is not None:
        return _mrz_fields(kind.mrz)
    if kind.kind in ("id_card", "driver_license"):
        labels = documents.labelled_fields(lines)
        content = {name: found.value for name, found in labels.items()}
        return {**content, "confidence": {name: found.confidence for name, found in labels.items()}}
    content = documents.amounts(lines)
    confidence = round(sum(line.confidence for line in lines) / max(1, len(lines)), 4)
    return {**content, "confidence": {name: confidence for name in content}}


def auto_classification(
    lines: list[Line], body: dict[str, Any], image: CheckedImage
) -> list[dict[str, Any]] | None:
    """One item per document found (this emulator finds one per image), with its own status."""
    if not lines:
        return None
    kind = documents.classify(lines)
    doc_type = CLASSIFICATION_TYPES.get(kind.kind or "")
    location = _padded(kind.box, image)
    if doc_type is None:
        return [{"status": dict(_UNSUPPORTED), "type": "", "location": location, "content": {}}]
    wanted = body.get("type_list")
    if wanted and doc_type not in wanted:
        return []  # documents of other types are ignored
    content = _document_content(kind, lines)
    return [{"status": dict(_SUCCEEDED), "type": doc_type, "location": location, "content": content}]


def auto_id_doc_classification(
    lines: list[Line], body: dict[str, Any], image: CheckedImage
) -> dict[str, Any] | None:
    kind = documents.classify(lines)
    doc_type = ID_DOC_TYPES.get(kind.kind or "")
    if doc_type is None:
        return None
    result: dict[str, Any] = {
        "type": doc_type,
        "location": _padded(kind.box, image),
        "confidence": kind.confidence,
    }
    # Alarms (alarm=true): a clean rendered page raises none; the model adds them as false / 0.
    return result


def _portrait_box(lines: list[Line], image: CheckedImage) -> Box | None:
    """The free area left of the text block, where cards print the photo."""
    if not lines or image.size is None:
        return None
    width, height = image.size
    left, top, _, bottom = union(line.box for line in lines)
    if left < width // 4:
        return None
    return (max(0, width // 20), max(0, top), max(1, left - width // 40), min(height - 1, bottom))


#: A card printing one "Name" line: its first word fills these fields, the rest the second set.
_GIVEN_NAME_FIELDS = ("given_name", "first_name", "first_name_en")
_FAMILY_NAME_FIELDS = ("surname", "last_name", "last_name_en", "first_surname")


def _split_full_name(labels: dict[str, documents.Labelled]) -> None:
    """A whole name (``Name: ANNA MARIA``) also given as given name and surname, unless printed apart."""
    full_name = documents.field_value("name", labels)
    if full_name is None or " " not in full_name.value:
        return
    given, _, family = full_name.value.partition(" ")
    for targets, value in ((_GIVEN_NAME_FIELDS, given), (_FAMILY_NAME_FIELDS, family)):
        for name in targets:
            labels.setdefault(name, documents.Labelled(value, full_name.confidence, full_name.box))


def _card_value(
    name: str, labels: dict[str, documents.Labelled], mrz: documents.Mrz | None
) -> tuple[str, float, Box] | None:
    """(value, confidence, box) of a documented field: its label first, else the machine-readable zone."""
    found = documents.field_value(name, labels)
    if found is not None:
        return found.value, found.confidence, found.box
    if mrz is not None:
        from_mrz = _mrz_id_fields(mrz)
        if name in from_mrz:
            return from_mrz[name], mrz.confidence, mrz.box
    return None


def _card_fields(
    model: ResponseModel, labels: dict[str, documents.Labelled], mrz: documents.Mrz | None
) -> tuple[dict[str, Any], dict[str, float], dict[str, Any]]:
    """The text fields of the model that were read: (values, confidences, locations)."""
    result: dict[str, Any] = {}
    confidence: dict[str, float] = {}
    locations: dict[str, Any] = {}
    for field in model.fields:
        if field.type not in ("str", "list[str]") or field.when or field.name == "side":
            continue
        found = _card_value(field.name, labels, mrz)
        if found is None:
            continue
        value, conf, box = found
        result[field.name] = value.split() if field.type == "list[str]" else value
        confidence[field.name] = conf
        locations[field.name] = quad(box)
    return result, confidence, locations


def _with_identity(
    result: dict[str, Any], names: set[str], body: dict[str, Any], mrz: documents.Mrz | None
) -> dict[str, Any]:
    """``side`` first (as asked, else front); ``id_type`` and ``country_region`` where documented."""
    if "side" in names:
        result = {"side": body.get("side") or "front", **result}
    if "id_type" in names:
        result["id_type"] = "PP" if mrz is not None else "ID"
        regions = body.get("country_region") or []
        result["country_region"] = regions[0] if regions else (mrz.country_code if mrz else "")
    return result


def _add_card_images(result: dict[str, Any], names: set[str], lines: list[Line], image: CheckedImage) -> None:
    """The portrait's location and crop, and the image itself as ``adjusted_image``, where documented."""
    portrait = _portrait_box(lines, image)
    if portrait is not None and "portrait_location" in names:
        result["portrait_location"] = quad(portrait)
    if portrait is not None and "portrait_image" in names:
        crop = _crop_jpeg(image.data, portrait)
        if crop is not None:
            result["portrait_image"] = crop
    if "adjusted_image" in names:
        result["adjusted_image"] = base64.b64encode(image.data).decode("ascii")


def id_card(slug: str, lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any] | None:
    """Labelled fields (``Name: ...``) read off a card, under the API's documented field names."""
    labels = documents.labelled_fields(lines)
    _split_full_name(labels)
    mrz = documents.read_mrz(lines)
    model = response_model(slug)
    result, confidence, locations = _card_fields(model, labels, mrz)
    if not result:
        return None
    names = {f.name for f in model.fields}
    result = _with_identity(result, names, body, mrz)
    result["confidence"] = confidence
    if "text_location" in names:
        result["text_location"] = locations
    _add_card_images(result, names, lines, image)
    if "idcard_type" in names:
        result["idcard_type"] = "normal"
    return result


def _mrz_id_fields(mrz: documents.Mrz) -> dict[str, str]:
    return {
        "first_name": mrz.given_name, "given_name": mrz.given_name, "last_name": mrz.surname,
        "surname": mrz.surname, "document_number": mrz.passport_number, "nationality": mrz.nationality,
        "birth_date": mrz.date_of_birth, "expiry_date": mrz.date_of_expiry, "sex": mrz.sex,
    }  # fmt: skip


STRUCTURED_BUILDERS: dict[str, Callable[[list[Line], dict[str, Any], CheckedImage], Any]] = {
    "passport": passport,
    "auto-classification": auto_classification,
    "auto-id-doc-classification": auto_id_doc_classification,
}
#: APIs whose fields are printed with labels on the card.
ID_CARD_APIS = frozenset(
    {
        "id-document", "thailand-id-card", "colombia-id-card", "cambodian-idcard", "myanmar-id-card",
        "myanmar-driver-license", "chile-id-card", "vietnam-id-card", "peru-id-card",
    }
)  # fmt: skip


def _documented(slug: str, body: dict[str, Any], image: CheckedImage) -> dict[str, Any]:
    """The documented example that fits the request best (the back of a card, a non-Chinese passport)."""
    variant = None
    if body.get("side") == "back" and has_variant(slug, "back"):
        variant = "back"
    elif slug == "passport" and body.get("country_code") == "GENERAL":
        variant = "general"
    answer = fitted_example(slug, image, variant)
    result = answer.get("result")
    has_side = any(f.name == "side" for f in response_model(slug).fields)
    if isinstance(result, dict) and has_side and body.get("side") in ("front", "back"):
        result["side"] = body["side"]
    return answer


def honour_type_list(slug: str, body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """auto-classification: documents of a type outside ``type_list`` are not recognised (nor billed)."""
    wanted = body.get("type_list")
    result = answer.get("result")
    if slug == "auto-classification" and wanted and isinstance(result, list):
        answer["result"] = [item for item in result if isinstance(item, dict) and item.get("type") in wanted]
    return answer


def financial_statement(lines: list[Line], body: dict[str, Any], image: CheckedImage) -> dict[str, Any]:
    rows = []
    for kind, region_lines, cells in _regions(lines):
        if kind == "table":
            rows.append((kind, _cells(cells, True)))
        else:
            rows.append(
                (
                    kind,
                    [
                        {"words": ln.text, "confidence": ln.confidence, "location": quad(ln.box)}
                        for ln in region_lines
                    ],
                )
            )
    result = mainland.financial_statement(rows, body, image)
    if body.get("return_excel"):
        result["excel"] = excel_base64(
            [{"type": k, "words_block_list": [{**c, "rows": c.get("rows", [0]), "columns": c.get("columns", [0])}
                                              for c in cells]} for k, cells in rows]
        )  # fmt: skip
    if body.get("return_image_size") and image.size is not None:
        result["image_size"] = {"height": image.size[1], "width": image.size[0]}
    return result


TEXT_BUILDERS["financial-statement"] = financial_statement


def _read(slug: str, lines: list[Line], body: dict[str, Any], image: CheckedImage) -> Any:
    """What the image says for a structured API, or None when nothing could be read."""
    if slug in STRUCTURED_BUILDERS:
        return STRUCTURED_BUILDERS[slug](lines, body, image)
    if slug in ID_CARD_APIS:
        return id_card(slug, lines, body, image)
    if slug in mainland.BUILDERS:
        return mainland.BUILDERS[slug](lines, body, image)
    if slug in mainland.LABELS:
        return mainland.labelled(slug, lines, body, image)
    return None


def _recognise(
    reader: TextReader, image: CheckedImage, body: dict[str, Any], chinese: bool
) -> tuple[list[Line], str, CheckedImage]:
    """(lines, engine, the image they were read from): a document's page is rendered (and an
    OFD's text parsed, unless ``ofd_to_image_mode``) first, then read like an image."""
    language = body.get("language")
    if image.fmt not in pages.DOCUMENT_FORMATS:
        lines, engine = reader.read(image.data, image.fmt, image.size, language, chinese=chinese)
        return lines, engine, image
    page = pages.render(image.data, image.fmt, image.page, parse_ofd=not body.get("ofd_to_image_mode"))
    shown = CheckedImage(page.png, "PNG", page.size, image.page, image.pages)
    if page.lines is not None:
        return list(page.lines), pages.PARSED, shown
    lines, engine = reader.read(page.png, "PNG", page.size, language, chinese=chinese)
    return lines, engine, shown


#: Fields of a response model that tell the document's pages -> the page attribute they hold.
_PAGE_NUMBERS = {"total_pages": "pages", "current_page": "page"}


def _fit(slug: str, body: dict[str, Any], answer: dict[str, Any], image: CheckedImage) -> dict[str, Any]:
    """The answer fitted to the model, with the page numbers where the model has them."""
    result = answer.get("result")
    if isinstance(result, dict):
        documented = {f.name for f in response_model(slug).fields}
        for name, attribute in _PAGE_NUMBERS.items():
            if name in documented:
                result[name] = getattr(image, attribute)  # fit() types it as the model says
    return shape.fit(slug, body, answer, image.size)


def build(slug: str, body: dict[str, Any], image: CheckedImage, reader: TextReader) -> tuple[Any, str]:
    """(answer body, how it was made: ``rapidocr``, ``tesserocr``, ``tesseract``, ``synthetic``,
    ``ofd`` (an OFD page's own text), ``documented`` (the vendor's example) or ``shape`` (the
    documented shape, nothing read))."""
    api = get_api(slug)
    if api.image_field is None:  # invoice-verification: the request is the input
        answer = shape.model_example(slug)
        answer["result"].update(mainland.invoice_verification(body))
        return shape.fit(slug, body, answer, None), "shape"
    lines, engine, image = _recognise(reader, image, body, chinese=api.category == "mainland")
    builder = TEXT_BUILDERS.get(slug)
    if builder is not None:
        return _fit(slug, body, {"result": builder(lines, body, image)}, image), engine
    result = _read(slug, lines, body, image) if engine in (*REAL_ENGINES, pages.PARSED) else None
    if result is None:
        made_by = "documented" if is_documented(slug) else "shape"
        answer = honour_type_list(slug, body, _documented(slug, body, image))
        return _fit(slug, body, answer, image), made_by
    return _fit(slug, body, {"result": result}, image), engine
