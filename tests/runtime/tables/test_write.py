"""Tables written as Parquet, CSV and XLSX (``runtime/tables/write.py``), read back with DuckDB, the
``csv`` module and openpyxl: the same columns everywhere, exact amounts, an empty input a valid
empty table, memory flat however many rows."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal

import duckdb
import openpyxl
import pyarrow.parquet as pq
import pytest

from airflow_provider_hwocr.catalog import LIVE_APIS
from airflow_provider_hwocr.catalog.tables import api_tables, find_table, header_table
from airflow_provider_hwocr.runtime.tables import write
from airflow_provider_hwocr.runtime.tables.partitions import table_key
from airflow_provider_hwocr.runtime.tables.rows import envelope_rows
from airflow_provider_hwocr.runtime.tables.write import (
    TableSpools,
    spool,
    write_csv,
    write_parquet,
    write_rows,
    write_xlsx,
)
from tests.helpers.paths import REPO
from tests.runtime.tables import examples

INVOICES = 20


def _save(path, spooled) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(spooled.file.read())
    spooled.close()
    return path.as_posix()


def _parquet(tmp_path, table, rows) -> str:
    path = tmp_path / f"{table.name}.parquet"
    with path.open("wb") as out:
        write_parquet(table, rows, out)
    return path.as_posix()


# --- empty tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["vat-invoice", "general-text", "bank-receipt", "train-ticket"])
def test_no_rows_is_a_valid_empty_table_with_every_column(tmp_path, slug):
    for table in api_tables(slug):
        path = _parquet(tmp_path, table, iter(()))
        found = duckdb.sql(f"select * from read_parquet('{path}')")
        assert found.columns == list(table.names) and found.fetchall() == []
        described = {
            row[0]: row[1] for row in duckdb.sql(f"describe select * from read_parquet('{path}')").fetchall()
        }
        for column in table.columns:
            if column.type.startswith("decimal") or column.type == "date":
                assert described[column.name] == column.type.upper()
        out = io.BytesIO()
        assert write_csv(table, [], out) == 0
        assert list(csv.reader(io.StringIO(out.getvalue().decode()))) == [list(table.names)]
        out = io.BytesIO()
        write_xlsx(table, [], out)
        sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True).active
        assert [list(r) for r in sheet.iter_rows(values_only=True)] == [list(table.names)]


def test_every_live_api_writes_an_empty_parquet_table_per_table():
    for api in LIVE_APIS:
        with TableSpools(api.slug) as spools:
            files = spools.finish()
        assert list(files) == [t.name for t in api_tables(api.slug)]
        for name, spooled in files.items():
            assert spooled.rows == 0
            assert pq.read_schema(spooled.file).names == list(find_table(name).names)
            spooled.close()


# --- a day of VAT invoices -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def invoices():
    return [examples.vat_invoice(number=f"{20000000 + n}", scale=n + 1) for n in range(INVOICES)]


@pytest.fixture
def invoice_files(tmp_path, invoices):
    with TableSpools("vat-invoice") as spools:
        for n, doc in enumerate(invoices):
            spools.add(envelope_rows(doc, run_id="manual__2026-11-30", result_uri=f"obs://out/ocr/{n}.json"))
        files = spools.finish()
    return {name: _save(tmp_path / f"{name}.parquet", spooled) for name, spooled in files.items()}


def test_duckdb_reads_the_header_and_line_items_and_joins_them_on_source_and_page(invoice_files, invoices):
    header, items = invoice_files["vat-invoice"], invoice_files["vat-invoice__item_list"]
    assert duckdb.sql(f"select count(*) from read_parquet('{header}')").fetchall() == [(INVOICES,)]
    count = duckdb.sql(f"select count(*) from read_parquet('{items}')").fetchall()
    assert count == [(INVOICES * len(examples.ITEMS),)]
    joined = duckdb.sql(
        f"select h.number, h.subtotal_amount, sum(i.amount) as items, count(*) as n "
        f"from read_parquet('{header}') h join read_parquet('{items}') i using (source, page) "
        "group by all order by h.number"
    ).fetchall()
    assert len(joined) == INVOICES
    for number, subtotal, total_of_items, n in joined:
        assert subtotal == total_of_items and n == len(examples.ITEMS), number
    types = {
        r[0]: r[1]
        for r in duckdb.sql(f"describe select total, issue_date from read_parquet('{header}')").fetchall()
    }
    assert types == {"total": "DECIMAL(18,2)", "issue_date": "DATE"}


def test_the_sums_of_amounts_equal_the_json_exactly(invoice_files, invoices):
    header, items = invoice_files["vat-invoice"], invoice_files["vat-invoice__item_list"]
    json_items = sum(Decimal(i["amount"]) for doc in invoices for i in doc["result"]["item_list"])
    json_tax = sum(Decimal(i["tax"]) for doc in invoices for i in doc["result"]["item_list"])
    json_totals = sum(Decimal(doc["result"]["total"].lstrip("¥").replace(",", "")) for doc in invoices)
    [(found_items, found_tax)] = duckdb.sql(
        f"select sum(amount), sum(tax) from read_parquet('{items}')"
    ).fetchall()
    [(found_totals,)] = duckdb.sql(f"select sum(total) from read_parquet('{header}')").fetchall()
    assert (found_items, found_tax, found_totals) == (json_items, json_tax, json_totals)
    assert isinstance(found_totals, Decimal) and found_totals == Decimal("237300.00")


def test_hive_partitions_of_two_shards_read_as_one_table_with_a_dt_column(tmp_path, invoices):
    table = header_table("vat-invoice")
    for shard, docs in enumerate((invoices[:5], invoices[5:8])):
        rows = (row for doc in docs for row in envelope_rows(doc)["vat-invoice"])
        key = table_key(tmp_path.as_posix(), table.name, "2026-11-30", shard)
        _save(tmp_path / key.removeprefix(tmp_path.as_posix() + "/"), spool("parquet", table, rows))
    found = duckdb.sql(
        f"select dt, count(*) from read_parquet('{tmp_path.as_posix()}/vat-invoice/*/*.parquet', hive_partitioning=true) group by dt"
    ).fetchall()
    assert [(str(dt), n) for dt, n in found] == [("2026-11-30", 8)]


def test_csv_and_xlsx_have_the_columns_of_the_parquet_and_the_same_values(tmp_path, invoice_files, invoices):
    table = header_table("vat-invoice")
    doc = invoices[0]
    doc = {**doc, "result": {**doc["result"], "remarks": '=HYPERLINK("http://x")'}}
    rows = envelope_rows(doc)["vat-invoice"]
    parquet_columns = pq.read_schema(invoice_files["vat-invoice"]).names
    out = io.BytesIO()
    write_csv(table, rows, out)
    lines = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"), newline="")))
    assert lines[0] == parquet_columns
    record = dict(zip(lines[0], lines[1]))
    assert (record["total"], record["issue_date"], record["total_raw"]) == ("1130.00", "2026-11-20", "")
    assert record["processed_at"] == "2026-11-30T08:15:00+00:00" and record["sales_mark"] == "false"
    assert json.loads(record["supervision_seal"])[0] == "全国统一发票监制章"
    out = io.BytesIO()
    write_xlsx(table, rows, out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    header = [c.value for c in sheet[1]]
    assert header == parquet_columns and sheet.title == "vat-invoice"
    cells = dict(zip(header, sheet[2]))
    assert cells["total"].value == 1130 and cells["total"].number_format == "0.00"
    assert cells["issue_date"].value.date() == date(2026, 11, 20)
    assert cells["remarks"].value == '=HYPERLINK("http://x")' and cells["remarks"].data_type == "s"
    assert cells["buyer_name"].value == "北京示例科技有限公司"


def test_the_content_digest_ignores_the_run_and_the_bytes_are_reproducible(invoices):
    table = find_table("vat-invoice__item_list")

    def spooled(run_id, scale=1):
        doc = examples.vat_invoice(scale=scale)
        return spool("parquet", table, envelope_rows(doc, run_id=run_id)[table.name])

    first, again, rerun, changed = spooled("r1"), spooled("r1"), spooled("r2"), spooled("r1", scale=2)
    assert first.sha256 == again.sha256 and first.digest == again.digest  # same rows, same bytes
    assert first.digest == rerun.digest  # item tables have no run_id: and the digest never reads it
    assert first.digest != changed.digest
    data = first.file.read()
    assert (len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()) == (
        first.size,
        first.md5,
        first.sha256,
    )
    header = header_table("vat-invoice")
    runs = [spool("csv", header, envelope_rows(invoices[0], run_id=r)["vat-invoice"]) for r in ("a", "b")]
    assert runs[0].digest == runs[1].digest and runs[0].sha256 != runs[1].sha256
    for s in (first, again, rerun, changed, *runs):
        s.close()


def test_rows_added_a_page_at_a_time_make_the_same_file_as_rows_added_one_by_one(invoices):
    """``TableSpools.add_rows`` hands a page's rows over in one call: the row groups, so the bytes, are
    those of the same rows written one by one, across Arrow batches of ``BATCH_ROWS`` rows."""
    docs = [invoices[n % len(invoices)] for n in range(write.BATCH_ROWS + 300)]
    pages = [envelope_rows(doc, run_id="r", result_uri=f"obs://out/{n}.json") for n, doc in enumerate(docs)]
    with TableSpools("vat-invoice") as spools:
        for page in pages:
            spools.add_rows(page)
        together = spools.finish()
    for name, spooled in together.items():
        one_by_one = spool("parquet", find_table(name), (row for page in pages for row in page[name]))
        assert spooled.rows == one_by_one.rows == sum(len(page[name]) for page in pages)
        assert spooled.sha256 == one_by_one.sha256, name
        one_by_one.close()
        spooled.close()
    # and never more than BATCH_ROWS Python rows held: a page's rows that fill a batch are batched
    sink = write.ParquetSink(header_table("vat-invoice"), io.BytesIO())
    for page in pages:
        sink.write_many(page["vat-invoice"] * 3)
        assert len(sink._rows) < write.BATCH_ROWS
    assert [b.num_rows for b in sink._batches] == [write.BATCH_ROWS] * (3 * len(pages) // write.BATCH_ROWS)
    sink.abort()


def test_the_content_digest_is_the_same_in_any_order_and_counts_each_row(invoices):
    """Writer threads add a batch's rows in the order they finish: the digest does not see that order,
    but it sees a row that is missing, added twice, or changed."""
    header = header_table("vat-invoice")
    rows = [envelope_rows(doc, run_id="r")["vat-invoice"][0] for doc in invoices]

    def digest(some):
        spooled = spool("parquet", header, some)
        spooled.close()
        return spooled.digest

    forward = digest(rows)
    assert digest(rows[::-1]) == forward and digest(rows[1:] + rows[:1]) == forward
    assert digest(rows[:-1]) != forward and digest([*rows, rows[0]]) != forward
    assert digest([*rows[:-1], {**rows[-1], "total": Decimal("0.01")}]) != forward
    assert digest([rows[0], rows[0]]) != digest([rows[1], rows[1]])  # a sum, not a XOR: twins do not cancel
    assert digest([rows[0], rows[0]]) != digest([])


def _pages_digest(invoices, pages, *, counted=None):
    """Table name -> digest of the invoices' rows added by page (``pages``: their page digests)."""
    with TableSpools("vat-invoice") as spools:
        for doc, page in zip(invoices, pages):
            spools.add(envelope_rows(doc, run_id="r"), page=page)
        for page in counted or ():
            spools.count_page(page)
        files = spools.finish()
    for spooled in files.values():
        spooled.close()
    return {name: spooled.digest for name, spooled in files.items()}


