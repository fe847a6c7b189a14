"""One stored envelope as typed rows (``runtime/tables/rows.py``): printed amounts and dates read,
raw text kept when they cannot be, line items keyed to their page, provenance filled in."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from airflow_provider_hwocr.catalog import LIVE_APIS
from airflow_provider_hwocr.catalog.tables import api_tables, header_table
from airflow_provider_hwocr.runtime.review.decision import Decision, apply_review
from airflow_provider_hwocr.runtime.review.gate import held_fields
from airflow_provider_hwocr.runtime.review.rule import ReviewRule
from airflow_provider_hwocr.runtime.tables.rows import (
    envelope_rows,
    failure_rows,
    parse_amount,
    parse_date,
    source_of,
)
from tests.runtime.tables import examples

PYTHON_TYPES = {
    "string": str,
    "int64": int,
    "float64": float,
    "bool": bool,
    "decimal(18,2)": Decimal,
    "decimal(18,8)": Decimal,
    "date": date,
    "timestamp": datetime,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¥1,234.50", Decimal("1234.50")),
        ("￥１，２３４．５", Decimal("1234.50")),
        ("1234.5元", Decimal("1234.50")),
        ("$ 12", Decimal("12.00")),
        ("-56.00", Decimal("-56.00")),
        ("－56", Decimal("-56.00")),
        ("CNY 1,000,000.00", Decimal("1000000.00")),
        (88, Decimal("88.00")),
        ("", None),
        ("见附件", None),
        ("1,23.00", None),  # not a thousands grouping
        ("1.234", None),  # a third decimal would be rounded away
        ("12345678901234567.00", None),  # more digits than decimal(18,2)
        (True, None),
        (None, None),
        (".", None),
    ],
)
def test_printed_amounts(text, expected):
    assert parse_amount(text) == expected


def test_unit_prices_keep_eight_decimals():
    assert parse_amount("8.84955752", scale=8) == Decimal("8.84955752")
    assert str(parse_amount("300", scale=8)) == "300.00000000"
    assert parse_amount("3.539823008849", scale=8) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026年11月30日", date(2026, 11, 30)),
        ("2026年1月5日", date(2026, 1, 5)),
        ("2026-11-30", date(2026, 11, 30)),
        ("2026/11/30", date(2026, 11, 30)),
        ("2026.11.30", date(2026, 11, 30)),
        ("20261130", date(2026, 11, 30)),
        ("２０２６年１１月３０日", date(2026, 11, 30)),
        (" 2026-11-30 ", date(2026, 11, 30)),
        ("2026-02-30", None),
        ("30/11/2026", None),  # day first: not guessed
        ("长期", None),
        ("2026年11月30日07:00开", None),
        (20261130, None),
    ],
)
def test_printed_dates(text, expected):
    assert parse_date(text) == expected


def test_a_vat_invoice_is_typed_rows_with_its_line_items_keyed_to_the_page():
    doc = examples.vat_invoice()
    rows = envelope_rows(doc, run_id="scheduled__2026-11-30", result_uri="obs://out/ocr/a.json")
    assert set(rows) == {t.name for t in api_tables("vat-invoice")}
    (header,) = rows["vat-invoice"]
    assert list(header) == list(header_table("vat-invoice").names)
    assert header["total"] == Decimal("1130.00") and header["total_raw"] is None
    assert header["subtotal_amount"] == Decimal("1000.00") and header["subtotal_tax"] == Decimal("130.00")
    assert header["issue_date"] == date(2026, 11, 20)
    assert header["total_confidence"] == 0.9932 and header["buyer_name_confidence"] is None
    assert header["supervision_seal"] == '["全国统一发票监制章","国家税务总局北京市税务局"]'
    assert header["sales_mark"] is False
    assert header["source"] == "obs://scans/2026-11-30/invoice-12345678.pdf"
    assert header["source_etag"] == '"5d41402abc4b2a76b9719d911017c592"'
    assert (header["page"], header["pages"], header["api"], header["status"]) == (
        1,
        None,
        "vat-invoice",
        "ok",
    )
    assert (header["request_id"], header["run_id"]) == ("req-0001", "scheduled__2026-11-30")
    assert header["reviewed"] is False
    assert header["result_uri"] == "obs://out/ocr/a.json"
    assert header["processed_at"] == datetime(2026, 11, 30, 8, 15, tzinfo=timezone.utc)
    items = rows["vat-invoice__item_list"]
    assert [(i["item_index"], i["name"], i["amount"]) for i in items] == [
        (0, "办公桌", Decimal("600.00")),
        (1, "办公椅", Decimal("200.00")),
        (2, "打印纸", Decimal("150.00")),
        (3, "墨盒", Decimal("50.00")),
    ]
    assert items[0]["unit_price"] == Decimal("300.00000000") and items[0]["tax"] == Decimal("78.00")
    assert all((i["source"], i["page"]) == (header["source"], header["page"]) for i in items)
    assert sum(i["amount"] for i in items) == header["subtotal_amount"]
    assert rows["vat-invoice__belong_item_list"] == []


def test_text_that_cannot_be_read_goes_to_the_raw_column():
    doc = examples.vat_invoice()
    doc["result"].update(total="见附件", issue_date="2026年13月01日", sum_amount="")
    doc["result"]["item_list"][1]["amount"] = "1,234.567"
    rows = envelope_rows(doc)
    (header,) = rows["vat-invoice"]
    assert (header["total"], header["total_raw"]) == (None, "见附件")
    assert (header["issue_date"], header["issue_date_raw"]) == (None, "2026年13月01日")
    assert (header["sum_amount"], header["sum_amount_raw"]) == (None, None)  # empty: nothing printed
    item = rows["vat-invoice__item_list"][1]
    assert (item["amount"], item["amount_raw"]) == (None, "1,234.567")


def test_values_of_another_json_type_are_converted_when_exact():
    doc = examples.general_text()
    doc["result"]["words_block_count"] = "2"
    doc["result"]["direction"] = "east"
    (header,) = envelope_rows(doc)["general-text"]
    assert header["words_block_count"] == 2 and header["direction"] is None
    doc["result"]["words_block_count"] = 2.0
    assert envelope_rows(doc)["general-text"][0]["words_block_count"] == 2


def test_general_text_is_one_row_per_page_with_its_text_and_mean_confidence():
    rows = envelope_rows(examples.general_text())
    (header,) = rows["general-text"]
    assert header["text"] == "Word\n第二行"
    assert header["mean_confidence"] == pytest.approx((0.9999 + 0.5) / 2, abs=1e-4)
    assert [b["words"] for b in rows["general-text__words_block_list"]] == ["Word", "第二行"]
    chars = rows["general-text__words_block_list__char_list"]
    assert {(c["words_block_list_index"], c["item_index"]) for c in chars} == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_bank_receipts_and_their_pairs_are_keyed_to_their_receipt():
    rows = envelope_rows(examples.bank_receipt())
    assert [r["kv_pair_count"] for r in rows["bank-receipt__bank_receipt_list"]] == [5, 2]
    pairs = rows["bank-receipt__bank_receipt_list__kv_pair_list"]
    assert [(p["bank_receipt_list_index"], p["item_index"]) for p in pairs] == [
        (0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 0), (1, 1),
    ]  # fmt: skip
    assert pairs[3]["value"] == "¥1,130.00"  # a pair's value is text: no model field says amount
    assert rows["bank-receipt"][0]["text"].startswith("回单编号: 2026113000012345\n")


def test_a_train_ticket():
    (row,) = envelope_rows(examples.train_ticket())["train-ticket"]
    assert row["ticket_price"] == Decimal("553.00") and row["ticket_price_confidence"] == 0.9954
    assert row["issue_date"] == date(2026, 11, 28)
    assert row["tax_amount"] == Decimal("45.66") and row["tax_rate"] == "9%"
    assert row["departure_time"] == "2026年11月30日07:00开"  # a time: text


def test_the_page_comes_from_the_envelope_its_source_or_the_request():
    doc = examples.vat_invoice()
    assert envelope_rows(doc)["vat-invoice"][0]["page"] == 1
    doc["parameters"]["page_num"] = 3
    assert envelope_rows(doc)["vat-invoice__item_list"][0]["page"] == 3
    doc["source"]["page"], doc["source"]["pages"] = 4, 9
    assert [envelope_rows(doc)["vat-invoice"][0][k] for k in ("page", "pages")] == [4, 9]
    doc.update(page=5, pages=6)
    assert [envelope_rows(doc)["vat-invoice"][0][k] for k in ("page", "pages")] == [5, 6]
    header = envelope_rows(doc, page=7, pages=8, processed_at="2026-12-01T00:00:00")["vat-invoice"][0]
    assert (header["page"], header["pages"]) == (7, 8)
    assert header["processed_at"] == datetime(2026, 12, 1, tzinfo=timezone.utc)


def test_list_results_are_a_row_per_item_each_with_its_own_status():
    result = examples.answer("auto-classification")
    failed = {
        **result,
        "status": {"error_code": "AIS.0105", "error_msg": "Recognition failed."},
        "content": {},
    }
    ok = {**result, "status": {"error_code": "AIS.0000", "error_msg": "Succeeded."}, "type": "vat_invoice"}
    ok["content"] = {"number": "12345678", "total": "¥1,130.00"}
    rows = envelope_rows(examples.stored("auto-classification", [ok, failed]))["auto-classification"]
    assert [(r["result_index"], r["status"], r["error"]) for r in rows] == [
        (0, "ok", None),
        (1, "failed", "AIS.0105: Recognition failed."),
    ]
    assert rows[0]["content"] == '{"number":"12345678","total":"¥1,130.00"}'


def test_a_page_where_nothing_was_found_still_has_its_row():
    rows = envelope_rows(examples.stored("license-plate", []))
    assert [(r["result_index"], r["plate_number"], r["status"]) for r in rows["license-plate"]] == [
        (None, None, "ok")
    ]


def test_an_error_in_a_2xx_answer_is_a_failed_row():
    doc = examples.stored(
        "general-table", {"error_code": "AIS.0103", "error_msg": "The image size does not meet."}
    )
    (row,) = envelope_rows(doc)["general-table"]
    assert (row["status"], row["error"]) == ("failed", "AIS.0103: The image size does not meet.")
    doc["result"] = None
    assert envelope_rows(doc)["general-table"][0]["error"] == "no result"


def test_a_page_without_a_result_is_a_failed_header_row():
    rows = failure_rows(
        "vat-invoice",
        source="obs://scans/b.pdf",
        error="AIS.0101: The image is not an invoice.",
        page=2,
        pages=3,
        run_id="r1",
        processed_at=datetime(2026, 11, 30, 9, 0),
    )
    (row,) = rows["vat-invoice"]
    assert list(row) == list(header_table("vat-invoice").names)
    assert (row["status"], row["page"], row["pages"], row["total"]) == ("failed", 2, 3, None)
    assert row["reviewed"] is False
    assert row["processed_at"].tzinfo is timezone.utc
    assert rows["vat-invoice__item_list"] == []


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"kind": "obs", "uri": "obs://b/k.png", "etag": "e"}, "obs://b/k.png"),
        ({"kind": "url", "url": "https://h/p.png"}, "https://h/p.png"),
        ({"kind": "file", "path": "/data/a.png", "sha256": "ab"}, "/data/a.png"),
        ({"kind": "bytes", "sha256": "ab", "size": 2}, "sha256:ab"),
        ({"kind": "fields", "fields": {"number": "1", "code": "2"}}, 'fields:{"code":"2","number":"1"}'),
        ({}, "unknown"),
        (None, "unknown"),
    ],
)
def test_the_source_column(record, expected):
    assert source_of(record) == expected


@pytest.mark.parametrize("slug", [api.slug for api in LIVE_APIS])
def test_every_api_gives_rows_of_its_columns_and_types(slug):
    """The emulator's answer of every API (every documented field) as rows: each row has exactly its
    table's columns, each value the Python type of its column or nothing."""
    result = examples.fit(slug, {}, examples.model_example(slug), (100, 100))["result"]
    rows = envelope_rows(examples.stored(slug, result))
    for table in api_tables(slug):
        for row in rows[table.name]:
            assert list(row) == list(table.names)
            for column in table.columns:
                value = row[column.name]
                assert value is None or isinstance(value, PYTHON_TYPES[column.type]), (
                    table.name,
                    column.name,
                )
    assert len(rows[slug]) >= 1


