"""``table_uri``: after the record stage, the day's partition of the API's tables, rebuilt from the stored
results (done this run and skipped as done), written once per table, day and shard, and not written
again when its rows are the same; DuckDB reads the Parquet with typed amounts and dates."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.emulator.samples import vat_invoice
from airflow_provider_hwocr.runtime.batch.tables import DIGEST_METADATA, table_day
from airflow_provider_hwocr.runtime.tables.rows import parse_amount, parse_date
from tests.helpers.d2_stages import PNG, batch_op
from tests.helpers.obs_env import bulk_put

DAY = "2026-11-30"
INVOICE = vat_invoice().png
CONTEXT = {"run_id": "scheduled__2026-11-30", "ds": DAY}


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


@pytest.fixture
def computed(emulator):
    """The emulator reads the answer from the image (the sample VAT invoice)."""
    emulator.config.results = "computed"  # read from the image (reset() puts it back)
    return emulator


def _run(bucket, context=CONTEXT, **kwargs):
    kwargs.setdefault("api", "vat-invoice")
    kwargs.setdefault("table_uri", f"obs://{bucket}/tables/")
    return batch_op(bucket, **kwargs).execute(dict(context))


def _key(bucket, uri):
    return uri.removeprefix(f"obs://{bucket}/")


def _download(obs, bucket, uri, tmp_path):
    path = tmp_path / f"{uri.split('/')[-3]}.{uri.rsplit('.', 1)[-1]}"
    path.write_bytes(obs.get_bytes(bucket, _key(bucket, uri)))
    return str(path)


def test_a_day_of_vat_invoices_reads_in_duckdb_typed_and_joined(obs_bucket, obs, computed, tmp_path):
    import duckdb

    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(2)], INVOICE)
    out = _run(obs_bucket)
    header_uri = f"obs://{obs_bucket}/tables/vat-invoice/dt={DAY}/part-00000.parquet"
    items_uri = f"obs://{obs_bucket}/tables/vat-invoice__item_list/dt={DAY}/part-00000.parquet"
    assert header_uri in out["tables"] and items_uri in out["tables"]
    head = obs.head(obs_bucket, _key(obs_bucket, header_uri))
    assert head.metadata.get(DIGEST_METADATA)
    header, items = (_download(obs, obs_bucket, u, tmp_path) for u in (header_uri, items_uri))

    rows = duckdb.sql(
        f"select source, page, total, issue_date, request_id, result_uri, status from read_parquet('{header}') "
        "order by source"
    ).fetchall()
    assert [r[0] for r in rows] == [f"obs://{obs_bucket}/day/{i}.png" for i in range(2)]
    described = duckdb.sql(f"describe select total, issue_date from read_parquet('{header}')").fetchall()
    assert {r[0]: r[1] for r in described} == {"total": "DECIMAL(18,2)", "issue_date": "DATE"}
    results = {}
    for source, page, total, issue, request_id, result_uri, status in rows:
        assert page == 1 and status == "ok" and request_id
        results[source] = obs.get_json(obs_bucket, _key(obs_bucket, result_uri))
        assert source in json.dumps(results[source])
        assert total is not None and total == parse_amount(results[source]["result"]["total"])
        assert issue is not None and issue == parse_date(results[source]["result"]["issue_date"])

    joined = duckdb.sql(
        f"select h.source, count(i.item_index), sum(i.amount) from read_parquet('{header}') h "
        f"left join read_parquet('{items}') i using (source, page) group by h.source order by h.source"
    ).fetchall()
    assert len(joined) == 2
    for source, count, amount in joined:
        listed = results[source]["result"].get("item_list") or []
        assert count == len(listed)
        assert (amount or Decimal(0)) == sum((parse_amount(i["amount"]) or Decimal(0)) for i in listed)
    total = duckdb.sql(f"select sum(total) from read_parquet('{header}')").fetchall()[0][0]
    assert total == sum(parse_amount(r["result"]["total"]) for r in results.values())


def test_a_rerun_with_nothing_new_puts_nothing_under_table_uri(obs_bucket, obs, computed, counted):
    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(2)], INVOICE)
    first = _run(obs_bucket)
    etags = {u: obs.head(obs_bucket, _key(obs_bucket, u)).etag for u in first["tables"]}
    counted.reset()
    again = _run(obs_bucket, context={**CONTEXT, "run_id": "manual__again"})
    assert again["tables"] == first["tables"] and again["totals"]["skipped"] == 2
    puts = [p for m, p in counted.requests if m == "PUT" and "/tables/" in p]
    assert puts == []
    assert {u: obs.head(obs_bucket, _key(obs_bucket, u)).etag for u in again["tables"]} == etags


def test_general_text_has_one_row_per_page_with_text(obs_bucket, obs, emulator, tmp_path):
    import duckdb

    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(2)], PNG)
    out = _run(obs_bucket, api="general-text")
    header = next(u for u in out["tables"] if "/general-text/" in u)
    path = _download(obs, obs_bucket, header, tmp_path)
    rows = duckdb.sql(f"select source, page, text from read_parquet('{path}')").fetchall()
    assert len(rows) == 2 and all(r[1] == 1 and r[2] for r in rows)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_csv_and_xlsx_write_the_same_columns(obs_bucket, obs, computed, fmt):
    from airflow_provider_hwocr.catalog.tables import header_table

    bulk_put(obs_bucket, ["day/0.png"], INVOICE)
    out = _run(obs_bucket, table_format=fmt)
    header = next(u for u in out["tables"] if "/vat-invoice/" in u)
    assert header.endswith(f"/dt={DAY}/part-00000.{fmt}")
    data = obs.get_bytes(obs_bucket, _key(obs_bucket, header))
    if fmt == "csv":
        lines = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        names, values = lines[0], lines[1:]
    else:
        import openpyxl

        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        names, *values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert tuple(names) == header_table("vat-invoice").names and len(values) == 1


def test_an_empty_day_writes_valid_empty_tables(obs_bucket, obs, computed, tmp_path):
    import duckdb

    out = _run(obs_bucket, allow_empty=True)
    header = next(u for u in out["tables"] if "/vat-invoice/" in u)
    path = _download(obs, obs_bucket, header, tmp_path)
    assert duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall() == [(0,)]
    names = [r[0] for r in duckdb.sql(f"describe select * from read_parquet('{path}')").fetchall()]
    assert "total" in names and "result_uri" in names


def test_table_arguments_are_checked_before_any_call(obs_bucket, emulator):
    bulk_put(obs_bucket, ["day/0.png"], PNG)
    with pytest.raises(HuaweiOcrValidationError, match="table_format"):
        _run(obs_bucket, table_format="json")
    with pytest.raises(HuaweiOcrValidationError, match="table_uri"):
        _run(obs_bucket, table_uri="s3://elsewhere/")
    assert emulator.count("vat-invoice") == 0


def test_the_day_is_ds_else_run_after():
    from datetime import datetime, timezone
    from types import SimpleNamespace

    assert table_day({"ds": DAY}).isoformat() == DAY
    after = SimpleNamespace(run_after=datetime(2026, 12, 1, 23, 0, tzinfo=timezone.utc))
    assert table_day({"dag_run": after}).isoformat() == "2026-12-01"


def test_a_failed_page_has_its_failed_row_next_to_the_stored_ones(obs_bucket, obs, computed, tmp_path):
    import duckdb

    bulk_put(obs_bucket, ["day/a.png"], INVOICE)
    bulk_put(obs_bucket, ["day/b.png"], PNG)  # too small for the service: AIS.0103
    out = _run(obs_bucket, max_failures=1)
    assert out["totals"]["failed"] == 1
    header = next(u for u in out["tables"] if "/vat-invoice/" in u)
    path = _download(obs, obs_bucket, header, tmp_path)
    rows = duckdb.sql(f"select source, status, error, result_uri from read_parquet('{path}') order by source")
    (a, a_status, _, a_uri), (b, b_status, b_error, b_uri) = rows.fetchall()
    assert (a_status, b_status) == ("ok", "failed") and a_uri and b_uri is None
    assert a.endswith("/day/a.png") and b.endswith("/day/b.png") and "AIS.0103" in b_error


def test_a_missing_extra_fails_before_any_call_naming_it(obs_bucket, emulator, monkeypatch):
    from airflow_provider_hwocr.runtime.batch import tables
    from airflow_provider_hwocr.runtime.tables.schema import HuaweiOcrTablesExtraError

    def missing(name):
        raise HuaweiOcrTablesExtraError(f"writing tables needs {name}, from the tables extra")

    monkeypatch.setattr(tables, "optional_module", missing)
    bulk_put(obs_bucket, ["day/0.png"], PNG)
    with pytest.raises(HuaweiOcrTablesExtraError, match="tables extra"):
        _run(obs_bucket, api="general-text")
    assert emulator.count("general-text") == 0


def test_a_document_sent_in_part_has_every_page_in_the_table(obs_bucket, obs, emulator, tmp_path):
    import duckdb

    from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError
    from airflow_provider_hwocr.testing.documents import numbered_pdf

    obs.put_bytes(obs_bucket, "day/doc.pdf", numbered_pdf(3).data)
    with pytest.raises(HuaweiCloudBudgetExceededError):
        _run(obs_bucket, api="general-text", max_calls=1, max_concurrency=1)
    out = _run(obs_bucket, api="general-text")  # pages 2 and 3 sent, page 1 done before
    assert out["totals"]["done"] == 2
    header = next(u for u in out["tables"] if "/general-text/" in u)
    path = _download(obs, obs_bucket, header, tmp_path)
    rows = duckdb.sql(f"select page, pages, status from read_parquet('{path}') order by page").fetchall()
    assert rows == [(1, 3, "ok"), (2, 3, "ok"), (3, 3, "ok")]


def test_line_items_join_their_page_and_keep_what_they_cannot_read(obs_bucket, obs, emulator, tmp_path):
    """The documented answer (the emulator's default) has one line item per invoice, its amount a placeholder."""
    import duckdb

    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(2)], INVOICE)
    out = _run(obs_bucket)
    paths = {u.split("/")[-3]: _download(obs, obs_bucket, u, tmp_path) for u in out["tables"]}
    header, items = paths["vat-invoice"], paths["vat-invoice__item_list"]
    joined = duckdb.sql(
        f"select h.result_uri, count(*), sum(i.amount), string_agg(i.amount_raw, '|') "
        f"from read_parquet('{header}') h join read_parquet('{items}') i using (source, page) "
        "group by all order by all"
    ).fetchall()
    assert len(joined) == 2
    for result_uri, count, amount, raw in joined:
        listed = obs.get_json(obs_bucket, _key(obs_bucket, result_uri))["result"]["item_list"]
        assert count == len(listed) == 1
        assert amount is None and raw == listed[0]["amount"]  # not a number: kept as printed


