"""Pages are the unit of work in the batch, against the emulator and the local object server: N
5-page PDFs make 5N calls and store 5N page results, each the page's own text; a re-run makes none
and downloads none; a dry run says 5N before and 0 after; ``max_calls`` stops at that many page
calls; a failed page is sent again alone; a document over ``max_pages`` is rejected and the others
go on; pages possibly billed twice are counted and named."""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError, HuaweiOcrBatchFailedError
from airflow_provider_hwocr.testing.documents import numbered_pdf, page_lines
from tests.helpers.batch_env import make_batch, manifest_of
from tests.helpers.images import png
from tests.helpers.pages import document_gets, words

SLUG = "general-text"


@pytest.fixture
def computed(emulator):
    """The shared emulator reading what is on each page (reset() puts its documented answers back)."""
    emulator.config.results = "computed"
    return emulator


def _documents(obs, bucket, n: int, pages: int = 5) -> list:
    docs = [numbered_pdf(pages) for _ in range(n)]
    for i, doc in enumerate(docs):
        obs.put_bytes(bucket, f"day/doc{i}.pdf", doc.data)
    return docs


def test_a_batch_reads_every_page_and_a_rerun_reads_nothing(computed, counted, obs, obs_bucket):
    n = 3
    _documents(obs, obs_bucket, n)
    out = f"obs://{obs_bucket}/ocr/"
    dry = make_batch(obs_bucket, dry_run=True, max_calls=0).execute({})  # a dry run spends no budget
    assert (dry["would_call"], dry["documents"], dry["pages"]) == (5 * n, n, 5 * n) and computed.count() == 0
    counted.reset()
    report = make_batch(obs_bucket).execute({})
    assert computed.count(SLUG) == 5 * n and document_gets(counted) == n  # each document read once
    totals = report["totals"]
    assert (totals["done"], totals["total"], totals["documents"], totals["pages"]) == (5 * n, 5 * n, n, 5 * n)
    manifest = manifest_of(obs, out)
    entries = manifest["images"]
    assert len(entries) == 5 * n
    for entry in entries:
        assert (entry["status"], entry["pages"]) == ("done", 5)
        assert f".p{entry['page']:04d}of0005." in entry["result_uri"]
        envelope = obs.get_json(obs_bucket, entry["result_uri"].split("/", 3)[3])
        assert envelope["page"] == entry["page"] and envelope["source"]["uri"] == entry["source"]
        assert page_lines(entry["page"], 5)[1] in words(envelope["result"])  # the page's own text
    computed.reset()
    counted.reset()
    again = make_batch(obs_bucket).execute({})
    assert computed.count() == 0 and document_gets(counted) == 0  # no call, no download
    assert (again["totals"]["skipped"], again["totals"]["documents"], again["totals"]["pages"]) == (
        5 * n,
        n,
        5 * n,
    )
    after = make_batch(obs_bucket, dry_run=True).execute({})
    assert (after["would_call"], after["skipped"]) == (0, 5 * n) and document_gets(counted) == 0


def test_max_calls_counts_page_calls_and_a_rerun_goes_on(emulator, obs, obs_bucket):
    _documents(obs, obs_bucket, 3)
    with pytest.raises(HuaweiCloudBudgetExceededError, match="max_calls"):
        make_batch(obs_bucket, max_calls=7, max_concurrency=2).execute({})
    assert emulator.count(SLUG) == 7
    totals = manifest_of(obs, f"obs://{obs_bucket}/ocr/")["totals"]
    assert totals["done"] == 7
    emulator.reset()
    make_batch(obs_bucket).execute({})
    assert emulator.count(SLUG) == 8  # the rest of the 15 pages, none twice


def test_a_failed_page_is_sent_again_alone(emulator, obs, obs_bucket):
    _documents(obs, obs_bucket, 2, pages=3)
    emulator.fail_next(SLUG, 400, "AIS.0105", times=1)  # the first page sent fails, not retried
    with pytest.raises(HuaweiOcrBatchFailedError, match="1 of 6"):
        make_batch(obs_bucket, max_concurrency=1).execute({})
    (bad,) = [e for e in manifest_of(obs, f"obs://{obs_bucket}/ocr/")["images"] if e["status"] == "failed"]
    assert (bad["page"], bad["pages"]) == (1, 3)
    emulator.reset()
    report = make_batch(obs_bucket).execute({})
    (call,) = emulator.calls(SLUG)
    assert call.body["pdf_page_number"] == 1 and bad["source"].rsplit("/", 1)[1] in call.body["url"]
    assert (report["totals"]["done"], report["totals"]["skipped"]) == (1, 5)