REVIEWED_AT = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)


def _reviewed(outcome, values=None, *, by="li", timed_out=False):
    doc = examples.vat_invoice()
    doc["result"]["confidence"]["total"] = 0.41
    rule = ReviewRule.parse({"total": 0.95}, slug="vat-invoice")
    assert rule is not None
    held = held_fields("vat-invoice", doc["result"], rule)
    assert [h.field for h in held] == ["total"]
    return apply_review(doc, held, Decision(outcome, by, REVIEWED_AT, values or {}, timed_out))


def test_a_reviewed_page_says_so_and_carries_the_correction():
    rows = envelope_rows(_reviewed("approved", {"total": "1180.00"}))
    (header,) = rows["vat-invoice"]
    assert (header["status"], header["reviewed"], header["error"]) == ("ok", True, None)
    assert header["total"] == Decimal("1180.00") and header["total_confidence"] == 0.41  # the machine's
    assert len(rows["vat-invoice__item_list"]) == 4


def test_a_rejected_page_keeps_its_rows_marked_rejected():
    rows = envelope_rows(_reviewed("rejected", by="wang"))
    (header,) = rows["vat-invoice"]
    assert (header["status"], header["reviewed"], header["error"]) == ("rejected", True, "rejected by wang")
    assert header["total"] == Decimal("1130.00")  # what the OCR read, kept
    assert len(rows["vat-invoice__item_list"]) == 4  # keyed to a page the warehouse can filter out
    (timed_out,) = envelope_rows(_reviewed("rejected", by="timeout", timed_out=True))["vat-invoice"]
    assert timed_out["error"] == "rejected by the review's timeout"


