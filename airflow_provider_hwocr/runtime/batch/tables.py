"""After the record stage, ``table_uri``: this run's partition of its API's tables, rebuilt whole.

The rows come from the stored results of the day's selection (the pages done this run and those
skipped as done before; with ``review_below`` not the pages held, reviewed or rejected: each review
writes its page's rows to a file of its own) and a ``failed`` row per page that failed, so the
tables can always be rebuilt from the output prefix. The pages done this run are not read back:
:class:`RunRows` makes their rows in the send stage's writer threads, from the envelope each has
just stored, and spools them as they come; only the pages this run did not store (done before) are
read, one GET each. Each table of the API (``catalog/tables.py``) goes to one object per table, day
and shard (:func:`~airflow_provider_hwocr.runtime.tables.partitions.table_key`), replaced whole by one
PUT. The object carries the content digest of its rows in its metadata: a run whose rows are the same
writes nothing. A stored page counts in it by its URI and ETag (``write.page_digest``: the same object
makes the same rows, so no row is hashed), the ETag the PUT returned for a page stored this run (its
``done`` entry's ``result_etag``) and the GET's for a page read back; a failed page's row counts by its
values (``run_id`` left out, the order of pages and rows too). A file whose digest was made by an
earlier version never matches: it is replaced once, whole.

The day is the run's logical date (``ds``), else the date of ``dag_run.run_after``, else today
(UTC).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_hwocr.client.documents import parse_pages
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.runtime.tables.partitions import table_key
from airflow_provider_hwocr.runtime.tables.rows import Row, envelope_rows, failure_rows
from airflow_provider_hwocr.runtime.tables.schema import optional_module
from airflow_provider_hwocr.runtime.tables.write import FORMATS, Spooled, TableSpools, page_digest

if TYPE_CHECKING:
    from airflow_provider_hwocr.runtime.batch.decide import Plan
    from airflow_provider_hwocr.runtime.batch.record import Report
    from airflow_provider_hwocr.runtime.batch.run import BatchRun
    from airflow_provider_hwocr.runtime.batch.send import Sent

__all__ = ["DIGEST_METADATA", "RunRows", "check_table_format", "table_day", "write_tables"]

#: The user metadata holding a table file's content digest.
DIGEST_METADATA = "hwocr-table-digest"
#: What each format's file is served as.
CONTENT_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: The modules of the ``tables`` extra each format needs.
_NEEDS = {"parquet": ("pyarrow", "pyarrow.parquet"), "csv": (), "xlsx": ("openpyxl",)}


def check_table_format(fmt: Any) -> str:
    """``table_format`` checked: one of :data:`FORMATS`, its part of the ``tables`` extra importable."""
    if fmt not in FORMATS:
        raise HuaweiOcrValidationError(
            f"table_format: one of {', '.join(FORMATS)}, got {fmt!r}", parameter="table_format"
        )
    for name in _NEEDS[fmt]:
        optional_module(name)  # HuaweiOcrTablesExtraError naming the extra
    return str(fmt)


def table_day(context: Any) -> date:
    """The partition's day: ``ds``, else the date of ``dag_run.run_after``, else today (UTC)."""
    get = context.get if hasattr(context, "get") else (lambda _name: None)
    ds = get("ds")
    if ds:
        return date.fromisoformat(str(ds)[:10])
    after = getattr(get("dag_run"), "run_after", None)
    if isinstance(after, datetime):
        return after.astimezone(timezone.utc).date() if after.tzinfo else after.date()
    if after:
        return date.fromisoformat(str(after)[:10])
    return datetime.now(timezone.utc).date()


def _partly_done(run: BatchRun, plan: Plan) -> Iterator[str]:
    """The keys of the pages done before of a document sent in part (the report names whole documents only)."""
    for item in plan.items:
        if not (item.is_document and item.action != "skip" and item.done and item.stem and item.count):
            continue
        left = {page for page, _ in item.pages}
        for page in parse_pages(run.pipeline.pages, item.count):
            if page not in left:
                yield run.store.page_key(item.stem, page, item.count)


