"""Tables written as Parquet, CSV or XLSX, streamed: rows in, bytes out, memory flat.

:func:`write_parquet`, :func:`write_csv` and :func:`write_xlsx` take a table
(``catalog/tables.py``), an iterator of rows (dicts keyed by column name, as
:mod:`~airflow_provider_hwocr.runtime.tables.rows` makes them) and a binary file, and write the
same columns in the same order. Nothing holds more than a row group: Parquet turns every
:data:`BATCH_ROWS` rows into an Arrow record batch and writes a row group of ``row_group_rows``
at a time (``pyarrow.parquet.ParquetWriter``, zstd); CSV goes row by row through the ``csv``
module (UTF-8, a header line, empty for null, ISO dates, ``true``/``false``); XLSX through
openpyxl's write-only mode (one sheet, a header row; text is never read as a formula).

:func:`spool` writes one table to a local spooled temporary file (in memory up to
``max_memory``, then on disk), and :class:`TableSpools` every table of an API in one pass over
its envelopes. Each result (:class:`Spooled`) has its size, the bytes' SHA-256 and MD5 (the ETag
of a single PUT) and a content :attr:`~Spooled.digest` over the schema and the rows, ``run_id``
left out: equal digests mean the same rows, in whatever order they came (a batch's writer threads
add them as each finishes), so a caller can skip the PUT of a file that would only say that another
run wrote them. Where the files go is
:mod:`~airflow_provider_hwocr.runtime.tables.partitions`.

The digest counts either rows (:meth:`TableSpools.add`: each row's values, ``repr`` and SHA-256)
or the pages they were made of (``page=``, :func:`page_digest`: the stored envelope's URI and ETag,
the row builder's version): a stored envelope always makes the same rows, so a page's digest stands
for its rows at the cost of one SHA-256 of a few bytes, not one per row. Each digest is a SHA-256
read as a number, and a table's are summed modulo 2**256: the order does not count, and a page (or
row) counted twice does not cancel out. :data:`DIGEST_VERSION` is part of every digest: a file
whose digest was made another way (an earlier version) never matches, and is replaced once.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import operator
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import IO, Any, Protocol

from airflow_provider_hwocr import __version__
from airflow_provider_hwocr.catalog.tables import Table, api_tables
from airflow_provider_hwocr.runtime.tables.rows import ROWS_VERSION
from airflow_provider_hwocr.runtime.tables.schema import arrow_schema, optional_module, pyarrow

__all__ = [
    "BATCH_ROWS",
    "DIGEST_VERSION",
    "FORMATS",
    "ROW_GROUP_ROWS",
    "SPOOL_MEMORY",
    "Spooled",
    "TableSpools",
    "open_sink",
    "page_digest",
    "spool",
    "write_csv",
    "write_parquet",
    "write_rows",
    "write_xlsx",
]

FORMATS = ("parquet", "csv", "xlsx")
#: Rows turned into one Arrow record batch at a time (the Python rows held at once).
BATCH_ROWS = 1024
#: Rows per Parquet row group (held as Arrow batches until written).
ROW_GROUP_ROWS = 16_384
#: What a spooled file keeps in memory before it moves to disk.
SPOOL_MEMORY = 8 * 1024 * 1024
#: Data rows a sheet holds (Excel's 1,048,576 rows, less the header).
XLSX_MAX_ROWS = 1_048_575
#: Columns left out of the content digest: they name the run, not the rows.
VOLATILE = frozenset({"run_id"})
#: The rows' and pages' digests are summed modulo this (a sum, not a XOR: two equal rows do not cancel out).
_DIGEST_MODULUS = 1 << 256
#: How the content digest is made: part of it, so a digest made another way never matches.
DIGEST_VERSION = b"hwocr-table-digest/2"

Row = Mapping[str, Any]


class Sink(Protocol):
    def write(self, row: Row) -> None: ...

    def close(self) -> None:
        """Finish the file."""

    def abort(self) -> None:
        """Give up (after an error): drop what is held; the file is not to be used."""


class ParquetSink:
    """Rows to a Parquet file: Arrow batches of :data:`BATCH_ROWS`, a row group per ``row_group_rows``."""

    def __init__(self, table: Table, out: IO[bytes], *, row_group_rows: int = ROW_GROUP_ROWS) -> None:
        self._pa = pyarrow()
        parquet = optional_module("pyarrow.parquet")
        self.schema = arrow_schema(table)
        self._fields = [(f.name, f.type) for f in self.schema]
        self.row_group_rows = max(1, row_group_rows)
        self._writer = parquet.ParquetWriter(out, self.schema, compression="zstd")
        self._rows: list[Row] = []
        self._batches: list[Any] = []
        self._pending = 0

    def write(self, row: Row) -> None:
        self._rows.append(row)
        if len(self._rows) >= BATCH_ROWS:
            self._batch()

    def write_many(self, rows: list[Row]) -> None:
        """:meth:`write` of each of ``rows``, in one call (the batches are the same)."""
        held = self._rows
        room = BATCH_ROWS - len(held)
        if len(rows) < room:
            held.extend(rows)
            return
        for row in rows:
            self.write(row)

    def _batch(self) -> None:
        if self._rows:
            self._batches.append(self._columns(self._rows))
            self._pending += len(self._rows)
            self._rows = []
        if self._pending >= self.row_group_rows:
            self._flush()

    def _columns(self, rows: list[Row]) -> Any:
        """``rows`` as one record batch, a column at a time (an absent value is null): each column's
        values are gathered by one comprehension and converted by Arrow at once, not row by row."""
        pa, fields = self._pa, self._fields
        try:
            arrays = [pa.array([row[name] for row in rows], type=kind) for name, kind in fields]
        except KeyError:  # a row without some columns
            arrays = [pa.array([row.get(name) for row in rows], type=kind) for name, kind in fields]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _flush(self) -> None:
        if self._batches:
            table = self._pa.Table.from_batches(self._batches, schema=self.schema)
            self._writer.write_table(table, row_group_size=self._pending)
        self._batches, self._pending = [], 0

    def close(self) -> None:
        self._batch()
        self._flush()
        self._writer.close()

    def abort(self) -> None:
        self._rows, self._batches = [], []
        self._writer.close()


def _text(value: Any) -> str:
    """A value as CSV text: empty for null, ISO dates and times, ``true``/``false``, fixed-point decimals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


