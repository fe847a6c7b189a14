"""The batch at scale, against the real emulator and a real object server (moto, server mode):
cost per image, secrets, crash safety, history and sharding.

Object-server requests are counted where they arrive (``counted``, see ``tests.helpers.batch_env``).
"""

from __future__ import annotations

import json
import time
from urllib.parse import unquote

from airflow_provider_hwocr.client.sources import parse_obs_uri
from tests.helpers.batch_env import PNG, SLUG, called_keys, kill_batch_after, make_batch, manifest_of
from tests.helpers.images import png
from tests.helpers.obs_env import bulk_put

# --- cost per image -------------------------------------------------------------------


def test_first_run_is_one_write_per_image_and_a_rerun_costs_a_listing(counted, obs_bucket, emulator):
    n = 1200  # more than one listing page
    bulk_put(obs_bucket, [f"day/p{i:05d}.png" for i in range(n)], PNG)
    counted.reset()
    interval, started = 2.0, time.monotonic()
    first = make_batch(obs_bucket, max_concurrency=16, progress_interval=interval).execute({})
    # progress parts: at most one per interval of the run (more on a loaded machine, none per image)
    parts = int((time.monotonic() - started) / interval) + 1
    assert first["totals"]["done"] == n and emulator.count(SLUG) == n
    methods = counted.by_method()
    # one PUT per result; per batch, whatever n: 2 listings of sources + 2 of results, 1 GET of
    # the (absent) index, progress parts, 2 manifests, 1 delete of the parts; the lease (a GET,
    # a PUT, a GET back, a DELETE) and the decision made again under it (the index, the results)
    assert methods["HEAD"] == 0, methods
    assert n <= methods["PUT"] <= n + 6 + parts, (methods, parts)
    assert counted.total - n <= 26 + parts, (methods, parts)

    emulator.reset()
    counted.reset()
    again = make_batch(obs_bucket, max_concurrency=16).execute({})
    assert again["totals"]["skipped"] == n and emulator.count() == 0
    pages = -(-n // 1000)
    assert counted.total <= 2 * pages + 3, counted.by_method()


def test_duplicates_in_one_batch_are_called_once(obs, obs_bucket, emulator):
    for i in range(3):
        obs.put_bytes(obs_bucket, f"d/{i}.png", PNG)
    uris = [f"obs://{obs_bucket}/d/{i}.png" for i in (0, 1, 0, 2, 1, 0)]
    out = make_batch(
        obs_bucket, source_uri=None, images=[*uris, uris[0].replace("obs://", "OBS://")]
    ).execute({})
    assert emulator.count(SLUG) == 3
    assert out["totals"]["done"] == 3 and out["totals"]["duplicates"] == 4 and out["totals"]["total"] == 3
    manifest = manifest_of(obs, f"obs://{obs_bucket}/ocr/")
    assert sorted(e["source"] for e in manifest["images"]) == sorted(set(uris))


def test_changed_parameters_or_a_replaced_source_are_recomputed_from_listings(
    obs, obs_bucket, emulator, counted
):
    for i in range(4):
        obs.put_bytes(obs_bucket, f"day/{i}.png", PNG)
    make_batch(obs_bucket).execute({})
    assert emulator.count(SLUG) == 4
    emulator.reset()
    obs.put_bytes(obs_bucket, "day/2.png", png((140, 60), "rescanned"))  # same key, new ETag
    counted.reset()
    out = make_batch(obs_bucket).execute({})
    assert emulator.count(SLUG) == 1 and out["totals"]["done"] == 1 and out["totals"]["skipped"] == 3
    assert counted.by_method()["HEAD"] == 0  # decided from listings, not per-object requests
    emulator.reset()
    out = make_batch(obs_bucket, parameters={"detect_direction": True}).execute({})
    assert emulator.count(SLUG) == 4 and out["totals"]["done"] == 4


def test_results_written_by_the_single_image_operator_are_checked_once_then_indexed(
    obs, obs_bucket, emulator, counted
):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

    for i in range(3):
        obs.put_bytes(obs_bucket, f"day/{i}.png", PNG)
        HuaweiOcrGeneralTextOperator(
            task_id=f"t{i}", image=f"obs://{obs_bucket}/day/{i}.png", output_uri=f"obs://{obs_bucket}/ocr/"
        ).execute({})
    emulator.reset()
    counted.reset()
    out = make_batch(obs_bucket).execute({})
    assert emulator.count() == 0 and out["totals"]["skipped"] == 3
    assert counted.by_method()["HEAD"] == 3  # not in the index yet: one HEAD each
    counted.reset()
    make_batch(obs_bucket).execute({})
    assert counted.by_method()["HEAD"] == 0  # now they are


# --- secrets and the masker -------------------------------------------------------------


def test_signed_urls_stay_secret_and_the_masker_does_not_grow_with_the_batch(
    obs, obs_bucket, emulator, caplog, capsys, monkeypatch
):
    import logging

    import airflow.sdk.log as sdk_log

    from airflow_provider_hwocr.client.errors import HuaweiOcrTransientError
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

    registered: list[str] = []
    real_mask = sdk_log.mask_secret

    def counting_mask(secret, *args, **kwargs):
        registered.append(str(secret))
        return real_mask(secret, *args, **kwargs)

    monkeypatch.setattr(sdk_log, "mask_secret", counting_mask)
    for i in range(60):
        obs.put_bytes(obs_bucket, f"day/{i:03d}.png", PNG)
    # One image meets a service error that echoes the request (what a proxy or a
    # verbose error page might do): the one function stubbed here.
    real_call = HuaweiOcrHook.call
    sent: list[str] = []

    def echoing_call(self, api, body, **kwargs):
        sent.append(body.get("url", ""))
        if body.get("url", "").split("?")[0].endswith("/day/007.png"):
            raise HuaweiOcrTransientError(f"bad gateway while fetching {body['url']}", status_code=502)
        return real_call(self, api, body, **kwargs)

    monkeypatch.setattr(HuaweiOcrHook, "call", echoing_call)
    caplog.set_level(logging.DEBUG)

    def run(n: int) -> dict:
        registered.clear()
        op = make_batch(obs_bucket, source_uri=None, images=[f"obs://{obs_bucket}/day/{i:03d}.png" for i in range(n)],
                    output_uri=f"obs://{obs_bucket}/out{n}/", max_failures=1)  # fmt: skip
        return op.execute({})

    small = run(10)
    small_registrations = len(registered)
    big = run(60)
    assert len(registered) == small_registrations  # constant per task, not one per image
    assert not any("Signature=" in r for r in registered)
    assert big["totals"]["done"] == 59 and big["totals"]["failed"] == 1

    assert all(call.status == 200 for call in emulator.calls(SLUG))  # the service could use them
    signatures = set()
    for url in sent:
        assert "Signature=" in url  # signed URLs were sent
        signatures.add(url.split("Signature=", 1)[1].split("&", 1)[0])
    assert len(sent) == 70 and len(signatures) >= 60
    # Everything the provider logged or printed (the in-process object server's own access log,
    # logger "werkzeug", shows the URLs it was asked for, as any web server does: not ours).
    logged = [caplog.handler.format(r) for r in caplog.records if r.name != "werkzeug"]
    printed = [line for line in capsys.readouterr().out.splitlines() if "[werkzeug]" not in line]
    assert len(logged) > 100  # DEBUG logging of the client and hooks was on
    texts = [*logged, *printed, json.dumps(small), json.dumps(big)]
    for key in obs.list_keys(obs_bucket, ""):
        if key.endswith(".json"):
            texts.append(json.dumps(obs.get_json(obs_bucket, key)))  # envelopes, manifests, parts
    everything = "\n".join(texts)
    failed = [e for e in manifest_of(obs, f"obs://{obs_bucket}/out60/")["images"] if e["status"] == "failed"]
    assert "bad gateway while fetching" in failed[0]["error_message"]  # the error is kept ...
    assert f"obs://{obs_bucket}/day/007.png" in everything
    for sig in signatures:
        for form in (sig, unquote(sig)):
            at = everything.find(form)
            assert at < 0, everything[max(0, at - 300) : at + 100]  # ... its signature is not


# --- crash safety -------------------------------------------------------------------------


def test_sigkill_mid_batch_leaves_a_partial_manifest_and_the_rerun_pays_nothing_twice(
    obs, obs_bucket, emulator, tmp_path
):
    n = 200
    bulk_put(obs_bucket, [f"day/k{i:04d}.png" for i in range(n)], PNG)
    emulator.config.latency_ms = 25
    kill_batch_after(obs_bucket, emulator, tmp_path, 0.4 * n)
    first_calls = called_keys(emulator)
    stored = {
        k for k in obs.list_keys(obs_bucket, "ocr/") if k.endswith(f".{SLUG}.json") and "_hwocr" not in k
    }
    assert 0.3 * n <= len(first_calls) < n

    # the partial manifest: progress parts, each a readable JSON list of finished images
    parts = obs.list_keys(obs_bucket, "ocr/_hwocr_progress/")
    assert parts
    checkpointed = [e for key in parts for e in obs.get_json(obs_bucket, key)["entries"]]
    assert checkpointed and all(e["status"] == "done" and e["request_id"] for e in checkpointed)
    assert len(checkpointed) <= len(stored)

    out = make_batch(obs_bucket, max_concurrency=4).execute({})
    assert out["totals"]["done"] + out["totals"]["skipped"] == n and out["totals"]["failed"] == 0
    calls = called_keys(emulator)
    twice = {k for k, c in calls.items() if c > 1}
    stored_sources = {k for k in first_calls if any(s.startswith("ocr/" + k.split("/")[-1]) for s in stored)}
    # Nothing that was stored is paid again; only what the dead process held can be: the calls
    # in flight (max_concurrency), the answers its writers were storing (as many) and the one
    # answer queued between them: at most 2 * max_concurrency + 1 (docs/guides/deployment.md).
    assert not (twice & stored_sources)
    assert len(twice) <= 2 * 4 + 1
    assert sum(calls.values()) == n + len(twice)
    results = [
        k for k in obs.list_keys(obs_bucket, "ocr/") if k.endswith(f".{SLUG}.json") and "_hwocr" not in k
    ]
    assert len(results) == n  # exactly one result per image
    assert obs.list_keys(obs_bucket, "ocr/_hwocr_progress/") == []  # merged into the manifest, then removed


# --- selection, history, sharding ----------------------------------------------------------


def test_manifests_keep_history_per_run_and_try(obs, obs_bucket, emulator):
    class _TI:
        def __init__(self, n):
            self.try_number = n

        def xcom_push(self, key, value):  # the console links
            pass

    obs.put_bytes(obs_bucket, "day/a.png", PNG)
    first = make_batch(obs_bucket).execute({"run_id": "scheduled__2026-11-30", "ti": _TI(1)})
    second = make_batch(obs_bucket).execute({"run_id": "scheduled__2026-11-30", "ti": _TI(2)})
    third = make_batch(obs_bucket).execute({"run_id": "manual__x"})
    histories = {first["history_uri"], second["history_uri"], third["history_uri"]}
    assert len(histories) == 3 and all("_hwocr/general-text/runs/" in h for h in histories)
    one = obs.get_json(obs_bucket, parse_obs_uri(first["history_uri"]).key)
    assert one["totals"]["done"] == 1 and one["images"][0]["request_id"]  # the first run's ids survive
    latest = manifest_of(obs, f"obs://{obs_bucket}/ocr/")
    assert latest["run_id"] == "manual__x" and latest["history_uri"] == third["history_uri"]


def test_shards_cover_every_image_exactly_once_at_their_share_of_the_rate(obs, obs_bucket, emulator):
    n = 90
    bulk_put(obs_bucket, [f"day/s{i:03d}.png" for i in range(n)], PNG)
    totals = []
    for index in range(3):
        out = make_batch(obs_bucket, shard_index=index, shard_count=3, qps=300).execute({})
        totals.append(out["totals"]["total"])
    assert sum(totals) == n and all(t > 10 for t in totals)
    calls = called_keys(emulator)
    assert len(calls) == n and set(calls.values()) == {1}
    emulator.reset()
    for index in range(3):
        make_batch(obs_bucket, shard_index=index, shard_count=3).execute({})
    assert emulator.count() == 0


def test_the_sensor_hands_a_large_selection_to_the_batch_without_the_list(obs, obs_bucket, emulator):
    from airflow_provider_hwocr.sensors.obs import HuaweiObsKeySensor

    n = 1100
    bulk_put(obs_bucket, [f"day/x{i:05d}.png" for i in range(n)], PNG)
    bulk_put(obs_bucket, ["day/notes.txt"], b"x")
    sensor = HuaweiObsKeySensor(task_id="wait", key=f"obs://{obs_bucket}/day/*.png", return_selection=True)
    selection = sensor.poke({"ti": None}).xcom_value
    # the sensor stops at the first match: no count, the batch lists the selection itself
    assert selection["count"] is None and selection["first"] == [f"obs://{obs_bucket}/day/x00000.png"]
    assert len(json.dumps(selection)) < 1000
    out = make_batch(obs_bucket, source_uri=None, images=selection, max_concurrency=16).execute({})
    assert out["totals"]["done"] == n and emulator.count(SLUG) == n
