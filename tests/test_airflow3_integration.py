"""Issue 11: lineage, extra links, map index names, assets, obs:// filesystem, text export.

Against the emulator and the local object server (moto), with the real OBS SDK,
the real OpenLineage provider (the ``openlineage`` extra) and s3fs (the
``obs-fs`` extra); DAGs run for real with ``dag.test()``.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_hwocr.catalog import APIS
from airflow_provider_hwocr.catalog.text import TEXT_LAYOUTS
from airflow_provider_hwocr.emulator.examples import example_response
from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator, HuaweiOcrOperator
from airflow_provider_hwocr.runtime.store import text_key
from airflow_provider_hwocr.runtime.text_export import text_pages
from airflow_provider_hwocr.sensors.obs import HuaweiObsKeySensor
from tests.helpers.images import png
from tests.helpers.paths import REPO

#: Measured on 3.1.2: no ``airflow.sdk.lineage`` (hook lineage), ``map_index_template`` is not
#: rendered by ``dag.test()``, outlet asset events of ``dag.test()`` runs are not recorded, and
#: common-io's object-storage XCom backend builds ``obs://conn@/bucket`` paths. 3.3.2 passes;
#: 3.2 is not measured, so these run from 3.3 (README, "Airflow 3 integration").
needs_airflow_33 = pytest.mark.skipif(
    __import__("airflow_provider_hwocr._compat", fromlist=["AIRFLOW_VERSION"]).AIRFLOW_VERSION < (3, 3, 0),
    reason="measured not to work on Airflow 3.1.2; tested from 3.3",
)


def documented_result(slug):
    return example_response(slug)["result"]


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


class _TI:
    """Stands in for the task instance in a bare ``execute()`` call: keeps pushed XComs."""

    def __init__(self):
        self.pushed = {}

    def xcom_push(self, key, value):
        self.pushed[key] = value


def _put_image(obs, bucket, key, text="TOTAL 9.00"):
    obs.put_bytes(bucket, key, png((320, 140), text), content_type="image/png")
    return f"obs://{bucket}/{key}"


# --- 7. text export -------------------------------------------------------------------------


def test_every_api_has_a_text_layout():
    assert set(TEXT_LAYOUTS) == {api.slug for api in APIS}


@pytest.mark.parametrize("api", [api.slug for api in APIS])
def test_text_of_each_documented_example(api):
    result = documented_result(api)
    pages = text_pages(api, result, source="obs://b/k.png", request_id="rid")
    assert pages, api
    for page in pages:
        assert set(page) == {"text", "metadata"}
        meta = page["metadata"]
        assert meta["api"] == api and meta["source"] == "obs://b/k.png" and meta["request_id"] == "rid"
        assert meta["pages"] == len(pages)
    assert any(p["text"].strip() for p in pages), f"{api}: no text found in the documented example"


def test_text_blocks_fields_and_items_read_the_right_values():
    text = text_pages("general-text", documented_result("general-text"))
    blocks = documented_result("general-text")["words_block_list"]
    assert text[0]["text"] == "\n".join(b["words"] for b in blocks)
    confidences = [b["confidence"] for b in blocks]
    assert text[0]["metadata"]["confidence"] == round(sum(confidences) / len(confidences), 4)

    table = text_pages("general-table", documented_result("general-table"))[0]
    assert table["text"].splitlines() == [
        "Text block 1 recognized in the text area",
        "Text block 1 recognized in the table area",
        "Text block 2 recognized in the table area",
    ]

    passport = documented_result("passport")
    (page,) = text_pages("passport", passport)
    assert f"passport_number: {passport['passport_number']}" in page["text"].splitlines()
    assert "confidence" not in page["text"]
    scores = list(passport["confidence"].values())
    assert page["metadata"]["confidence"] == round(sum(scores) / len(scores), 4)

    docs = documented_result("auto-classification")
    pages = text_pages("auto-classification", docs)
    assert len(pages) == len(docs)
    assert pages[0]["metadata"]["document_type"] == docs[0]["type"]
    assert f"number: {docs[0]['content']['number']}" in pages[0]["text"]

    plates = text_pages("thailand-license-plate", [{"plate_number": "AB 12", "confidence": 0.5}])
    assert plates[0]["text"] == "plate_number: AB 12" and plates[0]["metadata"]["confidence"] == 0.5
    assert text_key("out/a-1.general-text.json") == "out/a-1.general-text.text.json"


def test_export_text_stores_pages_next_to_the_envelope(obs, obs_bucket, emulator):
    uri = _put_image(obs, obs_bucket, "in/receipt.png")
    op = HuaweiOcrGeneralTextOperator(
        task_id="t", image=uri, output_uri=f"obs://{obs_bucket}/out/", export_text=True
    )
    ref = op.execute({})
    key = ref["uri"].split("/", 3)[3]
    envelope = obs.get_json(obs_bucket, key)
    doc = obs.get_json(obs_bucket, text_key(key))
    assert doc["format"] == "hwocr-text/1"
    (page,) = doc["pages"]
    assert page["text"] == "\n".join(b["words"] for b in envelope["result"]["words_block_list"])
    assert page["metadata"]["source"] == uri
    assert page["metadata"]["api"] == "general-text"
    assert page["metadata"]["result_uri"] == ref["uri"]
    assert page["metadata"]["request_id"] == envelope["request_id"]
    assert isinstance(page["metadata"]["confidence"], float)


def test_without_export_text_no_text_object(obs, obs_bucket, emulator):
    uri = _put_image(obs, obs_bucket, "in/receipt.png")
    ref = HuaweiOcrGeneralTextOperator(task_id="t", image=uri, output_uri=f"obs://{obs_bucket}/out/").execute(
        {}
    )
    key = ref["uri"].split("/", 3)[3]
    assert not obs.exists(obs_bucket, text_key(key))


# --- 1. OpenLineage and hook lineage ---------------------------------------------------------


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


# --- 2./3. links and map index names, for a mapped task in dag.test() ---------------------------


def _load_example(dag_id: str):
    import importlib.util

    for path in (REPO / "example_dags").glob("*.py"):
        spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if getattr(module, "dag", None) is not None and module.dag.dag_id == dag_id:
            return module.dag
    raise LookupError(dag_id)


@pytest.fixture
def producer_run(airflow_db, obs, obs_bucket, emulator, monkeypatch, capsys):
    """``ocr_results_producer`` run with dag.test() over three images; yields (run, names, uris, output)."""
    monkeypatch.setenv("HWOCR_EXAMPLE_BUCKET", obs_bucket)
    names = ["invoice-a.png", "receipt_b.png", "scan c.png"]
    uris = [_put_image(obs, obs_bucket, f"inbox/{n}", n) for n in names]
    dag = _load_example("ocr_results_producer")
    run = dag.test(run_conf={"images": uris})
    out = capsys.readouterr()
    return run, names, uris, out.out + out.err


def _rows(run, **filters):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter_by(dag_id=run.dag_id, run_id=run.run_id, **filters).all()
        return {row.map_index: XComModel.deserialize_value(row) for row in rows}


@needs_airflow_33
def test_mapped_task_instances_are_named_by_file_and_link_to_their_objects(
    producer_run, obs_bucket, emulator
):
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    run, names, _, _ = producer_run
    assert run.state == "success"
    assert emulator.count("general-text") == 3
    # The DagRun that dag.test() returns: its mapped instances carry the image's file name
    # (rendered_map_index, what the UI, the REST API and `airflow tasks states-for-dag-run` show).
    with create_session() as session:
        tis = [ti for ti in run.get_task_instances(session=session) if ti.task_id == "ocr"]
        labels = {ti.map_index: ti.rendered_map_index for ti in tis}
        assert session.query(TaskInstance).filter_by(dag_id=run.dag_id, run_id=run.run_id).count() == 4
    assert labels == dict(enumerate(names))

    links = _rows(run, task_id="ocr", key="_link_HuaweiObsResultLink")
    sources = _rows(run, task_id="ocr", key="_link_HuaweiObsSourceLink")
    assert set(links) == set(sources) == {0, 1, 2}
    for link in [*links.values(), *sources.values()]:
        assert link.startswith("https://console-intl.huaweicloud.com/obs/?region=")
        assert f"/buckets/{obs_bucket}/objects" in link
    assert all(link.endswith("prefix=ocr-results%2F") for link in links.values())
    assert all(link.endswith("prefix=inbox%2F") for link in sources.values())


@needs_airflow_33
def test_results_asset_events_list_what_each_instance_wrote(producer_run, obs, obs_bucket):
    from airflow.models.asset import AssetEvent
    from airflow.sdk import Asset
    from airflow.utils.session import create_session

    from airflow_provider_hwocr.runtime.store import text_key

    run, _, _, _ = producer_run
    prefix = f"obs://{obs_bucket}/ocr-results/"
    with create_session() as session:
        events = session.query(AssetEvent).filter_by(source_dag_id=run.dag_id, source_run_id=run.run_id).all()
        assert {e.asset.uri for e in events} == {Asset(prefix).uri}
        extras = [dict(e.extra) for e in events]
    assert len(extras) == 3
    results = sorted(r for extra in extras for r in extra["results"])
    assert len(results) == 3 and all(r.startswith(prefix) for r in results)
    for result in results:
        key = result.split("/", 3)[3]
        assert obs.exists(obs_bucket, key) and obs.exists(obs_bucket, text_key(key))
    consumer = _load_example("ocr_results_consumer")
    assert [a.uri for a in consumer.timetable.asset_condition.objects] == [Asset(prefix).uri]


def test_emit_asset_needs_a_fixed_output_uri():
    from airflow.sdk import Asset

    from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

    op = HuaweiOcrGeneralTextOperator(task_id="o", image="a.png", output_uri="obs://bkt/r/", emit_asset=True)
    assert op.outlets == [Asset("obs://bkt/r/")]
    with pytest.raises(HuaweiOcrValidationError, match="emit_asset") as info:
        HuaweiOcrGeneralTextOperator(
            task_id="x", image="a.png", output_uri="obs://bkt/{{ ds }}/", emit_asset=True
        )
    assert info.value.parameter == "emit_asset"


def test_extra_links_are_class_attributes_and_in_provider_info():
    from airflow_provider_hwocr.get_provider_info import get_provider_info

    assert "operator_extra_links" in vars(HuaweiOcrOperator)
    assert not isinstance(vars(HuaweiOcrOperator)["operator_extra_links"], property)
    names = {link.name for link in HuaweiOcrOperator.operator_extra_links}
    assert names == {"OBS source", "OBS result"}
    info = get_provider_info()
    assert set(info["extra-links"]) == {
        "airflow_provider_hwocr.integration.links.HuaweiObsSourceLink",
        "airflow_provider_hwocr.integration.links.HuaweiObsResultLink",
    }
    from airflow_provider_hwocr.integration.links import console_url

    assert console_url("la-south-2", "b", "x/y/z.json") == (
        "https://console-intl.huaweicloud.com/obs/?region=la-south-2&locale=en-us"
        "#/obs/manager/buckets/b/objects?prefix=x%2Fy%2F"
    )


def test_map_index_label_never_shows_secrets_or_bytes():
    op = HuaweiOcrGeneralTextOperator(task_id="t", image="https://u:p@h/x/scan.png?Signature=s")
    assert op.map_index_label == "scan.png"
    assert HuaweiOcrGeneralTextOperator(task_id="u", image=b"12345").map_index_label == "<5 bytes>"
    other = HuaweiOcrGeneralTextOperator(task_id="w", image="ftp://user:secret@host/dir/x.png?token=t")
    assert other.map_index_label == "x.png"
    assert HuaweiOcrGeneralTextOperator(task_id="d", image="data:image/png;base64,AAAA").map_index_label == (
        "data URI"
    )
    assert (
        HuaweiOcrGeneralTextOperator(task_id="f", image="/tmp/in/scan 2.png").map_index_label == "scan 2.png"
    )
    assert op.map_index_template == "{{ task.map_index_label }}"
    custom = HuaweiOcrGeneralTextOperator(task_id="v", image="a.png", map_index_template="{{ 1 }}")
    assert custom.map_index_template == "{{ 1 }}"


# --- 6. obs:// filesystem ------------------------------------------------------------------------


def test_object_storage_path_reads_a_result_written_by_an_operator(obs, obs_bucket, emulator, monkeypatch):
    from airflow.sdk import ObjectStoragePath

    conn = json.loads(__import__("os").environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"])
    monkeypatch.setenv("AIRFLOW_CONN_OCR_RESULTS", json.dumps(conn))
    uri = _put_image(obs, obs_bucket, "in/a.png")
    ref = HuaweiOcrGeneralTextOperator(task_id="t", image=uri, output_uri=f"obs://{obs_bucket}/out/").execute(
        {}
    )
    key = ref["uri"].split("/", 3)[3]
    path = ObjectStoragePath(f"obs://ocr_results@{obs_bucket}/{key}")
    envelope = json.loads(path.read_text())
    assert envelope["format"] == "hwocr-result/1" and envelope["source"]["uri"] == uri
    listed = [p.name for p in ObjectStoragePath(f"obs://ocr_results@{obs_bucket}/out/").iterdir()]
    assert listed == [key.rsplit("/", 1)[-1]]
    target = ObjectStoragePath(f"obs://ocr_results@{obs_bucket}/notes/n.txt")
    target.write_text("written through ObjectStoragePath")
    assert obs.get_bytes(obs_bucket, "notes/n.txt") == b"written through ObjectStoragePath"


def test_obs_fs_options_verify_tls_by_default_and_follow_the_connection():
    from airflow_provider_hwocr.fs.obs import storage_options_for
    from airflow_provider_hwocr.hooks.connection import settings_from_connection

    class Conn:
        conn_id = "c"
        login = "AK_EXAMPLE_1"
        password = "SK_EXAMPLE_1"
        extra = "{}"

        def __init__(self, extra):
            import json

            self.extra_dejson = extra
            self.extra = json.dumps(extra)  # what the hooks read

    default = storage_options_for(
        settings_from_connection(Conn({"region": "ap-southeast-1"}), service="obs"),
        "https://obs.ap-southeast-1.myhuaweicloud.com",
    )
    assert default["client_kwargs"] == {"region_name": "ap-southeast-1", "verify": True}
    assert default["config_kwargs"]["signature_version"] == "s3v4"
    assert default["config_kwargs"]["s3"] == {"addressing_style": "virtual"}
    test_server = storage_options_for(
        settings_from_connection(
            Conn(
                {"region": "ap-southeast-1", "verify": False, "obs_path_style": True, "obs_signature": "v2"}
            ),
            service="obs",
        ),
        "http://127.0.0.1:1",
    )
    assert test_server["client_kwargs"]["verify"] is False
    assert test_server["config_kwargs"]["signature_version"] == "s3"
    assert test_server["config_kwargs"]["s3"] == {"addressing_style": "path"}


@needs_airflow_33
def test_common_io_xcom_backend_stores_in_obs(obs, obs_bucket, monkeypatch):
    from airflow.providers.common.io.xcom import backend as xcom_backend

    conn = json.loads(__import__("os").environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"])
    monkeypatch.setenv("AIRFLOW_CONN_XCOM_OBS", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH", f"obs://xcom_obs@{obs_bucket}/xcom")
    monkeypatch.setenv("AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_THRESHOLD", "10")
    caches = (xcom_backend._get_base_path, xcom_backend._get_threshold, xcom_backend._get_compression)
    for cached in caches:
        cached.cache_clear()
    try:
        value = {"text": "x" * 500}
        stored = xcom_backend.XComObjectStorageBackend.serialize_value(
            value, key="k", dag_id="d", task_id="t", run_id="r", map_index=-1
        )
        reference = stored if isinstance(stored, str) and stored.startswith("obs://") else json.loads(stored)
        assert reference.startswith(f"obs://xcom_obs@{obs_bucket}/xcom/d/r/t/")
        (key,) = obs.list_keys(obs_bucket, "xcom/")
        assert json.loads(obs.get_bytes(obs_bucket, key)) == value
        result = type("Row", (), {"value": stored})()
        assert xcom_backend.XComObjectStorageBackend.deserialize_value(result) == value
    finally:
        for cached in caches:
            cached.cache_clear()


# --- parse time ------------------------------------------------------------------------------------

PARSE_PROBE = """
import json, sys
import airflow.sdk
before = set(sys.modules)
import airflow_provider_hwocr.operators.ocr, airflow_provider_hwocr.operators.batch
import airflow_provider_hwocr.sensors.obs, airflow_provider_hwocr.triggers.obs_event
import airflow_provider_hwocr.fs.obs, airflow_provider_hwocr.get_provider_info
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_new_integrations_import_nothing_heavy_at_parse_time():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", PARSE_PROBE], check=True, capture_output=True, text=True)
    new = json.loads(out.stdout.strip().splitlines()[-1])
    assert "airflow_provider_hwocr.integration.mixin" in new  # the probe really imported it
    heavy = [
        m
        for m in new
        if m.split(".")[0] in ("obs", "s3fs", "botocore", "aiobotocore", "openlineage", "requests")
        or m.startswith("airflow.providers.openlineage")
    ]
    assert heavy == []
