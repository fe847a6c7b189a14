"""Lineage (``integration/lineage.py``): OpenLineage datasets of the OCR, batch and sensor tasks, as
the OpenLineage provider reads them, capped lists, and hook-level lineage of OBS reads and writes."""

from __future__ import annotations

import json

from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
from airflow_provider_hwocr.sensors.obs import HuaweiObsKeySensor
from tests.helpers.c_integration import needs_airflow_33
from tests.helpers.c_integration import put_image as _put_image
from tests.helpers.c_obs_keys import RecordingTI as _TI
from tests.helpers.images import png


def test_openlineage_facets_name_the_source_and_result_objects(obs, obs_bucket, emulator):
    from openlineage.client.event_v2 import Dataset

    uri = _put_image(obs, obs_bucket, "in/scan 1.png")
    op = HuaweiOcrGeneralTextOperator(task_id="t", image=uri, output_uri=f"obs://{obs_bucket}/out/")
    ref = op.execute({"ti": _TI()})
    facets = op.get_openlineage_facets_on_complete(None)
    assert facets.inputs == [Dataset(namespace=f"obs://{obs_bucket}", name="in/scan 1.png")]
    assert facets.outputs == [Dataset(namespace=f"obs://{obs_bucket}", name=ref["uri"].split("/", 3)[3])]


def test_the_openlineage_provider_picks_the_facets_up(obs, obs_bucket, emulator):
    """The provider's own extractor machinery (what its listener calls) finds and converts them."""
    from airflow.providers.openlineage.extractors.base import DefaultExtractor
    from airflow.providers.openlineage.extractors.manager import ExtractorManager

    uri = _put_image(obs, obs_bucket, "in/b.png")
    op = HuaweiOcrGeneralTextOperator(task_id="t", image=uri, output_uri=f"obs://{obs_bucket}/out/")
    ref = op.execute({"ti": _TI()})
    extractor_class = ExtractorManager().get_extractor_class(op)
    assert extractor_class is DefaultExtractor
    lineage = extractor_class(op).extract_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [(f"obs://{obs_bucket}", "in/b.png")]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [
        (f"obs://{obs_bucket}", ref["uri"].split("/", 3)[3])
    ]


def test_openlineage_for_a_url_drops_credentials_and_query(emulator, ocr_conn, image_server):
    base, directory = image_server
    (directory / "a.png").write_bytes(png())
    url = base.replace("http://", "http://user:pw@") + "/a.png?X-Signature=abc"
    op = HuaweiOcrGeneralTextOperator(task_id="t", image=url)
    facets = op.get_openlineage_facets_on_complete(None)  # not run: from the argument
    (dataset,) = facets.inputs
    assert dataset.namespace == base and dataset.name == "a.png"
    assert "pw" not in json.dumps([dataset.namespace, dataset.name]) and facets.outputs == []


def test_openlineage_for_the_batch_and_the_sensor(obs, obs_bucket, emulator):
    keys = [f"drop/{i}.png" for i in range(3)]
    for key in keys:
        _put_image(obs, obs_bucket, key, key)
    batch = HuaweiOcrBatchOperator(
        task_id="b",
        api="general-text",
        source_uri=f"obs://{obs_bucket}/drop/",
        output_uri=f"obs://{obs_bucket}/res/",
        qps=None,
    )
    before = batch.get_openlineage_facets_on_complete(None)  # from the arguments: the prefixes
    assert [(d.namespace, d.name) for d in before.inputs] == [(f"obs://{obs_bucket}", "drop/")]
    assert [(d.namespace, d.name) for d in before.outputs] == [(f"obs://{obs_bucket}", "res/")]
    out = batch.execute({"ti": _TI(), "run_id": "r"})
    after = batch.get_openlineage_facets_on_complete(None)
    assert sorted(d.name for d in after.inputs) == keys
    manifest = out["manifest_uri"].split("/", 3)[3]
    names = sorted(d.name for d in after.outputs)
    assert manifest in names and len(names) == 4
    assert all(n.startswith("res/") for n in names if n != manifest)
    assert manifest.startswith("res_hwocr/")  # kept next to the results prefix, outside it

    sensor = HuaweiObsKeySensor(task_id="s", bucket=obs_bucket, key="drop/*.png")
    ti = _TI()
    sensor.execute({"ti": ti})
    facets = sensor.get_openlineage_facets_on_complete(None)
    assert sorted(d.name for d in facets.inputs) == keys
    assert {d.namespace for d in facets.inputs} == {f"obs://{obs_bucket}"}


def test_lineage_lists_collapse_to_prefixes_past_the_cap():
    from airflow_provider_hwocr.integration.lineage import dataset_refs

    refs = dataset_refs([f"obs://b/day/1/{i}.png" for i in range(500)] + ["obs://c/x.png"], limit=100)
    assert refs == [("obs://b", "day/1/"), ("obs://c", "x.png")]


@needs_airflow_33
def test_hook_lineage_records_obs_reads_and_writes(obs, obs_bucket, monkeypatch):
    import airflow.sdk.lineage as sdk_lineage
    from airflow.sdk.lineage import HookLineageCollector

    from airflow_provider_hwocr.integration.lineage import convert_asset_to_openlineage

    collector = HookLineageCollector()
    monkeypatch.setattr(sdk_lineage, "get_hook_lineage_collector", lambda: collector)
    obs.put_json(obs_bucket, "a/out.json", {"x": 1})
    obs.get_bytes(obs_bucket, "a/out.json")
    lineage = collector.collected_assets
    assert [i.asset.uri for i in lineage.inputs] == [f"obs://{obs_bucket}/a/out.json"]
    assert [o.asset.uri for o in lineage.outputs] == [f"obs://{obs_bucket}/a/out.json"]
    assert lineage.inputs[0].context is obs
    dataset = convert_asset_to_openlineage(lineage.inputs[0].asset, None)
    assert (dataset.namespace, dataset.name) == (f"obs://{obs_bucket}", "a/out.json")
