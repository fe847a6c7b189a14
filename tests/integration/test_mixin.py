"""The OCR operators' integration mixin (``integration/mixin.py``): readable map index names, and,
for a mapped task run with ``dag.test()``, each instance named by its file and linked to its objects."""

from __future__ import annotations

from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
from tests.helpers.c_integration import needs_airflow_33
from tests.helpers.c_integration import xcom_rows as _rows


@needs_airflow_33
def test_mapped_task_instances_are_named_by_file_and_link_to_their_objects(
    producer_run, obs, obs_bucket, emulator
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

    # each instance links to its own image and its own result, on the connection's object server
    # (a local one here: its URLs, never the public console)
    links = _rows(run, task_id="ocr", key="_link_HuaweiObsResultLink")
    sources = _rows(run, task_id="ocr", key="_link_HuaweiObsSourceLink")
    references = _rows(run, task_id="ocr", key="return_value")
    assert set(links) == set(sources) == {0, 1, 2}
    for i, name in enumerate(names):
        assert sources[i] == obs.object_url(obs_bucket, f"inbox/{name}")
        result_key = references[i]["uri"].split("/", 3)[3]
        assert links[i] == obs.object_url(obs_bucket, result_key)
        assert "console" not in links[i] + sources[i]


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


def test_a_batch_is_named_by_its_image_its_number_of_images_or_its_source():
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    def batch(**kwargs):
        return HuaweiOcrBatchOperator(task_id="b", api="general-text", output_uri="obs://b-1/o/", **kwargs)

    assert batch(images=["obs://b-1/in/a.png"]).map_index_label == "a.png"
    assert batch(images=["obs://b-1/in/a.png", "https://u:p@h/b.png?sig=s"]).map_index_label == "2 images"
    assert batch(source_uri="obs://b-1/day/").map_index_label == "obs://b-1/day/"
