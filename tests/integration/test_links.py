"""Extra links (``integration/links.py``): declared on the operator class and in provider info; where a
link goes follows the connection (the console of the region's site for Huawei's public OBS, the
server's own URL of the object for an ``obs_endpoint``); a link with nothing recorded is ``""``
without any XCom lookup (which Airflow logs as an error)."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_hwocr.integration.links import (
    Addressing,
    HuaweiObsResultLink,
    HuaweiObsSourceLink,
    LinkTargets,
    addressing_of,
    console_url,
    server_url,
)
from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator, HuaweiOcrOperator
from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.images import png

MAINLAND = "https://console.huaweicloud.com/obs/?region=cn-north-4#/obs/manager/buckets/b-1/objects"
INTL = "https://console-intl.huaweicloud.com/obs/?region=ap-southeast-1&locale=en-us#/obs/manager/buckets/b-1/objects"


def test_extra_links_are_class_attributes_and_in_provider_info():
    from airflow_provider_hwocr.get_provider_info import get_provider_info

    assert "operator_extra_links" in vars(HuaweiOcrOperator)
    assert not isinstance(vars(HuaweiOcrOperator)["operator_extra_links"], property)
    names = {link.name for link in HuaweiOcrOperator.operator_extra_links}
    assert names == {"OBS source", "OBS result"}
    assert set(get_provider_info()["extra-links"]) == {
        "airflow_provider_hwocr.integration.links.HuaweiObsSourceLink",
        "airflow_provider_hwocr.integration.links.HuaweiObsResultLink",
        "airflow_provider_hwocr.integration.links.HuaweiObsTableLink",
    }
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    assert {link.name for link in HuaweiOcrBatchOperator.operator_extra_links} == {
        "OBS source",
        "OBS result",
        "OBS table",
    }


# --- the public OBS: the console of the region's site ---------------------------------------------


def test_a_mainland_region_opens_the_mainland_console_and_the_others_the_international_one():
    assert console_url("cn-north-4", "b-1") == MAINLAND
    assert console_url("cn-east-3", "b-1").startswith(
        "https://console.huaweicloud.com/obs/?region=cn-east-3#"
    )
    assert console_url("ap-southeast-1", "b-1") == INTL
    assert console_url("la-south-2", "b-1").startswith(
        "https://console-intl.huaweicloud.com/obs/?region=la-south-2&locale=en-us#"
    )


def test_the_console_opens_at_the_object_itself_or_at_the_folder():
    # one object: the bucket's list narrowed to that object (the console has no per-object page)
    assert console_url("cn-north-4", "b-1", "out/2026/a.json") == MAINLAND + "?prefix=out%2F2026%2Fa.json"
    assert console_url("ap-southeast-1", "b-1", "top.json") == INTL + "?prefix=top.json"
    # a folder (a batch's prefix): that folder
    assert console_url("ap-southeast-1", "b-1", "in box/") == INTL + "?prefix=in%20box%2F"


# --- an obs_endpoint: the server's own URL -----------------------------------------------------------


def test_a_server_url_is_the_object_path_style_or_virtual_host():
    assert server_url("http://127.0.0.1:9000", "b-1", "out/a b.json", path_style=True) == (
        "http://127.0.0.1:9000/b-1/out/a%20b.json"
    )
    assert (
        server_url("https://minio.example.net", "b-1", "out/a.json")
        == "https://b-1.minio.example.net/out/a.json"
    )
    # a folder: the server's listing of it
    assert server_url("http://127.0.0.1:9000", "b-1", "ocr/2026-11-30/", path_style=True) == (
        "http://127.0.0.1:9000/b-1/?prefix=ocr%2F2026-11-30%2F"
    )
    assert server_url("http://10.0.0.5:9000", "b-1", "") == "http://b-1.10.0.0.5:9000/"
    assert server_url("not a url", "b-1", "a.json") == "" and server_url("ftp://h", "b-1", "a") == ""


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:9000", "http://localhost:9000", "http://192.168.1.20:9000", "https://s3.example.com"],
)
def test_an_obs_endpoint_never_gets_the_public_console(endpoint):
    for region in ("ap-southeast-1", "cn-north-4", ""):
        url = Addressing(region=region, endpoint=endpoint, path_style=True).url("obs://b-1/out/a.json")
        assert url == f"{endpoint}/b-1/out/a.json"
        assert "console" not in url


def test_the_addressing_of_a_location():
    public = Addressing(region="cn-north-4")
    assert public.url("obs://b-1/out/a.json") == MAINLAND + "?prefix=out%2Fa.json"
    assert Addressing(region="").url("obs://b-1/out/a.json") == ""  # no region: no console to open
    assert public.url("https://host/a.png") == public.url("/tmp/a.png") == public.url("obs://") == ""


# --- what a task records, and the link built from it ----------------------------------------------------


class _Settings:
    def __init__(self, region="cn-north-4", obs_endpoint=None, obs_path_style=False):
        self.region, self.obs_endpoint, self.obs_path_style = region, obs_endpoint, obs_path_style


class _Hook:
    def __init__(self, **settings):
        self.settings = _Settings(**settings)


class _Task:
    """Just what a link reads of its task: the recorded targets and the OBS hook factory."""

    def __init__(self, targets=None, **settings):
        self.hwocr_link_targets = targets
        self.built = 0
        self._settings = settings

    def obs_hook(self):
        self.built += 1
        return _Hook(**self._settings)


@pytest.fixture
def no_xcom_lookup(monkeypatch):
    """Any XCom read by a link fails the test."""
    from airflow.sdk.execution_time.xcom import XCom

    def refuse(*args, **kwargs):
        raise AssertionError("a link looked XCom up")

    monkeypatch.setattr(XCom, "get_value", refuse)
    monkeypatch.setattr(XCom, "get_one", refuse)


def test_a_link_shows_what_its_task_recorded(no_xcom_lookup):
    targets = LinkTargets(region="cn-north-4", source="obs://b-1/in/a.png", result="obs://b-1/out/a.json")
    task = _Task(targets)
    assert HuaweiObsSourceLink().get_link(task, ti_key="k") == MAINLAND + "?prefix=in%2Fa.png"
    assert HuaweiObsResultLink().get_link(task, ti_key="k") == MAINLAND + "?prefix=out%2Fa.json"
    local = _Task(targets, obs_endpoint="http://127.0.0.1:9000", obs_path_style=True)
    assert HuaweiObsResultLink().get_link(local, ti_key="k") == "http://127.0.0.1:9000/b-1/out/a.json"
    # the task's region wins over the connection's; the connection's when the task has none
    intl = _Task(LinkTargets(region="ap-southeast-1", source=None, result="obs://b-1/out/a.json"))
    assert HuaweiObsResultLink().get_link(intl, ti_key="k") == INTL + "?prefix=out%2Fa.json"
    unknown = _Task(LinkTargets(region=None, source=None, result="obs://b-1/a.json"), region="cn-east-3")
    assert "region=cn-east-3#" in HuaweiObsResultLink().get_link(unknown, ti_key="k")


def test_a_link_with_nothing_recorded_is_empty_without_a_lookup(no_xcom_lookup):
    """A local file as the image, a result in XCom, a task that defers before its images are done."""
    nothing = _Task(None)
    assert HuaweiObsSourceLink().get_link(nothing, ti_key="k") == ""
    assert HuaweiObsResultLink().get_link(nothing, ti_key="k") == ""
    assert nothing.built == 0  # not even the connection is read
    local_file = _Task(LinkTargets(region="cn-north-4", source=None, result=None))
    assert HuaweiObsSourceLink().get_link(local_file, ti_key="k") == ""
    assert HuaweiObsResultLink().get_link(local_file, ti_key="k") == ""
    assert local_file.built == 0
    assert HuaweiObsResultLink().get_link(None, ti_key="k") == ""  # not an OCR task at all


def test_a_connection_that_cannot_be_read_gives_no_link_and_no_error(no_xcom_lookup, caplog):
    class Broken(_Task):
        def obs_hook(self):
            raise RuntimeError("connection gone")

    task = Broken(LinkTargets(region="cn-north-4", source=None, result="obs://b-1/a.json"))
    with caplog.at_level(logging.WARNING):
        assert HuaweiObsResultLink().get_link(task, ti_key="k") == ""
    assert caplog.records == []


def test_the_addressing_is_the_connections(monkeypatch, emulator):
    """Read through the operator's own OBS hook: what the task used."""
    op = HuaweiOcrGeneralTextOperator(task_id="t", image="obs://b-1/in/a.png")
    local = {"obs_endpoint": "http://127.0.0.1:9000", "obs_path_style": True, "region": "cn-north-4"}
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra=local))
    assert addressing_of(op, None) == Addressing("cn-north-4", "http://127.0.0.1:9000", True)
    hook = op.obs_hook()
    url = Addressing("cn-north-4", "http://127.0.0.1:9000", True).url("obs://b-1/in/a b.png")
    assert url == hook.object_url("b-1", "in/a b.png")  # the hook's own URL of the object
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra={"region": "ap-southeast-1"}))
    assert addressing_of(op, None) == Addressing("ap-southeast-1")
    assert addressing_of(op, "cn-east-3") == Addressing("cn-east-3")
    virtual = {"obs_endpoint": "https://s3.example.com", "obs_path_style": False}
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra=virtual))
    url = addressing_of(op, None).url("obs://b-1/in/a.png")
    assert url == op.obs_hook().object_url("b-1", "in/a.png") == "https://b-1.s3.example.com/in/a.png"


