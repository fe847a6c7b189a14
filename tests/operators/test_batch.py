"""``HuaweiOcrBatchOperator``: its argument checks (at parse time and on what templates rendered
to), and ``execute`` through select, decide, send and record end to end against the emulator and
a real local object server: pagination, failure policy, resume, rate, concurrency, early stop."""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.operators.batch import (
    HuaweiOcrBatchEmptyError,
    HuaweiOcrBatchFailedError,
    HuaweiOcrBatchOperator,
)
from tests.helpers.batch_env import PNG, make_batch, manifest_of
from tests.helpers.images import png

# --- construction and rendered arguments ---------------------------------------------------


def test_the_batch_refuses_at_parse_time_what_it_could_not_run():
    """Checked in ``__init__`` with no connection and no object server: nothing is looked up."""
    with pytest.raises(HuaweiOcrValidationError, match="^output_uri: required") as info:
        make_batch("hwocr-parse", output_uri="")
    assert info.value.parameter == "output_uri"
    for settings in ({"source_uri": None}, {"images": ["obs://hwocr-parse/a.png"]}):  # neither, both
        with pytest.raises(HuaweiOcrValidationError, match="^images / source_uri: ") as info:
            make_batch("hwocr-parse", **settings)
        assert info.value.parameter == "images"
    for name, value in (
        ("max_failure_ratio", 1.5),
        ("max_failure_ratio", True),
        ("max_failures", -1),
        ("allow_empty", "maybe"),
        ("adaptive_rate", "perhaps"),
        ("checkpoint_every", 0),
        ("checkpoint_interval", 0),
        ("progress_interval", "soon"),
    ):
        with pytest.raises(HuaweiOcrValidationError, match=f"^{name}: ") as info:
            make_batch("hwocr-parse", **{name: value})
        assert info.value.parameter == name
    op = make_batch(
        "hwocr-parse", max_concurrency="8", qps="5", shard_count=2, shard_index="{{ ti.map_index }}"
    )
    assert (op.max_concurrency, op.qps, op.shard_count) == (8, 5.0, 2)  # rendered strings count
    assert make_batch("hwocr-parse", qps=None).qps is None
    assert isinstance(op, HuaweiOcrBatchOperator) and "images" in op.template_fields


def test_shard_arguments_are_checked_before_anything_runs(obs_bucket):
    with pytest.raises(HuaweiOcrValidationError, match="shard_index: required"):
        make_batch(obs_bucket, shard_count=4)
    with pytest.raises(HuaweiOcrValidationError, match="shard_index: must be below"):
        make_batch(obs_bucket, shard_count=4, shard_index=4)
    for name, value in (("max_concurrency", "8x"), ("qps", "fast"), ("shard_count", 0)):
        with pytest.raises(HuaweiOcrValidationError, match=f"^{name}: "):
            make_batch(obs_bucket, **{name: value})
    with pytest.raises(HuaweiOcrValidationError, match="^images: "):
        make_batch(obs_bucket, source_uri=None, images=12345)


def test_an_output_uri_that_renders_empty_fails_before_any_call(obs, obs_bucket, emulator):
    obs.put_bytes(obs_bucket, "day/a.png", PNG)
    op = make_batch(obs_bucket, output_uri="obs://{{ params.out }}/")
    op.output_uri = ""  # what the template rendered to
    with pytest.raises(HuaweiOcrValidationError, match="^output_uri: rendered to ''") as info:
        op.execute({})
    assert info.value.parameter == "output_uri" and emulator.count() == 0


def test_an_empty_selection_fails_naming_the_prefix_and_pattern(obs, obs_bucket, emulator):
    obs.put_bytes(obs_bucket, "day/readme.txt", b"not an image")
    with pytest.raises(HuaweiOcrBatchEmptyError, match=r"source_uri='obs://.*/day/', pattern='\*\.png'"):
        make_batch(obs_bucket, pattern="*.png").execute({})
    assert obs.list_keys(obs_bucket, "ocr") == []  # nothing written either
    out = make_batch(obs_bucket, pattern="*.png", allow_empty=True).execute({})
    assert out["totals"]["total"] == 0 and emulator.count() == 0


# --- execute end to end -------------------------------------------------------------------


def _fill(obs, bucket, prefix, n_images, n_other=0, bad=()):
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(f"{prefix}img{i:04d}.png", png((120, 60), f"#{i}")) for i in range(n_images)]
    jobs += [(f"{prefix}{name}", b"this is not an image") for name in bad]
    jobs += [(f"{prefix}notes/n{i:04d}.txt", b"x") for i in range(n_other)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda kv: obs.put_bytes(bucket, kv[0], kv[1]), jobs))