def _result_keys(run: BatchRun, plan: Plan, sent: Sent, report: Report) -> list[str]:
    """The keys of the day's stored results (done this run and skipped as done), sorted: a stable order."""
    root = f"obs://{run.store.bucket}/"
    keys = {
        uri[len(root) :]
        for uri in report.results
        if uri and uri != report.manifest_uri and uri.startswith(root)
    }
    keys.update(_partly_done(run, plan))
    # review_below: held, reviewed and rejected pages are not the batch's rows (a review writes its own).
    left_out = sent.review.left_out if sent.review is not None else set()
    return sorted(keys - left_out)


class RunRows:
    """The rows of the results this run stores, made in the writer threads as each PUT returns.

    :meth:`add` (thread-safe) turns a stored envelope into its rows and adds them to the tables'
    spooled files (row groups go to disk as they fill: nothing holds a day's rows), and remembers its
    key; :func:`write_tables` then counts each page in the digests (by the ETag its entry records) and
    reads back only the other pages. A page whose rows could not be made is not remembered (it is read
    back, and an error shows there as it would); once adding to the files failed, none is used (every
    page is read back).
    """

    def __init__(self, run: BatchRun) -> None:
        self.run_id = run.run_id
        self.uri = run.store.uri
        self.spools = TableSpools(run.pipeline.api.slug, run.settings.table_format)
        #: The result keys whose rows are in :attr:`spools`.
        self.keys: set[str] = set()
        self.failed: BaseException | None = None
        self._lock = threading.Lock()

    def add(self, key: str | None, envelope: dict[str, Any] | None) -> None:
        """The rows of the envelope stored under ``key`` (``None``: left to be read back); never raises."""
        if key is None or envelope is None:
            return
        try:
            rows = envelope_rows(envelope, run_id=self.run_id, result_uri=self.uri(key))
        except Exception:  # noqa: BLE001 - read back by write_tables, which reports the error
            return
        with self._lock:
            if self.failed is not None:
                return
            try:
                self.spools.add_rows(rows)  # their page is counted by write_tables (its ETag)
            except Exception as exc:  # noqa: BLE001 - a file may hold part of a page: use none of them
                self.failed = exc
                return
            self.keys.add(key)

    def close(self) -> None:
        """Drop the spooled files (unless :func:`write_tables` finished them)."""
        with self._lock:
            self.spools.close()


