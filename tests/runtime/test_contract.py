"""The contract between the operators and the runtime (``runtime/contract.py``): the settings an
operator builds once in ``execute()`` from what its templates rendered to (frozen, every run-time
check passed there), and what the runtime tells the operator when a run is done."""

from __future__ import annotations

import dataclasses

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.runtime.contract import BatchSettings, ObsPrefix, OcrTaskSettings, RunLocations
from tests.helpers.client_support import SLUG
from tests.helpers.d2_stages import PNG, batch_op
from tests.helpers.images import png
from tests.helpers.obs_env import bulk_put

SELECTION = {
    "format": "hwocr-selection/1",
    "query": {"targets": [["b-1", "day/*.png", "wildcard"]], "min_size": 0, "metadata_keys": ["key"]},
    "describe": "obs://b-1/day/*.png",
    "count": None,
}


def _task(**kwargs):
    from airflow_provider_hwocr.operators.base import HuaweiOcrOperator

    return HuaweiOcrOperator(**{"task_id": "t", "api": SLUG, "image": "x.png", **kwargs})


def test_an_ocr_task_settings_are_its_rendered_arguments_checked_and_frozen():
    op = _task(output_uri="obs://results-bkt/{{ ds }}", parameters={"quick_mode": "{{ params.q }}"})
    op.output_uri, op.parameters, op.max_calls = "obs://results-bkt/2026-11-30", {"quick_mode": "true"}, "3"
    settings = op._ocr_settings()
    assert isinstance(settings, OcrTaskSettings) and settings.api.slug == SLUG
    assert settings.output == ObsPrefix("obs://results-bkt/2026-11-30", "results-bkt", "2026-11-30")
    assert settings.max_calls == 3 and settings.skip_existing is True and settings.dry_run is False
    assert settings.params == {"quick_mode": "true"}  # validated against the API by the runtime, once
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_calls = 5  # type: ignore[misc]
    assert _task()._ocr_settings().output is None  # results to XCom


@pytest.mark.parametrize(
    ("rendered", "parameter"),
    [
        ({"output_uri": "s3://elsewhere/"}, "output_uri"),
        ({"parameters": "quick_mode=true"}, "parameters"),
        ({"max_calls": "many"}, "max_calls"),
    ],
)
def test_what_a_template_rendered_to_is_refused_when_the_settings_are_built(rendered, parameter):
    op = _task(output_uri="{{ var.value.out }}", parameters="{{ params.p }}", max_calls="{{ params.n }}")
    op.output_uri, op.parameters, op.max_calls = "obs://b-1/o/", {}, None
    for name, value in rendered.items():
        setattr(op, name, value)
    with pytest.raises(HuaweiOcrValidationError) as info:
        op._ocr_settings()
    assert info.value.parameter == parameter


def test_a_batch_settings_hold_its_selection_parsed_once():
    op = batch_op("b-1", shard_count=4, shard_index="{{ ti.map_index }}", qps=8, manifest_uri="{{ m }}")
    op.shard_index, op.manifest_uri = "2", "obs://b-1/latest.json"  # what the templates rendered to
    settings = op._settings()
    assert isinstance(settings, BatchSettings) and settings.ocr.output == ObsPrefix(
        "obs://b-1/ocr/", "b-1", "ocr/"
    )
    assert settings.source == ObsPrefix("obs://b-1/day/", "b-1", "day/") and settings.source.folder_uri == (
        "obs://b-1/day/"
    )
    assert (settings.shard_index, settings.shard_count, settings.shard_qps) == (2, 4, 2.0)
    assert settings.manifest == ObsPrefix("obs://b-1/latest.json", "b-1", "latest.json")
    assert settings.images is None and settings.selection is None
    assert settings.describe_selection() == "source_uri='obs://b-1/day/', pattern=None"

    one = batch_op("b-1", images="obs://b-1/a.png", source_uri=None)._settings()
    assert one.images == ("obs://b-1/a.png",) and one.source is None
    assert one.describe_selection() == "images=[] (an empty list)"
    sensed = batch_op("b-1", images=SELECTION, source_uri=None)._settings()
    assert sensed.selection is not None and sensed.selection.query.targets == (
        ("b-1", "day/*.png", "wildcard"),
    )
    assert sensed.describe_selection() == "the sensor's selection (obs://b-1/day/*.png)"


@pytest.mark.parametrize(
    ("rendered", "parameter"),
    [
        ({"shard_index": "4"}, "shard_index"),
        ({"source_uri": "obs://"}, "source_uri"),
        ({"manifest_uri": "obs://b-1/"}, "manifest_uri"),  # a manifest is an object, not a folder
        ({"output_uri": ""}, "output_uri"),
        ({"images": 12, "source_uri": None}, "images"),
    ],
)
def test_a_batch_refuses_what_its_templates_rendered_to_before_anything_runs(rendered, parameter):
    op = batch_op("b-1", shard_count=4, shard_index="{{ ti.map_index }}", output_uri="obs://{{ b }}/o/")
    op.shard_index, op.output_uri = "1", "obs://b-1/o/"
    for name, value in rendered.items():
        setattr(op, name, value)
    with pytest.raises(HuaweiOcrValidationError) as info:
        op._settings()
    assert info.value.parameter == parameter


def test_a_batch_parses_each_obs_uri_once_when_it_runs(obs_bucket, emulator, monkeypatch):
    from airflow_provider_hwocr.operators import arguments
    from airflow_provider_hwocr.runtime import store

    parsed: list[str] = []

    def counting(module):
        real = module.parse_obs_uri

        def parse(uri, **kwargs):
            parsed.append(f"{module.__name__.rsplit('.', 1)[-1]}: {kwargs.get('parameter')}")
            return real(uri, **kwargs)

        monkeypatch.setattr(module, "parse_obs_uri", parse)

    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(3)], PNG)
    op = batch_op(obs_bucket, manifest_uri=f"obs://{obs_bucket}/latest.json")
    counting(arguments)
    counting(store)
    out = op.execute({"run_id": "r1"})
    assert out["totals"]["done"] == 3 and emulator.count(SLUG) == 3
    assert sorted(parsed) == ["arguments: manifest_uri", "arguments: output_uri", "arguments: source_uri"]


def test_a_run_tells_the_operator_what_it_read_and_wrote(emulator, obs_conn, obs_bucket):
    from airflow_provider_hwocr.runtime import single

    told: list[RunLocations] = []
    op = _task(image=png(), output_uri=f"obs://{obs_bucket}/out/", emit_asset=True)
    settings = op._ocr_settings()
    single.run(settings, {}, op._collaborators(), after_run=told.append)
    (run,) = told
    assert run.api == SLUG and run.asset_uri == f"obs://{obs_bucket}/out/"
    assert len(run.sources) == 1 and run.results[0].startswith(f"obs://{obs_bucket}/out/")
    assert run.results_prefix is None and run.source_prefix is None  # one image: the link opens the result
    assert run.region == op.hook.settings.region  # the connection's, read once the hook called
