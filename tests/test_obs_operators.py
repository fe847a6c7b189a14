"""OBS in and out for the OCR operators, against a real local object server (moto)
driven by the real esdk-obs-python, and the emulator fetching URLs from it."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.sources import parse_obs_uri
from airflow_provider_hwocr.operators.batch import (
    HuaweiOcrBatchFailedError,
    HuaweiOcrBatchOperator,
    latest_manifest_uri,
)
from airflow_provider_hwocr.operators.ocr import (
    HuaweiOcrGeneralTextOperator,
    HuaweiOcrSmartDocumentRecognizerOperator,
    HuaweiOcrXComSizeError,
)
from tests.helpers.images import png

ODD_KEY = "in coming/收据 näme 1.png"


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


def _put(obs, bucket, key, data=None):
    data = png((300, 120), key) if data is None else data
    obs.put_bytes(bucket, key, data, content_type="image/png")
    return data


@pytest.mark.parametrize("mode", ["signed_url", "authorized", "inline"])
def test_source_modes_end_to_end_with_an_odd_key(mode, obs, obs_bucket, obs_server, emulator):
    from tests.helpers.obs_env import allow_anonymous_read

    data = _put(obs, obs_bucket, ODD_KEY)
    if mode == "authorized":
        allow_anonymous_read(obs_bucket)  # what OCR's OBS authorization grants on Huawei Cloud
    op = HuaweiOcrGeneralTextOperator(task_id="t", image=f"obs://{obs_bucket}/{ODD_KEY}", image_source=mode)
    result = op.execute({})
    assert result["words_block_count"] >= 1
    (call,) = emulator.calls("general-text")
    assert call.status == 200  # for URL modes the emulator really downloaded the object
    if mode == "inline":
        assert set(call.body) == {"image"}
        assert base64.b64decode(call.body["image"]) == data
    else:
        url = call.body["url"]
        assert set(call.body) == {"url"}
        assert url.isascii() and " " not in url
        assert quote(ODD_KEY) in url
        if mode == "authorized":
            assert url == f"{obs_server}/{obs_bucket}/{quote(ODD_KEY)}"
        else:
            assert "?" in url  # carries the signature


def test_authorized_mode_without_obs_authorization_explains_itself(obs, obs_bucket, emulator):
    from airflow_provider_hwocr.client.errors import HuaweiOcrInvalidInputError

    _put(obs, obs_bucket, "private.png")  # private bucket, no authorization for OCR
    with pytest.raises(HuaweiOcrInvalidInputError, match="OBS Authorization") as info:
        HuaweiOcrGeneralTextOperator(
            task_id="t", image=f"obs://{obs_bucket}/private.png", image_source="authorized"
        ).execute({})
    assert info.value.error_code == "ModelArts.4603"
    assert "signed_url" in str(info.value)


def test_default_mode_is_signed_url(obs, obs_bucket, emulator):
    _put(obs, obs_bucket, "a.png")
    HuaweiOcrGeneralTextOperator(task_id="t", image=f"obs://{obs_bucket}/a.png").execute({})
    assert "?" in emulator.calls()[0].body["url"]


def test_signed_url_never_reaches_the_logs(obs, obs_bucket, emulator, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    _put(obs, obs_bucket, "secret.png")
    HuaweiOcrGeneralTextOperator(task_id="t", image=f"obs://{obs_bucket}/secret.png").execute({})
    query = emulator.calls()[0].body["url"].split("?", 1)[1]
    # werkzeug is the local object server's own access log (the cloud side), not ours
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    assert query and "Signature=" in query
    assert query not in ours and query.split("Signature=")[1] not in ours


def test_write_back_envelope_key_and_reference(obs, obs_bucket, emulator):
    _put(obs, obs_bucket, "scans/r1.png")
    output = f"obs://{obs_bucket}/results/2026-11-20/"
    op = HuaweiOcrGeneralTextOperator(
        task_id="t", image=f"obs://{obs_bucket}/scans/r1.png", output_uri=output, language="auto"
    )
    ref = op.execute({})

    assert set(ref) == {"uri", "summary"}
    assert ref["uri"].startswith(output) and ref["uri"].endswith(".general-text.json")
    assert ref["summary"]["blocks"] >= 1
    key = ref["uri"][len(f"obs://{obs_bucket}/") :]
    doc = obs.get_json(obs_bucket, key)
    assert doc["api"] == "general-text"
    assert doc["parameters"] == {"language": "auto"}
    assert doc["source"]["uri"] == f"obs://{obs_bucket}/scans/r1.png"
    assert doc["source"]["mode"] == "signed_url" and "url" not in doc["source"]
    assert doc["request_id"] and doc["created_at"] and doc["provider_version"]
    assert doc["result"]["words_block_count"] == ref["summary"]["blocks"]
    assert obs.head(obs_bucket, key).content_type.startswith("application/json")

    # deterministic: same image + same prefix -> same key, overwritten not duplicated
    again = HuaweiOcrGeneralTextOperator(
        task_id="t",
        image=f"obs://{obs_bucket}/scans/r1.png",
        output_uri=output,
        language="auto",
        skip_existing=False,
    ).execute({})
    assert again["uri"] == ref["uri"]
    assert len(obs.list_keys(obs_bucket, "results/")) == 1


def test_bytes_and_files_get_content_based_keys(obs, obs_bucket, emulator, tmp_path):
    data = png((200, 80), "same")
    path = tmp_path / "copy.png"
    path.write_bytes(data)
    out = f"obs://{obs_bucket}/r/"
    a = HuaweiOcrGeneralTextOperator(task_id="a", image=data, output_uri=out).execute({})
    b = HuaweiOcrGeneralTextOperator(task_id="b", image=str(path), output_uri=out).execute({})
    assert a["uri"].rsplit("-", 1)[1] == b["uri"].rsplit("-", 1)[1]  # same content digest


def test_xcom_size_guard(obs, obs_bucket, emulator):
    with pytest.raises(HuaweiOcrXComSizeError, match="output_uri"):
        HuaweiOcrGeneralTextOperator(task_id="t", image=png(), max_xcom_bytes=50).execute({})
    ref = HuaweiOcrGeneralTextOperator(
        task_id="t", image=png(), max_xcom_bytes=50, output_uri=f"obs://{obs_bucket}/big/"
    ).execute({})
    assert len(json.dumps(ref)) < 1000


def test_skip_existing_makes_no_call_and_recomputes_when_inputs_change(obs, obs_bucket, emulator):
    _put(obs, obs_bucket, "s/a.png")
    kwargs = {
        "task_id": "t",
        "image": f"obs://{obs_bucket}/s/a.png",
        "output_uri": f"obs://{obs_bucket}/out/",
    }
    first = HuaweiOcrGeneralTextOperator(**kwargs).execute({})
    assert emulator.count() == 1
    second = HuaweiOcrGeneralTextOperator(**kwargs).execute({})
    assert emulator.count() == 1  # zero new calls
    assert second == first
    HuaweiOcrGeneralTextOperator(**kwargs, language="auto").execute({})  # other parameters
    assert emulator.count() == 2
    _put(obs, obs_bucket, "s/a.png", png((310, 130), "replaced"))  # new object content
    HuaweiOcrGeneralTextOperator(**kwargs).execute({})
    assert emulator.count() == 3
    HuaweiOcrGeneralTextOperator(**kwargs, skip_existing=False).execute({})
    assert emulator.count() == 4


def test_missing_object_and_bucket_fail_clearly_without_a_call(obs, obs_bucket, emulator):
    from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsError

    with pytest.raises(HuaweiOcrValidationError, match="does not exist"):
        HuaweiOcrGeneralTextOperator(task_id="t", image=f"obs://{obs_bucket}/nope.png").execute({})
    with pytest.raises((HuaweiOcrValidationError, HuaweiObsError)) as info:
        HuaweiOcrGeneralTextOperator(task_id="t", image="obs://no-such-bucket-hwocr/a.png").execute({})
    assert "no-such-bucket-hwocr" in str(info.value)
    assert emulator.count() == 0


def test_oversized_object_is_refused_before_download(obs, obs_bucket, emulator):
    _put(obs, obs_bucket, "huge.png", png((20, 20)) + b"\0" * 8_000_000)
    with pytest.raises(HuaweiOcrValidationError, match="nothing was downloaded"):
        HuaweiOcrGeneralTextOperator(
            task_id="t", image=f"obs://{obs_bucket}/huge.png", image_source="inline"
        ).execute({})
    assert emulator.count() == 0


def test_data_field_api_inline_from_obs(obs, obs_bucket, emulator):
    data = _put(obs, obs_bucket, "doc.png")
    HuaweiOcrSmartDocumentRecognizerOperator(
        task_id="t", image=f"obs://{obs_bucket}/doc.png", image_source="inline"
    ).execute({})
    assert base64.b64decode(emulator.calls()[0].body["data"]) == data


# --- batch ------------------------------------------------------------------------


def _fill(obs, bucket, prefix, n_images, n_other=0, bad=()):
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(f"{prefix}img{i:04d}.png", png((120, 60), f"#{i}")) for i in range(n_images)]
    jobs += [(f"{prefix}{name}", b"this is not an image") for name in bad]
    jobs += [(f"{prefix}notes/n{i:04d}.txt", b"x") for i in range(n_other)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda kv: obs.put_bytes(bucket, kv[0], kv[1]), jobs))


def _manifest(obs, output_uri, api="general-text"):
    loc = parse_obs_uri(latest_manifest_uri(output_uri, api))
    return obs.get_json(loc.bucket, loc.key)


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