VALUES = ["text", "", "¥1,234.50", "１２３４．５元", "2026年11月30日", "20261130", "<total>", 3, 0.25, 7.0, True,
          {"a": 1}, ["x"], "=1+1", "3"]  # fmt: skip


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_each_value_reads_as_its_columns_reader_makes_it(value):
    """The row builder reads common values itself (a text column's ``str``, a float column's ``float``,
    printed amounts and dates); whatever the value, a row holds what the column's own reader makes of it."""
    from airflow_provider_hwocr.runtime.tables import rows

    for slug in ("vat-invoice", "general-text", "bank-receipt"):
        for plan in rows._plans(slug):
            cells = [c for c in plan.cells if c.key is not None]
            if not cells:
                continue
            result: dict = {}
            for cell in cells:  # every field of the header's object, or of the list's one item
                node = result
                for key, listed in cell.steps[:-1]:
                    node = node.setdefault(key, [{}])[0] if listed else node.setdefault(key, {})
                node[cell.key] = value
            made = envelope_rows(examples.stored(slug, result))[plan.table.name]
            for cell in cells:
                expected, raw = cell.read(value)
                assert made[0][cell.name] == expected and type(made[0][cell.name]) is type(expected), (
                    cell.name
                )
                if cell.raw is not None:
                    assert made[0][cell.raw] == raw, cell.raw