def _parquet_rows(obs, bucket, uris):
    """Table name -> its rows (a sorted list of their reprs: the order the rows came in does not count)."""
    import pyarrow.parquet as pq

    return {
        u.split("/")[-3]: sorted(
            map(repr, pq.read_table(io.BytesIO(obs.get_bytes(bucket, _key(bucket, u)))).to_pylist())
        )
        for u in uris
    }


def test_the_rows_made_while_writing_are_the_rows_a_full_read_back_makes(obs_bucket, obs, emulator, counted):
    """The pages this run stores get their rows from the writers (no GET); those done before are read back;
    the tables equal, row for row and digest for digest, those rebuilt by reading every result back (the
    documented answer: one line item per invoice)."""
    from dataclasses import replace

    from airflow_provider_hwocr.runtime.batch import record, settle_reviews, write_tables
    from airflow_provider_hwocr.runtime.contract import ObsPrefix
    from tests.helpers.d2_stages import start, through_send

    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(2)], INVOICE)
    _run(obs_bucket)  # done before: read back
    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(2, 7)], INVOICE)  # done by this run: its rows spooled
    bulk_put(obs_bucket, ["day/small.png"], PNG)  # fails: its failed row
    run = start(obs_bucket, context=CONTEXT, api="vat-invoice", table_uri=f"obs://{obs_bucket}/tables/")
    _, plan, sent = through_send(run)
    sent.review = settle_reviews(run, plan, sent)
    report = record(run, plan, sent)
    assert (report.totals["done"], report.totals["skipped"], report.totals["failed"]) == (5, 2, 1)
    assert sent.tables is not None and len(sent.tables.keys) == 5
    counted.reset()
    spooled = write_tables(run, plan, sent, report)
    gets = sorted(p.rsplit("/", 1)[-1] for m, p in counted.requests if m == "GET" and "/ocr/" in p)
    assert len(gets) == 2 and all(g.startswith(("0.png-", "1.png-")) for g in gets), (
        gets
    )  # only the pages done before

    run.settings = replace(run.settings, table=ObsPrefix(f"obs://{obs_bucket}/again/", obs_bucket, "again/"))
    assert sent.tables is None  # taken: this write reads every result back
    read_back = write_tables(run, plan, sent, report)
    assert len(spooled) == len(read_back) == 4  # header, line items, two lists the sample leaves empty
    first, second = _parquet_rows(obs, obs_bucket, spooled), _parquet_rows(obs, obs_bucket, read_back)
    assert first == second and len(first["vat-invoice"]) == 8 and len(first["vat-invoice__item_list"]) == 7
    digests = [
        obs.head(obs_bucket, _key(obs_bucket, u)).metadata[DIGEST_METADATA] for u in (*spooled, *read_back)
    ]
    assert digests[:4] == digests[4:]