def _manifest(obs, output_uri, api="general-text"):
    return manifest_of(obs, output_uri, api)


def test_batch_over_1500_objects_with_pagination_failure_policy_and_resume(obs, obs_bucket, emulator):
    _fill(obs, obs_bucket, "day/", n_images=24, n_other=1480, bad=["img-bad.png"])
    common = {
        "task_id": "batch",
        "api": "general-text",
        "source_uri": f"obs://{obs_bucket}/day/",
        "pattern": "*.png",
        "output_uri": f"obs://{obs_bucket}/ocr/",
        "image_source": "inline",
        "max_concurrency": 6,
        "qps": None,
        "progress_interval": 0.5,
    }
    with pytest.raises(HuaweiOcrBatchFailedError, match="1 of 25"):
        HuaweiOcrBatchOperator(**common).execute({})
    # everything was processed before failing: 24 good calls, the bad one refused locally
    assert emulator.count("general-text") == 24
    manifest = _manifest(obs, f"obs://{obs_bucket}/ocr/")
    assert manifest["totals"] == {
        "done": 24,
        "skipped": 0,
        "failed": 1,
        "not_attempted": 0,
        "total": 25,
        "duplicates": 0,
        "billed_retries": 0,
        "images_possibly_billed_twice": 0,
    }
    (bad,) = [e for e in manifest["images"] if e["status"] == "failed"]
    assert bad["source"].endswith("img-bad.png") and bad["error_type"] == "HuaweiOcrValidationError"
    assert all(e["result_uri"] for e in manifest["images"] if e["status"] == "done")
    assert (
        len(
            [
                k
                for k in obs.list_keys(obs_bucket, "ocr/")
                if k.endswith(".general-text.json") and "_manifest" not in k
            ]
        )
        == 24
    )

    # resume, with a policy that tolerates the one bad image: zero new OCR calls
    emulator.reset()
    out = HuaweiOcrBatchOperator(**common, max_failures=1).execute({})
    assert emulator.count() == 0
    assert out["totals"]["skipped"] == 24 and out["totals"]["failed"] == 1


def test_batch_respects_qps(obs, obs_bucket, emulator):
    _fill(obs, obs_bucket, "q/", n_images=12)
    HuaweiOcrBatchOperator(
        task_id="batch",
        api="general-text",
        source_uri=f"obs://{obs_bucket}/q/",
        output_uri=f"obs://{obs_bucket}/qo/",
        image_source="inline",
        max_concurrency=6,
        qps=8,
    ).execute({})
    times = sorted(c.timestamp for c in emulator.calls("general-text"))
    assert len(times) == 12
    # evenly spaced at 8/s: 12 calls span at least 11/8 s, and no 1-second window holds more than 8+1
    assert times[-1] - times[0] >= 11 / 8 - 0.05
    assert max(sum(1 for t in times if s <= t < s + 1.0) for s in times) <= 9


def test_batch_stops_early_on_errors_that_fail_every_image(obs, obs_bucket, emulator, monkeypatch):
    from airflow_provider_hwocr.client.errors import HuaweiOcrNotSubscribedError

    _fill(obs, obs_bucket, "ns/", n_images=20)
    emulator.config.not_subscribed.add("general-text")
    with pytest.raises(HuaweiOcrNotSubscribedError):
        HuaweiOcrBatchOperator(
            task_id="batch",
            api="general-text",
            source_uri=f"obs://{obs_bucket}/ns/",
            output_uri=f"obs://{obs_bucket}/nso/",
            image_source="inline",
            max_concurrency=2,
            qps=None,
        ).execute({})
    assert emulator.count() < 20  # did not burn through every image
    manifest = _manifest(obs, f"obs://{obs_bucket}/nso/")
    assert manifest["totals"]["not_attempted"] > 0


def test_batch_concurrency_is_bounded(obs, obs_bucket, emulator):
    # With 300 ms of service latency, in-flight calls pile up to the bound, never past it.
    _fill(obs, obs_bucket, "c/", n_images=9)
    emulator.config.latency_ms = 300
    HuaweiOcrBatchOperator(
        task_id="batch",
        api="general-text",
        source_uri=f"obs://{obs_bucket}/c/",
        output_uri=f"obs://{obs_bucket}/co/",
        image_source="inline",
        max_concurrency=3,
        qps=None,
    ).execute({})
    calls = emulator.calls("general-text")
    assert len(calls) == 9
    # overlap measured from the emulator's own start/end times
    spans = [(c.started, c.timestamp) for c in calls]
    peak = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
    assert peak == 3
    assert emulator.stats()["peak_concurrency"] <= 3