# --- a real run: no "XCom not found" ------------------------------------------------------------------------


def _xcoms(run, task_id):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id=task_id).all()
        return {row.key: XComModel.deserialize_value(row) for row in rows}


def test_a_run_with_a_local_file_logs_no_missing_xcom_and_has_no_links(
    airflow_db, emulator, ocr_conn, tmp_path, caplog, capfd
):
    """Before, each finished task looked up ``hwocr_obs_source`` and ``hwocr_obs_result``, which a
    local image never has, and Airflow logged "XCom not found" (an error) for each."""
    from tests.helpers.c_integration import load_example

    image = tmp_path / "receipt.png"
    image.write_bytes(png((400, 200), "TOTAL 42.00"))
    caplog.set_level(logging.INFO)
    run = load_example("hwocr_general_text").test(run_conf={"image": str(image)})
    assert run.state == "success"
    logged = caplog.text + "".join(capfd.readouterr())
    assert "XCom not found" not in logged and "hwocr_obs_" not in logged
    xcoms = _xcoms(run, "recognize")
    assert xcoms["_link_HuaweiObsSourceLink"] == xcoms["_link_HuaweiObsResultLink"] == ""
    assert not any(key.startswith("hwocr_obs_") for key in xcoms)


def test_a_run_on_a_local_object_server_links_to_its_objects(airflow_db, emulator, obs_conn, obs_bucket):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from tests.helpers.c_integration import load_example, put_image

    obs = HuaweiObsHook()
    uri = put_image(obs, obs_bucket, "inbox/passport.png")
    run = load_example("ocr_classify_and_route").test(run_conf={"bucket": obs_bucket, "image": uri})
    assert run.state == "success"
    endpoint = json.loads(__import__("os").environ[CONN_ENV])["extra"]["obs_endpoint"]
    classify = _xcoms(run, "classify")  # its result went to XCom: a source link only
    assert classify["_link_HuaweiObsSourceLink"] == f"{endpoint}/{obs_bucket}/inbox/passport.png"
    assert classify["_link_HuaweiObsResultLink"] == ""
    (stored,) = obs.list_keys(obs_bucket, "routed/")
    branch = next(t for t in ("passport", "invoice_fields", "general_text") if _xcoms(run, t))
    assert _xcoms(run, branch)["_link_HuaweiObsResultLink"] == obs.object_url(obs_bucket, stored)