def test_rows_of_results_the_tables_leave_out_are_not_used(obs_bucket, obs, computed):
    """Should the writers have made rows of a result the tables leave out, every result is read back instead."""
    from airflow_provider_hwocr.runtime.batch import record, settle_reviews, write_tables
    from airflow_provider_hwocr.runtime.batch.tables import RunRows
    from tests.helpers.d2_stages import start, through_send

    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(2)], INVOICE)
    run = start(obs_bucket, context=CONTEXT, api="vat-invoice", table_uri=f"obs://{obs_bucket}/tables/")
    _, plan, sent = through_send(run)
    sent.review = settle_reviews(run, plan, sent)
    report = record(run, plan, sent)
    stray = RunRows(run)  # rows of a page this run did not store: not the day's
    key = next(iter(sent.tables.keys))
    stray.add("ocr/elsewhere.json", obs.get_json(obs_bucket, key))
    stray.add(key, obs.get_json(obs_bucket, key))
    sent.tables.close()
    sent.tables = stray
    uris = write_tables(run, plan, sent, report)
    header = _parquet_rows(obs, obs_bucket, uris)["vat-invoice"]
    assert len(header) == 2 and "elsewhere" not in repr(header)


def _digest_before_pages(table, rows):
    """A table's content digest as the version before page digests made it (every row's ``repr``)."""
    import hashlib

    schema = repr(("parquet", [(c.name, c.type) for c in table.columns])).encode()
    kept = [n for n in table.names if n != "run_id"]
    total = sum(
        int.from_bytes(hashlib.sha256(repr(tuple(r[n] for n in kept)).encode()).digest(), "big") for r in rows
    )
    counted = schema + b"\0" + str(len(rows)).encode() + b"\0" + (total % 2**256).to_bytes(32, "big")
    return hashlib.sha256(counted).hexdigest()


