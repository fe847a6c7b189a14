"""``HuaweiOcrOperator`` end to end against the emulator: input kinds, templates, overrides, the
hook, parse-time checks, and OBS in and out (a real local object server driven by esdk-obs-python)."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from airflow_provider_hwocr.catalog import LIVE_APIS
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError
from airflow_provider_hwocr.operators import ocr
from airflow_provider_hwocr.operators.ocr import (
    HuaweiOcrGeneralTextOperator,
    HuaweiOcrSmartDocumentRecognizerOperator,
    HuaweiOcrXComSizeError,
)
from tests.helpers.batch_env import PNG
from tests.helpers.d1_operators import build
from tests.helpers.images import png

ODD_KEY = "in coming/收据 näme 1.png"


@pytest.mark.parametrize("slug", ["general-text", "smart-document-recognizer"])
@pytest.mark.parametrize("kind", ["url", "path", "bytes"])
def test_every_input_kind(slug, kind, emulator, ocr_conn, image_server):
    base_url, directory = image_server
    data = png((300, 100), text=f"{slug} {kind}")
    (directory / "scan one.png").write_bytes(data)
    image = {
        "url": f"{base_url}/scan one.png",
        "path": str(directory / "scan one.png"),
        "bytes": data,
    }[kind]
    op = ocr.HuaweiOcrOperator(task_id="t", api=slug, image=image)
    op.execute({})
    (call,) = emulator.calls(slug)
    assert call.status == 200
    field = "data" if slug == "smart-document-recognizer" else "image"
    if kind == "url":
        # sent as `url`, with the space percent-encoded as the service requires
        assert call.body == {"url": f"{base_url}/scan%20one.png"}
    else:
        assert set(call.body) == {field}
        assert base64.b64decode(call.body[field]) == data


def test_enterprise_project_header(emulator, ocr_conn):
    op = ocr.HuaweiOcrGeneralTextOperator(task_id="t", image=png(), enterprise_project_id="eps-123")
    op.execute({})
    assert emulator.calls()[0].headers["enterprise-project-id"] == "eps-123"


def test_id_document_is_deprecated():
    from airflow.exceptions import AirflowProviderDeprecationWarning

    # Removed by the vendor (2025-11-04): no generated class any more, the generic operator warns.
    assert not hasattr(ocr, "HuaweiOcrIdDocumentOperator")
    with pytest.warns(AirflowProviderDeprecationWarning, match="2025-11-04"):
        ocr.HuaweiOcrOperator(task_id="t2", api="id-document", image="https://x.example/a.png")


def test_init_does_no_io(monkeypatch):
    # Constructing operators must not look up connections or touch the network.
    import socket

    from airflow.sdk import BaseHook

    def boom(*a, **k):
        raise AssertionError("I/O in __init__")

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(boom))
    monkeypatch.setattr(socket.socket, "connect", boom)
    for api in LIVE_APIS:
        build(api, image="/does/not/exist.png")


def test_the_ocr_hook_is_one_cached_property_built_when_the_task_runs(emulator, ocr_conn):
    # No connection of this id exists: constructing the operator looks nothing up.
    missing = ocr.HuaweiOcrOperator(
        task_id="m", api="general-text", image=png(), huaweicloud_ocr_conn_id="hwocr_no_such_connection"
    )
    assert "hook" not in vars(missing)  # not built in __init__

    op = ocr.HuaweiOcrGeneralTextOperator(task_id="t", image=png(), region="ap-southeast-3", project_id="p1")
    other = ocr.HuaweiOcrGeneralTextOperator(task_id="u", image=png())
    assert "hook" not in vars(op)
    hook = op.hook
    assert hook is op.hook  # built once, then cached
    assert (hook.huaweicloud_ocr_conn_id, hook.region, hook.project_id) == (ocr_conn, "ap-southeast-3", "p1")
    assert hook is not other.hook  # one hook per task instance

    other.execute({})  # the task runs on its own cached hook
    assert other.hook.requests_sent == 1 and hook.requests_sent == 0
    other.execute({})
    assert other.hook.requests_sent == 2


def test_a_run_with_a_budget_gets_a_hook_built_with_it(emulator, ocr_conn):
    """``max_calls``: the run's hook is built with the budget (nothing is set on a hook afterwards),
    and it is the task's ``hook`` from then on."""
    op = ocr.HuaweiOcrGeneralTextOperator(task_id="t", image=png(), max_calls=2)
    plain = op.hook  # read before the run: no budget
    assert plain.budget is None
    op.execute({})
    assert op.hook is not plain and op.hook.budget.limit == 2 and op.hook.budget.used == 1
    assert op.hook.requests_sent == 1 and plain.requests_sent == 0


