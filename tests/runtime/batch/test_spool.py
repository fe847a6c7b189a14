"""Kept answers (``runtime/batch/spool.py``): the part entry of an answer that could not be stored, noted
when the prior state is read, taken once for the image it was made for (same parameters, same source),
its part kept while it is of use, and local spool files when OBS cannot be reached."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from airflow_provider_hwocr.client.sources import ImageSource, ObsLocation
from airflow_provider_hwocr.runtime.batch.entries import Item
from airflow_provider_hwocr.runtime.batch.spool import KEPT, KeptAnswers, is_kept, kept_entry, write_local
from airflow_provider_hwocr.runtime.store import ResultStore

DIGEST = "d" * 16
STORE = ResultStore.from_uri("obs://b-1/ocr/", "general-text")


def _item(i: int, etag: str | None = None) -> Item:
    item = Item(i, f"obs://src/{i}.png")
    item.src = ImageSource.obs(ObsLocation("src", f"{i}.png"), size=10, etag=etag or f"s{i}")
    item.key = f"ocr/{i}.png-x.general-text.json"
    return item


def _kept(i: int) -> dict:
    response = SimpleNamespace(result={"words": [i]}, request_id=f"req-{i}", attempts=2, billed_retries=1)
    failed = {"source": f"obs://src/{i}.png", "status": "failed", "called": True, "error_type": "X"}
    return kept_entry(failed, _item(i), response, {"n": i}, DIGEST)


def test_a_kept_entry_carries_the_answer_and_what_it_was_made_from():
    entry = _kept(3)
    assert entry["status"] == KEPT and entry["key"] == "ocr/3.png-x.general-text.json" and is_kept(entry)
    assert entry["params_digest"] == DIGEST and entry["source_etag"] == "s3" and entry["called"] is True
    assert entry["answer"] == {
        "result": {"words": [3]},
        "summary": {"n": 3},
        "request_id": "req-3",
        "attempts": 2,
        "billed_retries": 1,
    }
    assert json.loads(json.dumps(entry)) == entry  # plain JSON, for a part
    assert not is_kept({"status": "done", "key": "k"}) and not is_kept({**entry, "answer": {}})


def test_an_answer_is_taken_once_for_its_image_with_the_same_parameters_and_source():
    kept = KeptAnswers()
    assert kept.note("part-1", _kept(1)) and kept.note("part-2", _kept(2))
    assert not kept.note("part-3", {"status": "done", "key": "x"}) and len(kept) == 2
    assert kept.take(_item(1), "other digest") is None  # made with other parameters
    assert kept.take(_item(1, etag="replaced"), DIGEST) is None  # from a source replaced since
    response, summary = kept.take(_item(1), DIGEST)
    assert response.result == {"words": [1]} and summary == {"n": 1}
    assert response.attempts == 0 and response.billed_retries == 0  # no call by this run
    assert response.recovered == {
        "from": "part-1",
        "request_id": "req-1",
        "attempts": 2,
        "billed_retries": 1,
        "kept_at": _kept(1)["kept_at"],
    }
    assert kept.take(_item(1), DIGEST) is None  # taken: no second slot stores it
    assert kept.take(_item(7), DIGEST) is None


def test_parts_of_answers_not_used_are_kept_while_they_are_of_use():
    kept = KeptAnswers()
    for i in range(4):
        kept.note(f"part-{i}", _kept(i))
    kept.take(_item(0), DIGEST)  # used: its part goes with the others
    done = _item(1)
    done.action = "skip"  # its result is there now: obsolete
    changed = _item(2, etag="replaced")  # its source changed: obsolete
    parts = [f"part-{i}" for i in range(4)] + ["plain-part"]
    # image 3 is not in this selection: its answer is kept for a run whose selection has it
    assert kept.keep_unused(parts, [_item(0), done, changed], DIGEST) == ["part-3"]
    assert parts == ["part-0", "part-1", "part-2", "plain-part"]


def test_local_spool_files_are_adopted_once_and_forgotten_once_used(tmp_path, monkeypatch):
    monkeypatch.setenv("HWOCR_SPOOL_DIR", str(tmp_path / "spool"))
    doc = {"format": "hwocr-progress/2", "entries": [_kept(5)]}
    path = write_local(STORE, "abc-00001.json", doc)
    other = write_local(ResultStore.from_uri("obs://b-2/x/", "general-text"), "abc-00002.json", doc)
    assert json.loads(Path(path).read_text())["bucket"] == "b-1"
    assert Path(path).stat().st_mode & 0o777 == 0o600
    kept = KeptAnswers()
    response, _ = kept.take(_item(5), DIGEST, STORE)  # this store's files only
    assert response.recovered["from"] == path and len(kept) == 1
    assert kept.keep_unused([], [_item(5)], DIGEST) == []
    assert not (tmp_path / "spool" / path.rsplit("/", 1)[-1]).exists()  # used: deleted
    assert (tmp_path / "spool" / other.rsplit("/", 1)[-1]).exists()