def test_a_table_written_by_the_version_before_is_replaced_once_whole(obs_bucket, obs, emulator, counted):
    """Files whose digest counts rows (the version before) are rewritten by the next run, one row per page,
    then left alone."""
    from airflow_provider_hwocr.catalog.tables import api_tables
    from airflow_provider_hwocr.runtime.tables.rows import envelope_rows

    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(3)], INVOICE)
    first = _run(obs_bucket)
    header = next(u for u in first["tables"] if "/vat-invoice/" in u)
    results = [r[0] for r in _header_uris(obs, obs_bucket, header)]  # the stored envelopes' URIs
    envelopes = {uri: obs.get_json(obs_bucket, _key(obs_bucket, uri)) for uri in results}
    for table in api_tables("vat-invoice"):
        uri = next(u for u in first["tables"] if f"/{table.name}/" in u)
        rows = [r for u, doc in envelopes.items() for r in envelope_rows(doc, result_uri=u)[table.name]]
        old = _digest_before_pages(table, rows)
        data = obs.get_bytes(obs_bucket, _key(obs_bucket, uri))  # the same rows, the version before's digest
        obs.put_bytes(obs_bucket, _key(obs_bucket, uri), data, metadata={DIGEST_METADATA: old})
    counted.reset()
    again = _run(obs_bucket, context={**CONTEXT, "run_id": "manual__again"})
    puts = [p for m, p in counted.requests if m == "PUT" and "/tables/" in p]
    assert len(puts) == len(again["tables"]) == 4  # each file once
    rows = _parquet_rows(obs, obs_bucket, again["tables"])
    assert len(rows["vat-invoice"]) == 3 and len(rows["vat-invoice__item_list"]) == 3
    pages = sorted((r[0], r[1]) for r in _header_uris(obs, obs_bucket, header, "source, page"))
    assert len(set(pages)) == len(pages) == 3  # one row per page, no duplicate
    counted.reset()
    _run(obs_bucket, context={**CONTEXT, "run_id": "manual__third"})
    assert [p for m, p in counted.requests if m == "PUT" and "/tables/" in p] == []