@pytest.mark.parametrize("offset", range(len(VALUES)))
def test_an_object_of_mixed_values_reads_each_as_its_columns_reader_makes_it(offset):
    """Text and float fields are read a whole object at a time when each has its column's type: an
    object where they do not all have it (one an ``int``, another a list, ...) is read value by value,
    each as its column's reader makes it, the others left as they are."""
    from airflow_provider_hwocr.runtime.tables import rows

    for slug in ("vat-invoice", "bank-receipt"):
        for plan in rows._plans(slug):
            cells = [c for c in plan.cells if c.key is not None]
            result: dict = {}
            given = {}
            for n, cell in enumerate(cells):
                node = result
                for key, listed in cell.steps[:-1]:
                    node = node.setdefault(key, [{}])[0] if listed else node.setdefault(key, {})
                given[cell.name] = node[cell.key] = VALUES[(n + offset) % len(VALUES)] if n % 3 else "text"
            made = envelope_rows(examples.stored(slug, result))[plan.table.name]
            for cell in cells:
                expected, raw = cell.read(given[cell.name])
                got = made[0][cell.name]
                assert got == expected and type(got) is type(expected), (cell.name, given[cell.name])
                if cell.raw is not None:
                    assert made[0][cell.raw] == raw, cell.raw


def test_json_columns_are_the_compact_json_of_the_value():
    """A ``json`` column holds ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``."""
    import json

    from airflow_provider_hwocr.runtime.tables import rows

    for value in (
        ["<seal>", "印章"],
        {"a": [1, 2.5, None, True]},
        'x"y',
        3,
        0.1,
        [],
        {},
        [["a"], {"b": "c"}],
    ):
        assert rows._json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert rows._json(None) is None