def test_a_page_counts_by_its_digest_once_in_every_table_in_any_order(invoices):
    """Rows added with their page's digest are not digested one by one: each table's digest is a sum over
    the pages (in any order, each counted, twins not cancelling), and differs from the rows' own digest."""
    docs = invoices[:4]
    pages = [write.page_digest(f"obs://out/ocr/{i}.json", f"etag-{i}") for i in range(4)]
    forward = _pages_digest(docs, pages)
    assert _pages_digest(docs[::-1], pages[::-1]) == forward
    assert len(set(forward.values())) == len(forward)  # each table its own
    dropped = _pages_digest(docs[:3], pages[:3])
    assert all(dropped[name] != forward[name] for name in forward)  # a page with no row in a table too
    other = _pages_digest(docs, [*pages[:3], write.page_digest("obs://out/ocr/3.json", "etag-changed")])
    assert all(other[name] != forward[name] for name in forward)
    assert _pages_digest(docs[:2], [pages[0]] * 2) != _pages_digest(docs[:2], [pages[1]] * 2)
    with TableSpools("vat-invoice") as spools:  # the same rows digested one by one: another digest
        for doc in docs:
            spools.add(envelope_rows(doc, run_id="r"))
        by_rows = {name: s.digest for name, s in spools.finish().items()}
    assert all(by_rows[name] != forward[name] for name in forward)
    # add_rows, then count_page (a batch counts its writers' pages once their ETags are known): the same
    with TableSpools("vat-invoice") as spools:
        for doc in docs:
            spools.add_rows(envelope_rows(doc, run_id="r"))
        for page in pages[::-1]:
            spools.count_page(page)
        later = {name: s.digest for name, s in spools.finish().items()}
    assert later == forward