def _header_uris(obs, bucket, header_uri, columns="result_uri"):
    import pyarrow.parquet as pq

    table = pq.read_table(
        io.BytesIO(obs.get_bytes(bucket, _key(bucket, header_uri))), columns=columns.split(", ")
    )
    return [tuple(r.values()) for r in table.to_pylist()]


def test_pages_stored_without_an_etag_recorded_are_read_back(obs_bucket, obs, emulator, counted):
    """A page counts in the digest by its ETag: when the entries do not record one, the writers' rows are not
    used and every result is read back (one GET each); a re-run reading them back again writes nothing."""
    from airflow_provider_hwocr.runtime.batch import record, settle_reviews, write_tables
    from tests.helpers.d2_stages import start, through_send

    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(3)], INVOICE)
    run = start(obs_bucket, context=CONTEXT, api="vat-invoice", table_uri=f"obs://{obs_bucket}/tables/")
    _, plan, sent = through_send(run)
    sent.review = settle_reviews(run, plan, sent)
    report = record(run, plan, sent)
    assert sent.tables is not None and len(sent.tables.keys) == 3
    sent.entries = [{**e, "result_etag": None} for e in sent.entries]
    counted.reset()
    uris = write_tables(run, plan, sent, report)
    gets = [p for m, p in counted.requests if m == "GET" and "/ocr/" in p]
    assert len(gets) == 3  # every result read back
    assert len(_parquet_rows(obs, obs_bucket, uris)["vat-invoice"]) == 3
    counted.reset()
    again = _run(obs_bucket, context={**CONTEXT, "run_id": "manual__again"})
    assert again["totals"]["skipped"] == 3 and sorted(again["tables"]) == sorted(uris)
    assert [p for m, p in counted.requests if m == "PUT" and "/tables/" in p] == []
