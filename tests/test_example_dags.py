"""Example DAGs import cleanly and run for real with dag.test() against the emulator."""

from __future__ import annotations

import os

import pytest

from tests.helpers.airflow_env import rearm_short_secret_warning
from tests.helpers.images import png
from tests.helpers.paths import REPO

EXAMPLES = REPO / "example_dags"


@pytest.fixture(scope="module")
def dagbag():
    try:  # Airflow 3.2+
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=str(EXAMPLES))


def test_example_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {
        "hwocr_general_text",
        "hwocr_id_documents",
        "ocr_new_uploads",
        "ocr_daily_backfill",
        "ocr_classify_and_route",
    } <= set(dagbag.dag_ids)
    for dag_file in EXAMPLES.glob("*.py"):
        assert any(d.fileloc == str(dag_file) for d in dagbag.dags.values()), dag_file


#: Another helper's example (it calls no OCR): retries there are its own choice.
_NO_OCR = {"ocr_results_consumer"}


def test_every_ocr_task_of_the_examples_retries_with_the_providers_policy(dagbag):
    """Regression: after a lost worker the sharded example failed the run (no retries)."""
    from airflow_provider_hwocr.retry_policy import HWOCR_RETRY_POLICY

    checked = 0
    for dag in dagbag.dags.values():
        if dag.dag_id in _NO_OCR:
            continue
        for task in dag.tasks:
            assert task.retries >= 1, (dag.dag_id, task.task_id)
            if HWOCR_RETRY_POLICY is not None and type(task).__module__.startswith("airflow_provider_hwocr"):
                assert task.retry_policy is HWOCR_RETRY_POLICY, (dag.dag_id, task.task_id)
            checked += 1
    assert checked >= 15


def _load(dag_id: str):
    import importlib.util

    for path in EXAMPLES.glob("*.py"):
        spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        dag = getattr(module, "dag", None)
        if dag is not None and dag.dag_id == dag_id:
            return dag
    raise LookupError(dag_id)


def _all_dag_ids() -> set[str]:
    import importlib.util

    ids = set()
    for path in EXAMPLES.glob("*.py"):
        spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        ids.add(module.dag.dag_id)
    return ids


def _xcom(dag_run, task_id: str, map_index: int = -1):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(
                dag_id=dag_run.dag_id,
                run_id=dag_run.run_id,
                task_id=task_id,
                map_index=map_index,
                key="return_value",
            )
            .one()
        )
        return XComModel.deserialize_value(row)


def test_general_text_dag_runs_against_the_emulator(airflow_db, emulator, ocr_conn, tmp_path):
    image = tmp_path / "receipt.png"
    image.write_bytes(png((400, 200), "TOTAL 42.00"))
    dag = _load("hwocr_general_text")

    dag_run = dag.test(run_conf={"image": str(image)})

    assert dag_run.state == "success"
    (call,) = emulator.calls("general-text")
    assert call.status == 200
    assert call.body["detect_direction"] is True and call.body["return_markdown_result"] is True
    summary = _xcom(dag_run, "summarize")
    documented = emulator_result = _xcom(dag_run, "recognize")
    assert summary["blocks"] == documented["words_block_count"]
    assert summary["text"] == "\n".join(b["words"] for b in emulator_result["words_block_list"])


def test_mapped_dag_runs_one_call_per_image(airflow_db, emulator, ocr_conn, image_server):
    base_url, directory = image_server
    urls = []
    for i in range(3):
        (directory / f"p{i}.png").write_bytes(png((300, 200), f"P{i}"))
        urls.append(f"{base_url}/p{i}.png")
    (directory / "plate.png").write_bytes(png())
    dag = _load("hwocr_id_documents")

    dag_run = dag.test(run_conf={"passports": urls, "plate": f"{base_url}/plate.png"})

    assert dag_run.state == "success"
    assert sorted(c.body["url"] for c in emulator.calls("passport")) == sorted(urls)
    assert all(c.body["country_code"] == "GENERAL" for c in emulator.calls("passport"))
    assert emulator.count("thailand-license-plate") == 1
    collected = _xcom(dag_run, "collect")
    assert len(collected["passport_numbers"]) == 3


# --- OBS pipelines (moto object server + emulator) ------------------------------------

import pendulum


def _upload(obs, bucket, keys):
    for key in keys:
        obs.put_bytes(bucket, key, png((320, 140), key.rsplit("/", 1)[-1]), content_type="image/png")


