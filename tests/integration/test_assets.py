"""The results prefix as an Asset (``integration/assets.py``): the example producer DAG's asset events
list what each instance wrote, the consumer waits on that asset, and ``emit_asset`` needs a fixed prefix."""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.integration.assets import MAX_EVENT_RESULTS, annotate_asset_event, result_asset
from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
from tests.helpers.c_integration import load_example as _load_example
from tests.helpers.c_integration import needs_airflow_33


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


def test_the_asset_event_carries_the_first_results_and_their_count():
    from airflow.sdk import Asset
    from airflow.sdk.execution_time.context import OutletEventAccessors

    assert result_asset(" obs://b-1/r/ ") == Asset(uri="obs://b-1/r/", name="obs://b-1/r/")
    events = OutletEventAccessors()
    results = [f"obs://b-1/r/{i}.json" for i in range(MAX_EVENT_RESULTS + 20)]
    annotate_asset_event({"outlet_events": events}, "obs://b-1/r/", results, "general-text")
    assert events[Asset(uri="obs://b-1/r/", name="obs://b-1/r/")].extra == {
        "results": results[:MAX_EVENT_RESULTS],
        "result_count": MAX_EVENT_RESULTS + 20,
        "api": "general-text",
    }
    annotate_asset_event({}, "obs://b-1/r/", results, "general-text")  # no outlet events: nothing to do


@needs_airflow_33
def test_a_mapped_task_that_emits_the_asset_is_its_producer(producer_run):
    """The scheduler's record of who produces the asset (the UI's "Producing Tasks") names the
    mapped OCR task; before, only instances built at run time had the outlet, so it named none."""
    from airflow.models.asset import AssetModel, TaskOutletAssetReference
    from airflow.utils.session import create_session

    run, _, _, _ = producer_run
    with create_session() as session:
        refs = (
            session.query(TaskOutletAssetReference, AssetModel)
            .join(AssetModel, AssetModel.id == TaskOutletAssetReference.asset_id)
            .filter(TaskOutletAssetReference.dag_id == run.dag_id)
            .all()
        )
        producers = {(ref.task_id, asset.name) for ref, asset in refs}
    assert producers == {("ocr", run.conf["images"][0].split("/inbox/")[0] + "/ocr-results/")}


def test_partial_declares_the_outlet_once_for_the_mapped_task_and_its_instances():
    from airflow.sdk import DAG, Asset

    prefix = "obs://bkt/res/"
    other = Asset("obs://bkt/elsewhere/")
    with DAG("emit_asset_mapped", schedule=None) as dag:
        HuaweiOcrGeneralTextOperator.partial(
            task_id="ocr", output_uri=prefix, emit_asset=True, outlets=[other]
        ).expand(image=["obs://bkt/in/a.png", "obs://bkt/in/b.png"])
        HuaweiOcrGeneralTextOperator.partial(task_id="plain", output_uri=prefix).expand(image=["x.png"])
    mapped = dag.get_task("ocr")
    assert mapped.outlets == [other, result_asset(prefix)]
    assert dag.get_task("plain").outlets == []
    # what each instance is built from at run time: the partial kwargs, outlets included
    instance = HuaweiOcrGeneralTextOperator(
        task_id="i", image="obs://bkt/in/a.png", output_uri=prefix, emit_asset=True, outlets=mapped.outlets
    )
    assert instance.outlets == [other, result_asset(prefix)]


def test_partial_reads_emit_asset_strictly():
    from airflow.sdk import DAG

    from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

    prefix = "obs://bkt/res/"
    with DAG("emit_asset_mapped_words", schedule=None) as dag:
        HuaweiOcrGeneralTextOperator.partial(task_id="yes", output_uri=prefix, emit_asset="yes").expand(
            image=["a.png"]
        )
        HuaweiOcrGeneralTextOperator.partial(task_id="no", output_uri=prefix, emit_asset="no").expand(
            image=["a.png"]
        )
        with pytest.raises(HuaweiOcrValidationError, match="emit_asset") as caught:
            HuaweiOcrGeneralTextOperator.partial(task_id="maybe", output_uri=prefix, emit_asset="maybe")
    assert caught.value.parameter == "emit_asset"
    assert dag.get_task("yes").outlets == [result_asset(prefix)]
    assert dag.get_task("no").outlets == []


def test_with_result_outlet_adds_a_fixed_prefix_only():
    from airflow_provider_hwocr.integration.assets import with_result_outlet

    assert with_result_outlet(None, "obs://b/r/") == [result_asset("obs://b/r/")]
    assert with_result_outlet([result_asset("obs://b/r/")], "obs://b/r/") == [result_asset("obs://b/r/")]
    assert with_result_outlet(None, "obs://b/{{ ds }}/") == []  # refused by the operator, with its name
    assert with_result_outlet(None, None) == []


# --- results as tables ---------------------------------------------------------------------------


def _outputs(rows=(3, 5)):
    from airflow_provider_hwocr.integration.lineage import TableOutput

    return [
        TableOutput("obs://b/tables/vat-invoice/dt=2026-11-30/part-00000.parquet", rows[0]),
        TableOutput("obs://b/tables/vat-invoice__item_list/dt=2026-11-30/part-00000.parquet", rows[1]),
    ]