def test_a_page_digest_names_the_stored_bytes_and_the_code_that_makes_rows(monkeypatch):
    digest = write.page_digest("obs://out/ocr/a.json", "5d41402abc4b2a76b9719d911017c592")
    assert len(digest) == 32
    assert write.page_digest("obs://out/ocr/a.json", '"5d41402abc4b2a76b9719d911017c592"') == digest
    assert write.page_digest("obs://out/ocr/b.json", "5d41402abc4b2a76b9719d911017c592") != digest
    assert write.page_digest("obs://out/ocr/a.json", "5d41402abc4b2a76b9719d911017c593") != digest
    monkeypatch.setattr(write, "ROWS_VERSION", "changed")
    assert write.page_digest("obs://out/ocr/a.json", "5d41402abc4b2a76b9719d911017c592") != digest


def _digest_before_pages(fmt, table, rows):
    """The content digest as the version before page digests made it: every row's ``repr``, no version."""
    schema = repr((fmt, [(c.name, c.type) for c in table.columns])).encode()
    kept = [n for n in table.names if n != "run_id"]
    total = sum(
        int.from_bytes(hashlib.sha256(repr(tuple(r[n] for n in kept)).encode()).digest(), "big") for r in rows
    )
    return hashlib.sha256(
        schema + b"\0" + str(len(rows)).encode() + b"\0" + (total % 2**256).to_bytes(32, "big")
    ).hexdigest()