def test_template_fields():
    for name in ("image", "parameters", "huaweicloud_ocr_conn_id", "region", "project_id"):
        assert name in ocr.HuaweiOcrOperator.template_fields
    assert ocr.HuaweiOcrOperator.template_fields_renderers["parameters"] == "json"


def test_templated_image_and_parameters_render(emulator, ocr_conn, image_server):
    base_url, directory = image_server
    (directory / "2026-01-02.png").write_bytes(png())
    op = ocr.HuaweiOcrGeneralTextOperator(
        task_id="t", image=base_url + "/{{ ds }}.png", language="{{ params.lang }}"
    )
    op.render_template_fields({"ds": "2026-01-02", "params": {"lang": "auto"}})
    op.execute({})
    body = emulator.calls()[0].body
    assert body == {"url": f"{base_url}/2026-01-02.png", "language": "auto"}


def test_region_and_project_overrides(emulator, ocr_conn):
    from airflow_provider_hwocr.client.errors import HuaweiOcrAuthError

    op = ocr.HuaweiOcrGeneralTextOperator(task_id="t", image=png(), project_id="someotherproject")
    with pytest.raises(HuaweiOcrAuthError, match="ModelArts.4203"):
        op.execute({})
    # the override reached the wire: the path carries the other project id
    assert emulator.calls()[0].path == "/v2/someotherproject/ocr/general-text"


# --- OBS in and out ------------------------------------------------------------------


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


# --- money: dry run and call budget -----------------------------------------------------


def test_single_image_operator_dry_run_decides_without_calling(obs, obs_bucket, emulator):
    obs.put_bytes(obs_bucket, "one.png", PNG)
    common = {"task_id": "t", "image": f"obs://{obs_bucket}/one.png", "output_uri": f"obs://{obs_bucket}/r/"}
    plan = HuaweiOcrGeneralTextOperator(**common, dry_run=True, price_per_call=2).execute({})
    assert (plan["would_call"], plan["skipped"], plan["estimated_cost"]) == (1, 0, 2.0)
    assert emulator.count() == 0 and obs.list_keys(obs_bucket, "r/") == []
    HuaweiOcrGeneralTextOperator(**common).execute({})
    again = HuaweiOcrGeneralTextOperator(**common, dry_run=True).execute({})
    assert again["skipped"] == 1 and again["would_call"] == 0
    bad = HuaweiOcrGeneralTextOperator(task_id="b", image=f"obs://{obs_bucket}/missing.png", dry_run=True)
    assert "does not exist" in bad.execute({})["rejections"][0]["reason"]
    with pytest.raises(HuaweiCloudBudgetExceededError, match="max_calls"):
        HuaweiOcrGeneralTextOperator(task_id="z", image=f"obs://{obs_bucket}/one.png", max_calls=0).execute(
            {}
        )
    assert emulator.count() == 1


@pytest.mark.parametrize("value", [0, -1, "48k", 1.5, True])
def test_max_xcom_bytes_must_be_positive_whole_bytes(value):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

    with pytest.raises(HuaweiOcrValidationError) as info:
        HuaweiOcrGeneralTextOperator(task_id="t", image="x.png", max_xcom_bytes=value)
    assert info.value.parameter == "max_xcom_bytes" and "max_xcom_bytes" in str(info.value)


# --- bad inputs fail before any call, naming the argument ------------------------------


def _refused_at_parse_time(parameter, **kwargs):
    with pytest.raises(HuaweiOcrValidationError, match=f"^{parameter}: ") as info:
        ocr.HuaweiOcrOperator(task_id="t", api="general-text", **kwargs)
    assert info.value.parameter == parameter
    return info.value


def _rendered_and_run(op, params):
    """Render the operator's templates as Airflow does for a run with ``params``, then execute it."""
    context = {"params": params}
    op.render_template_fields(context)
    return op.execute(context)


@pytest.mark.parametrize(
    "name", ["emit_asset", "export_text", "dry_run", "skip_existing", "retry_possibly_billed"]
)
def test_on_off_arguments_that_are_neither_are_refused(name, emulator):
    error = _refused_at_parse_time(name, image=png(), output_uri="obs://b/out/", **{name: "maybe"})
    assert "'maybe'" in str(error)
    assert emulator.count() == 0