def test_a_tables_asset_is_its_prefix_declared_only_for_a_fixed_table_uri():
    from airflow.sdk import Asset

    from airflow_provider_hwocr.integration.assets import table_asset, with_table_outlets

    tables = ["vat-invoice", "vat-invoice__item_list"]
    assert table_asset(" obs://b/tables/vat-invoice/ ") == Asset(
        uri="obs://b/tables/vat-invoice", name="obs://b/tables/vat-invoice"
    )
    other = Asset("obs://b/elsewhere/")
    declared = with_table_outlets([other], "obs://b/tables/", tables)
    assert declared == [
        other,
        Asset("obs://b/tables/vat-invoice"),
        Asset("obs://b/tables/vat-invoice__item_list"),
    ]
    assert with_table_outlets(declared, "obs://b/tables", tables) == declared  # once each
    assert with_table_outlets(None, "obs://b/{{ ds }}/", tables) == []  # known at run time only
    assert with_table_outlets(other, None, tables) == [other]


def test_each_tables_event_tells_its_partition_and_row_count():
    from airflow.sdk.execution_time.context import OutletEventAccessors

    from airflow_provider_hwocr.integration.assets import annotate_table_events, table_asset

    events = OutletEventAccessors()
    annotate_table_events({"outlet_events": events}, _outputs(), "vat-invoice")
    assert events[table_asset("obs://b/tables/vat-invoice")].extra == {
        "table": "vat-invoice",
        "partition": "dt=2026-11-30",
        "day": "2026-11-30",
        "rows": 3,
        "files": ["obs://b/tables/vat-invoice/dt=2026-11-30/part-00000.parquet"],
        "api": "vat-invoice",
    }
    assert events[table_asset("obs://b/tables/vat-invoice__item_list")].extra["rows"] == 5
    unknown = OutletEventAccessors()
    annotate_table_events({"outlet_events": unknown}, _outputs((None, 0)))
    assert unknown[table_asset("obs://b/tables/vat-invoice")].extra["rows"] is None  # not a guess
    assert "api" not in unknown[table_asset("obs://b/tables/vat-invoice")].extra
    annotate_table_events({}, _outputs())  # no outlet events: nothing to do


_TABLES_DAG = """
import pendulum
from airflow.sdk import DAG

from airflow_provider_hwocr.catalog.tables import api_tables
from airflow_provider_hwocr.integration.assets import annotate_table_events, with_table_outlets
from airflow_provider_hwocr.integration.lineage import table_outputs
from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

BUCKET = {bucket!r}
TABLE_URI = f"obs://{{BUCKET}}/tables/"


class TablesBatch(HuaweiOcrBatchOperator):
    def execute(self, context, **kwargs):
        out = super().execute(context, **kwargs)
        outputs = table_outputs(out["tables"], api_tables(self.api), head=self.obs_hook().head)
        annotate_table_events(context, outputs, self.api)
        return out


with DAG("hwocr_tables_assets", schedule=None, start_date=pendulum.datetime(2026, 11, 1, tz="UTC")) as dag:
    TablesBatch(
        task_id="ocr",
        api="vat-invoice",
        source_uri=f"obs://{{BUCKET}}/day/",
        output_uri=f"obs://{{BUCKET}}/ocr/",
        table_uri=TABLE_URI,
        qps=None,
        outlets=with_table_outlets(None, TABLE_URI, [t.name for t in api_tables("vat-invoice")]),
    )
"""


@needs_airflow_33
def test_a_batch_with_tables_emits_one_event_per_table(
    airflow_db, obs, obs_bucket, emulator, tmp_path, monkeypatch
):
    """With dag.test(): the batch declares each table of its API as an outlet and, once written,
    annotates their events (what the operator runs after ``write_tables``); one event per table,
    whose extra tells the partition and its rows."""
    import importlib.util

    import airflow.settings
    import pendulum
    from airflow.models.asset import AssetEvent
    from airflow.sdk import Asset
    from airflow.utils.session import create_session

    from airflow_provider_hwocr.catalog.tables import api_tables
    from airflow_provider_hwocr.emulator.samples import vat_invoice
    from tests.helpers.obs_env import bulk_put

    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(2)], vat_invoice().png)
    path = tmp_path / "hwocr_tables_assets.py"
    path.write_text(_TABLES_DAG.format(bucket=obs_bucket))
    monkeypatch.setattr(airflow.settings, "DAGS_FOLDER", str(tmp_path))
    spec = importlib.util.spec_from_file_location("hwocr_tables_assets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = module.dag.test(logical_date=pendulum.datetime(2026, 11, 30, tz="UTC"))
    assert run.state == "success"

    table_uri = f"obs://{obs_bucket}/tables/"
    names = [t.name for t in api_tables("vat-invoice")]
    with create_session() as session:
        events = session.query(AssetEvent).filter_by(source_dag_id=run.dag_id, source_run_id=run.run_id).all()
        extras = {e.asset.uri: dict(e.extra) for e in events}
    assert set(extras) == {Asset(f"{table_uri}{n}").uri for n in names}
    header = extras[Asset(f"{table_uri}vat-invoice").uri]
    assert header["partition"] == "dt=2026-11-30" and header["rows"] == 2 and header["api"] == "vat-invoice"
    assert header["files"] == [f"{table_uri}vat-invoice/dt=2026-11-30/part-00000.parquet"]
    assert all(isinstance(e["rows"], int) and e["partition"] == "dt=2026-11-30" for e in extras.values())
