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


# --- results as tables ---------------------------------------------------------------------------

TABLE_DAY = "2026-11-30"


def _table_batch(obs, bucket, images: int, **kwargs):
    """A vat-invoice batch with ``table_uri`` over ``images`` sample invoices, and the lineage the
    operator records for the tables it wrote (what ``execute`` hands over after ``write_tables``)."""
    from airflow_provider_hwocr.catalog.tables import api_tables
    from airflow_provider_hwocr.emulator.samples import vat_invoice
    from airflow_provider_hwocr.integration.lineage import record_tables, table_outputs
    from tests.helpers.d2_stages import batch_op
    from tests.helpers.obs_env import bulk_put

    bulk_put(bucket, [f"day/{i}.png" for i in range(images)], vat_invoice().png)
    op = batch_op(bucket, api="vat-invoice", table_uri=f"obs://{bucket}/tables/", **kwargs)
    out = op.execute({"ti": _TI(), "run_id": "r", "ds": TABLE_DAY})
    outputs = table_outputs(out["tables"], api_tables("vat-invoice"), head=obs.head)
    record_tables(op, outputs)
    return op, out, outputs


def _schema(dataset) -> list[tuple[str, str]]:
    return [(f.name, f.type) for f in dataset.facets["schema"].fields]


def test_the_lineage_of_a_batch_with_tables_carries_each_tables_schema(obs, obs_bucket, emulator, tmp_path):
    """Each table is an output dataset named by its prefix, with the catalog's columns and types in a
    ``SchemaDatasetFacet`` (the same columns, in the same order, as the Parquet file written) and
    this run's rows in ``outputStatistics``."""
    import pyarrow.parquet as pq

    from airflow_provider_hwocr.catalog.tables import api_tables

    op, _, _ = _table_batch(obs, obs_bucket, 3)
    facets = op.get_openlineage_facets_on_complete(None)
    by_name = {d.name: d for d in facets.outputs}
    for table in api_tables("vat-invoice"):
        dataset = by_name[f"tables/{table.name}"]  # the table, every day of it: not one file
        assert dataset.namespace == f"obs://{obs_bucket}"
        assert _schema(dataset) == [(c.name, c.type) for c in table.columns]
        assert [f.ordinal_position for f in dataset.facets["schema"].fields] == list(
            range(1, len(table.columns) + 1)
        )
    header = by_name["tables/vat-invoice"]
    assert dict(_schema(header))["total"] == "decimal(18,2)" and dict(_schema(header))["issue_date"] == "date"
    assert header.outputFacets["outputStatistics"].rowCount == 3  # one row per invoice page
    assert header.outputFacets["outputStatistics"].fileCount == 1
    # the catalog's columns are the file's columns
    uri = f"obs://{obs_bucket}/tables/vat-invoice/dt={TABLE_DAY}/part-00000.parquet"
    path = tmp_path / "h.parquet"
    path.write_bytes(obs.get_bytes(obs_bucket, uri.split("/", 3)[3]))
    assert pq.read_schema(path).names == [name for name, _ in _schema(header)]
    items = by_name["tables/vat-invoice__item_list"].outputFacets["outputStatistics"].rowCount
    results = [k for k in obs.list_keys(obs_bucket, "ocr/") if k.endswith(".json")]
    assert len(results) == 3
    assert (
        items == sum(len(obs.get_json(obs_bucket, k)["result"].get("item_list") or []) for k in results) > 0
    )
    # the results and the manifest are still there, beside the tables
    assert any(n.startswith("ocr/") for n in by_name)


def test_an_empty_days_tables_have_their_full_schema_in_lineage(obs, obs_bucket, emulator):
    """Types come from the catalog, not the data: a day with no invoice has every column, and 0 rows."""
    from airflow_provider_hwocr.catalog.tables import api_tables

    op, _, _ = _table_batch(obs, obs_bucket, 0, allow_empty=True)
    facets = op.get_openlineage_facets_on_complete(None)
    by_name = {d.name: d for d in facets.outputs}
    for table in api_tables("vat-invoice"):
        dataset = by_name[f"tables/{table.name}"]
        assert _schema(dataset) == [(c.name, c.type) for c in table.columns]
        assert dataset.outputFacets["outputStatistics"].rowCount == 0


def test_the_openlineage_provider_sends_the_table_schema(obs, obs_bucket, emulator):
    """Through the provider's extractor and its event serialisation: the schema reaches the event."""
    from airflow.providers.openlineage.extractors.manager import ExtractorManager
    from openlineage.client.serde import Serde

    op, _, _ = _table_batch(obs, obs_bucket, 1)
    lineage = ExtractorManager().get_extractor_class(op)(op).extract_on_complete(None)
    (header,) = [d for d in lineage.outputs if d.name == "tables/vat-invoice"]
    sent = json.loads(Serde.to_json(header))
    fields = {f["name"]: f["type"] for f in sent["facets"]["schema"]["fields"]}
    assert fields["total"] == "decimal(18,2)" and fields["source"] == "string"
    assert sent["facets"]["schema"]["_schemaURL"].endswith(
        "SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
    )
    assert sent["outputFacets"]["outputStatistics"]["rowCount"] == 1


def test_table_outputs_read_names_partitions_and_row_counts():
    import pytest

    from airflow_provider_hwocr.integration.lineage import TableOutput, table_datasets, table_outputs

    class Col:
        def __init__(self, name, type_, doc=""):
            self.name, self.type, self.doc = name, type_, doc

    class Tab:
        name = "vat-invoice"
        columns = (Col("source", "string", "Where."), Col("total", "decimal(18,2)"))

    class Info:
        def __init__(self):
            self.metadata = {"hwocr-table-rows": "7"}

    heads = []

    def head(bucket, key):
        heads.append((bucket, key))
        if "item_list" in key:
            raise OSError("gone")
        return Info()

    uris = [
        "obs://b/t/vat-invoice/dt=2026-11-30/part-00000.parquet",
        "obs://b/t/vat-invoice__item_list/dt=2026-11-30/part-00000.parquet",
    ]
    header, items = table_outputs(uris, [Tab()], head=head)
    assert heads == [("b", uris[0].split("/", 3)[3]), ("b", uris[1].split("/", 3)[3])]
    assert (header.table, header.table_uri, header.partition, header.day, header.rows) == (
        "vat-invoice",
        "obs://b/t/vat-invoice",
        "dt=2026-11-30",
        "2026-11-30",
        7,
    )
    assert header.partition_uri == "obs://b/t/vat-invoice/dt=2026-11-30/"
    assert header.columns == (("source", "string", "Where."), ("total", "decimal(18,2)", ""))
    assert items.rows is None and items.columns == ()  # a count it cannot read; a table it does not know
    first, second = table_datasets([header, items])
    assert (first.name, second.name) == ("t/vat-invoice", "t/vat-invoice__item_list")
    assert (
        first.facets["schema"].fields[0].description == "Where."
        and first.facets["schema"].fields[1].description is None
    )
    assert second.facets == {} and second.outputFacets == {}  # nothing known: nothing claimed
    # two shards of one table: one dataset, rows added up
    (both,) = table_datasets([header, TableOutput(header.uri.replace("00000", "00001"), 5, header.columns)])
    assert (
        both.outputFacets["outputStatistics"].rowCount == 12
        and both.outputFacets["outputStatistics"].fileCount == 2
    )
    with pytest.raises(ValueError, match="not a table file"):
        TableOutput("obs://b/t/vat-invoice/part-00000.parquet")
