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
    # a day's results and that day's manifest: two datasets of that day, not the parent of all days
    day = [f"obs://b/ocr/2026-11-30/{i}.json" for i in range(200)]
    manifest = "obs://b/ocr/2026-11-30_hwocr/general-text/manifest.json"
    assert dataset_refs([*day, manifest], limit=100) == [
        ("obs://b", "ocr/2026-11-30/"),
        ("obs://b", "ocr/2026-11-30_hwocr/general-text/manifest.json"),
    ]
    # objects in sub-folders of the run's own prefix collapse into that prefix
    nested = [f"obs://b/scans/2026-11-30/{i % 7}/{i}.png" for i in range(300)]
    assert dataset_refs(nested, limit=100, prefixes=["obs://b/scans/2026-11-30/"]) == [
        ("obs://b", "scans/2026-11-30/")
    ]
    # more folders than the cap: the common prefix of the folders, still bounded
    spread = [f"obs://b/x/{i}/a.png" for i in range(300)] + [f"obs://b/x/{i}/b.png" for i in range(300)]
    assert dataset_refs(spread, limit=100) == [("obs://b", "x/")]


def test_a_batch_names_its_own_days_prefix_in_lineage_and_links(obs, obs_bucket, emulator, monkeypatch):
    """Regression: the batch's outputs and "OBS result" link named the whole ocr/ tree, because its
    results and its manifest (``ocr/{day}_hwocr/``) only share ``ocr/``. Past the cap (lowered
    here to 2 from 100), the outputs collapse into the day's prefix; the link opens it."""
    from airflow_provider_hwocr.integration import lineage

    monkeypatch.setattr(lineage, "MAX_DATASETS", 2)
    for i in range(4):
        _put_image(obs, obs_bucket, f"scans/2026-11-30/{i}.png", f"PAGE {i}")
    _put_image(obs, obs_bucket, "scans/2026-11-29/old.png")  # another day: not this run's
    batch = HuaweiOcrBatchOperator(
        task_id="b",
        api="general-text",
        source_uri=f"obs://{obs_bucket}/scans/2026-11-30/",  # what "obs://…/scans/{{ ds }}/" renders to
        output_uri=f"obs://{obs_bucket}/ocr/2026-11-30",  # no trailing slash: the store adds one
        qps=None,
    )
    ti = _TI()
    out = batch.execute({"ti": ti, "run_id": "r"})
    facets = batch.get_openlineage_facets_on_complete(None)
    manifest = out["manifest_uri"].split("/", 3)[3]
    assert [(d.namespace, d.name) for d in facets.outputs] == [
        (f"obs://{obs_bucket}", "ocr/2026-11-30/"),
        (f"obs://{obs_bucket}", manifest),
    ]
    assert [(d.namespace, d.name) for d in facets.inputs] == [(f"obs://{obs_bucket}", "scans/2026-11-30/")]
    targets = batch.hwocr_link_targets  # what the "OBS result" and "OBS source" links show
    assert targets.result == f"obs://{obs_bucket}/ocr/2026-11-30/"
    assert targets.source == f"obs://{obs_bucket}/scans/2026-11-30/"


@needs_airflow_33
def test_hook_lineage_of_a_large_batch_stays_under_airflows_cap(obs, obs_bucket, monkeypatch, caplog):
    """One asset per folder, not per object: 250 writes in one folder and reads from 30 folders
    stay far below ``[lineage] max_assets_per_collector`` (100), so Airflow never logs
    "Maximum number of asset outputs exceeded" (every batch log carried it before)."""
    import logging

    import airflow.sdk.lineage as sdk_lineage
    from airflow.sdk.lineage import MAX_COLLECTED_ASSETS, HookLineageCollector

    from airflow_provider_hwocr.integration.lineage import MAX_HOOK_FOLDERS

    collector = HookLineageCollector()
    monkeypatch.setattr(sdk_lineage, "get_hook_lineage_collector", lambda: collector)
    caplog.set_level(logging.DEBUG)
    for i in range(250):
        obs.put_json(obs_bucket, f"ocr/2026-11-30/{i}.json", {"i": i})
    for i in range(30):
        obs.put_json(obs_bucket, f"in/{i}/a.json", {"i": i})
        obs.get_bytes(obs_bucket, f"in/{i}/a.json")
    lineage = collector.collected_assets
    outputs = sorted(o.asset.uri for o in lineage.outputs)
    assert len(outputs) == MAX_HOOK_FOLDERS + 1 < MAX_COLLECTED_ASSETS
    assert outputs[0].startswith(f"obs://{obs_bucket}")
    assert any(uri.rstrip("/").endswith("ocr/2026-11-30") for uri in outputs)
    assert sum(o.count for o in lineage.outputs) == len(outputs)  # each reported once, not per write
    assert len(lineage.inputs) == MAX_HOOK_FOLDERS + 1
    assert "Maximum number of asset" not in caplog.text


@needs_airflow_33
def test_hook_lineage_records_obs_reads_and_writes(obs, obs_bucket, monkeypatch):
    import airflow.sdk.lineage as sdk_lineage
    from airflow.sdk import Asset
    from airflow.sdk.lineage import HookLineageCollector

    from airflow_provider_hwocr.integration.lineage import convert_asset_to_openlineage

    collector = HookLineageCollector()
    monkeypatch.setattr(sdk_lineage, "get_hook_lineage_collector", lambda: collector)
    obs.put_json(obs_bucket, "a/out.json", {"x": 1})
    obs.get_bytes(obs_bucket, "a/out.json")
    lineage = collector.collected_assets
    folder = Asset(f"obs://{obs_bucket}/a/").uri  # the object's folder (Airflow normalises the URI)
    assert [i.asset.uri for i in lineage.inputs] == [folder]
    assert [o.asset.uri for o in lineage.outputs] == [folder]
    assert lineage.inputs[0].context is obs
    dataset = convert_asset_to_openlineage(lineage.inputs[0].asset, None)
    assert dataset.namespace == f"obs://{obs_bucket}" and dataset.name.rstrip("/") == "a"
