"""Example DAGs import cleanly and run for real with dag.test() against the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from images import png

EXAMPLES = Path(__file__).resolve().parent.parent / "example_dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(EXAMPLES))


def test_example_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {"hwocr_general_text", "hwocr_id_documents"} <= set(dagbag.dag_ids)
    for dag_file in EXAMPLES.glob("*.py"):
        assert any(d.fileloc == str(dag_file) for d in dagbag.dags.values()), dag_file


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


def _xcom(dag_run, task_id: str, map_index: int = -1):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id, task_id=task_id, map_index=map_index, key="return_value")
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