def test_a_document_over_max_pages_is_rejected_and_the_others_go_on(emulator, obs, obs_bucket):
    obs.put_bytes(obs_bucket, "day/long.pdf", numbered_pdf(61).data)
    obs.put_bytes(obs_bucket, "day/short.pdf", numbered_pdf(2).data)
    obs.put_bytes(obs_bucket, "day/a.png", png())
    with pytest.raises(HuaweiOcrBatchFailedError):
        make_batch(obs_bucket).execute({})
    assert emulator.count(SLUG) == 3  # two pages and an image
    manifest = manifest_of(obs, f"obs://{obs_bucket}/ocr/")
    (refused,) = [e for e in manifest["images"] if e["status"] == "rejected"]
    assert refused["source"].endswith("long.pdf") and refused["parameter"] == "max_pages"
    assert "61 pages, over max_pages=50" in refused["reason"]
    totals = manifest["totals"]
    assert (totals["done"], totals["rejected"], totals["documents"], totals["pages"]) == (3, 1, 2, 2)


def test_pages_possibly_billed_twice_are_counted_and_named(emulator, obs, obs_bucket, monkeypatch):
    from tests.helpers.airflow_env import CONN_ENV, conn_json
    from tests.helpers.obs_env import _server_url

    _documents(obs, obs_bucket, 2, pages=5)
    extra = {"obs_endpoint": _server_url, "obs_path_style": True, "obs_signature": "v2", "verify": False}
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra={**extra, "max_retries": 8}))
    emulator.config.truncate_rate = 0.3  # an answer cut short: the try may have been billed
    emulator.reseed(3)
    out = make_batch(obs_bucket, max_concurrency=2).execute({})
    entries = manifest_of(obs, f"obs://{obs_bucket}/ocr/")["images"]
    twice = [e for e in entries if e.get("billed_retries")]
    assert twice and out["totals"]["images_possibly_billed_twice"] == len(twice)
    assert all(e["page"] and e["pages"] == 5 for e in twice) and out["totals"]["done"] == 10


def test_pages_a_killed_run_stored_are_not_paid_again(emulator, obs, obs_bucket):
    from tests.helpers.d2_stages import start, through_send

    _documents(obs, obs_bucket, 2, pages=3)
    run = start(
        obs_bucket,
        output_uri=f"obs://{obs_bucket}/ocr/",
        source_uri=f"obs://{obs_bucket}/day/",
        checkpoint_every=1,
    )
    through_send(run)  # killed before its record: its progress parts say what it stored
    assert emulator.count(SLUG) == 6
    emulator.reset()
    report = make_batch(obs_bucket).execute({})
    assert emulator.count() == 0 and report["totals"]["skipped"] == 6


def test_pages_a_one_image_operator_stored_are_verified_once_not_sent(emulator, counted, obs, obs_bucket):
    from airflow_provider_hwocr.operators.base import HuaweiOcrOperator

    _documents(obs, obs_bucket, 1, pages=3)
    HuaweiOcrOperator(
        task_id="one",
        api=SLUG,
        image=f"obs://{obs_bucket}/day/doc0.pdf",
        output_uri=f"obs://{obs_bucket}/ocr/",
    ).execute({})
    emulator.reset()
    counted.reset()
    report = make_batch(obs_bucket).execute({})
    assert emulator.count() == 0 and report["totals"]["skipped"] == 3
    assert document_gets(counted) == 0 and counted.by_method()["HEAD"] == 3  # its pages HEADed, once
    counted.reset()
    make_batch(obs_bucket).execute({})
    assert counted.by_method().get("HEAD", 0) == 0  # then in the index


def test_a_batch_renders_pages_for_an_api_that_reads_images_only(computed, obs, obs_bucket):
    import base64

    _documents(obs, obs_bucket, 2, pages=2)
    out = make_batch(obs_bucket, api="handwriting").execute({})
    calls = computed.calls("handwriting")
    assert len(calls) == 4 and all(base64.b64decode(c.body["image"]).startswith(b"\x89PNG") for c in calls)
    assert (out["totals"]["done"], out["totals"]["documents"]) == (4, 2)
    for entry in manifest_of(obs, f"obs://{obs_bucket}/ocr/", "handwriting")["images"]:
        envelope = obs.get_json(obs_bucket, entry["result_uri"].split("/", 3)[3])
        assert page_lines(entry["page"], 2)[1] in words(envelope["result"])


def test_documents_sent_inline_are_read_once_and_not_held_by_the_run(emulator, counted, obs, obs_bucket):
    from tests.helpers.d2_stages import full_run

    _documents(obs, obs_bucket, 2, pages=3)
    counted.reset()
    _, plan, _, report = full_run(obs_bucket, image_source="inline")
    calls = emulator.calls(SLUG)
    assert len(calls) == 6 and all("image" in c.body and "url" not in c.body for c in calls)
    assert sorted(c.body["pdf_page_number"] for c in calls) == [1, 1, 2, 2, 3, 3]
    assert document_gets(counted) == 2 and report.totals["done"] == 6
    assert all(item.src is None or item.src.data is None for item in plan.items)  # their bytes went with them


def test_skip_existing_off_sends_every_page_again(emulator, obs, obs_bucket):
    _documents(obs, obs_bucket, 2, pages=3)
    make_batch(obs_bucket).execute({})
    emulator.reset()
    out = make_batch(obs_bucket, skip_existing=False).execute({})
    assert emulator.count(SLUG) == 6 and (out["totals"]["done"], out["totals"]["skipped"]) == (6, 0)
