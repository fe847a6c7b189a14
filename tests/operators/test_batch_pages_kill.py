"""A batch of PDFs killed with SIGKILL at 40 % of its page calls, then run again: every page is
paid once, except the pages the dead process held (calls in flight, answers not stored yet), and
every page ends with exactly one result. Against the real emulator and object server; the killed
batch runs in a child process, as a worker's task does."""

from __future__ import annotations

from collections import Counter
from urllib.parse import unquote, urlsplit

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.pages import page_field
from airflow_provider_hwocr.testing.documents import numbered_pdf
from tests.helpers.batch_env import SLUG, kill_batch_after, make_batch, manifest_of

CONCURRENCY = 4


def _page_calls(emulator) -> Counter[tuple[str, int]]:
    """How often each (document key, page) was sent, from the signed URL and the page field."""
    field = page_field(get_api(SLUG))
    out: Counter[tuple[str, int]] = Counter()
    for call in emulator.calls(SLUG):
        body = call.body or {}
        if body.get("url"):
            key = unquote(urlsplit(body["url"]).path).split("/", 2)[2]
            out[(key, int(body.get(field) or 1))] += 1
    return out


def test_sigkill_at_40_percent_of_the_pages_and_a_rerun_pay_again_only_what_was_in_flight(
    obs, obs_bucket, emulator, tmp_path
):
    documents, pages = 40, 5
    data = numbered_pdf(pages).data
    for i in range(documents):
        obs.put_bytes(obs_bucket, f"day/doc{i:03d}.pdf", data)
    total = documents * pages
    emulator.config.latency_ms = 25
    kill_batch_after(obs_bucket, emulator, tmp_path, 0.4 * total, timeout=180)
    first = _page_calls(emulator)
    assert 0.35 * total <= sum(first.values()) < total

    dry = make_batch(obs_bucket, dry_run=True).execute({})
    assert dry["would_call"] <= total - sum(first.values()) + 2 * CONCURRENCY + 1

    out = make_batch(obs_bucket, max_concurrency=CONCURRENCY).execute({})
    totals = out["totals"]
    assert totals["done"] + totals["skipped"] == total and totals["failed"] == 0
    calls = _page_calls(emulator)
    assert set(calls) == {(f"day/doc{i:03d}.pdf", p) for i in range(documents) for p in range(1, pages + 1)}
    twice = {page for page, count in calls.items() if count > 1}
    # What the dead process held: the calls in flight (max_concurrency), the answers its writers
    # were storing (as many) and the one queued between them (docs/guides/deployment.md).
    assert len(twice) <= 2 * CONCURRENCY + 1
    assert sum(calls.values()) == total + len(twice) and max(calls.values()) <= 2
    results = [
        k for k in obs.list_keys(obs_bucket, "ocr/") if k.endswith(f".{SLUG}.json") and "_hwocr" not in k
    ]
    assert len(results) == total  # exactly one result per page
    assert (
        obs.list_keys(obs_bucket, "ocr/_hwocr_progress/") == []
    )  # the killed run's parts merged, then removed
    assert all(e["status"] == "done" for e in manifest_of(obs, f"obs://{obs_bucket}/ocr/")["images"])

    before = emulator.count(SLUG)
    again = make_batch(obs_bucket, max_concurrency=CONCURRENCY).execute({})
    assert emulator.count(SLUG) == before and again["totals"]["skipped"] == total  # finished work costs 0
