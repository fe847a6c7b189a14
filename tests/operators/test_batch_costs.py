"""Money in the batch: dry runs, call budgets and double billing under faults, end to end."""

from __future__ import annotations

import time
from collections import Counter
from urllib.parse import unquote, urlsplit

import pytest

from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError
from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchFailedError
from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.batch_env import PNG, SLUG, called_keys, make_batch, manifest_of
from tests.helpers.obs_env import bulk_put


def test_dry_run_over_1000_images_calls_nothing_writes_nothing_and_prices_the_rest(
    obs,
    obs_bucket,
    emulator,
    counted,
    monkeypatch,
):
    bulk_put(obs_bucket, [f"day/a{i:04d}.png" for i in range(300)], PNG)
    make_batch(obs_bucket, max_concurrency=16).execute({})  # 300 done before the plan
    bulk_put(obs_bucket, [f"day/b{i:04d}.png" for i in range(680)], PNG)
    bulk_put(obs_bucket, [f"day/empty{i:02d}.png" for i in range(10)], b"")
    bulk_put(obs_bucket, [f"day/huge{i:02d}.png" for i in range(10)], b"\x89PNG" + b"\0" * 8_000_000)
    emulator.reset()
    counted.reset()
    report = make_batch(obs_bucket, dry_run=True, price_per_call=0.0125).execute({})
    assert emulator.count() == 0 and counted.writes() == 0, counted.by_method()
    assert counted.total <= 4  # one listing of the sources, one of the results, one GET of the index
    assert (report["would_call"], report["skipped"], report["rejected"]) == (680, 300, 20)
    assert report["estimated_cost"] == pytest.approx(680 * 0.0125)
    reasons = {r["source"].rsplit("/", 1)[1][:4]: r["reason"] for r in report["rejections"]}
    assert "empty (0 bytes)" in reasons["empt"] and "accepts at most" in reasons["huge"]

    # the provider-wide switch forces it on an operator that did not ask, price from the connection
    from tests.helpers.obs_env import _server_url

    monkeypatch.setenv("HWOCR_DRY_RUN", "1")
    monkeypatch.setenv(
        CONN_ENV,
        conn_json(
            emulator,
            extra={
                "obs_endpoint": _server_url,
                "obs_path_style": True,
                "obs_signature": "v2",
                "verify": False,
                "price_per_call": "0.5",
            },
        ),
    )
    forced = make_batch(obs_bucket).execute({})
    assert forced["dry_run"] is True and "HWOCR_DRY_RUN" in forced["reason"]
    assert forced["estimated_cost"] == pytest.approx(680 * 0.5) and emulator.count() == 0


def test_max_calls_stops_after_exactly_n_calls_and_the_rerun_finishes(obs, obs_bucket, emulator):
    bulk_put(obs_bucket, [f"day/m{i:03d}.png" for i in range(30)], PNG)
    with pytest.raises(HuaweiCloudBudgetExceededError, match="max_calls: this task may make 12"):
        make_batch(obs_bucket, max_calls=12, max_concurrency=6).execute({})
    assert emulator.count(SLUG) == 12
    manifest = manifest_of(obs, f"obs://{obs_bucket}/ocr/")
    assert manifest["totals"]["done"] == 12 and manifest["totals"]["not_attempted"] == 18
    assert all("max_calls=12" in e["reason"] for e in manifest["images"] if e["status"] == "not_attempted")
    out = make_batch(obs_bucket, max_calls="18").execute({})  # a rendered template is a string
    assert out["totals"]["done"] == 18 and out["totals"]["skipped"] == 12
    calls = called_keys(emulator)
    assert len(calls) == 30 and set(calls.values()) == {1}


def _settle(emulator, seconds: float = 3.0) -> None:
    """Wait until slow answers that were still being sent are in the emulator's log."""
    time.sleep(emulator.config.slow_reply_seconds + 0.3)
    deadline = time.monotonic() + seconds
    last = -1
    while time.monotonic() < deadline:
        now = emulator.count(SLUG)
        if now == last:
            break
        last = now
        time.sleep(0.5)


def _faulty_conn(emulator, monkeypatch, **extra):
    from tests.helpers.obs_env import _server_url

    settings = {"obs_endpoint": _server_url, "obs_path_style": True, "obs_signature": "v2", "verify": False,
                "timeout": 1, "max_retries": 8}  # fmt: skip
    settings.update(extra)
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra=settings))
    for name, rate in (("error_500_rate", 0.02), ("error_503_rate", 0.02), ("drop_rate", 0.02),
                       ("truncate_rate", 0.02), ("slow_rate", 0.01)):  # fmt: skip
        setattr(emulator.config, name, rate)
    emulator.config.slow_reply_seconds = 1.6  # past the 1 s read timeout
    emulator.reseed(7)