def _scan(sent: Sent, keys: set[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One pass over the run's entries: the failed ones (by source and page), and result key -> the ETag
    its PUT returned for the ``done`` entries of ``keys``."""
    failed, etags = [], {}
    for entry in sent.entries:
        status = entry.get("status")
        if status == "failed":
            failed.append(entry)
        elif status == "done" and keys:
            key, etag = entry.get("key"), entry.get("result_etag")
            if key in keys and isinstance(etag, str) and etag:
                etags[key] = etag
    failed.sort(key=lambda e: (str(e.get("source")), int(e.get("page") or 1)))
    return failed, etags


def _take(
    run: BatchRun, found: RunRows | None, keys: list[str], etags: dict[str, str]
) -> tuple[TableSpools, set[str]]:
    """The spools to fill and the keys whose rows are in them already, each page counted in the digests:
    the send stage's (``found``) when they hold only keys of ``keys``, each with its ETag in ``etags``,
    else new ones (and every key is read back)."""
    if found is not None:
        if found.failed is None and found.keys.issubset(keys) and len(etags) == len(found.keys):
            for key, etag in etags.items():
                found.spools.count_page(page_digest(run.store.uri(key), etag))
            return found.spools, found.keys
        found.close()
        if found.failed is not None:
            why = str(found.failed)
        elif not found.keys.issubset(keys):
            why = "they name results the tables leave out"
        else:
            why = "some results have no ETag recorded"
        run.log.info("Tables: the rows made while writing are not used (%s); every result is read back", why)
    return TableSpools(run.pipeline.api.slug, run.settings.table_format), set()


def _read_back(run: BatchRun, key: str) -> tuple[dict[str, Any], bytes]:
    """The envelope stored under ``key`` (one GET) and its page's digest (its URI and the GET's ETag,
    else the bytes' MD5: what a plain PUT's ETag is)."""
    data, etag = run.obs.get_bytes_and_etag(run.store.bucket, key)
    envelope = json.loads(data.decode("utf-8-sig"))
    if not etag:
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
    return envelope, page_digest(run.store.uri(key), etag)


def _rows(
    run: BatchRun, keys: Iterable[str], failed: list[dict[str, Any]]
) -> Iterator[tuple[dict[str, list[Row]], bytes | None]]:
    """The rows of the results under ``keys`` (one GET each) with their page's digest, then those of
    every failed page (``None``: digested row by row), a page at a time."""
    store, api, run_id = run.store, run.pipeline.api.slug, run.run_id
    for key in keys:
        envelope, page = _read_back(run, key)
        yield envelope_rows(envelope, run_id=run_id, result_uri=store.uri(key)), page
    for entry in failed:
        error = entry.get("error_message") or entry.get("error_type") or "failed"
        yield (
            failure_rows(
                api,
                source=str(entry.get("source")),
                error=str(error),
                page=int(entry.get("page") or 1),
                pages=entry.get("pages"),
                source_etag=entry.get("source_etag"),
                run_id=run_id,
            ),
            None,
        )


def _put(run: BatchRun, bucket: str, key: str, spooled: Spooled) -> bool:
    """PUT one table's file unless the object there has the same digest; whether it was written."""
    info = run.obs.head(bucket, key)
    if info is not None and (info.metadata or {}).get(DIGEST_METADATA) == spooled.digest:
        return False
    run.obs.put_bytes(
        bucket,
        key,
        spooled.file.read(),
        content_type=CONTENT_TYPES[spooled.format],
        metadata={DIGEST_METADATA: spooled.digest, "hwocr-table-rows": str(spooled.rows)},
    )
    return True


def write_tables(run: BatchRun, plan: Plan, sent: Sent, report: Report) -> list[str]:
    """Write this run's partition of every table of its API (with ``table_uri``); the URIs, written or not.

    The XCom's ``tables``. Nothing without ``table_uri`` or in a dry run.
    """
    settings = run.settings
    if settings.table is None or run.dry:
        if sent.tables is not None:
            sent.tables.close()
            sent.tables = None
        return []
    prefix, fmt = settings.table, settings.table_format
    day = table_day(run.context)
    shard = settings.shard_index or 0
    uris, written = [], 0
    keys = _result_keys(run, plan, sent, report)
    found, sent.tables = sent.tables, None  # taken: a second write reads every result back
    try:
        failed, etags = _scan(sent, found.keys if found is not None and found.failed is None else set())
    except BaseException:
        if found is not None:
            found.close()
        raise
    # the rows of the pages this run stored, made as it stored them; the others read back
    spools, made = _take(run, found, keys, etags)
    with spools:
        for rows, page in _rows(run, (key for key in keys if key not in made), failed):
            spools.add(rows, page=page)
        files = spools.finish()
    try:
        for name, spooled in files.items():
            key = table_key(prefix.key, name, day, shard, fmt)
            written += _put(run, prefix.bucket, key, spooled)
            uris.append(f"obs://{prefix.bucket}/{key}")
    finally:
        for spooled in files.values():
            spooled.close()
    run.log.info(
        "Tables of %s for %s: %d written, %d unchanged, under %s",
        run.pipeline.api.slug,
        day.isoformat(),
        written,
        len(uris) - written,
        prefix.uri,
    )
    return uris
