"""One image through ``OcrPipeline``: resolve (one HEAD), skip a result made with the same parameters from
the same source, check, call, store (envelope, metadata, text pages); parameters validated once per
batch; signed URLs scrubbed from every error."""

from __future__ import annotations

import base64
import json
import re

import pytest

from airflow_provider_hwocr.client.errors import (
    HuaweiOcrError,
    HuaweiOcrTransientError,
    HuaweiOcrValidationError,
)
from airflow_provider_hwocr.runtime.envelopes import (
    ENVELOPE_FORMAT,
    META_API,
    META_PARAMS,
    META_SOURCE,
    META_SOURCE_ETAG,
    params_digest,
)
from airflow_provider_hwocr.runtime.pipeline import scrub
from airflow_provider_hwocr.runtime.task import pipeline_for
from tests.helpers.d2_stages import PNG, SLUG, batch_op
from tests.helpers.obs_env import allow_anonymous_read, bulk_put


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


def pipeline(bucket: str | None = None, **kwargs):
    """The pipeline of a checked single-image operator (results under ``out/`` when ``bucket`` is given)."""
    from airflow_provider_hwocr.operators.base import HuaweiOcrOperator

    if bucket is not None:
        kwargs.setdefault("output_uri", f"obs://{bucket}/out/")
    op = HuaweiOcrOperator(task_id="t", api=kwargs.pop("api", SLUG), image=kwargs.pop("image", "x"), **kwargs)
    return pipeline_for(op._ocr_settings(), op.hook, op._collaborators())


# --- resolve: one HEAD, size checked before anything is downloaded ---------------------------


def test_resolving_an_object_is_one_head(obs_bucket, counted, obs):
    obs.put_bytes(obs_bucket, "in/a.png", PNG)
    counted.reset()
    src = pipeline(obs_bucket).resolve(f"obs://{obs_bucket}/in/a.png")
    assert counted.by_method() == {"HEAD": 1}
    assert src.kind == "obs" and src.size == len(PNG) and src.etag == obs.head(obs_bucket, "in/a.png").etag
    assert src.url is not None and "Signature=" in src.url  # signed, locally: no request for that


@pytest.mark.parametrize(
    ("data", "reason", "heads"),
    [
        (None, "does not exist", 2),  # the object, then its bucket (a missing bucket is an error)
        (b"", "is empty (0 bytes)", 1),
        (b"\x89PNG" + b"\0" * 8_000_000, "accepts at most", 1),
    ],
)
def test_an_unusable_object_is_refused_before_any_download(
    obs_bucket, counted, emulator, data, reason, heads
):
    if data is not None:
        bulk_put(obs_bucket, ["in/bad.png"], data)
    counted.reset()
    with pytest.raises(HuaweiOcrValidationError, match=re.escape(reason)) as info:
        pipeline(obs_bucket).run(f"obs://{obs_bucket}/in/bad.png")
    assert info.value.parameter == "image" and f"obs://{obs_bucket}/in/bad.png" in str(info.value)
    assert counted.by_method() == {"HEAD": heads} and emulator.count() == 0


def test_a_file_is_read_and_identified_by_its_content(tmp_path, ocr_conn):
    (tmp_path / "a.png").write_bytes(PNG)
    (tmp_path / "b.png").write_bytes(PNG)
    pipe = pipeline()
    a, b = pipe.resolve(str(tmp_path / "a.png")), pipe.resolve(str(tmp_path / "b.png"))
    assert a.data == PNG and a.identity == b.identity  # same bytes, same image


# --- image_source: what the service is sent ------------------------------------------------


@pytest.mark.parametrize("mode", ["signed_url", "authorized", "inline"])
def test_each_image_source_sends_what_the_service_needs(obs_bucket, obs, emulator, mode):
    obs.put_bytes(obs_bucket, "in/a.png", PNG)
    allow_anonymous_read(obs_bucket)  # stands in for OCR's OBS authorization
    outcome = pipeline(image_source=mode).run(f"obs://{obs_bucket}/in/a.png")
    (call,) = emulator.calls(SLUG)
    assert call.status == 200 and outcome.status == "done"
    if mode == "inline":
        assert base64.b64decode(call.body["image"]) == PNG and "url" not in call.body
    else:
        assert "image" not in call.body and f"/{obs_bucket}/in/a.png" in call.body["url"]
        assert ("Signature=" in call.body["url"]) is (mode == "signed_url")


def test_authorized_fetch_errors_say_what_to_enable(obs_bucket, obs, emulator):
    obs.put_bytes(obs_bucket, "in/a.png", PNG)
    emulator.fail_next(SLUG, 400, "ModelArts.4603")
    with pytest.raises(HuaweiOcrError) as info:
        pipeline(image_source="authorized").run(f"obs://{obs_bucket}/in/a.png")
    assert "OBS Authorization" in (info.value.hint or "")


# --- store and skip -----------------------------------------------------------------------------