class _Utf8:
    """What ``csv.writer`` writes to: text in, UTF-8 bytes out to the binary file."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out

    def write(self, text: str) -> int:
        return self.out.write(text.encode("utf-8"))


class CsvSink:
    """Rows to CSV: a header line, then one line per row (``csv`` module, UTF-8, ``\\r\\n``)."""

    def __init__(self, table: Table, out: IO[bytes]) -> None:
        self.names = table.names
        self._writer = csv.writer(_Utf8(out))
        self._writer.writerow(self.names)

    def write(self, row: Row) -> None:
        self._writer.writerow([_text(row.get(n)) for n in self.names])

    def close(self) -> None:
        return None

    def abort(self) -> None:
        return None


#: Characters an XLSX cell cannot hold (XML 1.0 control characters).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _sheet_title(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "_", name)[:31]


class XlsxSink:
    """Rows to an .xlsx workbook of one sheet (openpyxl's write-only mode: rows go to disk as added)."""

    def __init__(self, table: Table, out: IO[bytes]) -> None:
        openpyxl = optional_module("openpyxl")
        self._cell = optional_module("openpyxl.cell").WriteOnlyCell
        self.names = table.names
        self._out = out
        self._book = openpyxl.Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=_sheet_title(table.name))
        self._sheet.append(list(self.names))
        self._formats = {
            c.name: "0." + "0" * min(c.scale, 2) + "#" * (c.scale - 2) for c in table.columns if c.scale
        }
        self.rows = 0

    def write(self, row: Row) -> None:
        self.rows += 1
        if self.rows > XLSX_MAX_ROWS:
            raise ValueError(f"a sheet holds at most {XLSX_MAX_ROWS:,} rows: write Parquet or CSV instead")
        self._sheet.append([self._value(n, row.get(n)) for n in self.names])

    def _value(self, name: str, value: Any) -> Any:
        if isinstance(value, str):
            value = _ILLEGAL.sub("", value)
            if value.startswith("="):  # text, never a formula
                cell = self._cell(self._sheet, value=value)
                cell.data_type = "s"
                return cell
        elif isinstance(value, datetime) and value.tzinfo is not None:  # Excel has no time zones: UTC
            return value.astimezone(timezone.utc).replace(tzinfo=None)
        elif isinstance(value, Decimal) and name in self._formats:
            cell = self._cell(self._sheet, value=value)
            cell.number_format = self._formats[name]
            return cell
        return value

    def close(self) -> None:
        self._book.save(self._out)

    def abort(self) -> None:
        self._sheet.close()  # its rows end in openpyxl's own temporary file, never in ``out``