def test_ocr_new_uploads_end_to_end_and_rerun_is_free(airflow_db, emulator, obs_conn, obs_bucket):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    obs = HuaweiObsHook()
    scans = [f"incoming/scan-{i}.png" for i in range(3)]
    _upload(obs, obs_bucket, scans)
    dag = _load("ocr_new_uploads")
    day = pendulum.datetime(2026, 11, 20, tz="UTC")
    conf = {"bucket": obs_bucket}

    first = dag.test(logical_date=day, run_conf=conf)

    assert first.state == "success"
    assert emulator.count("general-text") == 3
    matched = _xcom(first, "wait_for_scans")
    assert sorted(matched) == sorted(f"obs://{obs_bucket}/{k}" for k in scans)
    stored = obs.list_keys(obs_bucket, "results/2026-11-20/")
    assert len(stored) == 3
    report = _xcom(first, "summarize")
    assert report["documents"] == 3 and sorted(report["results"]) == sorted(
        f"obs://{obs_bucket}/{k}" for k in stored
    )
    doc = obs.get_json(obs_bucket, stored[0])
    assert doc["api"] == "general-text" and doc["source"]["uri"] in matched

    # the same logical date again: every result exists, zero OCR calls
    emulator.reset()
    second = dag.test(logical_date=day, run_conf=conf)
    assert second.state == "success"
    assert emulator.count() == 0
    assert _xcom(second, "summarize")["documents"] == 3
    assert len(obs.list_keys(obs_bucket, "results/2026-11-20/")) == 3


def test_ocr_daily_backfill_two_days_then_rerun(airflow_db, emulator, obs_conn, obs_bucket):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    obs = HuaweiObsHook()
    _upload(obs, obs_bucket, [f"scans/2026-11-0{d}/p{i}.png" for d in (1, 2) for i in range(3)])
    obs.put_bytes(obs_bucket, "scans/2026-11-01/readme.txt", b"not an image, not matched by *.png")
    dag = _load("ocr_daily_backfill")
    for d in (1, 2):
        run = dag.test(logical_date=pendulum.datetime(2026, 11, d, tz="UTC"), run_conf={"bucket": obs_bucket})
        assert run.state == "success"
        from airflow_provider_hwocr.operators.batch import latest_manifest_uri

        uri = latest_manifest_uri(f"obs://{obs_bucket}/ocr/2026-11-0{d}/", "general-text")
        manifest = obs.get_json(obs_bucket, uri.split("/", 3)[3])
        assert manifest["totals"]["done"] == 3 and manifest["totals"]["failed"] == 0
    assert emulator.count("general-text") == 6
    emulator.reset()
    run = dag.test(logical_date=pendulum.datetime(2026, 11, 1, tz="UTC"), run_conf={"bucket": obs_bucket})
    assert run.state == "success" and emulator.count() == 0


def test_ocr_classify_and_route(airflow_db, emulator, obs_conn, obs_bucket):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    obs = HuaweiObsHook()
    _upload(obs, obs_bucket, ["inbox/document.png"])
    dag = _load("ocr_classify_and_route")
    run = dag.test(run_conf={"bucket": obs_bucket, "image": f"obs://{obs_bucket}/inbox/document.png"})
    assert run.state == "success"
    assert emulator.count("auto-classification") == 1
    # the documented classification answer holds invoices: routed to key-value extraction
    assert emulator.count("smart-document-recognizer") == 1
    assert emulator.count("passport") == 0 and emulator.count("general-text") == 0
    (stored,) = obs.list_keys(obs_bucket, "routed/")
    assert stored.endswith(".smart-document-recognizer.json")


def test_ocr_sharded_backfill_covers_every_image_exactly_once(airflow_db, emulator, obs_conn, obs_bucket):
    from tests.helpers.batch_env import PNG, called_keys
    from tests.helpers.obs_env import bulk_put

    keys = [f"scans/2026-11-07/s{i:03d}.png" for i in range(60)]
    bulk_put(obs_bucket, keys, PNG)
    dag = _load("ocr_sharded_backfill")
    run = dag.test(run_conf={"bucket": obs_bucket, "day": "2026-11-07"})
    assert run.state == "success"
    calls = called_keys(emulator)
    assert set(calls) == set(keys) and set(calls.values()) == {1}
    shards = [_xcom(run, "ocr_shard", i)["totals"]["total"] for i in range(4)]
    assert sum(shards) == 60 and min(shards) > 0
    emulator.reset()
    assert dag.test(run_conf={"bucket": obs_bucket, "day": "2026-11-07"}).state == "success"
    assert emulator.count() == 0