def test_a_result_is_stored_with_its_envelope_and_metadata(obs_bucket, obs, emulator):
    obs.put_bytes(obs_bucket, "in/a.png", PNG)
    pipe = pipeline(obs_bucket, parameters={"detect_direction": True}, export_text=True)
    outcome = pipe.run(f"obs://{obs_bucket}/in/a.png")
    key = outcome.result_uri.removeprefix(f"obs://{obs_bucket}/")
    assert outcome.status == "done" and outcome.attempts == 1 and outcome.request_id
    assert outcome.value == {"uri": outcome.result_uri, "summary": outcome.value["summary"]}
    doc = obs.get_json(obs_bucket, key)
    assert doc["format"] == ENVELOPE_FORMAT and doc["parameters"] == {"detect_direction": True}
    assert doc["request_id"] == outcome.request_id and doc["summary"] == outcome.value["summary"]
    info = obs.head(obs_bucket, key)
    assert outcome.result_etag == info.etag
    assert info.metadata[META_API] == SLUG
    assert info.metadata[META_PARAMS] == params_digest({"detect_direction": True}) == pipe.digest
    assert info.metadata[META_SOURCE] == f"obs://{obs_bucket}/in/a.png"
    assert info.metadata[META_SOURCE_ETAG] == obs.head(obs_bucket, "in/a.png").etag
    assert obs.list_keys(obs_bucket, "out/") == sorted([key, pipe.store.text_key(key)])


def test_the_same_image_with_the_same_parameters_is_skipped(obs_bucket, obs, emulator, counted):
    obs.put_bytes(obs_bucket, "in/a.png", PNG)
    first = pipeline(obs_bucket).run(f"obs://{obs_bucket}/in/a.png")
    counted.reset()
    again = pipeline(obs_bucket).run(f"obs://{obs_bucket}/in/a.png")
    assert again.status == "skipped" and again.value == first.value and emulator.count(SLUG) == 1
    assert counted.by_method() == {"HEAD": 2}  # the source, then the result


def test_other_parameters_or_a_replaced_source_are_recomputed(obs_bucket, obs, emulator):
    obs.put_bytes(obs_bucket, "in/a.png", PNG)
    uri = f"obs://{obs_bucket}/in/a.png"
    pipeline(obs_bucket).run(uri)
    assert pipeline(obs_bucket, parameters={"quick_mode": True}).run(uri).status == "done"
    assert pipeline(obs_bucket, parameters={"quick_mode": True}).run(uri).status == "skipped"
    obs.put_bytes(obs_bucket, "in/a.png", PNG + b"\0")  # a new ETag
    assert pipeline(obs_bucket, parameters={"quick_mode": True}).run(uri).status == "done"
    assert pipeline(obs_bucket, skip_existing=False).run(uri).status == "done"
    assert emulator.count(SLUG) == 4


# --- parameters: validated once per task ---------------------------------------------------------


def test_parameters_are_validated_once_for_a_batch_of_20(obs_bucket, obs, emulator, monkeypatch):
    import airflow_provider_hwocr.client.request as request_module
    import airflow_provider_hwocr.runtime.task as task_module

    calls: list[str] = []

    def counting(module, name):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls.append(module.__name__)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    op = batch_op(obs_bucket, parameters={"detect_direction": True, "quick_mode": "false"})
    bulk_put(obs_bucket, [f"day/{i:02d}.png" for i in range(20)], PNG)
    counting(task_module, "validate_params")
    counting(request_module, "validate_params")
    out = op.execute({"run_id": "r1"})
    assert out["totals"]["done"] == 20 and emulator.count(SLUG) == 20
    assert calls == ["airflow_provider_hwocr.runtime.task"]  # once, for the whole task
    bodies = [c.body for c in emulator.calls(SLUG)]
    assert all(b["detect_direction"] is True and b["quick_mode"] is False for b in bodies)  # normalised


# --- scrub: no signed URL in an error ------------------------------------------------------------


SIGNED = (
    "https://bkt.obs.example/in/a.png?AccessKeyId=AKEXAMPLE123&Expires=1893456000&Signature=c2VjcmV0LXNpZw%3D"
)


def test_scrub_replaces_the_url_and_its_query_values():
    exc = HuaweiOcrTransientError(f"fetching {SIGNED} failed", status_code=502)
    exc.error_msg = f"upstream said: bad key AKEXAMPLE123, signature c2VjcmV0LXNpZw= for {SIGNED}"
    exc.hint = f"the query was {SIGNED.split('?', 1)[1]}"
    scrub(exc, SIGNED)
    text = " ".join([str(exc), repr(exc.args), exc.error_msg, exc.hint])
    for secret in ("c2VjcmV0LXNpZw", "AKEXAMPLE123", "1893456000", "Signature="):
        assert secret not in text
    assert "https://bkt.obs.example/in/a.png?…" in str(exc) and exc.hint == "the query was …"


def test_scrub_removes_a_signature_echoed_percent_encoded():
    exc = HuaweiOcrTransientError("upstream refused Signature=c2VjcmV0LXNpZw%3D")
    scrub(exc, SIGNED)
    assert "c2VjcmV0LXNpZw" not in str(exc)


