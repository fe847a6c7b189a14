"""Stage 3, send: every item ends in exactly one state (one entry each, in selection order, except
skipped images, which are counted); the budget stops calls at ``max_calls``; an error that fails every
image stops the batch; listed results are verified once; progress parts are written as the batch goes,
each entry only once its result is stored; a dry run calls nothing and writes nothing."""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrAuthError, HuaweiOcrTransientError
from airflow_provider_hwocr.runtime.batch import decide, select, send
from airflow_provider_hwocr.runtime.batch.entries import STATES
from airflow_provider_hwocr.runtime.batch.state import PROGRESS_FORMAT
from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.d2_stages import PNG, SLUG, full_run, start, through_send
from tests.helpers.obs_env import bulk_put


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


def _statuses(sent) -> dict[str, int]:
    out: dict[str, int] = {}
    for entry in sent.entries:
        out[entry["status"]] = out.get(entry["status"], 0) + 1
    if sent.counts.get("skipped"):
        out["skipped"] = sent.counts["skipped"]
    return out


def _one_entry_each(plan, sent) -> None:
    """Every image in exactly one state: an entry each, in selection order, or counted as skipped."""
    listed = [e["source"] for e in sent.entries]
    assert len(listed) + sent.counts.get("skipped", 0) == len(plan.items)
    assert listed == [i.source for i in plan.items if i.source in set(listed)]  # selection order
    assert {s: n for s, n in sent.counts.items() if n} == _statuses(sent)


def test_every_item_ends_in_exactly_one_entry(obs_bucket, obs, emulator):
    bulk_put(obs_bucket, [f"day/old{i}.png" for i in range(3)], PNG)
    full_run(obs_bucket)  # three done before
    bulk_put(obs_bucket, [f"day/new{i}.png" for i in range(6)], PNG)
    bulk_put(obs_bucket, ["day/empty.png"], b"")
    emulator.reset()
    emulator.fail_next(SLUG, 400, "AIS.0104", times=2)  # two images the service cannot read
    run = start(obs_bucket, max_concurrency=3)
    _, plan, sent = through_send(run)
    assert _statuses(sent) == {"skipped": 3, "done": 4, "failed": 3}  # 2 refused + the empty one
    _one_entry_each(plan, sent)
    assert emulator.count(SLUG) == 6 and not sent.fatal
    done = [e for e in sent.entries if e["status"] == "done"]
    for entry in done:
        info = obs.head(obs_bucket, entry["key"])
        assert entry["result_etag"] == info.etag and entry["params_digest"] == run.pipeline.digest
        assert entry["result_uri"] == run.store.uri(entry["key"]) and entry["attempts"] == 1
    refused = [e for e in sent.entries if e["status"] == "failed" and e["called"]]
    assert len(refused) == 2 and {e["error_code"] for e in refused} == {"AIS.0104"}


def test_the_budget_stops_calls_at_max_calls(obs_bucket, emulator):
    bulk_put(obs_bucket, [f"day/{i:02d}.png" for i in range(10)], PNG)
    run = start(obs_bucket, max_calls=4, max_concurrency=2)
    _, plan, sent = through_send(run)
    assert _statuses(sent) == {"done": 4, "not_attempted": 6}
    assert emulator.count(SLUG) == 4 and run.budget.used == 4 and run.budget.refused == 6
    reasons = {e["reason"] for e in sent.entries if e["status"] == "not_attempted"}
    assert reasons == {"max_calls=4 reached"}
    _one_entry_each(plan, sent)


def test_wrong_credentials_stop_the_batch(obs_bucket, obs_server, emulator, monkeypatch):
    bulk_put(obs_bucket, [f"day/{i:02d}.png" for i in range(20)], PNG)
    obs_extra = {"obs_endpoint": obs_server, "obs_path_style": True, "obs_signature": "v2", "verify": False}
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, password="Wr0ng" * 8, extra=obs_extra))
    run = start(obs_bucket, max_concurrency=2)
    _, plan, sent = through_send(run)
    assert isinstance(sent.fatal[0], HuaweiOcrAuthError)
    counts = _statuses(sent)
    assert counts.get("done", 0) == 0 and 1 <= counts["failed"] <= 2  # what was in flight
    assert counts["not_attempted"] == 20 - counts["failed"]
    assert all(e["reason"] == "the batch stopped" for e in sent.entries if e["status"] == "not_attempted")
    assert emulator.count(SLUG, 200) == 0 and emulator.count(SLUG) <= 2 * 2  # in flight, with its retries
    _one_entry_each(plan, sent)


def test_a_dry_run_calls_nothing_and_writes_nothing(obs_bucket, counted, emulator):
    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(5)], PNG)
    bulk_put(obs_bucket, ["day/empty.png"], b"")
    run = start(obs_bucket, dry_run=True)
    plan = decide(run, select(run))
    counted.reset()
    sent = send(run, plan)
    assert _statuses(sent) == {"would_call": 5, "rejected": 1}
    (rejected,) = [e for e in sent.entries if e["status"] == "rejected"]
    assert "empty (0 bytes)" in rejected["reason"]
    assert emulator.count() == 0 and counted.total == 0  # listings were made by select and decide
    assert sent.journal.written == []
    _one_entry_each(plan, sent)


def test_a_dry_run_checks_bytes_it_would_send(obs_bucket, emulator):
    too_big = b"\x89PNG" + b"\0" * 8_000_000
    run = start(obs_bucket, images=[PNG, too_big], dry_run=True)
    _, _, sent = through_send(run)
    assert [e["status"] for e in sent.entries] == ["would_call", "rejected"]
    assert "image" in sent.entries[1]["reason"] and emulator.count() == 0