def test_an_object_with_few_of_its_fields_is_read_by_its_fields():
    """An object with fewer fields than its table has cells (an empty ``confidence``, one of its fields):
    the fields it has are read, the others null, and keys no column names left out."""
    doc = examples.stored("vat-invoice", {"total": "¥10.00", "confidence": {"total": 0.5, "unknown": 1.0}})
    header = envelope_rows(doc)["vat-invoice"][0]
    assert header["total"] == Decimal("10.00") and header["total_confidence"] == 0.5
    assert header["number"] is None and header["number_confidence"] is None and "unknown" not in header
    doc = examples.stored("vat-invoice", {"item_list": [{"amount": "x", "name": "pen"}]})
    (line,) = envelope_rows(doc)["vat-invoice__item_list"]
    assert (line["name"], line["amount"], line["amount_raw"], line["quantity"]) == ("pen", None, "x", None)


#: ``(ROWS_VERSION, SHA-256 of the rows of every live API's sample envelope)``. Tables are not written
#: again for a page whose rows did not change version (``write.page_digest``), so a change of the rows
#: must come with a new :data:`ROWS_VERSION`: then update both here.
ROWS_FINGERPRINT = ("1", "7ac694ee164cbaaedc3adec313f49bac96f6413add89f159228c64d87ed81b53")


def test_a_change_of_the_rows_comes_with_a_new_rows_version():
    import hashlib

    from airflow_provider_hwocr.runtime.tables.rows import ROWS_VERSION

    digest = hashlib.sha256()
    for api in sorted(LIVE_APIS, key=lambda a: a.slug):
        doc = examples.stored(api.slug, examples.answer(api.slug))
        rows = envelope_rows(doc, run_id="r", result_uri="obs://b/k.json")
        for table in sorted(rows):
            digest.update(table.encode())
            digest.update(repr([sorted(row.items()) for row in rows[table]]).encode())
    assert (ROWS_VERSION, digest.hexdigest()) == ROWS_FINGERPRINT, (
        "the rows of the sample envelopes changed: if envelope_rows' output changed, bump ROWS_VERSION "
        "(tables are then written again once); either way, update ROWS_FINGERPRINT"
    )
