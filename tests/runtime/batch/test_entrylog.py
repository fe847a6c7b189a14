"""The entries of a run spooled to a local file (``runtime/batch/entrylog.py``): read back in selection
order, counted without being read, written into the manifest as they are, changed by the lease."""

from __future__ import annotations

import json
import threading

from airflow_provider_hwocr.runtime.batch.entrylog import AGAIN, RECOVERED, TWICE, URI, EntryLog, flags_of
from airflow_provider_hwocr.runtime.batch.state import ProgressJournal, index_record, manifest_bytes


def _done(name: str, **more: object) -> dict[str, object]:
    return {
        "source": f"obs://b/day/{name}",
        "status": "done",
        "key": f"out/{name}.json",
        "result_uri": f"obs://b/out/{name}.json",
        "params_digest": "p",
        "source_etag": "s",
        "result_etag": f"e-{name}",
        "summary": {"text": "reçu"},
        **more,
    }


def test_entries_are_read_back_in_selection_order_a_documents_by_page_added_ones_last():
    log = EntryLog()
    log.add(_done("c"), 2)
    log.add({"source": "d", "page": 2, "pages": 2, "status": "done", "key": "d2"}, 1, 2)
    log.add(_done("a"), 0)
    log.add({"source": "d", "page": 1, "pages": 2, "status": "failed"}, 1, 1)
    log.extend([{"source": "z", "status": "reviewed"}, {"source": "y", "status": "held", "again": True}])
    assert [(e["source"], e.get("page")) for e in log] == [
        ("obs://b/day/a", None),
        ("d", 1),
        ("d", 2),
        ("obs://b/day/c", None),
        ("z", None),
        ("y", None),
    ]
    assert len(log) == 6 and log[1]["status"] == "failed" and [e["source"] for e in log[-2:]] == ["z", "y"]
    assert log == list(log) and list(log) == log and log != [] and EntryLog() == []


def test_the_manifest_from_the_log_is_the_manifest_of_its_entries():
    entries = [_done("a", billed_retries=1), {"source": "x", "status": "not_attempted", "reason": "r"}]
    log = EntryLog.of(entries)
    header = {"format": "f", "totals": {"done": 1}}
    assert manifest_bytes(header, log) == manifest_bytes(header, entries)
    assert json.loads(manifest_bytes(header, log)) == {**header, "images": entries}
    assert json.loads(manifest_bytes({}, log)) == {"images": entries}
    assert json.loads(manifest_bytes(header, EntryLog())) == {**header, "images": []}


def test_what_the_record_stage_counts_is_kept_without_reading_an_entry():
    log = EntryLog.of(
        [
            _done("a", billed_retries=2),
            _done("b", recovered="obs://b/part"),
            {**_done("h"), "status": "held"},
            {**_done("g"), "status": "held", "again": True},
            {"source": "f", "status": "failed", "billed_retries": 1, "called": True},
        ]
    )
    log._file.close()  # nothing below reads the spool
    assert log.billed_retries == 3 and log.count(TWICE) == 2 and log.count(RECOVERED) == 1
    assert log.paid_held() == 1 and log.count(AGAIN) == 1 and log.count(URI) == 4
    assert list(log.index_records()) == [index_record(_done(n)) for n in ("a", "b", "h")]


def test_result_uris_are_those_of_the_results_this_run_stored():
    log = EntryLog.of(
        [_done("a"), {**_done("g"), "status": "held", "again": True}, {"source": "f", "status": "failed"}]
    )
    log.add(_done("0"), -1)
    uris = log.result_uris()
    assert list(uris) == ["obs://b/out/0.json", "obs://b/out/a.json"] and len(uris) == 2
    assert uris[1] == "obs://b/out/a.json" and uris[:1] == ["obs://b/out/0.json"]


def test_an_entry_handed_out_by_finished_since_is_changed_for_the_manifest_and_the_totals():
    log = EntryLog()
    log.add(_done("a"), 0)
    since = log._times[0] + 1e-6
    log._times[0] -= 10  # finished before the fence
    log.add(_done("b"), 1)
    (late,) = log.finished_since(since)
    assert late["source"] == "obs://b/day/b" and log.finished_since(since)[0] is late
    late["possibly_billed_twice"] = "lease lost"
    assert log.count(TWICE) == 1 and log[1]["possibly_billed_twice"] == "lease lost"
    assert json.loads(manifest_bytes({"x": 1}, log))["images"][1]["possibly_billed_twice"] == "lease lost"
    assert flags_of(late) == TWICE | URI


def test_entries_added_from_many_threads_are_all_kept():
    log = EntryLog()

    def add(start: int) -> None:
        for pos in range(start, 400, 4):
            log.add(_done(str(pos)), pos)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e["source"] for e in log] == [f"obs://b/day/{pos}" for pos in range(400)]


def test_a_journal_given_the_logs_finished_since_keeps_no_entry_of_its_own(obs_bucket, obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.runtime.store import ResultStore

    obs = HuaweiObsHook()
    log = EntryLog()
    store = ResultStore(obs_bucket, "out/", "general-text")
    journal = ProgressJournal(obs, store, header={}, every=100, interval=60, finished=log.finished_since)
    entry = _done("a")
    log.add(entry, 0)
    journal.add(entry)
    assert journal._finished == [] and journal.finished_since(0.0) == [entry]
    journal.maybe_flush(force=True)
    (part,) = journal.written
    assert obs.get_json(obs_bucket, part)["entries"] == [entry]