def open_sink(fmt: str, table: Table, out: IO[bytes], *, row_group_rows: int = ROW_GROUP_ROWS) -> Sink:
    """A sink writing ``table``'s rows to ``out`` as ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "parquet":
        return ParquetSink(table, out, row_group_rows=row_group_rows)
    if fmt == "csv":
        return CsvSink(table, out)
    if fmt == "xlsx":
        return XlsxSink(table, out)
    raise ValueError(f"unknown table format {fmt!r}; one of {', '.join(FORMATS)}")


def write_rows(
    fmt: str, table: Table, rows: Iterable[Row], out: IO[bytes], *, row_group_rows: int = ROW_GROUP_ROWS
) -> int:
    """Write ``rows`` to the binary file ``out`` as ``fmt``; the number of rows written.

    No rows: a valid empty file with every column (Parquet's schema, the CSV's and the sheet's header).
    """
    sink = open_sink(fmt, table, out, row_group_rows=row_group_rows)
    count = 0
    try:
        for row in rows:
            sink.write(row)
            count += 1
    except BaseException:
        sink.abort()
        raise
    sink.close()
    return count


def write_parquet(
    table: Table, rows: Iterable[Row], out: IO[bytes], *, row_group_rows: int = ROW_GROUP_ROWS
) -> int:
    return write_rows("parquet", table, rows, out, row_group_rows=row_group_rows)


def write_csv(table: Table, rows: Iterable[Row], out: IO[bytes]) -> int:
    return write_rows("csv", table, rows, out)


def write_xlsx(table: Table, rows: Iterable[Row], out: IO[bytes]) -> int:
    return write_rows("xlsx", table, rows, out)


# --- spooled files and their digests ---------------------------------------------------------------


@dataclass
class Spooled:
    """One table written to a local spooled temporary file, rewound, ready for one PUT."""

    table: str
    format: str
    file: IO[bytes]
    rows: int
    size: int
    #: The bytes' SHA-256 and MD5, hex (MD5 is the ETag of a single PUT).
    sha256: str
    md5: str
    #: SHA-256 of :data:`DIGEST_VERSION`, the format, the columns, the row count and the sum of every
    #: row's own SHA-256 (``run_id`` left out) or page's :func:`page_digest`: the same for the same
    #: rows (pages) in any order (see the module).
    digest: str

    def close(self) -> None:
        self.file.close()


@dataclass
class _SpoolWriter:
    fmt: str
    table: Table
    max_memory: int
    row_group_rows: int
    file: Any = field(init=False)
    sink: Sink = field(init=False)
    rows: int = 0

    def __post_init__(self) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=self.max_memory)  # noqa: SIM115 (closed by Spooled)
        self._schema = repr((self.fmt, [(c.name, c.type) for c in self.table.columns])).encode()
        self._sum = 0  # of the rows' digests, mod 2**256: the order they come in does not count
        self._kept = tuple(n for n in self.table.names if n not in VOLATILE)
        self._values = operator.itemgetter(*self._kept)
        try:
            self.sink = open_sink(self.fmt, self.table, self.file, row_group_rows=self.row_group_rows)
        except BaseException:
            self.file.close()
            raise

    def write(self, row: Row) -> None:
        """Add ``row`` and count it in the digest (its values' ``repr``, hashed)."""
        self.sink.write(row)
        try:
            values = self._values(row)
        except KeyError:  # a row without some columns: they are null
            values = tuple(row.get(n) for n in self._kept)
        self._sum += int.from_bytes(hashlib.sha256(repr(values).encode()).digest(), "big")
        self.rows += 1

    def write_many(self, rows: list[Row]) -> None:
        """Add ``rows`` without digesting them: their page is counted instead (:meth:`count`)."""
        many = getattr(self.sink, "write_many", None)
        if many is not None:
            many(rows)
        else:
            write = self.sink.write
            for row in rows:
                write(row)
        self.rows += len(rows)

    def count(self, page: bytes) -> None:
        """Count a page's digest (``page``, 32 bytes) in the content digest, once."""
        self._sum += int.from_bytes(page, "big")

    def digest(self) -> str:
        """The content digest of the rows written so far (see :attr:`Spooled.digest`)."""
        total = (self._sum % _DIGEST_MODULUS).to_bytes(32, "big")
        counted = b"\0".join((DIGEST_VERSION, self._schema, str(self.rows).encode(), total))
        return hashlib.sha256(counted).hexdigest()

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # already failing: the file is dropped either way
            self.sink.abort()
        self.file.close()

    def finish(self) -> Spooled:
        self.sink.close()
        self.file.seek(0)
        sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        for chunk in iter(lambda: self.file.read(1 << 20), b""):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
        self.file.seek(0)
        return Spooled(
            self.table.name,
            self.fmt,
            self.file,
            self.rows,
            size,
            sha.hexdigest(),
            md5.hexdigest(),
            self.digest(),
        )


def page_digest(uri: str, etag: str) -> bytes:
    """The digest of one stored page, for :meth:`TableSpools.add`'s ``page``: SHA-256 of the
    envelope's URI, the ETag the object store gave its bytes (else their MD5, hex), the row builder's
    :data:`~airflow_provider_hwocr.runtime.tables.rows.ROWS_VERSION` and the provider's version.

    The same object (the same bytes under the same key) made by the same code has the same rows; any
    change of the bytes changes the ETag (a plain PUT's is their MD5; with server-side encryption it
    may change even for the same bytes, and the table is then written again, never left stale).
    """
    material = "\0".join((ROWS_VERSION, __version__, uri, etag.strip().strip('"')))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).digest()


def spool(
    fmt: str,
    table: Table,
    rows: Iterable[Row],
    *,
    max_memory: int = SPOOL_MEMORY,
    row_group_rows: int = ROW_GROUP_ROWS,
) -> Spooled:
    """``rows`` written as ``fmt`` to a spooled temporary file (close the result when done)."""
    writer = _SpoolWriter(fmt, table, max_memory, row_group_rows)
    try:
        for row in rows:
            writer.write(row)
        return writer.finish()
    except BaseException:
        writer.abort()
        raise


class TableSpools:
    """Every table of an API, each to its own spooled file, filled in one pass over the envelopes::

    with TableSpools("vat-invoice", "parquet") as spools:
        for envelope in envelopes:
            spools.add(envelope_rows(envelope, run_id=run_id, result_uri=uri))
        files = spools.finish()  # table name -> Spooled, every table (empty ones too)
    """

    def __init__(
        self,
        api: str,
        fmt: str = "parquet",
        *,
        max_memory: int = SPOOL_MEMORY,
        row_group_rows: int = ROW_GROUP_ROWS,
    ) -> None:
        self._writers: dict[str, _SpoolWriter] = {}
        try:
            for table in api_tables(api):
                self._writers[table.name] = _SpoolWriter(fmt, table, max_memory, row_group_rows)
        except BaseException:
            self.close()
            raise

    def add(self, rows: Mapping[str, Iterable[Row]], *, page: bytes | None = None) -> None:
        """Rows by table name (:func:`~airflow_provider_hwocr.runtime.tables.rows.envelope_rows`).

        Without ``page`` each row is counted in its table's digest. With ``page``, the digest of the
        page the rows were made of (:func:`page_digest`), the rows are not digested one by one: the
        page is counted once in every table (see :meth:`add_rows`).
        """
        if page is not None:
            self.add_rows(rows)
            self.count_page(page)
            return
        for name, table_rows in rows.items():
            writer = self._writers[name]
            for row in table_rows:
                writer.write(row)

    def add_rows(self, rows: Mapping[str, Iterable[Row]]) -> None:
        """Rows by table name, left out of the digests: the caller counts their page (:meth:`count_page`).

        The content digest is then a function of the pages, not of the rows: the same page (its stored
        bytes, its URI, the code that makes rows) always makes the same rows.
        """
        for name, table_rows in rows.items():
            if table_rows:
                self._writers[name].write_many(table_rows if type(table_rows) is list else list(table_rows))

    def count_page(self, page: bytes) -> None:
        """Count one page (its :func:`page_digest`) in every table's digest: a table's content is a
        function of the pages it was made of, those with no row in it too."""
        for writer in self._writers.values():
            writer.count(page)

    def finish(self) -> dict[str, Spooled]:
        """Close every table's file; table name -> :class:`Spooled` (the caller closes them)."""
        done = {name: writer.finish() for name, writer in self._writers.items()}
        self._writers = {}
        return done

    def close(self) -> None:
        """Drop every file not finished (on an error)."""
        writers, self._writers = self._writers, {}
        for writer in writers.values():
            writer.abort()

    def __enter__(self) -> TableSpools:  # noqa: PYI034 - no typing.Self on Python 3.10
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
