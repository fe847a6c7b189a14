"""Helpers of the Airflow 3 integration tests (lineage, links, assets, map indexes, obs://
filesystem, text export): the Airflow 3.3 marker, images in OBS, example DAGs and their XComs.
"""

from __future__ import annotations

import pytest

from airflow_provider_hwocr._compat import AIRFLOW_VERSION
from tests.helpers.images import png
from tests.helpers.paths import REPO

#: Measured on 3.1.2: no ``airflow.sdk.lineage`` (hook lineage), ``map_index_template`` is not
#: rendered by ``dag.test()``, outlet asset events of ``dag.test()`` runs are not recorded, and
#: common-io's object-storage XCom backend builds ``obs://conn@/bucket`` paths. 3.3.2 passes;
#: 3.2 is not measured, so these run from 3.3 (README, "Airflow 3 integration").
needs_airflow_33 = pytest.mark.skipif(
    AIRFLOW_VERSION < (3, 3, 0),
    reason="measured not to work on Airflow 3.1.2; tested from 3.3",
)


def documented_result(slug):
    from airflow_provider_hwocr.emulator.examples import example_response

    return example_response(slug)["result"]


def put_image(obs, bucket, key, text="TOTAL 9.00"):
    """Store a PNG showing ``text`` at ``obs://bucket/key``; returns that URI."""
    obs.put_bytes(bucket, key, png((320, 140), text), content_type="image/png")
    return f"obs://{bucket}/{key}"


def load_example(dag_id: str):
    """The DAG ``dag_id`` of ``example_dags/``, loaded from its file."""
    import importlib.util

    for path in (REPO / "example_dags").glob("*.py"):
        spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if getattr(module, "dag", None) is not None and module.dag.dag_id == dag_id:
            return module.dag
    raise LookupError(dag_id)


def xcom_rows(run, **filters):
    """The XComs of a DAG run matching ``filters``, by map index."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter_by(dag_id=run.dag_id, run_id=run.run_id, **filters).all()
        return {row.map_index: XComModel.deserialize_value(row) for row in rows}


@pytest.fixture
def producer_run(airflow_db, obs, obs_bucket, emulator, monkeypatch, capsys):
    """``ocr_results_producer`` run with dag.test() over three images; yields (run, names, uris, output)."""
    monkeypatch.setenv("HWOCR_EXAMPLE_BUCKET", obs_bucket)
    names = ["invoice-a.png", "receipt_b.png", "scan c.png"]
    uris = [put_image(obs, obs_bucket, f"inbox/{n}", n) for n in names]
    dag = load_example("ocr_results_producer")
    run = dag.test(run_conf={"images": uris})
    out = capsys.readouterr()
    return run, names, uris, out.out + out.err
