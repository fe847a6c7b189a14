"""One stored result envelope as typed rows of its API's tables (the columns: ``catalog/tables.py``).

Pure functions, no I/O, no pyarrow: :func:`envelope_rows` takes the JSON object
:func:`~airflow_provider_hwocr.runtime.envelopes.envelope` wrote and returns, per table, its
rows as dicts keyed by column name, every column present, values typed for the column:
``str``, ``int``, ``float``, ``bool``, :class:`~decimal.Decimal` (quantized to the column's
scale), :class:`~datetime.date`, :class:`~datetime.datetime` (UTC). :func:`failure_rows` is the
header row of a page that has no result (its call failed), so the table accounts for it too.

Printed amounts and dates are read by :func:`parse_amount` and :func:`parse_date`; text either
cannot read goes, as printed, to the column's raw companion (``total_raw``), never lost. A value
whose JSON type is not the documented one is converted when that is exact (``"3"`` for an
integer), else left empty.

A reviewed page (its envelope has a ``review`` record, ``runtime/review/decision.py``) has
``reviewed`` true and, when the reviewer rejected it, ``status`` ``rejected`` on every row of
its header table (``error`` says who rejected it); its ``result`` already holds the corrections.

A page is one call (``catalog/pages.py``): its number is the envelope's ``page`` (or its
source's), else the request's page field (``page_num``, ``pdf_page_number``), else 1;
``pages`` likewise, else unknown.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.response_model import (
    ERROR_CODE_FIELD,
    ERROR_MSG_FIELD,
    document_statuses,
    error_in_success,
)
from airflow_provider_hwocr.catalog.tables import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_REJECTED,
    Column,
    Table,
    api_tables,
)
from airflow_provider_hwocr.client.sources import source_identity
from airflow_provider_hwocr.runtime.review.decision import review_of
from airflow_provider_hwocr.runtime.text_export import text_pages

__all__ = [
    "ROWS_VERSION",
    "Row",
    "envelope_rows",
    "failure_rows",
    "parse_amount",
    "parse_date",
    "source_of",
]

Row = dict[str, Any]

#: The version of the rows an envelope makes: change it with any change of :func:`envelope_rows`' output
#: for the same envelope (a column, a parser). A table's content digest counts the pages it was made of
#: with this version (``write.page_digest``), so files made by other rows are written again.
ROWS_VERSION = "1"

# --- printed amounts and dates ---------------------------------------------------------------------

#: Currency marks printed around amounts (after NFKC: full-width ``￥`` is ``¥``).
_CURRENCY = re.compile(r"[¥$]|元|圆|人民币|CNY|RMB", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?")
_MINUS = str.maketrans({"−": "-", "—": "-"})
_ASCII_DIGIT = re.compile(r"[0-9]")


def parse_amount(value: Any, scale: int = 2, precision: int = 18) -> Decimal | None:
    """A printed amount as a :class:`Decimal` with ``scale`` digits after the point, or ``None``.

    Reads ``¥1,234.50``, ``￥１２３４．５``, ``1234.5元``, ``-56.00``: currency marks, spaces and
    thousands separators go, full-width digits are read (NFKC). ``None`` for text that is no
    number, and for a number the column cannot hold exactly (more decimals than ``scale``, more
    digits than ``precision``): rounding would change the printed value.
    """
    if isinstance(value, bool) or value is None:
        return None
    text = str(value)
    if text.isascii():  # NFKC and the minus signs leave it as it is
        if _ASCII_DIGIT.search(text) is None:  # no number in it (a placeholder, a word)
            return None
    else:
        text = unicodedata.normalize("NFKC", text).translate(_MINUS)
    text = _CURRENCY.sub("", text).replace(" ", "")
    if not text or not _NUMBER.fullmatch(text) or not any(ch.isdigit() for ch in text):
        return None
    try:
        number = Decimal(text.replace(",", ""))
        quantized = number.quantize(Decimal(1).scaleb(-scale))
    except InvalidOperation:
        return None
    if quantized != number or len(quantized.as_tuple().digits) > precision:
        return None
    return quantized


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_date(value: Any) -> date | None:
    """A printed date, year first: ``2026年11月30日``, ``2026-11-30``, ``2026/11/30``, ``2026.11.30``,
    ``20261130`` (full-width digits too); ``None`` for anything else (no day-first guessing)."""
    if not isinstance(value, str):
        return None
    if value.isascii():  # NFKC leaves it as it is
        if _ASCII_DIGIT.search(value) is None:  # no number in it (a placeholder, a word)
            return None
        text = value.strip()
    else:
        text = unicodedata.normalize("NFKC", value).strip()
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


# --- one value -------------------------------------------------------------------------------------


#: What ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` uses, made once.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
#: The same encoder's C function, made once (``JSONEncoder.encode`` makes one per call, most of the cost
#: of encoding a short list): no check for circular references, which a parsed JSON document cannot
#: have, so it keeps no state between calls. ``None`` without the ``_json`` accelerator.
_C_ENCODE = (
    None
    if getattr(json.encoder, "c_make_encoder", None) is None
    else json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if _C_ENCODE is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


def _string(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return _json(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


_PLAIN: dict[str, Callable[[Any], Any]] = {"string": _string, "int64": _int, "float64": _float, "bool": _bool}


def _reader(column: Column) -> Callable[[Any], tuple[Any, str | None]]:
    """``value -> (typed value, raw text when a printed value could not be read)``."""
    if column.parse == "json":
        return lambda v: (_json(v), None)
    if column.parse == "amount":
        scale, precision = column.scale or 0, column.precision or 18
        return lambda v: _printed(v, parse_amount(v, scale, precision))
    if column.parse == "date":
        return lambda v: _printed(v, parse_date(v))
    plain = _PLAIN[column.type]
    return lambda v: (plain(v), None)


def _printed(value: Any, parsed: Any) -> tuple[Any, str | None]:
    if parsed is not None or value is None or value == "":
        return parsed, None
    return None, _string(value)


# --- paths ---------------------------------------------------------------------------------------

Steps = tuple[tuple[str, bool], ...]
_MISSING = object()


def _steps(path: str) -> Steps:
    """``item_list[].amount`` -> ``(("item_list", True), ("amount", False))`` (``True``: a list)."""
    if not path:
        return ()
    return tuple((step.removesuffix("[]"), step.endswith("[]")) for step in path.split("."))


def _get(node: Any, steps: Steps, indices: tuple[int, ...]) -> Any:
    """The value at ``steps`` from ``node``, each list step taking the next of ``indices``."""
    position = 0
    for key, listed in steps:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
        if listed:
            if not isinstance(node, list) or position >= len(indices) or indices[position] >= len(node):
                return None
            node = node[indices[position]]
            position += 1
    return node


def _expand(node: Any, steps: Steps, indices: tuple[int, ...] = ()) -> Iterator[tuple[int, ...]]:
    """The index tuple of every item of the (nested) list at ``steps`` (its last step is the list)."""
    if not steps:
        yield indices
        return
    (key, listed), rest = steps[0], steps[1:]
    value = node.get(key) if isinstance(node, dict) else None
    if not rest or listed:
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _expand(item, rest, (*indices, i))
        return
    yield from _expand(value, rest, indices)


# --- tables --------------------------------------------------------------------------------------


#: How a cell's value is read (:func:`_fill`): ``str`` taken as it is (a plain text column), a ``float``
#: as it is (a plain float column), a printed amount, a printed date; else by the cell's reader.
_READ_OTHER, _READ_TEXT, _READ_FLOAT, _READ_AMOUNT, _READ_DATE = range(5)


@dataclass(frozen=True)
class _Cell:
    name: str
    steps: Steps
    read: Callable[[Any], tuple[Any, str | None]]
    raw: str | None
    #: A path whose last step is a field, not a list (most are): that field's key; else ``None``.
    key: str | None = None
    #: How the value is read: :data:`_READ_TEXT`, :data:`_READ_FLOAT`, :data:`_READ_AMOUNT`, :data:`_READ_DATE` or :data:`_READ_OTHER`.
    kind: int = _READ_OTHER
    #: A printed amount's scale and precision.
    scale: int = 0
    precision: int = 18


#: A keyed cell as :func:`_fill` reads it: (key, name, raw, kind, read, scale, precision).
Spec = tuple[str, str, "str | None", int, Callable[[Any], tuple[Any, str | None]], int, int]


@dataclass(frozen=True)
class _Group:
    """The cells whose fields one object holds, found once per row (``base``: the steps to it), split by
    how they are read: plain text and plain float cells (no raw companion) read a whole group at a time
    (their fields fetched by one ``map``, and set by one ``update`` when every value already has the
    column's type), every other cell one by one (:data:`Spec`). ``base`` ``None``: cells whose path
    ends in a list, each read along its own path (``cells``)."""

    base: Steps | None
    cells: tuple[_Cell, ...] = ()
    text_keys: tuple[str, ...] = ()
    text_names: tuple[str, ...] = ()
    float_keys: tuple[str, ...] = ()
    float_names: tuple[str, ...] = ()
    #: Printed amounts: (key, name, raw, scale, precision).
    amounts: tuple[tuple[str, str, str | None, int, int], ...] = ()
    #: Printed dates: (key, name, raw).
    dates: tuple[tuple[str, str, str | None], ...] = ()
    specs: tuple[Spec, ...] = ()


Groups = tuple[_Group, ...]


@dataclass(frozen=True)
class _Plan:
    table: Table
    #: The list's steps (``None``: the header table).
    items: Steps | None
    #: Key columns of the enclosing lists and the item's own index, in order.
    index_names: tuple[str, ...]
    cells: tuple[_Cell, ...]
    groups: Groups
    #: Every column ``None``, in the table's order: each row starts as a copy (a copy of a dict is
    #: cheaper than making one from the names).
    blank: Row = field(compare=False)
    #: Which of the page's keys (``source``, ``page``, ``result_index``) are the table's.
    page_keys: tuple[str, ...] = ()


def _kind(column: Column) -> int:
    if column.parse == "amount":
        return _READ_AMOUNT
    if column.parse == "date":
        return _READ_DATE
    if column.parse == "json":
        return _READ_OTHER
    return {"string": _READ_TEXT, "float64": _READ_FLOAT}.get(column.type, _READ_OTHER)


def _cell(column: Column) -> tuple[Steps | None, _Cell]:
    """(the steps to the object holding the column's field, or ``None``; the column's cell)."""
    steps = _steps(column.source or "")
    key = steps[-1][0] if steps and not steps[-1][1] else None
    cell = _Cell(
        column.name,
        steps,
        _reader(column),
        column.raw,
        key,
        _kind(column),
        column.scale or 0,
        column.precision or 18,
    )
    return (steps[:-1] if key is not None else None), cell


def _spec(cell: _Cell) -> Spec:
    assert cell.key is not None
    return (cell.key, cell.name, cell.raw, cell.kind, cell.read, cell.scale, cell.precision)


def _group(base: Steps | None, cells: list[_Cell]) -> _Group:
    if base is None:
        return _Group(None, tuple(cells))
    text = [c for c in cells if c.kind == _READ_TEXT and c.raw is None]
    floats = [c for c in cells if c.kind == _READ_FLOAT and c.raw is None]
    amounts = [c for c in cells if c.kind == _READ_AMOUNT]
    dates = [c for c in cells if c.kind == _READ_DATE]
    rest = [c for c in cells if not any(c in found for found in (text, floats, amounts, dates))]
    return _Group(
        base,
        (),
        tuple(c.key or "" for c in text),
        tuple(c.name for c in text),
        tuple(c.key or "" for c in floats),
        tuple(c.name for c in floats),
        tuple((c.key or "", c.name, c.raw, c.scale, c.precision) for c in amounts),
        tuple((c.key or "", c.name, c.raw) for c in dates),
        tuple(_spec(c) for c in rest),
    )


def _plan(table: Table) -> _Plan:
    found = [_cell(c) for c in table.columns if c.source is not None and c.role in ("field", "confidence")]
    grouped: dict[Steps | None, list[_Cell]] = {}
    for base, cell in found:
        grouped.setdefault(base, []).append(cell)
    fixed = {"source", "page", "result_index"}
    index_names = tuple(k for k in table.keys if k not in fixed)
    items = None if table.path is None else _steps(table.path)
    groups = tuple(_group(base, cells) for base, cells in grouped.items())
    cells = tuple(cell for _, cell in found)
    page_keys = tuple(k for k in table.keys if k in fixed)
    return _Plan(table, items, index_names, cells, groups, dict.fromkeys(table.names), page_keys)


@cache
def _plans(slug: str) -> tuple[_Plan, ...]:
    return tuple(_plan(t) for t in api_tables(slug))


@cache
def _has_text(slug: str) -> bool:
    """Whether the API's header table has a ``text`` column (its pages' text)."""
    return "text" in _plans(slug)[0].table.names


_NONE = type(None)
_TEXT_TYPES: frozenset[type] = frozenset({str, _NONE})
_FLOAT_TYPES: frozenset[type] = frozenset({float, _NONE})


def _fill(row: Row, groups: Groups, item: Any, indices: tuple[int, ...]) -> Row:
    """``row`` (every column ``None``, but the keys and provenance) with every cell read from ``item``.

    An absent value is null, read by no reader (each makes ``(None, None)`` of it); a cell's column
    is ``None`` until it is read (no field's column is a key's or provenance's: ``catalog/tables.py``),
    so a null may be set as well as skipped. The common values are read here, as their readers would:
    a group's text fields that are all ``str`` (or absent) set at once, its float fields that are all
    ``float`` likewise, printed amounts and dates (typed, else the text to the raw companion).
    """
    for group in groups:
        if group.base is None:
            for cell in group.cells:
                _set(row, cell, _get(item, cell.steps, indices))
            continue
        node = _get(item, group.base, indices) if group.base else item
        if not isinstance(node, dict) or not node:
            continue
        get = node.get
        if group.text_keys:
            _fill_plain(row, group.text_names, list(map(get, group.text_keys)), _TEXT_TYPES, _string)
        if group.float_keys:
            _fill_plain(row, group.float_names, list(map(get, group.float_keys)), _FLOAT_TYPES, _float)
        for key, name, raw, scale, precision in group.amounts:
            found = get(key)
            if found is not None:
                parsed = parse_amount(found, scale, precision)
                row[name] = parsed
                if raw is not None:
                    row[raw] = None if parsed is not None or found == "" else _string(found)
        for key, name, raw in group.dates:
            found = get(key)
            if found is not None:
                day = parse_date(found)
                row[name] = day
                if raw is not None:
                    row[raw] = None if day is not None or found == "" else _string(found)
        for key, name, raw, _kind, read, _scale, _precision in group.specs:
            found = get(key)
            if found is None:
                continue
            value, raw_text = read(found)
            row[name] = value
            if raw is not None:
                row[raw] = raw_text
    return row


def _fill_plain(
    row: Row, names: tuple[str, ...], values: list[Any], typed: frozenset[type], read: Callable[[Any], Any]
) -> None:
    """Plain cells' values, as fetched: set at once when each is of the column's type or ``None``
    (``typed``), else each read (``read``: ``None`` stays ``None``)."""
    if set(map(type, values)) <= typed:
        row.update(zip(names, values))
    else:
        row.update(zip(names, map(read, values)))


def _set(row: Row, cell: _Cell, found: Any) -> None:
    if found is not None:
        value, raw = cell.read(found)
        row[cell.name] = value
        if cell.raw is not None:
            row[cell.raw] = raw


def _list_rows(plan: _Plan, item: Any, keys: Row) -> Iterator[Row]:
    assert plan.items is not None
    if len(plan.items) == 1:  # a list of the object itself (most are): its indices, without _expand
        found = item.get(plan.items[0][0]) if isinstance(item, dict) else None
        every: Iterable[tuple[int, ...]] = (
            [(i,) for i in range(len(found))] if isinstance(found, list) else ()
        )
    else:
        every = _expand(item, plan.items)
    for indices in every:
        row = plan.blank.copy()
        row.update(keys)
        row.update(zip(plan.index_names, indices))
        yield _fill(row, plan.groups, item, indices)


# --- the envelope --------------------------------------------------------------------------------


def source_of(record: Any) -> str:
    """The ``source`` column of an envelope's ``source`` record: the OBS URI, the URL, the file's
    path, ``sha256:<digest>`` for bytes, ``fields:<JSON>`` for an API that takes no image."""
    if not isinstance(record, dict):
        return "unknown"
    kind = record.get("kind")
    found = {"obs": record.get("uri"), "url": record.get("url"), "file": record.get("path")}.get(str(kind))
    if found:
        return str(found)
    if kind == "fields":
        return source_identity("fields", fields=record.get("fields") or {})
    return f"sha256:{record['sha256']}" if record.get("sha256") else "unknown"


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _page_info(envelope: dict[str, Any], page: int | None, pages: int | None) -> tuple[int, int | None]:
    found_source = envelope.get("source")
    source: dict[str, Any] = found_source if isinstance(found_source, dict) else {}
    field = _page_field(str(envelope.get("api")))
    parameters = envelope.get("parameters") or {}
    found = _first(page, envelope.get("page"), source.get("page"), parameters.get(field) if field else None)
    total = _first(pages, envelope.get("pages"), source.get("pages"))
    return _int(found) or 1, _int(total)


@cache
def _page_field(slug: str) -> str | None:
    return get_api(slug).page_field


def _first(*values: Any) -> Any:
    return next((v for v in values if v), None)


def _provenance(envelope: dict[str, Any], options: dict[str, Any]) -> Row:
    source = envelope.get("source")
    page, pages = _page_info(envelope, options.get("page"), options.get("pages"))
    return {
        "source": source_of(source),
        "source_etag": source.get("etag") if isinstance(source, dict) else None,
        "page": page,
        "pages": pages,
        "api": envelope.get("api"),
        "request_id": envelope.get("request_id"),
        "result_uri": options.get("result_uri"),
        "run_id": options.get("run_id"),
        "processed_at": _timestamp(options.get("processed_at") or envelope.get("created_at")),
    }


def _status(code: Any, message: Any) -> tuple[str, str | None]:
    return STATUS_FAILED, ": ".join(str(p) for p in (code, message) if p) or "failed"


def _statuses(result: Any, items: list[Any]) -> list[tuple[str, str | None]]:
    """``(status, error)`` of each item: the item's own status (auto-classification), or the answer's."""
    ok: tuple[str, str | None] = (STATUS_OK, None)
    if result is None:
        return [(STATUS_FAILED, "no result")] * len(items)
    if error_in_success({"result": result}):
        return [_status(result.get(ERROR_CODE_FIELD), result.get(ERROR_MSG_FIELD))] * len(items)
    documents = document_statuses(result)
    if documents is None:
        return [ok] * len(items)
    return [ok if d["ok"] else _status(d["error_code"], d["error_msg"]) for d in documents]


def _items(result: Any) -> tuple[list[Any], list[int | None]]:
    """The page's objects (one, or one per item of a list result) and their ``result_index``."""
    if isinstance(result, list):
        if not result:  # nothing found: the page still has its row
            return [None], [None]
        return result, list(range(len(result)))
    return [result], [None]


def _texts(slug: str, result: Any, count: int) -> list[dict[str, Any]]:
    pages = text_pages(slug, result if result is not None else {})
    if len(pages) != count:
        return [{"text": None, "metadata": {}}] * count
    return pages


def envelope_rows(
    envelope: dict[str, Any],
    *,
    run_id: str | None = None,
    result_uri: str | None = None,
    page: int | None = None,
    pages: int | None = None,
    processed_at: datetime | str | None = None,
) -> dict[str, list[Row]]:
    """Table name -> the rows of one stored envelope, for every table of its API (empty lists too).

    ``run_id`` and ``result_uri`` fill the provenance columns of the same names; ``page``,
    ``pages`` and ``processed_at`` override what the envelope says (its ``created_at``).
    """
    slug = str(envelope.get("api"))
    plans = _plans(slug)
    options = {
        "run_id": run_id,
        "result_uri": result_uri,
        "page": page,
        "pages": pages,
        "processed_at": processed_at,
    }
    prov = _provenance(envelope, options)
    result = envelope.get("result")
    items, positions = _items(result)
    statuses = _statuses(result, items)
    review = review_of(envelope)
    prov["reviewed"] = review is not None
    if review is not None and review.get("outcome") == "rejected":
        by = "the review's timeout" if review.get("timed_out") else str(review.get("by"))
        statuses = [(STATUS_REJECTED, f"rejected by {by}")] * len(items)
    texts = _texts(slug, result, len(items)) if _has_text(slug) else []
    out: dict[str, list[Row]] = {p.table.name: [] for p in plans}
    for n, (item, position) in enumerate(zip(items, positions)):
        keys = {"source": prov["source"], "page": prov["page"], "result_index": position}
        header = _header(plans[0], item, {**prov, **keys}, statuses[n])
        if texts:
            header["text"] = texts[n]["text"]
            if "mean_confidence" in header:
                header["mean_confidence"] = texts[n]["metadata"].get("confidence")
        out[plans[0].table.name].append(header)
        for plan in plans[1:]:
            out[plan.table.name].extend(_list_rows(plan, item, {k: keys[k] for k in plan.page_keys}))
    return out


def _header(plan: _Plan, item: Any, prov: Row, status: tuple[str, str | None]) -> Row:
    row = plan.blank.copy()
    row.update({k: v for k, v in prov.items() if k in row})
    row["status"], row["error"] = status
    return row if item is None else _fill(row, plan.groups, item, ())


def failure_rows(
    api: str,
    *,
    source: str,
    error: str,
    page: int = 1,
    pages: int | None = None,
    source_etag: str | None = None,
    request_id: str | None = None,
    result_uri: str | None = None,
    run_id: str | None = None,
    processed_at: datetime | None = None,
) -> dict[str, list[Row]]:
    """Table name -> rows for a page that has no result: one header row, ``status`` ``failed``."""
    plans = _plans(api)
    row = plans[0].blank.copy()
    row.update(
        source=source,
        source_etag=source_etag,
        page=page,
        pages=pages,
        api=api,
        request_id=request_id,
        status=STATUS_FAILED,
        reviewed=False,
        error=error,
        result_uri=result_uri,
        run_id=run_id,
        processed_at=_timestamp(processed_at),
    )
    out: dict[str, list[Row]] = {p.table.name: [] for p in plans}
    out[plans[0].table.name].append(row)
    return out