def test_a_task_that_defers_before_its_images_are_done_has_no_link_and_no_lookup(no_xcom_lookup):
    """Airflow asks the links each time a task instance stops, a deferral too (a batch waiting for
    another run's lease): the task has recorded nothing yet, so there is no link and no lookup."""
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    batch = HuaweiOcrBatchOperator(
        task_id="b", api="general-text", source_uri="obs://b-1/scans/", output_uri="obs://b-1/ocr/"
    )
    assert batch.hwocr_link_targets is None
    for link in batch.operator_extra_links:
        assert link.get_link(batch, ti_key="k") == ""


# --- the day's table partition ------------------------------------------------------------------------


def _table_outputs():
    from airflow_provider_hwocr.integration.lineage import TableOutput

    return [
        TableOutput("obs://b-1/tables/vat-invoice__item_list/dt=2026-11-30/part-00000.parquet", 4),
        TableOutput("obs://b-1/tables/vat-invoice/dt=2026-11-30/part-00000.parquet", 2),
    ]


def test_the_table_link_opens_the_days_partition_of_the_header_table(no_xcom_lookup):
    from airflow_provider_hwocr.integration.links import HuaweiObsTableLink, with_table_partition

    before = LinkTargets(region="cn-north-4", source="obs://b-1/day/", result="obs://b-1/ocr/")
    targets = with_table_partition(before, _table_outputs())
    assert targets == LinkTargets(
        "cn-north-4", "obs://b-1/day/", "obs://b-1/ocr/", "obs://b-1/tables/vat-invoice/dt=2026-11-30/"
    )
    link = HuaweiObsTableLink()
    assert link.name == "OBS table"
    assert (
        link.get_link(_Task(targets), ti_key="k")
        == MAINLAND + "?prefix=tables%2Fvat-invoice%2Fdt%3D2026-11-30%2F"
    )
    local = _Task(targets, obs_endpoint="http://127.0.0.1:9000", obs_path_style=True)
    assert (
        link.get_link(local, ti_key="k")
        == "http://127.0.0.1:9000/b-1/?prefix=tables%2Fvat-invoice%2Fdt%3D2026-11-30%2F"
    )
    # no table written (no table_uri, a dry run): no link, and the other targets untouched
    assert with_table_partition(before, []) == before
    assert link.get_link(_Task(before), ti_key="k") == ""
    assert (
        with_table_partition(None, _table_outputs()[:1]).table
        == "obs://b-1/tables/vat-invoice__item_list/dt=2026-11-30/"
    )