def test_no_means_off_for_emit_asset_and_export_text(emulator, obs_conn, obs_bucket):
    """Regression: ``emit_asset="no"`` and ``export_text="no"`` were taken as true."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    op = ocr.HuaweiOcrOperator(
        task_id="t", api="general-text", image=png(), output_uri=f"obs://{obs_bucket}/out/",
        emit_asset="no", export_text="no",
    )  # fmt: skip
    assert (op.emit_asset, op.export_text, op.outlets) == (False, False, [])
    op.execute({})
    keys = HuaweiObsHook().list_keys(obs_bucket, "out/")
    assert len(keys) == 1 and not any(k.endswith(".text.json") for k in keys)  # no text export
    yes = ocr.HuaweiOcrOperator(
        task_id="u", api="general-text", image=png(), output_uri=f"obs://{obs_bucket}/out/", emit_asset="yes"
    )
    assert yes.emit_asset is True and len(yes.outlets) == 1


def test_export_text_without_an_output_uri_is_an_error(emulator, ocr_conn):
    """Regression: it used to be ignored silently."""
    error = _refused_at_parse_time("export_text", image=png(), export_text=True)
    assert "output_uri" in str(error)
    templated = ocr.HuaweiOcrOperator(
        task_id="t", api="general-text", image=png(), export_text=True, output_uri="{{ params.out }}"
    )  # known only when rendered
    with pytest.raises(HuaweiOcrValidationError, match="^export_text: ") as info:
        _rendered_and_run(templated, {"out": ""})
    assert info.value.parameter == "export_text"
    assert emulator.count() == 0


@pytest.mark.parametrize("bad", [[("detect_direction", True)], "detect_direction=true", 0, ""])
def test_parameters_that_are_not_a_dict_are_refused_at_parse_time(bad, emulator):
    """Regression: ``parameters=`` that was not a dict was sent (and billed)."""
    _refused_at_parse_time("parameters", image=png(), parameters=bad)
    assert emulator.count() == 0


def test_templated_parameters_must_render_to_a_dict(emulator, ocr_conn):
    op = ocr.HuaweiOcrOperator(task_id="t", api="general-text", image=png(), parameters="{{ params.opts }}")
    with pytest.raises(HuaweiOcrValidationError, match="^parameters: ") as info:
        _rendered_and_run(op, {"opts": '{"detect_direction": true}'})  # rendered as text
    assert info.value.parameter == "parameters" and "render_template_as_native_obj" in str(info.value)
    assert emulator.count() == 0
    fine = ocr.HuaweiOcrOperator(
        task_id="u", api="general-text", image=png(), parameters={"detect_direction": "{{ params.d }}"}
    )
    _rendered_and_run(fine, {"d": "true"})  # a dict whose values are templates: fine
    assert emulator.calls()[0].body["detect_direction"] is True


def test_a_batch_selection_with_a_bad_query_is_refused_before_any_listing(emulator):
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    bad = {"format": "hwocr-selection/1", "query": {"targets": [["scans", "day/(", "regex"]]}}
    with pytest.raises(HuaweiOcrValidationError, match="^images: the selection's query is not valid") as info:
        HuaweiOcrBatchOperator(task_id="b", api="general-text", images=bad, output_uri="obs://scans/out/")
    assert info.value.parameter == "images" and "regular expression" in str(info.value)
    assert emulator.count() == 0


@pytest.mark.parametrize("raw", ["maybe", "yes please", "2"])
def test_an_unreadable_dry_run_option_stops_single_and_batch_tasks_before_any_call(
    raw, emulator, obs_conn, obs_bucket, monkeypatch
):
    """Regression: ``[huaweicloud_ocr] dry_run = maybe`` turned the dry run off (3 of 3 images billed)."""
    from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    monkeypatch.delenv("HWOCR_DRY_RUN", raising=False)
    monkeypatch.setenv("AIRFLOW__HUAWEICLOUD_OCR__DRY_RUN", raw)
    for i in range(3):
        HuaweiObsHook().put_bytes(obs_bucket, f"day/{i}.png", PNG)
    with pytest.raises(HuaweiOcrConfigurationError, match=r"^\[huaweicloud_ocr\] dry_run: ") as info:
        HuaweiOcrGeneralTextOperator(task_id="t", image=png()).execute({})
    assert info.value.field == "[huaweicloud_ocr] dry_run"
    batch = HuaweiOcrBatchOperator(
        task_id="b",
        api="general-text",
        source_uri=f"obs://{obs_bucket}/day/",
        output_uri=f"obs://{obs_bucket}/out/",
    )
    with pytest.raises(HuaweiOcrConfigurationError, match=r"dry_run"):
        batch.execute({"run_id": "r1"})
    assert emulator.count() == 0
    assert HuaweiObsHook().list_keys(obs_bucket, "out/") == []


@pytest.mark.parametrize("raw", ["yes", "on", "YES"])
def test_yes_and_on_in_the_dry_run_option_mean_a_dry_run(raw, emulator, ocr_conn, monkeypatch):
    """Regression: Airflow's own reading of ``yes``/``on`` failed and the dry run was off (billed)."""
    monkeypatch.delenv("HWOCR_DRY_RUN", raising=False)
    monkeypatch.setenv("AIRFLOW__HUAWEICLOUD_OCR__DRY_RUN", raw)
    HuaweiOcrGeneralTextOperator(task_id="t", image=png()).execute({})
    assert emulator.count() == 0