def test_a_digest_made_by_the_version_before_never_matches(invoices):
    """The same rows, digested row by row as before: the digest now carries its version, so a file written by
    the version before is told apart (and replaced once, whole)."""
    header = header_table("vat-invoice")
    rows = [envelope_rows(doc, run_id="r")["vat-invoice"][0] for doc in invoices]
    spooled = spool("parquet", header, rows)
    spooled.close()
    before = _digest_before_pages("parquet", header, rows)
    assert len(before) == len(spooled.digest) and before != spooled.digest


def test_refusals(monkeypatch):
    table = header_table("vin")
    with pytest.raises(ValueError, match="unknown table format"):
        write_rows("json", table, [], io.BytesIO())
    monkeypatch.setattr(write, "XLSX_MAX_ROWS", 2)
    with pytest.raises(ValueError, match="at most 2 rows"):
        write_xlsx(table, [{}] * 3, io.BytesIO())
    with pytest.raises(KeyError), TableSpools("vin") as spools:
        spools.add({"vin__nothing": [{}]})


def test_rows_missing_columns_are_nulls_everywhere():
    table = header_table("vin")
    row = {
        "source": "obs://b/k.png",
        "page": 1,
        "api": "vin",
        "status": "ok",
        "reviewed": False,
        "vin": "LSVAM4187C2184847",
    }
    spooled = spool("parquet", table, [row])
    assert pq.read_table(spooled.file).to_pylist()[0] == {**dict.fromkeys(table.names), **row}
    spooled.close()


# --- memory ----------------------------------------------------------------------------------------

MEMORY_SCRIPT = """
import os, sys, threading, time
from airflow_provider_hwocr.catalog.tables import find_table
from airflow_provider_hwocr.runtime.tables.rows import envelope_rows
from airflow_provider_hwocr.runtime.tables.write import spool
from tests.runtime.tables import examples

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


table = find_table("vat-invoice__item_list")
items = envelope_rows(examples.vat_invoice())[table.name]
count = int(sys.argv[1])


def rows():
    for n in range(count):
        row = dict(items[n % len(items)])
        row["source"], row["item_index"] = f"obs://scans/2026-11-30/{n // 4:06d}.pdf", n % 4
        row["name"] = f"{row['name']} {n}"
        yield row


spool("parquet", table, iter(items)).close()  # pyarrow loaded, its pools made
done, result = threading.Event(), {}


def run():
    start = time.perf_counter()
    result["spooled"] = spool("parquet", table, rows(), max_memory=1 << 20)
    result["seconds"] = time.perf_counter() - start
    done.set()


baseline = peak = rss()
threading.Thread(target=run).start()
while not done.wait(0.005):
    peak = max(peak, rss())
spooled = result["spooled"]
print(spooled.rows, peak - baseline, spooled.size, result["seconds"])
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_writing_100000_rows_streams_in_flat_memory():
    count = 100_000
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(count)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    rows, growth, size, seconds = out.stdout.split()
    assert int(rows) == count
    # the peak grows by a row group at most, not by the rows: generously, under 1 KB a row
    assert int(growth) < 1024 * count, f"peak RSS grew {int(growth):,} bytes for {count:,} rows"
    print(
        f"{count:,} rows in {float(seconds):.2f} s, {int(size) / count:.1f} B a row, peak RSS +{int(growth):,} B"
    )