def test_under_faults_nothing_is_lost_and_double_billing_is_reported_exactly(
    obs, obs_bucket, emulator, monkeypatch
):
    n = 1000
    bulk_put(obs_bucket, [f"day/f{i:04d}.png" for i in range(n)], PNG)
    _faulty_conn(emulator, monkeypatch)
    out = make_batch(obs_bucket, max_concurrency=16).execute({})
    _settle(emulator)
    stats = emulator.stats()
    manifest = manifest_of(obs, f"obs://{obs_bucket}/ocr/")
    entries = manifest["images"]
    assert len(entries) == n and len({e["source"] for e in entries}) == n  # one state per image
    assert out["totals"]["done"] == n and out["totals"]["failed"] == 0
    results = [k for k in obs.list_keys(obs_bucket, "ocr/") if k.endswith(f".{SLUG}.json")]
    assert len(results) == n
    faults = stats["faults"]
    assert faults.get("truncate", 0) and faults.get("slow", 0) and faults.get("drop", 0)
    billable = stats["apis"][SLUG]["billable"]
    reported = sum(e.get("billed_retries") or 0 for e in entries)
    # Every retry after a try that may have been billed is reported. The emulator bills the
    # truncated and slow answers it sent (billable - n of them); a dropped connection is
    # reported too, since the caller cannot tell whether the service billed it. A connection
    # lost on its own under load looks the same to the caller, so a few more may be reported
    # (never fewer: that would be a billed retry nobody was told about).
    assert reported == out["totals"]["billed_retries"]
    assert (billable - n) + faults["drop"] <= reported <= (billable - n) + faults["drop"] + 5
    assert out["billing"]["billed_retries"] == reported
    assert out["totals"]["images_possibly_billed_twice"] == sum(1 for e in entries if e.get("billed_retries"))
    flagged = {e["source"].split("/", 3)[3] for e in entries if e.get("billed_retries")}
    truly_twice = {k for k, c in _billed_per_key(emulator).items() if c > 1}
    assert truly_twice and truly_twice <= flagged  # every image billed twice is flagged


def _billed_per_key(emulator) -> Counter[str]:
    out: Counter[str] = Counter()
    for call in emulator.calls(SLUG):
        if call.status == 200 and (call.body or {}).get("url"):
            out[unquote(urlsplit(call.body["url"]).path).split("/", 2)[2]] += 1
    return out


def test_with_retries_of_billable_failures_off_nothing_is_billed_twice(
    obs, obs_bucket, emulator, monkeypatch
):
    n = 1000
    bulk_put(obs_bucket, [f"day/g{i:04d}.png" for i in range(n)], PNG)
    _faulty_conn(emulator, monkeypatch, retry_possibly_billed=False)
    with pytest.raises(HuaweiOcrBatchFailedError, match=r"image\(s\) failed"):
        make_batch(obs_bucket, max_concurrency=16).execute({})
    _settle(emulator)
    manifest = manifest_of(obs, f"obs://{obs_bucket}/ocr/")
    entries = manifest["images"]
    assert len(entries) == n
    assert all((e.get("billed_retries") or 0) == 0 for e in entries)
    failed = [e for e in entries if e["status"] == "failed"]
    assert failed and all(e["error_type"] == "HuaweiOcrTransientError" and e["called"] for e in failed)
    assert manifest["totals"]["done"] + len(failed) == n
    billed = _billed_per_key(emulator)
    assert max(billed.values()) == 1  # no image was billed twice
    done = {e["source"].split("/", 3)[3] for e in entries if e["status"] == "done"}
    assert done <= set(billed)


def test_a_password_in_an_image_url_is_kept_out_of_manifest_envelope_and_log(
    obs, obs_bucket, emulator, image_server, caplog
):
    import json
    import logging

    base, directory = image_server
    (directory / "a.png").write_bytes(PNG)
    url = base.replace("http://", "http://scanner:s3cr3t-pw@") + "/a.png"
    caplog.set_level(logging.DEBUG)
    # The emulator's downloader does not take credentials in URLs, so the image fails on the
    # service side: error text must stay clean too.
    out = make_batch(obs_bucket, source_uri=None, images=[url], max_failures=1).execute({})
    assert emulator.calls(SLUG)[0].body["url"] == url  # sent as given
    stored = [
        json.dumps(obs.get_json(obs_bucket, k)) for k in obs.list_keys(obs_bucket, "") if k.endswith(".json")
    ]
    logged = [caplog.handler.format(r) for r in caplog.records if r.name != "werkzeug"]
    assert stored and "s3cr3t-pw" not in "\n".join([*stored, *logged, json.dumps(out)])
    assert any(f"{base}/a.png" in s for s in stored)  # recorded without the credentials
    assert "ModelArts.4603" in "\n".join(stored)  # the service's error is in the manifest


def test_the_batch_adapts_to_a_service_limit_below_its_qps(obs, obs_bucket, emulator, monkeypatch):
    """Emulator limited to 20/s, batch asking for 40/s: few throttled answers, close to the limit."""
    from tests.helpers.obs_env import _server_url

    extra = {"obs_endpoint": _server_url, "obs_path_style": True, "obs_signature": "v2", "verify": False}
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra={**extra, "max_retries": 5}))  # the default
    limit, n = 20.0, 240
    bulk_put(obs_bucket, [f"day/r{i:04d}.png" for i in range(n)], PNG)
    emulator.config.qps_limit = limit
    started = time.monotonic()
    out = make_batch(obs_bucket, qps=2 * limit, max_concurrency=8, image_source="inline").execute({})
    elapsed = time.monotonic() - started
    stats = emulator.stats()
    throttled = stats["by_status"].get("429", 0)
    assert out["totals"]["done"] == n and throttled > 0  # the limit was hit, and adapted to
    assert throttled / stats["total"] < 0.05, (throttled, stats["total"])
    # close to the limit: 0.75 of it leaves room for the listing, the writes and a loaded machine
    # (CI runs the system tests beside this suite); a batch that did not adapt stays far below
    assert n / elapsed >= 0.75 * limit, n / elapsed