@pytest.mark.parametrize(
    ("document", "branch_api"),
    [("passport", "passport"), ("invoice", "smart-document-recognizer")],
)
def test_ocr_classify_and_route_takes_the_branch_of_the_document(
    document, branch_api, airflow_db, emulator, obs_conn, obs_bucket
):
    """With answers read from the image, a passport and an invoice go down different branches."""
    from airflow_provider_hwocr.emulator.samples import all_samples
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    emulator.config.results = "computed"  # reset() puts the documented examples back
    obs = HuaweiObsHook()
    obs.put_bytes(obs_bucket, f"inbox/{document}.png", all_samples()[document].png, content_type="image/png")
    dag = _load("ocr_classify_and_route")
    run = dag.test(run_conf={"bucket": obs_bucket, "image": f"obs://{obs_bucket}/inbox/{document}.png"})
    assert run.state == "success"
    assert emulator.count("auto-classification") == 1
    branches = {"passport", "smart-document-recognizer", "general-text"}
    assert emulator.count(branch_api) == 1
    assert all(emulator.count(other) == 0 for other in branches - {branch_api})
    (stored,) = obs.list_keys(obs_bucket, "routed/")
    assert stored.endswith(f".{branch_api}.json")


# --- runs with no logical date (UI, `airflow dags trigger` without -l, REST API) ---------


def test_every_example_dag_runs_with_no_logical_date(
    airflow_db, emulator, obs_conn, obs_bucket, tmp_path, monkeypatch, caplog, capfd
):
    """Each example DAG under dag.test(logical_date=None): no ``{{ ds }}`` to lean on.

    Paths that name a day use the day the run was triggered for, and no task log
    says "Skipping masking for a secret as it's too short".
    """
    import json
    import logging

    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.testing import object_server_extras
    from tests.helpers.airflow_env import CONN_ENV

    conn = json.loads(os.environ[CONN_ENV])
    # the connection as hwocr-object-server prints it; no short extra values left
    conn["extra"].update(object_server_extras(conn["extra"]["obs_endpoint"]))
    monkeypatch.setenv(CONN_ENV, json.dumps(conn))
    rearm_short_secret_warning(monkeypatch)
    caplog.set_level(logging.WARNING)

    obs = HuaweiObsHook()
    today = pendulum.now("UTC").format("YYYY-MM-DD")
    _upload(obs, obs_bucket, [f"scans/{today}/p{i}.png" for i in range(2)])
    _upload(obs, obs_bucket, ["incoming/a.png", "incoming/b.png", "inbox/document.png"])
    local = tmp_path / "doc.png"
    local.write_bytes(png((300, 160), "NO LOGICAL DATE"))
    confs = {
        "hwocr_general_text": {"image": str(local)},
        "hwocr_id_documents": {"passports": [str(local)], "plate": str(local)},
        "ocr_classify_and_route": {"bucket": obs_bucket, "image": f"obs://{obs_bucket}/inbox/document.png"},
        "ocr_daily_backfill": {"bucket": obs_bucket},
        "ocr_new_uploads": {"bucket": obs_bucket},
        "ocr_retry_policy": {"image": str(local)},
        "ocr_sharded_backfill": {"bucket": obs_bucket},
        # Started by asset events, not by hand: with none, there is nothing to OCR (and no failure).
        "ocr_results_producer": {},
        "ocr_results_consumer": {},
        "ocr_on_upload": {},
        # No invoices today: the batch holds nothing, so no review runs (allow_empty).
        "ocr_invoice_review": {"bucket": obs_bucket},
        # No invoices today: an empty, fully typed partition, which DuckDB reads as zero rows.
        "ocr_tables_duckdb": {},
    }
    # Loads into PostgreSQL: run for real, with its server, by tests/system/test_tables_load.py.
    needs_a_database = {"ocr_tables_to_postgres"}
    assert set(confs) | needs_a_database == _all_dag_ids()  # every example DAG, including ones added later
    monkeypatch.setenv("HWOCR_EXAMPLE_BUCKET", obs_bucket)  # the tables examples' bucket, read at parse time
    for dag_id, conf in confs.items():
        dag_run = _load(dag_id).test(logical_date=None, run_conf=conf)
        assert dag_run.logical_date is None, dag_id
        assert dag_run.state == "success", dag_id

    assert len([k for k in obs.list_keys(obs_bucket, f"ocr/{today}/") if "manifest" not in k]) == 2
    assert len(obs.list_keys(obs_bucket, f"results/{today}/")) == 2
    assert obs.list_keys(obs_bucket, f"routed/{today}/")
    logged = caplog.text + "".join(capfd.readouterr())
    assert "too short" not in logged