def test_listed_results_are_verified_once_then_skipped(obs_bucket, obs, emulator, counted):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

    bulk_put(obs_bucket, ["day/a.png", "day/b.png"], PNG)
    for key in ("day/a.png", "day/b.png"):  # written by the single-image operator: not in any index
        op = HuaweiOcrGeneralTextOperator(
            task_id="one", image=f"obs://{obs_bucket}/{key}", output_uri=f"obs://{obs_bucket}/ocr/"
        )
        op.execute({})
    emulator.reset()
    run = start(obs_bucket)
    plan = decide(run, select(run))
    assert [item.action for item in plan.items] == ["verify", "verify"]
    counted.reset()
    sent = send(run, plan)
    assert _statuses(sent) == {"skipped": 2} and emulator.count() == 0 and sent.entries == []
    assert counted.by_method()["HEAD"] == 2  # one per listed result
    from airflow_provider_hwocr.runtime.batch.state import etag_hash, key_hash, made_hash

    for item in plan.items:
        kh = key_hash(item.key)
        assert sent.verified[kh] == (
            etag_hash(plan.prior.others[kh]),
            made_hash(run.pipeline.digest, item.src.etag),
        )


def test_a_listed_result_made_otherwise_is_sent_again(obs_bucket, obs, emulator):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

    bulk_put(obs_bucket, ["day/a.png"], PNG)
    HuaweiOcrGeneralTextOperator(
        task_id="one",
        image=f"obs://{obs_bucket}/day/a.png",
        output_uri=f"obs://{obs_bucket}/ocr/",
        quick_mode=True,
    ).execute({})
    _, plan, sent = through_send(start(obs_bucket))
    assert plan.items[0].action == "verify" and _statuses(sent) == {"done": 1} and not sent.verified


def test_progress_parts_are_written_as_the_batch_goes(obs_bucket, obs, emulator):
    bulk_put(obs_bucket, [f"day/{i:02d}.png" for i in range(12)], PNG)
    run = start(obs_bucket, checkpoint_every=3, max_concurrency=2, run_id="run-7")
    _, _, sent = through_send(run)
    written = sent.journal.written
    assert len(written) >= 3
    assert sorted(obs.list_keys(obs_bucket, run.store.progress_prefix)) == sorted(written)
    checkpointed: list[dict] = []
    for seq, key in enumerate(written, start=1):
        assert run.store.is_own_part(key) and key == run.store.part_key(sent.journal.token, seq)
        part = obs.get_json(obs_bucket, key)
        assert part["format"] == PROGRESS_FORMAT and part["seq"] == seq and part["run_id"] == "run-7"
        assert part["api"] == SLUG and part["params_digest"] == run.pipeline.digest
        checkpointed += part["entries"]
    done = {e["key"] for e in sent.entries if e["status"] == "done"}
    assert {e["key"] for e in checkpointed} <= done and len(checkpointed) >= len(done) - 2
    assert len(checkpointed) == len({e["key"] for e in checkpointed})  # each image once


def test_a_signed_url_echoed_in_an_error_stays_out_of_the_entry(obs_bucket, emulator, monkeypatch):
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

    bulk_put(obs_bucket, ["day/a.png", "day/b.png"], PNG)
    real_call = HuaweiOcrHook.call
    urls: list[str] = []

    def echoing_call(self, api, body, **kwargs):  # the one function stubbed
        urls.append(body["url"])
        if "/day/a.png" in body["url"]:
            raise HuaweiOcrTransientError(f"bad gateway while fetching {body['url']}", status_code=502)
        return real_call(self, api, body, **kwargs)

    monkeypatch.setattr(HuaweiOcrHook, "call", echoing_call)
    _, _, sent = through_send(start(obs_bucket))
    assert _statuses(sent) == {"failed": 1, "done": 1}
    (entry,) = [e for e in sent.entries if e["status"] == "failed"]
    assert "bad gateway while fetching" in entry["error_message"] and "/day/a.png" in entry["error_message"]
    for url in urls:
        assert "Signature=" in url
        assert url.split("Signature=", 1)[1].split("&", 1)[0] not in repr(sent.entries)


def test_states_are_the_four_of_a_real_run():
    assert STATES == ("done", "skipped", "failed", "not_attempted")


def test_a_sent_image_keeps_no_signed_url_once_its_entry_is_final(obs_bucket, obs, emulator):
    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(4)], PNG)
    run = start(obs_bucket, max_concurrency=2, image_source="signed_url")
    _, plan, sent = through_send(run)
    assert _statuses(sent) == {"done": 4} and emulator.count(SLUG) == 4
    sources = [item.src for item in plan.items]
    assert all(src is not None and src.url is None and src.data is None for src in sources)
    assert all(src.etag for src in sources)  # kept answers are still matched by it


def test_a_document_keeps_no_signed_url_once_its_last_page_is_final(obs_bucket, obs, emulator):
    from airflow_provider_hwocr.testing.documents import numbered_pdf

    obs.put_bytes(obs_bucket, "day/doc.pdf", numbered_pdf(3).data)
    bulk_put(obs_bucket, ["day/a.png"], PNG)
    run = start(obs_bucket, api="general-text", max_concurrency=2, image_source="signed_url")
    _, plan, sent = through_send(run)
    assert _statuses(sent) == {"done": 4} and emulator.count("general-text") == 4  # three pages, one image
    sources = {item.source.rsplit("/", 1)[-1]: item.src for item in plan.items}
    assert sources.keys() == {"doc.pdf", "a.png"}
    assert all(
        src is not None and src.url is None and src.data is None and src.etag for src in sources.values()
    )