def test_scrub_without_a_url_changes_nothing():
    exc = RuntimeError(f"boom {SIGNED}")
    scrub(exc, None)
    assert exc.args == (f"boom {SIGNED}",)


@pytest.mark.parametrize("error", [HuaweiOcrTransientError, RuntimeError])
def test_send_scrubs_the_signed_url_from_what_it_raises(obs_bucket, obs, emulator, monkeypatch, error):
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

    obs.put_bytes(obs_bucket, "in/a.png", PNG)
    sent: list[str] = []

    def echoing_call(self, api, body, **kwargs):  # the one function stubbed: a service echoing the URL
        sent.append(body["url"])
        raise error(f"bad gateway while fetching {body['url']}")

    monkeypatch.setattr(HuaweiOcrHook, "call", echoing_call)
    with pytest.raises(error) as info:
        pipeline(obs_bucket).run(f"obs://{obs_bucket}/in/a.png")
    (url,) = sent
    signature = url.split("Signature=", 1)[1].split("&", 1)[0]
    text = str(info.value) + repr(info.value) + json.dumps(info.value.args)
    assert signature not in text and url not in text
    assert f"/{obs_bucket}/in/a.png?…" in str(info.value)  # the image is still named


# --- an API without image: invoice-verification --------------------------------------

INVOICES = [
    {
        "code": "011002100111",
        "number": f"1234567{i}",
        "issue_date": "2026-11-20",
        "subtotal_amount": "1000.00",
    }
    for i in range(5)
]


def test_an_invoice_is_verified_and_a_rerun_costs_zero_calls(obs_bucket, obs, emulator, capsys):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrInvoiceVerificationOperator

    def verify(task_id: str, **fields):
        return HuaweiOcrInvoiceVerificationOperator(
            task_id=task_id, output_uri=f"obs://{obs_bucket}/verified/", **fields
        ).execute({})

    first = verify("v1", **INVOICES[0])
    assert emulator.count("invoice-verification", 200) == 1
    # the task log names the invoice it verifies (Airflow's task logger writes to stdout here)
    (said,) = [line for line in capsys.readouterr().out.splitlines() if "OCR invoice-verification on" in line]
    assert "on None" not in said and f"number='{INVOICES[0]['number']}'" in said
    (call,) = emulator.calls("invoice-verification")
    assert call.body == INVOICES[0]
    stored = obs.get_json(obs_bucket, first["uri"].split("/", 3)[3])
    assert stored["source"] == {"kind": "fields", "fields": INVOICES[0]}
    assert {"result_code", "result_message"} <= set(stored["result"])
    # named by the invoice's identity: its code and number without leading zeros
    assert first["uri"].endswith(".invoice-verification.json") and "/11002100111-12345670-" in first["uri"]
    again = verify("v2", **INVOICES[0])  # a re-run of the verified invoice: found by its identity
    assert again["uri"] == first["uri"] and emulator.count("invoice-verification") == 1
    verify("v3", **{**INVOICES[0], "number": "12345679"})  # another invoice is another call
    assert emulator.count("invoice-verification") == 2


def test_the_pipeline_takes_an_invoice_as_its_source():
    from airflow_provider_hwocr.client.sources import ImageSource

    p = pipeline(api="invoice-verification", image=None)
    src = p.resolve(INVOICES[1])
    assert src.kind == "fields" and src.fields == INVOICES[1]
    assert p.check(src).body == INVOICES[1]
    with pytest.raises(HuaweiOcrValidationError, match="takes no image") as info:
        p.resolve("obs://bucket/scan.png")
    assert info.value.parameter == "image"
    own = pipeline(api="invoice-verification", image=None, parameters={"check_code": "123456"})
    assert own.check(ImageSource.of(INVOICES[1])).body == {**INVOICES[1], "check_code": "123456"}
    twice = pipeline(api="invoice-verification", image=None, parameters={"number": "99999999"})
    with pytest.raises(HuaweiOcrValidationError, match="given both") as info:
        twice.check(ImageSource.of(INVOICES[1]))
    assert info.value.parameter == "number"


def test_a_batch_takes_a_list_of_invoices_and_a_rerun_costs_zero_calls(obs_bucket, emulator, obs_conn):
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    bad = {"code": "011002100111", "number": "N0", "issue_date": "2026-11-20"}

    def run(task_id: str) -> dict:
        return HuaweiOcrBatchOperator(
            task_id=task_id,
            api="invoice-verification",
            images=[*INVOICES, INVOICES[0], bad],  # one duplicate, one malformed
            output_uri=f"obs://{obs_bucket}/verified/",
            qps=None,
            max_failures=1,
        ).execute({})

    first = run("b1")
    assert emulator.count("invoice-verification") == 5  # the duplicate once, the malformed none
    assert sorted(c.body["number"] for c in emulator.calls("invoice-verification")) == [
        i["number"] for i in INVOICES
    ]
    second = run("b2")
    assert emulator.count("invoice-verification") == 5, "the re-run made calls"
    assert first["totals"]["done"] == 5 and second["totals"]["skipped"] == 5
