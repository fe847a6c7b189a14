"""Results as tables: the columns of each API's tables, derived from the response model.

Plain data, no pyarrow (``runtime/tables/schema.py`` turns a :class:`Table` into an Arrow schema,
``runtime/tables/rows.py`` fills its rows from a stored envelope). Types come from the catalog,
never from the data, so every run of an API writes the same columns whatever its documents hold.

**Tables.** Each API has a header table, named by its slug, with one row per page (per item of
the result for the five list-shaped APIs, ``result_index`` telling which), and one table per list
of records anywhere in its response model, named ``<slug>__<list>`` (``vat-invoice__item_list``;
a list inside a list item adds its own name: ``bank-receipt__bank_receipt_list__kv_pair_list``).
A list table's rows are keyed to their page by ``source`` and ``page``, to their enclosing list
items by ``<list>_index`` and to their own list by ``item_index`` (0-based, the position in the
JSON list).

**Columns.** One per documented scalar field (an object's fields flattened with ``_``:
``extracted_data_contact_info_name``); lists of scalars and free objects (``content``,
``extra_info``) as JSON text; images, files and geometry (quads, ``text_location``) are left out.
A field named like a provenance column is prefixed ``result_`` (invoice-verification's
``status`` is ``result_status``). Logical types: ``string``, ``int64``, ``float64``, ``bool``,
``decimal(18,2)``, ``decimal(18,8)``, ``date``, ``timestamp``.

**Amounts and dates** are string fields the vendor prints, parsed by rule from their names and
descriptions (:func:`amount_scale`, :func:`is_date`): an amount is a field whose name ends in an
amount word (``total``, ``subtotal_amount``, ``tax``, ``unit_price``, ``fare`` ...; see
:data:`AMOUNT_WORDS`) or is ``..._in_figures``, plus :data:`EXPLICIT_AMOUNTS` where the name does
not say it; unit prices keep 8 decimals, other amounts 2. A date is a field whose name holds the
word ``date`` or whose description starts with a date phrase (``Date of birth.``, ``Valid
from.``), unless the description names another script or calendar (Thai, Burmese, Khmer) or a
translation. Each parsed column has a raw companion (``total_raw``) holding the printed text
when it could not be parsed, so no value is lost.

**Confidences.** Where the API returns a ``confidence`` object keyed by field (``FieldConfidence``,
``map<float>``), each text field it covers gets ``<column>_confidence``: the object's own text
fields, or, when its description names a sibling object (household-register: "each content
field"), that object's fields; a list its description names (flight-itinerary: "itinerary_list
in the same order") gives its items' fields theirs. A structured ``confidence`` (a shape of its
own, such as ``ThailandIdcardConfidence``) gives one column per member, mirrored the same way
into objects and lists. A plain ``confidence`` number (a text block's) is a column as it is. The top-level fields scored
this way are the ones a review threshold can gate (:func:`scored_fields`).

**Provenance** (header tables): ``source``, ``source_etag``, ``page``, ``pages``, ``api``,
``request_id``, ``status``, ``reviewed``, ``error``, ``result_uri``, ``run_id``, ``processed_at``; APIs whose
text is in blocks (general-text, handwriting, general-table ...) also get ``text`` (the page's
blocks joined by newlines) and ``mean_confidence``, as the text export reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from typing import Literal

from airflow_provider_hwocr.catalog.response_data import RESPONSES
from airflow_provider_hwocr.catalog.response_model import Field, ResponseModel
from airflow_provider_hwocr.catalog.text import TextSource, text_layout

__all__ = [
    "AMOUNT",
    "AMOUNT_WORDS",
    "EXPLICIT_AMOUNTS",
    "LOGICAL_TYPES",
    "PROVENANCE",
    "STATUS_FAILED",
    "STATUS_OK",
    "STATUS_REJECTED",
    "TABLE_FORMAT",
    "UNIT_PRICE",
    "Column",
    "Table",
    "amount_scale",
    "api_tables",
    "find_table",
    "header_table",
    "is_date",
    "scored_fields",
    "tables_for",
]

#: What a table written by this provider says it is (Arrow schema metadata).
TABLE_FORMAT = "hwocr-table/1"
#: Joins an API's slug and its list names into a list table's name.
SEPARATOR = "__"

STRING, INT64, FLOAT64, BOOL, DATE, TIMESTAMP = "string", "int64", "float64", "bool", "date", "timestamp"
#: Amounts: 18 digits, 2 after the point (yuan and fen).
AMOUNT = "decimal(18,2)"
#: Unit prices: invoices print them with up to 8 decimals.
UNIT_PRICE = "decimal(18,8)"
LOGICAL_TYPES = (STRING, INT64, FLOAT64, BOOL, AMOUNT, UNIT_PRICE, DATE, TIMESTAMP)
_DECIMAL = re.compile(r"decimal\((\d+),(\d+)\)")

#: ``status`` of a row: the page (or item) was recognised, or not (``error`` says why), or a
#: reviewer rejected what was recognised (the row stays, so the warehouse sees and can filter it).
STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_REJECTED = "rejected"

Role = Literal["key", "field", "raw", "confidence", "derived", "provenance"]
Parse = Literal["amount", "date", "json"]

#: The last word of an amount field's name.
AMOUNT_WORDS = frozenset({"amount", "total", "tax", "taxes", "price", "fare", "surcharge", "fund", "fee"})
#: ``(slug, field path)`` of amounts whose names do not say so (flight-itinerary's ``insurance``
#: is the insurance fee printed among the fares).
EXPLICIT_AMOUNTS = frozenset({("flight-itinerary", "insurance")})
_DATE_DOC = re.compile(r"(birth date|date of|valid (from|until)|not valid (before|after))\b", re.IGNORECASE)
_OTHER_SCRIPT = re.compile(r"\b(thai|burmese|khmer|translation)\b", re.IGNORECASE)

#: Types kept as JSON text: lists of scalars and maps.
_JSON_TYPES = frozenset({"list[str]", "list[int]", "list[float]", "map[float]"})
_SCALARS = {"str": STRING, "int": INT64, "float": FLOAT64, "bool": BOOL}


@dataclass(frozen=True)
class Column:
    """One column of a table.

    ``source`` is where the value comes from, as a path from the page's object (the result, or
    the item of a list-shaped result) in the reference pages' notation: ``total``,
    ``confidence.total``, ``item_list[].amount`` (``[]``: the row's item of that list). ``None``
    for provenance columns, which come from the envelope; ``""`` for the whole object.
    """

    name: str
    #: One of :data:`LOGICAL_TYPES`.
    type: str
    source: str | None = None
    role: Role = "field"
    nullable: bool = True
    #: How the value is read: an ``amount`` or a ``date`` out of printed text, ``json`` text.
    parse: Parse | None = None
    #: For a parsed column: the companion column holding the text when it could not be parsed.
    raw: str | None = None
    doc: str = ""

    @property
    def scale(self) -> int | None:
        """Digits after the point of a decimal column (``None`` for other types)."""
        match = _DECIMAL.fullmatch(self.type)
        return int(match.group(2)) if match else None

    @property
    def precision(self) -> int | None:
        match = _DECIMAL.fullmatch(self.type)
        return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Table:
    """One table of an API: the header table (``path is None``) or a list table."""

    name: str
    api: str
    #: The list whose items are the rows (``item_list``, ``bank_receipt_list[].kv_pair_list``).
    path: str | None
    columns: tuple[Column, ...]
    doc: str = ""

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"table {self.name}: columns named twice: {', '.join(twice)}")

    @property
    def is_header(self) -> bool:
        return self.path is None

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """The key columns' names (computed once: read for every row a table gets)."""
        return tuple(c.name for c in self.columns if c.role == "key")

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Every column's name, in order (computed once: read for every row a table gets)."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")


# --- the rules -----------------------------------------------------------------------------------


def amount_scale(slug: str, path: str, f: Field) -> int | None:
    """Digits kept after the point when string field ``f`` (at ``path``) is an amount, else ``None``."""
    if f.type != "str" or f.content is not None or f.allowed:
        return None
    words = f.name.split("_")
    if words[-1] in AMOUNT_WORDS or words[-2:] == ["in", "figures"] or (slug, path) in EXPLICIT_AMOUNTS:
        return 8 if words[-2:] == ["unit", "price"] else 2
    return None


def is_date(f: Field) -> bool:
    """Whether string field ``f`` holds a date (by its name or its description; see the module)."""
    if f.type != "str" or f.content is not None or f.allowed:
        return False
    named = "date" in f.name.split("_") or bool(_DATE_DOC.match(f.doc))
    return named and not _OTHER_SCRIPT.search(f.doc)


def _texty(f: Field) -> bool:
    """A recognised-text field: what a per-field confidence scores."""
    return f.type in ("str", "list[str]") and f.content is None


def _free(f: Field) -> bool:
    """An object without documented fields (auto-classification's ``content``): kept as JSON."""
    return f.type == "object" and not f.fields and f.shape not in ("FieldConfidence", "FieldLocations")


def _confidence_of(fields: tuple[Field, ...]) -> Field | None:
    """The ``confidence`` object among ``fields`` that gives per-field columns (see the module).

    One keyed by the fields of a free object (auto-classification's, next to ``content``) cannot
    be: it is kept whole, as JSON text, like that object.
    """
    conf = next((f for f in fields if f.name == "confidence" and f.type in ("object", "map[float]")), None)
    if conf is None or (not conf.fields and any(map(_free, fields))):
        return None
    return conf


def _left_out(f: Field, conf: Field | None) -> bool:
    """Images, files, geometry and the confidence object (read through the plan) are not columns."""
    return f.content is not None or f.type == "points" or f.shape == "FieldLocations" or f is conf


def _words(name: str, text: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", text) is not None


def _confidence_plan(fields: tuple[Field, ...], path: str) -> dict[str, str]:
    """Field path -> its confidence's path, for the ``confidence`` object among ``fields`` (if any)."""
    conf = _confidence_of(fields)
    if conf is None:
        return {}
    base = f"{path}confidence."
    return _structured(conf, fields, path, base) if conf.fields else _keyed(conf, fields, path, base)


def _keyed(conf: Field, fields: tuple[Field, ...], path: str, base: str) -> dict[str, str]:
    named = [f for f in fields if f.fields and f.name != "confidence" and _words(f.name, conf.doc)]
    plan: dict[str, str] = {}
    for f in named:
        plan.update(_covered(f, path, base))
    if not any(f.type == "object" for f in named):  # "each content field": that object's only
        plan.update({f"{path}{f.name}": f"{base}{f.name}" for f in fields if _texty(f)})
    return plan


def _covered(f: Field, path: str, base: str) -> dict[str, str]:
    """The text fields of object or list ``f`` in a keyed confidence: ``content.name`` is scored at
    ``confidence.name``, ``itinerary_list[].date`` at ``confidence.itinerary_list[].date``."""
    listed = f.type == "list[object]"
    at = f"{path}{f.name}{'[]' if listed else ''}."
    under = f"{base}{f.name}[]." if listed else base
    return {at + leaf.name: under + leaf.name for leaf in f.fields if _texty(leaf)}


def _structured(conf: Field, fields: tuple[Field, ...], path: str, base: str) -> dict[str, str]:
    by_name = {f.name: f for f in fields}
    plan: dict[str, str] = {}
    for m in conf.fields:
        target = by_name.get(m.name)
        if target is not None and target.fields and m.type in ("object", "list[object]"):
            plan.update(_mirrored(m, target, path, base))
        else:
            plan[f"{path}{m.name}"] = f"{base}{m.name}"
    return plan


def _mirrored(member: Field, target: Field, path: str, base: str) -> dict[str, str]:
    """A structured confidence's member scoring the fields of object or list ``target``."""
    if member.type == "list[object]":  # a confidence item per list item
        at, under = f"{path}{member.name}[].", f"{base}{member.name}[]."
        return {at + m.name: under + m.name for m in member.fields}
    at, under = f"{path}{member.name}.", f"{base}{member.name}."
    return {at + leaf.name: under + leaf.name for leaf in target.fields if _texty(leaf)}


# --- provenance and keys ---------------------------------------------------------------------------


def _key(name: str, doc: str, *, nullable: bool = False) -> Column:
    return Column(name, INT64 if name != "source" else STRING, role="key", nullable=nullable, doc=doc)


_SOURCE = _key("source", "Where the page came from: the OBS URI, URL, file path or content digest.")
_PAGE = _key("page", "Page of the document (1 for an image).")
_ITEM_INDEX = _key("item_index", "Position of the row's item in its list (0-based).")

#: The header tables' provenance columns, after the fields.
PROVENANCE: tuple[Column, ...] = (
    Column("source_etag", STRING, role="provenance", doc="ETag of the source object when it was read."),
    Column("pages", INT64, role="provenance", doc="Pages of the document, when known."),
    Column("api", STRING, role="provenance", nullable=False, doc="The API's slug."),
    Column("request_id", STRING, role="provenance", doc="The service's X-Request-Id of the call."),
    Column(
        "status",
        STRING,
        role="provenance",
        nullable=False,
        doc="`ok`, `failed` (see `error`), or `rejected` (a reviewer rejected the page's values).",
    ),
    Column(
        "reviewed",
        BOOL,
        role="provenance",
        nullable=False,
        doc="Whether a person (or a review's timeout) decided on the page's values; corrections are in the fields.",
    ),
    Column("error", STRING, role="provenance", doc="Why the page or item failed."),
    Column("result_uri", STRING, role="provenance", doc="The stored JSON envelope the row was read from."),
    Column("run_id", STRING, role="provenance", doc="The Airflow run that wrote the table."),
    Column("processed_at", TIMESTAMP, role="provenance", doc="When the result was stored (UTC)."),
)
_RESERVED = frozenset({"source", "page", "result_index", "item_index", *(c.name for c in PROVENANCE)})


def _text_path(source: TextSource, member: str) -> str:
    """``words_region_list[].words_block_list[].words``: where a text source's ``member`` is."""
    parts: list[str] = []
    for step in source.path:
        if step == "*":
            parts[-1] += "[]"
        else:
            parts.append(step)
    return ".".join([*parts[:-1], parts[-1] + "[]", member])


def _scored(source: TextSource, model: ResponseModel) -> bool:
    """Whether the blocks of a text source have the confidence field it names."""
    try:
        blocks = model.field(".".join(step for step in source.path if step != "*"))
    except KeyError:
        return False
    return any(f.name == source.confidence for f in blocks.fields)


def _derived(sources: tuple[TextSource, ...], model: ResponseModel) -> list[Column]:
    if not sources:
        return []
    texts = "; ".join(_text_path(s, s.text) for s in sources)
    columns = [Column("text", STRING, texts, role="derived", doc="The page's text blocks, one per line.")]
    scores = "; ".join(_text_path(s, s.confidence) for s in sources if _scored(s, model))
    if scores:
        columns.append(
            Column("mean_confidence", FLOAT64, scores, role="derived", doc="Mean confidence of those blocks.")
        )
    return columns


# --- building ------------------------------------------------------------------------------------


@dataclass
class _Draft:
    name: str
    path: str | None
    columns: list[Column]
    reserved: frozenset[str]

    def add(self, column: Column) -> None:
        self.columns.append(column)


@dataclass
class _Builder:
    slug: str
    drafts: list[_Draft] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    def fill(
        self, draft: _Draft, fields: tuple[Field, ...], names: str, path: str, plan: dict[str, str]
    ) -> None:
        """The columns (and list tables) of the object whose ``fields`` sit at ``path``."""
        own = _confidence_plan(fields, path)
        plan = {**plan, **own}
        scores = _confidence_of(fields)
        for f in fields:
            if not _left_out(f, scores):
                self.member(draft, f, names, path, plan)
        for at, conf in own.items():  # a structured confidence's member without a field
            if at not in self.used and "." not in at[len(path) :]:
                draft.add(Column(f"{names}{at[len(path) :]}_confidence", FLOAT64, conf, role="confidence"))

    def member(self, draft: _Draft, f: Field, names: str, path: str, plan: dict[str, str]) -> None:
        if f.type == "list[object]":
            self.list_table(draft, f, names, path, plan)
        elif f.type == "object" and f.fields:
            self.fill(draft, f.fields, f"{names}{f.name}_", f"{path}{f.name}.", plan)
        else:
            self.leaf(draft, f, names + f.name, path + f.name, plan.get(path + f.name))

    def list_table(self, draft: _Draft, f: Field, names: str, path: str, plan: dict[str, str]) -> None:
        list_name = names + f.name
        keys = [c for c in draft.columns if c.role == "key" and c.name != "item_index"]
        if draft.path is not None:  # the enclosing list's index, named after it
            keys.append(
                _key(f"{draft.name.rpartition(SEPARATOR)[2]}_index", "Position in the enclosing list.")
            )
        columns = [*(replace(k, nullable=False) for k in keys), _ITEM_INDEX]
        child = _Draft(
            f"{draft.name}{SEPARATOR}{list_name}", path + f.name, columns, frozenset(c.name for c in columns)
        )
        self.drafts.append(child)
        self.fill(child, f.fields, "", f"{path}{f.name}[].", plan)

    def leaf(self, draft: _Draft, f: Field, name: str, path: str, conf: str | None) -> None:
        if name in draft.reserved:
            name = f"result_{name}"
        for column in _leaf_columns(self.slug, f, name, path):
            draft.add(column)
        if conf is not None:
            self.used.add(path)
            draft.add(
                Column(f"{name}_confidence", FLOAT64, conf, role="confidence", doc=f"Confidence of {name}.")
            )


def _leaf_columns(slug: str, f: Field, name: str, path: str) -> list[Column]:
    """The column of one field, and the raw companion of a parsed one."""
    doc = f.doc
    if f.type in _SCALARS:
        scale = amount_scale(slug, path, f)
        if scale is not None:
            kind: Parse = "amount"
            typ = UNIT_PRICE if scale == 8 else AMOUNT
        elif is_date(f):
            kind, typ = "date", DATE
        else:
            return [Column(name, _SCALARS[f.type], path, doc=doc)]
        raw = f"{name}_raw"
        return [
            Column(name, typ, path, parse=kind, raw=raw, doc=doc),
            Column(
                raw,
                STRING,
                path,
                role="raw",
                doc=f"The printed {name} when it could not be read as a {kind}.",
            ),
        ]
    if f.type in _JSON_TYPES or f.type == "object":
        return [Column(name, STRING, path, parse="json", doc=f"{doc} (JSON)".strip())]
    raise ValueError(f"{slug}: field {path} of type {f.type} has no column type")


def tables_for(slug: str, model: ResponseModel, *, text: tuple[TextSource, ...] = ()) -> tuple[Table, ...]:
    """The tables of API ``slug`` answering by ``model``: the header table first, then each list's.

    ``text``: the API's text block sources (the header gets ``text`` and ``mean_confidence``).
    """
    keys = [_SOURCE, _PAGE]
    if model.kind == "list":
        keys.append(
            _key("result_index", "Position of the item in the result (none: an empty result).", nullable=True)
        )
    derived = _derived(text, model)
    reserved = _RESERVED | {c.name for c in derived}
    header = _Draft(slug, None, [*keys, *derived], reserved)
    builder = _Builder(slug, [header])
    if model.shape is None:
        header.add(
            Column("result", STRING, "", parse="json", doc="The result, as the service sent it (JSON).")
        )
    builder.fill(header, model.fields, "", "", {})
    header.columns.extend(PROVENANCE)
    return tuple(Table(d.name, slug, d.path, tuple(d.columns), _table_doc(d, model)) for d in builder.drafts)


def _table_doc(draft: _Draft, model: ResponseModel) -> str:
    if draft.path is not None:
        return f"One row per item of `{draft.path}`."
    return "One row per item of the result." if model.kind == "list" else "One row per page."


@cache
def api_tables(slug: str) -> tuple[Table, ...]:
    """The tables of API ``slug`` (``KeyError`` for an unknown API): the header table first."""
    return tables_for(slug, RESPONSES[slug], text=text_layout(slug).sources)


def header_table(slug: str) -> Table:
    return api_tables(slug)[0]


def find_table(name: str) -> Table:
    """The table named ``name`` (``vat-invoice``, ``vat-invoice__item_list``)."""
    slug = name.partition(SEPARATOR)[0]
    for table in api_tables(slug):
        if table.name == name:
            return table
    raise KeyError(f"{slug} has no table {name!r}")


@cache
def scored_fields(slug: str) -> tuple[str, ...]:
    """The top-level fields of API ``slug``'s result that carry a confidence of their own (in the
    model's order): the fields a review threshold can gate. Read from the same confidence plan as
    the ``<field>_confidence`` columns; ``()`` for an API that scores no field (text blocks, lists)."""
    model = RESPONSES[slug]
    if model.kind == "list":
        return ()
    plan = _confidence_plan(model.fields, "")
    return tuple(f.name for f in model.fields if plan.get(f.name) == f"confidence.{f.name}")