_TABLE_LINK_DAG = """
import pendulum
from airflow.sdk import DAG

from airflow_provider_hwocr.integration.lineage import table_outputs
from airflow_provider_hwocr.integration.links import HuaweiObsTableLink, with_table_partition
from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator


class TablesBatch(HuaweiOcrBatchOperator):
    operator_extra_links = (*HuaweiOcrBatchOperator.operator_extra_links, HuaweiObsTableLink())

    def execute(self, context, **kwargs):
        out = super().execute(context, **kwargs)
        self.hwocr_link_targets = with_table_partition(self.hwocr_link_targets, table_outputs(out["tables"], []))
        return out


with DAG("hwocr_table_link", schedule=None, start_date=pendulum.datetime(2026, 11, 1, tz="UTC")) as dag:
    TablesBatch(
        task_id="ocr",
        api="vat-invoice",
        source_uri="obs://{bucket}/day/",
        output_uri="obs://{bucket}/ocr/",
        table_uri="obs://{bucket}/tables/",
        qps=None,
    )
"""


def test_a_batch_run_with_tables_links_to_its_partition_on_the_object_server(
    airflow_db, emulator, obs_conn, obs_bucket, tmp_path, monkeypatch
):
    """With dag.test() and the local object server: Airflow asks the link in the task's process and
    keeps its URL, the server's listing of the day's partition, which lists the table's file."""
    import importlib.util
    import urllib.request

    import airflow.settings
    import pendulum

    from airflow_provider_hwocr.emulator.samples import vat_invoice
    from tests.helpers.obs_env import bulk_put

    bulk_put(obs_bucket, ["day/a.png"], vat_invoice().png)
    path = tmp_path / "hwocr_table_link.py"
    path.write_text(_TABLE_LINK_DAG.replace("{bucket}", obs_bucket))
    monkeypatch.setattr(airflow.settings, "DAGS_FOLDER", str(tmp_path))
    spec = importlib.util.spec_from_file_location("hwocr_table_link", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = module.dag.test(logical_date=pendulum.datetime(2026, 11, 30, tz="UTC"))
    assert run.state == "success"
    endpoint = json.loads(__import__("os").environ[CONN_ENV])["extra"]["obs_endpoint"]
    url = _xcoms(run, "ocr")["_link_HuaweiObsTableLink"]
    assert url == f"{endpoint}/{obs_bucket}/?prefix=tables%2Fvat-invoice%2Fdt%3D2026-11-30%2F"
    with urllib.request.urlopen(url, timeout=10) as response:  # the listing: the partition's file
        listing = response.read().decode()
    assert "<Key>tables/vat-invoice/dt=2026-11-30/part-00000.parquet</Key>" in listing
    assert "vat-invoice__item_list" not in listing
