"""``review_below`` in a batch, against the emulator and the fast object server (conditional writes).

Two VAT invoices a day: one prints every field (its ``total`` is read with confidence 0.9998 by the
emulator), one leaves out 价税合计, so the gate (``total`` named, so required) holds it as missing. The
held page is paid and stored, out of the batch's table, and listed in the XCom's ``held``; a re-run
makes no call and holds it again; a decision (``apply_decision``) writes the corrected result, its
table file and the ledger, after which a re-run counts it ``reviewed`` and still makes no call.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from functools import cache

import pytest

from airflow_provider_hwocr.emulator.samples import VAT_INVOICE_FIELDS, vat_invoice
from airflow_provider_hwocr.runtime.contract import ObsPrefix
from airflow_provider_hwocr.runtime.review.apply import apply_decision, ledger_prefix
from airflow_provider_hwocr.runtime.review.decision import Decision, review_of
from airflow_provider_hwocr.runtime.review.gate import held_fields
from airflow_provider_hwocr.runtime.review.rule import ReviewRule
from tests.helpers.d2_stages import batch_op

DAY = "2026-11-30"
CONTEXT = {"run_id": "scheduled__2026-11-30", "ds": DAY}
RULE = {"total": 0.95}
PARAMS = {"advanced_mode": True, "return_text_location": True}  # per-field confidences and locations


@cache
def invoice_without_total() -> bytes:
    """The sample invoice without its 价税合计 line (the emulator reads no ``total``)."""
    from airflow_provider_hwocr.emulator.samples import _page, _png

    lines = ["增值税专用发票", *(f"{k}：{v}" for k, v in VAT_INVOICE_FIELDS.items() if k != "价税合计")]
    img, _ = _page((1100, 860), lines, font_size=32, start=(50, 40), gap=1.9, box=True, kind="cjk")
    return _png(img)


@pytest.fixture
def obs(fast_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


@pytest.fixture
def day(fast_conn, fast_bucket, emulator):
    """A day of two invoices; the emulator reads answers from the images."""
    emulator.config.results = "computed"
    fast_conn.put_object(fast_bucket, "day/good.png", vat_invoice().png)
    fast_conn.put_object(fast_bucket, "day/unsure.png", invoice_without_total())
    return fast_bucket


def _run(bucket: str, **kwargs):
    settings = {
        "api": "vat-invoice",
        "parameters": PARAMS,
        "review_below": RULE,
        "review_fields": ["total"],
        "table_uri": f"obs://{bucket}/tables/",
        "price_per_call": 0.01,
    }
    settings.update(kwargs)
    return batch_op(bucket, **settings).execute(dict(CONTEXT))


def _table_rows(obs, bucket: str, key: str) -> list[dict]:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    return pq.read_table(io.BytesIO(obs.get_bytes(bucket, key))).to_pylist()


def _manifest(obs, bucket: str, out) -> dict:
    return obs.get_json(bucket, out["manifest_uri"].removeprefix(f"obs://{bucket}/"))


def test_a_held_page_is_paid_stored_listed_and_left_out_of_the_table(day, obs, emulator):
    out = _run(day)
    totals = out["totals"]
    assert (totals["done"], totals["held"], totals["reviewed"], totals["review_rejected"]) == (1, 1, 0, 0)
    assert totals["total"] == 2 and totals["skipped"] == 0
    assert emulator.count("vat-invoice") == 2
    assert out["billing"]["estimated_cost"] == pytest.approx(0.02)  # the held page was paid: counted once
    (held,) = out["held"]
    assert held["source"].endswith("day/unsure.png") and held["fields"] == ["total"]
    assert (held["page"], held["pages"], held["api"], held["day"]) == (None, None, "vat-invoice", DAY)
    assert held["thresholds"] == {"total": 0.95}
    assert len(json.dumps(held)) < 300
    # Stored like any other page (a paid answer is never thrown away), with no review yet.
    envelope = obs.get_json(day, held["result_uri"].removeprefix(f"obs://{day}/"))
    assert not envelope["result"].get("total") and review_of(envelope) is None
    entry = next(e for e in _manifest(obs, day, out)["images"] if e["status"] == "held")
    assert entry["held_fields"] == ["total"] and entry["result_uri"] == held["result_uri"]
    # Out of the batch's table: only the good invoice has a row.
    header = f"tables/vat-invoice/dt={DAY}/part-00000.parquet"
    assert [r["source"].rsplit("/", 1)[-1] for r in _table_rows(obs, day, header)] == ["good.png"]


def test_the_writers_make_no_rows_of_a_held_page(day, obs, emulator):
    """The batch's rows of the pages it stores are made by the writers, the held page's not: the tables
    use them as they are (none names a page the tables leave out) and read no result back."""
    from airflow_provider_hwocr.runtime.batch import record, settle_reviews, write_tables
    from airflow_provider_hwocr.runtime.batch.tables import _result_keys
    from tests.helpers.d2_stages import start, through_send

    run = start(day, context=CONTEXT, api="vat-invoice", parameters=PARAMS, review_below=RULE,
                review_fields=["total"], table_uri=f"obs://{day}/tables/")  # fmt: skip
    _, plan, sent = through_send(run)
    sent.review = settle_reviews(run, plan, sent)
    report = record(run, plan, sent)
    made = sent.tables.keys
    assert [k.split("/")[-1].split("-")[0] for k in made] == ["good.png"]
    assert made == set(_result_keys(run, plan, sent, report))  # nothing is read back
    uris = write_tables(run, plan, sent, report)
    header = next(u for u in uris if "/vat-invoice/" in u).removeprefix(f"obs://{day}/")
    assert [r["source"].rsplit("/", 1)[-1] for r in _table_rows(obs, day, header)] == ["good.png"]


def test_without_review_below_nothing_is_held_and_the_xcom_is_as_before(day, obs, emulator):
    out = _run(day, review_below=None, review_fields=None)
    assert "held" not in out and "held" not in out["totals"]
    assert out["totals"]["done"] == 2


def test_a_rerun_makes_no_call_and_holds_the_page_again_with_the_same_descriptor(day, obs, emulator):
    first = _run(day)
    calls = emulator.count("vat-invoice")
    again = _run(day)
    assert emulator.count("vat-invoice") == calls  # nothing sent again
    assert again["held"] == first["held"]
    totals = again["totals"]
    assert (totals["skipped"], totals["held"], totals["done"], totals["total"]) == (1, 1, 0, 2)
    assert again["billing"]["estimated_cost"] == 0  # held again is not paid again
    header = f"tables/vat-invoice/dt={DAY}/part-00000.parquet"
    assert len(_table_rows(obs, day, header)) == 1


def decide(obs, descriptor, outcome="approved", values=None, *, table_bucket=None):
    envelope = obs.get_json(
        descriptor["result_uri"].split("/")[2], descriptor["result_uri"].split("/", 3)[3]
    )  # what the review operator shows: the held fields of the stored answer
    rule = ReviewRule.parse(RULE, ["total"], slug="vat-invoice")
    assert rule is not None
    held = held_fields("vat-invoice", envelope["result"], rule)
    decision = Decision(outcome, "li", datetime(2026, 12, 1, 10, tzinfo=timezone.utc), values or {})
    table = ObsPrefix(f"obs://{table_bucket}/tables/", table_bucket, "tables/") if table_bucket else None

    class Log:
        def info(self, *args):
            pass

    return apply_decision(
        obs, descriptor, decision, held=held, table=table, day=descriptor.get("day"), log=Log()
    )


def test_a_decision_writes_the_result_its_table_file_and_the_ledger_and_a_rerun_keeps_it(day, obs, emulator):
    first = _run(day)
    (descriptor,) = first["held"]
    applied = decide(obs, descriptor, values={"total": "1130.00"}, table_bucket=day)
    stored = obs.get_json(day, descriptor["result_uri"].removeprefix(f"obs://{day}/"))
    assert stored["result"]["total"] == "1130.00"  # the correction is what every reader sees
    review = review_of(stored)
    assert review is not None and review["outcome"] == "approved" and review["by"] == "li"
    assert [(c["field"], c["to"]) for c in review["changes"]] == [("total", "1130.00")]
    (review_file,) = [u for u in applied.tables if "/vat-invoice/" in u]
    assert review_file.endswith(f"dt={DAY}/review-{review_file.split('review-')[1]}")
    rows = _table_rows(obs, day, review_file.removeprefix(f"obs://{day}/"))
    assert [r["source"].rsplit("/", 1)[-1] for r in rows] == ["unsure.png"]
    assert applied.ledger_uri.endswith(".approved.json")

    calls = emulator.count("vat-invoice")
    again = _run(day)
    assert emulator.count("vat-invoice") == calls  # a re-run of a reviewed day costs no call
    assert again["held"] == []
    totals = again["totals"]
    assert (totals["reviewed"], totals["held"], totals["skipped"], totals["total"]) == (1, 0, 1, 2)
    assert review_of(obs.get_json(day, descriptor["result_uri"].removeprefix(f"obs://{day}/"))) == review
    header = f"tables/vat-invoice/dt={DAY}/part-00000.parquet"
    assert len(_table_rows(obs, day, header)) == 1  # the reviewed page's row lives in its review file only
    entry = next(e for e in _manifest(obs, day, again)["images"] if e["status"] == "reviewed")
    assert entry["result_uri"] == descriptor["result_uri"]


def test_a_rejection_is_recorded_and_a_rerun_counts_it_rejected(day, obs, emulator):
    (descriptor,) = _run(day)["held"]
    decide(obs, descriptor, outcome="rejected")
    again = _run(day)
    assert again["totals"]["review_rejected"] == 1 and again["held"] == []
    listed = obs.list_keys(day, ledger_prefix_of(day))
    assert any(k.endswith(".rejected.json") for k in listed)


def ledger_prefix_of(bucket: str) -> str:
    from airflow_provider_hwocr.runtime.store import ResultStore

    return ledger_prefix(ResultStore(bucket, "ocr/", "vat-invoice"))


def test_review_arguments_are_checked_when_the_dag_is_parsed(fast_bucket):
    from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

    with pytest.raises(HuaweiOcrValidationError, match="review_below"):
        batch_op(fast_bucket, api="vat-invoice", review_below=1.5)
    with pytest.raises(HuaweiOcrValidationError, match="review_fields"):
        batch_op(fast_bucket, api="vat-invoice", review_below=0.9, review_fields=["no_such_field"])
    with pytest.raises(HuaweiOcrValidationError, match="review_timeout"):
        batch_op(fast_bucket, api="vat-invoice", review_below=0.9, review_timeout=60)


def test_a_held_page_whose_marker_cannot_be_written_is_not_stored_as_done_and_the_next_run_holds_it(
    day, obs, emulator, monkeypatch
):
    """Fails closed: the marker goes before the result, so a result that waits for a person always has
    one (a re-run learns what waits from the markers). A marker that cannot be written fails the
    page's write like its result's: the paid answer is kept, and the next run stores and holds it."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    real_put = HuaweiObsHook.put_bytes

    def put_refusing_markers(self, bucket, key, data, **kwargs):
        if "/reviews/held/" in key:
            raise OSError("the object store refused the marker")
        return real_put(self, bucket, key, data, **kwargs)

    monkeypatch.setattr(HuaweiObsHook, "put_bytes", put_refusing_markers)
    with pytest.raises(Exception, match="failed"):
        _run(day)
    calls = emulator.count("vat-invoice")
    results = [k for k in obs.list_keys(day, "ocr/") if k.endswith(".vat-invoice.json") and "_hwocr" not in k]
    assert len(results) == 1  # the certain page only: the uncertain one is not stored without its marker
    monkeypatch.setattr(HuaweiObsHook, "put_bytes", real_put)

    again = _run(day)
    assert emulator.count("vat-invoice") == calls  # the kept answer is stored now: not paid again
    assert [d["source"] for d in again["held"]] == [f"obs://{day}/day/unsure.png"]
    markers = obs.list_keys(day, ledger_prefix_of(day) + "held/")
    assert len(markers) == 1
